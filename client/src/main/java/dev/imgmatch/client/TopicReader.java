package dev.imgmatch.client;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads a whole topic from the beginning without a consumer group: up to its end, or forever with follow. Reads
 * {@code read_committed}, so records of aborted transactions (a stage that crashed mid-batch) are never seen. Used for
 * the alerts and rejects topics:
 *
 * <pre>{@code
 * Topic<byte[], Reject> rejects = Topics.defaults().rejects();
 * TopicReader.read(Map.of("bootstrap.servers", "localhost:9092"), rejects.name(), false,
 *     r -> System.out.println(rejects.deserializeValue(r.value()).getReasonCode()));
 * }</pre>
 *
 * <p>The callback runs on the calling thread; stdout is flushed after each batch. With {@code follow}, a JVM shutdown
 * hook (Ctrl-C, SIGTERM) ends the read.
 */
public final class TopicReader {
  private TopicReader() {}

  /**
   * @param client Kafka client settings (at least bootstrap.servers)
   * @param topic the topic's full name
   * @param follow keep reading new records until the JVM shuts down, instead of returning at the end
   * @param each called with every record, in partition order
   * @throws IllegalStateException when the topic does not exist
   */
  public static void read(Map<String, Object> client, String topic, boolean follow,
      Consumer<ConsumerRecord<byte[], byte[]>> each) {
    Map<String, Object> props = new HashMap<>(client);
    props.put("isolation.level", "read_committed");
    props.put("enable.auto.commit", false);
    try (var consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> parts = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
          .map(p -> new TopicPartition(topic, p.partition())).toList();
      if (parts.isEmpty()) {
        throw new IllegalStateException("topic " + topic + " does not exist at " + client.get("bootstrap.servers")
            + " (is the stack running? `./imgmatch up` creates it)");
      }
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      Map<TopicPartition, Long> end = consumer.endOffsets(parts);
      Thread main = Thread.currentThread();
      if (follow) {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
          consumer.wakeup();
          try {
            main.join(5000);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }));
      }
      try {
        while (true) {
          for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(250))) {
            each.accept(r);
          }
          System.out.flush();
          if (!follow && parts.stream().allMatch(p -> consumer.position(p) >= end.get(p))) {
            return;
          }
        }
      } catch (WakeupException e) {
        // Ctrl-C while following
      }
    }
  }
}
