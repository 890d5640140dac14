package dev.imgmatch.client;

import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.schemas.RecordDecodingException;
import dev.imgmatch.schemas.Topic;
import dev.imgmatch.schemas.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Follows the match-alerts topic from its current end on a background thread (no consumer group), handing each
 * alert to a callback and keeping them all. Reads {@code read_committed}: each alert once. Start it before uploading:
 * alerts written before its constructor returns are not seen (use {@link TopicReader} for those).
 */
public final class AlertWatcher implements AutoCloseable {
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final Topic<String, MatchAlert> topic;
  private final List<MatchAlert> alerts = new CopyOnWriteArrayList<>();
  private final Thread thread;
  private volatile boolean running = true;

  /**
   * @param clientProps Kafka client settings (at least bootstrap.servers)
   * @param onAlert called on the watcher's thread with each alert
   */
  public AlertWatcher(Map<String, Object> clientProps, Topics topics, Consumer<MatchAlert> onAlert) {
    Map<String, Object> p = new HashMap<>(clientProps);
    p.put("isolation.level", "read_committed");
    p.put("enable.auto.commit", false);
    this.consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    this.topic = topics.matchAlerts();
    List<TopicPartition> parts = new ArrayList<>();
    consumer.partitionsFor(topic.name(), Duration.ofSeconds(30))
        .forEach(pi -> parts.add(new TopicPartition(topic.name(), pi.partition())));
    consumer.assign(parts);
    consumer.seekToEnd(parts);
    parts.forEach(consumer::position); // pin the start before anything is uploaded
    this.thread = new Thread(() -> {
      try {
        while (running) {
          consumer.poll(Duration.ofMillis(100)).forEach(r -> {
            try {
              MatchAlert a = topic.deserializeValue(r.value());
              alerts.add(a);
              onAlert.accept(a);
            } catch (RecordDecodingException e) {
              System.err.println("imgmatch: unreadable alert at " + r.partition() + "@" + r.offset() + ": " + e.getMessage());
            }
          });
        }
      } catch (WakeupException e) {
        // closing
      } finally {
        consumer.close();
      }
    }, "alert-watcher");
    thread.setDaemon(true);
    thread.start();
  }

  /** Every alert seen so far, in arrival order. */
  public List<MatchAlert> alerts() {
    return List.copyOf(alerts);
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    consumer.wakeup();
    thread.join(10_000);
  }
}
