package dev.imgmatch.cli.reindex;

import dev.imgmatch.avro.ImageEmbedding;
import dev.imgmatch.avro.ImageSubmission;
import dev.imgmatch.avro.IndexOp;
import dev.imgmatch.avro.IndexOpKind;
import dev.imgmatch.avro.ModelServing;
import dev.imgmatch.avro.PreparedImage;
import dev.imgmatch.embedder.PictureEmbedder;
import dev.imgmatch.embedder.worker.RecordEmbedding;
import dev.imgmatch.ingest.OriginalPreparation;
import dev.imgmatch.ingest.image.ImageRejectedException;
import dev.imgmatch.schemas.RecordDecodingException;
import dev.imgmatch.schemas.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * A model upgrade of a running deployment, in four steps, while uploads keep flowing and alerting:
 * <ol>
 *   <li><b>Re-embed</b> every kept original ({@code originals}) with the new version and write the descriptors into
 *       {@code embeddings} as ADD_VECTORS records (same key, so same shard): index-service adds them beside the
 *       version each image has. Passes repeat until one finds nothing new.</li>
 *   <li><b>Wait</b> until index-service has applied them: its group's committed offsets on {@code embeddings} reach
 *       the ends after the last record written.</li>
 *   <li><b>Switch</b>: write the new version to {@code model-serving}; embedder-workers configured with it as their
 *       {@code descriptor.next.head} embed new uploads and queries with it from their next batch, so they are matched
 *       against the new descriptors, which every reference now has. Originals that arrive meanwhile are still
 *       re-embedded. Records of other versions must stop arriving on {@code embeddings} and {@code probes} for
 *       {@code settle} (a worker without the new version would go on writing them: said, and waited for).</li>
 *   <li><b>Retire</b>: a RETIRE_OTHERS record on every partition of {@code embeddings}: index-service removes the
 *       older versions' descriptors from every image that has the new one; then wait until it has applied it.</li>
 * </ol>
 * Every step is idempotent: a reindex stopped at any point can be run again.
 */
public final class Reindex {
  /** What it did. */
  public record Result(long reembedded, long failed, boolean switched, boolean retired) {}

  /** Settings of one run. */
  public record Options(String version, String requestedBy, Duration settle, Duration timeout, boolean retire,
      int batch) {}

  private final Map<String, Object> kafka;
  private final Topics topics;
  private final String indexGroup;
  private final OriginalPreparation preparation;
  private final PictureEmbedder embedder;
  private final Options o;
  private final Consumer<String> out;
  private long reembedded;
  private long failed;

  /**
   * @param kafka client settings (bootstrap, security)
   * @param indexGroup index-service's consumer group (its committed offsets say what it has applied)
   * @param embedder the new version's descriptor (its version must be {@code o.version()})
   * @param out progress lines
   */
  public Reindex(Map<String, Object> kafka, Topics topics, String indexGroup, OriginalPreparation preparation,
      PictureEmbedder embedder, Options o, Consumer<String> out) {
    if (!embedder.modelVersion().equals(o.version())) {
      throw new IllegalArgumentException("the descriptor settings give model version " + embedder.modelVersion()
          + ", not " + o.version() + ": check the head (descriptor.next.head / --head) and model settings");
    }
    this.kafka = kafka;
    this.topics = topics;
    this.indexGroup = indexGroup;
    this.preparation = preparation;
    this.embedder = embedder;
    this.o = o;
    this.out = out;
  }

  public Result run() throws Exception {
    try (KafkaConsumer<byte[], byte[]> originals = consumer();
        KafkaProducer<byte[], byte[]> producer = producer()) {
      List<TopicPartition> parts = partitions(originals, topics.originals().name());
      originals.assign(parts);
      originals.seekToBeginning(parts);
      long t0 = System.nanoTime();
      // 1. every kept original, then again until a pass finds nothing new
      out.accept("re-embedding the originals on " + topics.originals().name() + " into model version " + o.version());
      while (catchUp(originals, parts, producer) > 0) {
        out.accept("caught up with the originals that arrived meanwhile");
      }
      producer.flush();
      out.accept(String.format("re-embedded %d original(s) (%d failed) in %.1f s", reembedded, failed,
          (System.nanoTime() - t0) / 1e9));
      // 2. index-service has them all
      awaitApplied(endOffsets(topics.embeddings().name()), "the new descriptors");
      // 3. switch new uploads and queries to the new version
      Map<TopicPartition, Long> watchFrom = endOffsets(topics.embeddings().name());
      watchFrom.putAll(endOffsets(topics.probes().name()));
      Set<String> previous = versionsIndexed(watchFrom);
      producer.send(topics.modelServing().record(Topics.SERVING_KEY, ModelServing.newBuilder()
          .setModelVersion(o.version()).setPreviousVersions(new ArrayList<>(previous))
          .setRequestedBy(o.requestedBy()).setRequestedAtMs(System.currentTimeMillis()).build())).get();
      out.accept("serving model version " + o.version() + " (" + topics.modelServing().name()
          + "): embedder-workers use it from their next batch");
      boolean settled = awaitSwitch(originals, parts, producer, watchFrom);
      if (!settled) {
        return new Result(reembedded, failed, true, false);
      }
      if (!o.retire()) {
        out.accept("older versions kept (--no-retire)");
        return new Result(reembedded, failed, true, false);
      }
      // 4. retire the older versions everywhere
      Map<TopicPartition, Long> retireAt = new HashMap<>();
      IndexOp retire = IndexOp.newBuilder().setKind(IndexOpKind.RETIRE_OTHERS).setVersion(o.version())
          .setRequestedBy(o.requestedBy()).build();
      List<Future<RecordMetadata>> sent = new ArrayList<>();
      for (TopicPartition tp : partitions(originals, topics.embeddings().name())) {
        ImageEmbedding marker = marker(retire, tp.partition());
        ProducerRecord<byte[], byte[]> r = topics.embeddings().record(marker.getId(), marker);
        sent.add(producer.send(new ProducerRecord<>(r.topic(), tp.partition(), r.key(), r.value())));
      }
      for (Future<RecordMetadata> f : sent) {
        RecordMetadata md = f.get();
        retireAt.put(new TopicPartition(md.topic(), md.partition()), md.offset() + 1);
      }
      awaitApplied(retireAt, "the retirement of the older versions");
      out.accept("done: the index keeps only model version " + o.version() + " where images have it");
      return new Result(reembedded, failed, true, true);
    }
  }

  /** Re-embeds the originals from the consumer's position to the ends now; returns how many records it read. */
  private long catchUp(KafkaConsumer<byte[], byte[]> c, List<TopicPartition> parts,
      KafkaProducer<byte[], byte[]> producer) throws Exception {
    Map<TopicPartition, Long> ends = c.endOffsets(parts);
    long read = 0;
    long lastReport = System.nanoTime();
    List<ConsumerRecord<byte[], byte[]>> pending = new ArrayList<>();
    while (!reached(c, ends)) {
      for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
        read++;
        if (r.value() != null) { // a tombstone: taken down
          pending.add(r);
        }
        if (pending.size() >= o.batch()) {
          embedAndSend(pending, producer);
          pending.clear();
        }
      }
      if (System.nanoTime() - lastReport > 5_000_000_000L) {
        out.accept("  ... " + reembedded + " re-embedded");
        lastReport = System.nanoTime();
      }
    }
    embedAndSend(pending, producer);
    return read;
  }

  private static boolean reached(KafkaConsumer<byte[], byte[]> c, Map<TopicPartition, Long> ends) {
    for (var e : ends.entrySet()) {
      if (c.position(e.getKey()) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  private void embedAndSend(List<ConsumerRecord<byte[], byte[]>> records, KafkaProducer<byte[], byte[]> producer)
      throws Exception {
    List<PreparedImage> prepared = new ArrayList<>();
    List<dev.imgmatch.embedder.model.RgbImage> pictures = new ArrayList<>();
    List<Integer> counts = new ArrayList<>();
    for (ConsumerRecord<byte[], byte[]> r : records) {
      try {
        ImageSubmission s = topics.originals().deserializeValue(r.value());
        PreparedImage p = preparation.prepare(s, System.currentTimeMillis());
        var pics = RecordEmbedding.pictures(p);
        prepared.add(p);
        pictures.addAll(pics);
        counts.add(pics.size());
      } catch (RecordDecodingException | ImageRejectedException | IllegalArgumentException e) {
        failed++;
        out.accept("  original at " + r.partition() + "-" + r.offset() + " skipped: " + e.getMessage());
      }
    }
    if (prepared.isEmpty()) {
      return;
    }
    List<dev.imgmatch.embedder.Embedder.Embedding> res = embedder.embed(pictures);
    int k = 0;
    IndexOp add = IndexOp.newBuilder().setKind(IndexOpKind.ADD_VECTORS).setVersion(o.version())
        .setRequestedBy(o.requestedBy()).build();
    for (int i = 0; i < prepared.size(); i++) {
      PreparedImage p = prepared.get(i);
      ImageEmbedding e = RecordEmbedding.toRecord(p, res.subList(k, k + counts.get(i)), embedder.modelId(),
          embedder.modelVersion(), System.currentTimeMillis());
      k += counts.get(i);
      e.setIndexOp(add);
      producer.send(topics.embeddings().record(p.getId(), e));
      reembedded++;
    }
  }

  /**
   * Follows embeddings and probes from {@code from} until no record of another version has arrived for the settle
   * time (re-embedding the originals that arrive meanwhile); false when the timeout passes first.
   */
  private boolean awaitSwitch(KafkaConsumer<byte[], byte[]> originals, List<TopicPartition> parts,
      KafkaProducer<byte[], byte[]> producer, Map<TopicPartition, Long> from) throws Exception {
    long deadline = System.nanoTime() + o.timeout().toNanos();
    long lastOld = System.nanoTime();
    Set<String> reported = new TreeSet<>();
    try (KafkaConsumer<byte[], byte[]> watch = consumer()) {
      watch.assign(from.keySet());
      from.forEach(watch::seek);
      while (System.nanoTime() - lastOld < o.settle().toNanos()) {
        if (System.nanoTime() > deadline) {
          out.accept("gave up after " + o.timeout().toSeconds() + " s: records of " + reported + " still arrive; "
              + "every embedder-worker needs descriptor.next.head (or descriptor.head) for " + o.version()
              + ". Run reindex again once they have it (nothing is lost: the older descriptors stay until then)");
          return false;
        }
        for (ConsumerRecord<byte[], byte[]> r : watch.poll(Duration.ofMillis(500))) {
          String v = versionOf(r);
          if (v != null && !v.equals(o.version())) {
            lastOld = System.nanoTime();
            if (reported.add(v)) {
              out.accept("  records of model version " + v + " still arrive (" + r.topic() + "): waiting until "
                  + "every embedder-worker has switched");
            }
          }
        }
        catchUp(originals, parts, producer); // references added meanwhile, embedded by a worker not yet switched
        producer.flush();
      }
    }
    out.accept("no record of another version for " + o.settle().toSeconds() + " s: every worker has switched");
    // what was re-embedded while waiting is applied before the retirement, which comes after it in each partition
    return true;
  }

  private String versionOf(ConsumerRecord<byte[], byte[]> r) {
    try {
      ImageEmbedding e = topics.embeddings().deserializeValue(r.value());
      return e.getIndexOp() != null ? null : e.getModelVersion();
    } catch (RecordDecodingException e) {
      return null;
    }
  }

  /** The model versions of the latest records before {@code ends} (at most 50 per partition): the ones replaced. */
  private Set<String> versionsIndexed(Map<TopicPartition, Long> ends) {
    Set<String> versions = new TreeSet<>();
    try (KafkaConsumer<byte[], byte[]> c = consumer()) {
      c.assign(ends.keySet());
      ends.forEach((tp, end) -> c.seek(tp, Math.max(0, end - 50)));
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (!reached(c, ends) && System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
          String v = versionOf(r);
          if (v != null && !v.equals(o.version())) {
            versions.add(v);
          }
        }
      }
    }
    return versions;
  }

  /** Waits until index-service's group has committed at least {@code offsets} on every partition given. */
  private void awaitApplied(Map<TopicPartition, Long> offsets, String what) throws Exception {
    long deadline = System.nanoTime() + o.timeout().toNanos();
    long lastReport = System.nanoTime();
    try (Admin admin = Admin.create(kafka)) {
      while (true) {
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(indexGroup)
            .partitionsToOffsetAndMetadata().get();
        long behind = 0;
        for (var e : offsets.entrySet()) {
          OffsetAndMetadata c = committed.get(e.getKey());
          behind += Math.max(0, e.getValue() - (c == null ? 0 : c.offset()));
        }
        if (behind == 0) {
          out.accept("index-service (group " + indexGroup + ") has applied " + what);
          return;
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("index-service (group " + indexGroup + ") has not applied " + what
              + " within " + o.timeout().toSeconds() + " s (" + behind + " record(s) behind): is it running?");
        }
        if (System.nanoTime() - lastReport > 5_000_000_000L) {
          out.accept("  ... waiting for index-service: " + behind + " record(s) behind");
          lastReport = System.nanoTime();
        }
        Thread.sleep(200);
      }
    } catch (ExecutionException e) {
      throw new IllegalStateException("cannot read the offsets of group " + indexGroup + ": "
          + e.getCause().getMessage(), e.getCause());
    }
  }

  /** An embeddings record that carries only an operation (RETIRE_OTHERS): its other fields are placeholders. */
  private ImageEmbedding marker(IndexOp op, int partition) {
    long now = System.currentTimeMillis();
    return ImageEmbedding.newBuilder()
        .setId("reindex/" + op.getKind() + "/" + o.version() + "/" + partition)
        .setPurpose(dev.imgmatch.avro.Purpose.INDEX)
        .setTenant("")
        .setCollection("")
        .setModelId(embedder.modelId())
        .setModelVersion(o.version())
        .setVector(List.of())
        .setSha256(new dev.imgmatch.avro.Sha256(new byte[32]))
        .setPdq(new dev.imgmatch.avro.PdqHash(new dev.imgmatch.avro.Pdq256(new byte[32]), 0))
        .setSubmittedAtMs(now).setPreparedAtMs(now).setEmbeddedAtMs(now)
        .setIndexOp(op)
        .build();
  }

  private Map<TopicPartition, Long> endOffsets(String topic) {
    try (KafkaConsumer<byte[], byte[]> c = consumer()) {
      return new HashMap<>(c.endOffsets(partitions(c, topic)));
    }
  }

  private static List<TopicPartition> partitions(KafkaConsumer<byte[], byte[]> c, String topic) {
    List<PartitionInfo> infos = c.partitionsFor(topic, Duration.ofSeconds(30));
    if (infos == null || infos.isEmpty()) {
      throw new IllegalStateException("topic " + topic + " does not exist (is this the deployment's prefix?)");
    }
    return infos.stream().map(p -> new TopicPartition(topic, p.partition())).sorted(
        java.util.Comparator.comparingInt(TopicPartition::partition)).toList();
  }

  private KafkaConsumer<byte[], byte[]> consumer() {
    Map<String, Object> p = new HashMap<>(kafka);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Topics.MAX_MESSAGE_BYTES);
    p.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 4 * Topics.MAX_MESSAGE_BYTES);
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Math.max(1, o.batch()));
    return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  private KafkaProducer<byte[], byte[]> producer() {
    Map<String, Object> p = new HashMap<>(kafka);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Topics.SMALL_MESSAGE_BYTES);
    return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
  }
}
