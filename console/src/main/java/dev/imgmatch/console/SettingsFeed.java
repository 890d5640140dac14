package dev.imgmatch.console;

import dev.imgmatch.avro.CollectionSettings;
import dev.imgmatch.schemas.RecordDecodingException;
import dev.imgmatch.schemas.Topic;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The run-time settings of collections and banks (the compacted {@code collection-settings}, a handful of records),
 * read whole and followed by thread {@code console-settings} for {@code GET /v1/collections}.
 */
final class SettingsFeed implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SettingsFeed.class);

  private final Map<String, Object> kafka;
  private final Topic<String, CollectionSettings> topic;
  private final Map<String, CollectionSettings> byKey = new ConcurrentHashMap<>();
  private final Thread thread;
  private volatile boolean running = true;
  private volatile KafkaConsumer<byte[], byte[]> consumer;

  SettingsFeed(Map<String, Object> kafka, Topic<String, CollectionSettings> topic) {
    this.kafka = kafka;
    this.topic = topic;
    this.thread = new Thread(this::run, "console-settings");
    thread.setDaemon(true);
  }

  SettingsFeed start() {
    thread.start();
    return this;
  }

  /** Every record held, by kind, name and tenant. */
  List<CollectionSettings> all() {
    List<CollectionSettings> out = new ArrayList<>(byKey.values());
    out.sort(Comparator.comparing((CollectionSettings s) -> s.getKind().name())
        .thenComparing(s -> s.getName().toString()).thenComparing(s -> s.getTenant().toString()));
    return out;
  }

  private void run() {
    Map<String, Object> p = new HashMap<>(kafka);
    p.remove(ConsumerConfig.GROUP_ID_CONFIG);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, "imgmatch-console-settings");
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
        new ByteArrayDeserializer())) {
      consumer = c;
      while (running && c.assignment().isEmpty()) {
        var infos = c.partitionsFor(topic.name(), Duration.ofSeconds(10));
        if (infos == null || infos.isEmpty()) {
          Thread.sleep(2_000);
          continue;
        }
        List<TopicPartition> parts = infos.stream().map(i -> new TopicPartition(i.topic(), i.partition())).toList();
        c.assign(parts);
        c.seekToBeginning(parts);
      }
      while (running) {
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
          String key;
          try {
            key = topic.deserializeKey(r.key());
          } catch (RuntimeException e) {
            continue;
          }
          if (r.value() == null) {
            byKey.remove(key);
            continue;
          }
          try {
            byKey.put(key, topic.deserializeValue(r.value()));
          } catch (RecordDecodingException e) {
            log.warn("unreadable settings at {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), e.getMessage());
          }
        }
      }
    } catch (WakeupException e) {
      // closing
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (KafkaException e) {
      log.error("console: the settings feed stopped", e);
    } finally {
      consumer = null;
    }
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    KafkaConsumer<byte[], byte[]> c = consumer;
    if (c != null) {
      c.wakeup();
    }
    thread.join(10_000);
  }
}
