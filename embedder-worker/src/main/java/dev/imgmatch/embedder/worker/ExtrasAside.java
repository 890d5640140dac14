package dev.imgmatch.embedder.worker;

import dev.imgmatch.avro.ImageEmbedding;
import dev.imgmatch.avro.ImageExtras;
import dev.imgmatch.avro.Purpose;
import dev.imgmatch.schemas.Topics;
import java.util.Set;
import java.util.function.ToIntFunction;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.utils.Utils;

/**
 * Splits an upload's embeddings record in two: what index-service keeps (descriptors, hashes, thumbnail, the local
 * features of the collections whose features the index stores) stays on {@code embeddings}, kept for ever as the
 * index's rebuild source; what it uses once, when it first reads the record (the local features of every other
 * upload, the preview), goes on {@code embedding-extras} (7 days) as an {@link ImageExtras}, just before it in the
 * same transaction, with the same key and partition. The record then says {@code extrasAside}.
 *
 * <p>Why: measured on dev's 440 references and 450 uploads, local features and previews were most of a record's
 * bytes on a topic that keeps them for ever (docs/BENCHMARKS.md, "The embeddings topic's size").
 *
 * @param keptCollections the collections whose local features stay on {@code embeddings}: the collections whose
 *     features index-service stores ({@code index.local.collections}; a rebuilt shard needs them)
 * @param partitions how many partitions a topic has, by name (the producer's metadata)
 */
public record ExtrasAside(Topics topics, Set<String> keptCollections, ToIntFunction<String> partitions) {

  /** The two records of an upload: its extras (null when nothing went aside) and its embeddings record. */
  public record Split(ProducerRecord<byte[], byte[]> extras, ProducerRecord<byte[], byte[]> embedding) {}

  public ExtrasAside {
    keptCollections = Set.copyOf(keptCollections);
  }

  /**
   * The upload's records; moves its preview and, unless its collection keeps them, its local features out of
   * {@code e} (then sets {@code extrasAside}). Queries and index operations are never split.
   *
   * <p>The partition is the default partitioner's for the key on {@code embeddings}, chosen here for both records so
   * that they share it whatever the extras topic's count; an extras topic with too few partitions for it leaves the
   * record whole.
   */
  public Split split(ImageEmbedding e) {
    boolean features = e.getLocalFeatures() != null && !keptCollections.contains(e.getCollection());
    boolean preview = e.getPreview() != null;
    if (e.getPurpose() != Purpose.INDEX || e.getIndexOp() != null || !(features || preview)) {
      return new Split(null, topics.embeddings().record(e.getId(), e));
    }
    byte[] key = topics.embeddings().serializeKey(e.getId());
    int embeddingsPartitions = partitions.applyAsInt(topics.embeddings().name());
    int partition = embeddingsPartitions < 1 ? -1 : Utils.toPositive(Utils.murmur2(key)) % embeddingsPartitions;
    if (partition < 0 || partition >= partitions.applyAsInt(topics.embeddingExtras().name())) {
      return new Split(null, topics.embeddings().record(e.getId(), e));
    }
    ImageExtras x = ImageExtras.newBuilder().setId(e.getId()).setTenant(e.getTenant())
        .setEmbeddedAtMs(e.getEmbeddedAtMs()).setLocalFeatures(features ? e.getLocalFeatures() : null)
        .setPreview(e.getPreview()).build();
    if (features) {
      e.setLocalFeatures(null);
    }
    e.setPreview(null);
    e.setExtrasAside(true);
    return new Split(
        new ProducerRecord<>(topics.embeddingExtras().name(), partition, key,
            topics.embeddingExtras().serializeValue(x)),
        new ProducerRecord<>(topics.embeddings().name(), partition, key, topics.embeddings().serializeValue(e)));
  }
}
