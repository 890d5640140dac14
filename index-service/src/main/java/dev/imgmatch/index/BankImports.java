package dev.imgmatch.index;

import dev.imgmatch.avro.ImageEmbedding;
import dev.imgmatch.avro.IndexOp;
import dev.imgmatch.avro.IndexOpKind;
import dev.imgmatch.avro.Pdq256;
import dev.imgmatch.avro.PdqHash;
import dev.imgmatch.avro.Purpose;
import dev.imgmatch.avro.Sha256;
import dev.imgmatch.schemas.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The end of a hash-list import, as its writer ({@code ./imgmatch bank import}) publishes it: once its entries are on
 * {@code bank-entries} (acknowledged), a BANKS_ADDED operation carrying the topic's end offsets goes into every
 * partition of {@code embeddings}. Each shard then alerts its uploads that copy a new entry (retroactively) and from
 * there on matches uploads against the entries ({@link BankRetroactive}). Entries written without it are matched
 * only once a later import's end reaches the shards.
 */
public final class BankImports {
  private BankImports() {}

  /**
   * Publishes the end of an import: reads the end offsets of bank-entries and sends one operation to each embeddings
   * partition, waiting for the acknowledgements.
   *
   * @param kafka client settings (bootstrap, security)
   * @return the end offsets published, element i for partition i
   */
  public static List<Long> publishEnd(Map<String, Object> kafka, Producer<byte[], byte[]> producer, Topics topics,
      String requestedBy) throws InterruptedException, ExecutionException {
    Map<String, Object> props = new java.util.HashMap<>(kafka);
    props.remove(ConsumerConfig.GROUP_ID_CONFIG);
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    List<Long> ends = new ArrayList<>();
    int embeddingPartitions;
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(props)) {
      List<TopicPartition> bank = partitions(c, topics.bankEntries().name());
      Map<TopicPartition, Long> end = c.endOffsets(bank, Duration.ofSeconds(60));
      for (TopicPartition tp : bank) {
        while (ends.size() <= tp.partition()) {
          ends.add(0L);
        }
        ends.set(tp.partition(), end.getOrDefault(tp, 0L));
      }
      embeddingPartitions = partitions(c, topics.embeddings().name()).size();
    }
    List<Future<RecordMetadata>> sent = new ArrayList<>();
    for (ProducerRecord<byte[], byte[]> r : records(topics, ends, embeddingPartitions, requestedBy,
        System.currentTimeMillis())) {
      sent.add(producer.send(r));
    }
    for (Future<RecordMetadata> f : sent) {
      f.get();
    }
    return ends;
  }

  /** The operations that end an import at bank-entries offsets {@code ends}: one per embeddings partition. */
  public static List<ProducerRecord<byte[], byte[]>> records(Topics topics, List<Long> ends, int embeddingPartitions,
      String requestedBy, long nowMs) {
    IndexOp op = IndexOp.newBuilder().setKind(IndexOpKind.BANKS_ADDED).setVersion("").setRequestedBy(requestedBy)
        .setBankOffsets(new ArrayList<>(ends)).build();
    List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>();
    for (int p = 0; p < embeddingPartitions; p++) {
      String id = "bank-import/" + nowMs + "/" + p;
      ImageEmbedding marker = ImageEmbedding.newBuilder()
          .setId(id).setPurpose(Purpose.INDEX).setTenant("").setCollection("")
          .setModelId("").setModelVersion("").setVector(List.of())
          .setSha256(new Sha256(new byte[32]))
          .setPdq(new PdqHash(new Pdq256(new byte[32]), 0))
          .setSubmittedAtMs(nowMs).setPreparedAtMs(nowMs).setEmbeddedAtMs(nowMs)
          .setIndexOp(op)
          .build();
      ProducerRecord<byte[], byte[]> r = topics.embeddings().record(id, marker);
      out.add(new ProducerRecord<>(r.topic(), p, r.key(), r.value()));
    }
    return out;
  }

  private static List<TopicPartition> partitions(KafkaConsumer<byte[], byte[]> c, String topic) {
    List<PartitionInfo> infos = c.partitionsFor(topic, Duration.ofSeconds(60));
    if (infos == null || infos.isEmpty()) {
      throw new IllegalStateException("topic " + topic + " does not exist (start the stack, or index-service with"
          + " topic.create=true, first)");
    }
    return infos.stream().map(i -> new TopicPartition(topic, i.partition())).toList();
  }
}
