package dev.imgmatch.testkit;

import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * A real Kafka broker for integration tests, shared by every test of a JVM run. Obtain it through
 * {@link KafkaBrokerExtension} (a parameter of type {@code KafkaBroker}); never start one yourself, except a
 * {@link SecureKafkaBroker} (authentication and ACLs), which a test starts and closes itself.
 *
 * <p>The clients this class configures ({@link #admin()}, {@link #producerProps()}, {@link #consumerProps},
 * {@link #clientProps()}) carry {@link #security()}: nothing for a plain broker, the super user's credentials for a
 * secure one.
 */
public abstract class KafkaBroker implements AutoCloseable {

  /** How the broker was provided. */
  public enum Kind {
    /** Testcontainers' {@code apache/kafka} container (Docker answered). */
    CONTAINER,
    /** Kafka's own KRaft test cluster inside the test JVM (no Docker). */
    IN_PROCESS,
    /** A broker someone else runs, named by {@code IMGMATCH_TEST_KAFKA=external:host:port}. */
    EXTERNAL
  }

  public abstract String bootstrapServers();

  public abstract Kind kind();

  /** A topic (or group, or transactional id) name nobody else in this run uses. */
  public String uniqueName(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  /** Client security settings every client of this class gets (SASL etc.); empty for a plain broker. */
  public Map<String, Object> security() {
    return Map.of();
  }

  public Admin admin() {
    Map<String, Object> m = new HashMap<>(security());
    m.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    return Admin.create(m);
  }

  /** Creates the topics (ignoring ones that exist) and waits until they are created. */
  public void createTopics(Collection<NewTopic> topics) {
    try (Admin admin = admin()) {
      try {
        admin.createTopics(topics).all().get(60, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) {
          throw new IllegalStateException("cannot create topics " + topics, e.getCause());
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (TimeoutException e) {
      throw new IllegalStateException("topic creation timed out: " + topics, e);
    }
  }

  public void createTopic(String name, int partitions) {
    createTopics(List.of(new NewTopic(name, partitions, (short) 1)));
  }

  public Set<String> listTopics() {
    try (Admin admin = admin()) {
      return admin.listTopics().names().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("cannot list topics", e);
    }
  }

  /** Producer settings for byte-array keys and values. */
  public Properties producerProps() {
    Properties p = new Properties();
    p.putAll(security());
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    // one request in flight: tests often write to a topic a service created a moment before, and an idempotent
    // producer with several in flight can then retry one batch forever (KAFKA-14359; it hung CrashRestartIT in CI)
    p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1");
    return p;
  }

  /** Consumer settings for byte-array keys and values, read_committed, from the earliest offset. */
  public Properties consumerProps(String groupId) {
    Properties p = new Properties();
    p.putAll(security());
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    return p;
  }

  /**
   * Waits (30 s at most) until {@code tp}'s last stable offset reaches {@code offset}: a transaction's commit returns
   * before the coordinator has written its markers, and until then read_committed readers do not see it.
   */
  public void awaitStableOffset(TopicPartition tp, long offset) {
    Properties p = consumerProps("unused");
    p.remove(ConsumerConfig.GROUP_ID_CONFIG);
    try (KafkaConsumer<byte[], byte[]> probe = new KafkaConsumer<>(p)) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (probe.endOffsets(List.of(tp)).get(tp) < offset) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(tp + " not stable up to " + offset + " within 30 s");
        }
        Thread.onSpinWait();
      }
    }
  }

  /** Client settings as a map (for Kafka Streams and friends). */
  public Map<String, Object> clientProps() {
    Map<String, Object> m = new HashMap<>(security());
    m.put("bootstrap.servers", bootstrapServers());
    return m;
  }

  @Override
  public String toString() {
    return kind() + " Kafka broker at " + bootstrapServers();
  }
}
