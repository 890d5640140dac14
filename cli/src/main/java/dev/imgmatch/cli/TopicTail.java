package dev.imgmatch.cli;

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

/** Reads a whole topic from the beginning without a consumer group: up to its end, or forever with follow. */
final class TopicTail {
  private TopicTail() {}

  static void run(Map<String, Object> client, String topic, boolean follow, Consumer<ConsumerRecord<byte[], byte[]>> each) {
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
