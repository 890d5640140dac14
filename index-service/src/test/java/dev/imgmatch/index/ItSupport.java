package dev.imgmatch.index;

import dev.imgmatch.avro.Deletion;
import dev.imgmatch.avro.ImageEmbedding;
import dev.imgmatch.avro.Pdq256;
import dev.imgmatch.avro.PdqHash;
import dev.imgmatch.avro.Purpose;
import dev.imgmatch.avro.QueryParams;
import dev.imgmatch.avro.Sha256;
import dev.imgmatch.schemas.Topic;
import dev.imgmatch.testkit.KafkaBroker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;

/** Helpers shared by the integration tests: records, settings, reading a topic. */
final class ItSupport {
  static final String MODEL = "syn-1";

  private ItSupport() {}

  static Map<String, String> settings(KafkaBroker broker, String prefix, Path indexDir) {
    Map<String, String> m = new HashMap<>();
    m.put(IndexServiceConfig.BOOTSTRAP, broker.bootstrapServers());
    m.put(IndexServiceConfig.TOPIC_PREFIX, prefix);
    m.put(IndexServiceConfig.TOPIC_PARTITIONS, "3");
    m.put(IndexServiceConfig.GROUP_ID, "index-" + prefix);
    m.put(IndexServiceConfig.INDEX_DIR, indexDir.toString());
    m.put(IndexServiceConfig.COMMIT_INTERVAL_MS, "300");
    m.put(IndexServiceConfig.REFRESH_INTERVAL_MS, "50");
    return m;
  }

  /** index-service in a child JVM ({@code IndexServiceApp}, as deployed), its output in {@code log}; no endpoint. */
  static Process startProcess(Map<String, String> settings, Path log) throws java.io.IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx384m");
    cmd.add("--add-modules");
    cmd.add("jdk.incubator.vector");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(IndexServiceApp.class.getName());
    Map<String, String> s = new HashMap<>(settings);
    s.putIfAbsent(IndexServiceConfig.HTTP_PORT, "-1");
    s.forEach((k, v) -> cmd.add(k + "=" + v));
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  static ImageEmbedding embedding(String id, String tenant, String collection, float[] v, byte[] pdq, byte[] sha,
      long t) {
    List<Float> vec = new ArrayList<>(v.length);
    for (float x : v) {
      vec.add(x);
    }
    return ImageEmbedding.newBuilder()
        .setId(id)
        .setPurpose(Purpose.INDEX)
        .setTenant(tenant)
        .setCollection(collection)
        .setSource("it")
        .setAttributes(Map.of("origin", "it"))
        .setModelId("synthetic")
        .setModelVersion(MODEL)
        .setVector(vec)
        .setExtraViews(List.of())
        .setSha256(new Sha256(sha))
        .setPdq(PdqHash.newBuilder().setHash(new Pdq256(pdq)).setQuality(90).build())
        .setPdqDihedral(List.of())
        .setClassScores(Map.of())
        .setExactDuplicateOf(null)
        .setQuery(null)
        .setSubmittedAtMs(t)
        .setPreparedAtMs(t)
        .setEmbeddedAtMs(t)
        .build();
  }

  static ImageEmbedding queryProbe(String queryId, String tenant, float[] v, byte[] pdq, QueryParams params) {
    ImageEmbedding e = embedding(queryId, tenant, "", v, pdq, new byte[32], params.getRequestedAtMs());
    e.setPurpose(Purpose.QUERY);
    e.setQuery(params);
    return e;
  }

  static Deletion deletion(String tenant, String imageId) {
    return Deletion.newBuilder().setImageId(imageId).setTenant(tenant).setReason("it").setRequestedBy("it")
        .setRequestedAtMs(System.currentTimeMillis()).build();
  }

  static <V> void send(KafkaProducer<byte[], byte[]> p, Topic<String, V> topic, String key, V value) throws Exception {
    p.send(topic.record(key, value)).get();
  }

  /** Reads a topic from the beginning until {@code done} holds for what was read, or the timeout passes. */
  static <K, V> List<V> readUntil(KafkaBroker broker, Topic<K, V> topic, Predicate<List<V>> done, Duration timeout) {
    List<V> out = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(broker.consumerProps("it-reader-" + System.nanoTime()))) {
      List<TopicPartition> parts = c.partitionsFor(topic.name()).stream()
          .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
      c.assign(parts);
      c.seekToBeginning(parts);
      long deadline = System.nanoTime() + timeout.toNanos();
      while (!done.test(out) && System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(100))) {
          out.add(topic.deserializeValue(r.value()));
        }
      }
      // then to the end (for read_committed, the last stable offset): a duplicate behind the last awaited record counts
      Map<TopicPartition, Long> ends = c.endOffsets(parts);
      while (System.nanoTime() < deadline && parts.stream().anyMatch(tp -> c.position(tp) < ends.get(tp))) {
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(100))) {
          out.add(topic.deserializeValue(r.value()));
        }
      }
    }
    return out;
  }

  /** Waits (polling) until the condition holds; false when the timeout passed first. */
  static boolean await(Duration timeout, ThrowingCondition c) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (c.holds()) {
        return true;
      }
      Thread.sleep(50);
    }
    return c.holds();
  }

  @FunctionalInterface
  interface ThrowingCondition {
    boolean holds() throws Exception;
  }
}
