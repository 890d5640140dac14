package dev.imgmatch.embedder.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.ImageEmbedding;
import dev.imgmatch.avro.Reject;
import dev.imgmatch.common.TopicSetup;
import dev.imgmatch.embedder.EmbedderOptions;
import dev.imgmatch.schemas.Topics;
import dev.imgmatch.testkit.KafkaBroker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;

/** Topics, settings and read helpers for worker integration tests. */
final class WorkerHarness {
  final KafkaBroker broker;
  final Topics topics;
  final String group;
  final String txId;

  WorkerHarness(KafkaBroker broker, String name) {
    this.broker = broker;
    this.topics = new Topics(broker.uniqueName(name) + ".");
    this.group = broker.uniqueName(name + "-group");
    this.txId = broker.uniqueName(name + "-tx");
    Map<String, Object> admin = new HashMap<>(broker.clientProps());
    TopicSetup.ensure(admin, List.of(topics.prepared(), topics.embeddings(), topics.embeddingExtras(), topics.probes(),
        topics.rejects()), 2, (short) 1);
  }

  Map<String, String> settings() {
    Map<String, String> m = new HashMap<>();
    m.put("kafka.bootstrap.servers", broker.bootstrapServers());
    m.put("topic.prefix", topics.prefix());
    m.put("group.id", group);
    m.put("transactional.id", txId);
    m.put("topic.create", "false");
    m.put("batch.max.records", "8");
    m.put("batch.max.latency.ms", "20");
    m.put("queue.capacity", "16");
    m.put("cache.dir", EmbedderOptions.defaultCacheDir().toString());
    return m;
  }

  void produce(List<ProducerRecord<byte[], byte[]>> records) throws Exception {
    try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(broker.producerProps())) {
      for (ProducerRecord<byte[], byte[]> r : records) {
        p.send(r).get();
      }
    }
  }

  /** Every committed record of the topic up to its current end (read_committed: the last stable offset). */
  List<ConsumerRecord<byte[], byte[]>> readAll(String topic) {
    Properties props = broker.consumerProps(broker.uniqueName("reader"));
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(props)) {
      List<TopicPartition> parts = c.partitionsFor(topic).stream()
          .map(pi -> new TopicPartition(topic, pi.partition())).toList();
      c.assign(parts);
      c.seekToBeginning(parts);
      Map<TopicPartition, Long> end = c.endOffsets(parts);
      List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
      while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
        c.poll(Duration.ofMillis(200)).forEach(out::add);
      }
      return out;
    }
  }

  /** Reads until {@code done} holds for what was read (no timing assertion: the test's own timeout bounds it). */
  List<ConsumerRecord<byte[], byte[]>> readUntil(String topic, Predicate<List<ConsumerRecord<byte[], byte[]>>> done)
      throws InterruptedException {
    while (true) {
      List<ConsumerRecord<byte[], byte[]>> all = readAll(topic);
      if (done.test(all)) {
        return all;
      }
      Thread.sleep(200);
    }
  }

  /** Reads until every id of {@code ids} is on the topic (no timing assertion: the test's own timeout bounds it). */
  void readUntilAll(String topic, Collection<String> ids) throws InterruptedException {
    readUntil(topic, l -> l.stream().map(WorkerHarness::key).collect(Collectors.toSet()).containsAll(ids));
  }

  /**
   * Asserts that the committed records of the topic are exactly one per id of {@code ids}: none lost, none twice,
   * nothing else (an upload on {@code embeddings} only, a query on {@code probes} only).
   */
  void assertExactlyOnce(String topic, Collection<String> ids) {
    Map<String, Long> counts = readAll(topic).stream().collect(Collectors.groupingBy(WorkerHarness::key,
        TreeMap::new, Collectors.counting()));
    assertThat(counts.keySet()).as("ids on %s", topic).containsExactlyInAnyOrderElementsOf(ids);
    assertThat(counts).as("every id exactly once on %s", topic).allSatisfy((id, n) -> assertThat(n).isEqualTo(1L));
  }

  ImageEmbedding embedding(ConsumerRecord<byte[], byte[]> r) {
    return topics.embeddings().deserializeValue(r.value());
  }

  Reject reject(ConsumerRecord<byte[], byte[]> r) {
    return topics.rejects().deserializeValue(r.value());
  }

  static String key(ConsumerRecord<byte[], byte[]> r) {
    return new String(r.key(), java.nio.charset.StandardCharsets.UTF_8);
  }
}
