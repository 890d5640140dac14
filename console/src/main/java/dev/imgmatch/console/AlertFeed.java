package dev.imgmatch.console;

import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.schemas.RecordDecodingException;
import dev.imgmatch.schemas.Topic;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads {@code match-alerts} into the console on one thread ({@code console-alerts}), which owns its consumer: every
 * partition assigned (no consumer group, nothing committed: each console reads the whole look-back), from the
 * beginning or from {@code now - lookback}, {@code read_committed} (an aborted attempt of index-service is never
 * shown, a committed alert once). Partitions added to the topic later are picked up within
 * {@link #PARTITION_CHECK_MS}. A topic that does not exist yet is waited for. An unreadable record is logged and
 * counted, never fatal.
 */
final class AlertFeed implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AlertFeed.class);
  static final long PARTITION_CHECK_MS = 30_000;

  private final Map<String, Object> kafka;
  private final Topic<String, MatchAlert> topic;
  private final long lookbackMs;
  private final Consumer<MatchAlert> sink;
  private final Thread thread;
  private final AtomicLong read = new AtomicLong();
  private final AtomicLong unreadable = new AtomicLong();
  private volatile boolean running = true;
  private volatile boolean caughtUp;
  private volatile String state = "starting";
  private volatile KafkaConsumer<byte[], byte[]> consumer;

  /**
   * @param lookbackMs -1: from the beginning; 0: only new alerts; else this far back
   * @param sink called on the feed thread with each alert
   */
  AlertFeed(Map<String, Object> kafka, Topic<String, MatchAlert> topic, long lookbackMs, Consumer<MatchAlert> sink) {
    this.kafka = kafka;
    this.topic = topic;
    this.lookbackMs = lookbackMs;
    this.sink = sink;
    this.thread = new Thread(this::run, "console-alerts");
    thread.setDaemon(true);
  }

  AlertFeed start() {
    thread.start();
    return this;
  }

  /** Whether every alert of the look-back that existed at start has been read. */
  boolean caughtUp() {
    return caughtUp;
  }

  /** What the feed is doing, in words (for /health). */
  String state() {
    return state;
  }

  long read() {
    return read.get();
  }

  long unreadable() {
    return unreadable.get();
  }

  private void run() {
    Map<String, Object> p = new HashMap<>(kafka);
    p.remove(ConsumerConfig.GROUP_ID_CONFIG);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, "imgmatch-console-alerts");
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
        new ByteArrayDeserializer())) {
      consumer = c;
      Map<TopicPartition, Long> startEnd = new HashMap<>();
      long nextCheck = 0;
      while (running) {
        long now = System.currentTimeMillis();
        if (now >= nextCheck) {
          List<TopicPartition> added = assignNew(c, now);
          if (!added.isEmpty()) {
            startEnd.putAll(c.endOffsets(added));
          }
          nextCheck = now + (c.assignment().isEmpty() ? 2_000 : PARTITION_CHECK_MS);
          if (c.assignment().isEmpty()) {
            state = "waiting for topic " + topic.name();
            Thread.sleep(500);
            continue;
          }
        }
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
          try {
            MatchAlert a = topic.deserializeValue(r.value());
            read.incrementAndGet();
            sink.accept(a);
          } catch (RecordDecodingException e) {
            unreadable.incrementAndGet();
            log.warn("unreadable alert at {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), e.getMessage());
          }
        }
        if (!caughtUp && startEnd.entrySet().stream().allMatch(e -> c.position(e.getKey()) >= e.getValue())) {
          caughtUp = true;
          state = "following " + topic.name();
          log.info("console: read the alerts of the look-back ({} alerts); following {}", read.get(), topic.name());
        }
      }
    } catch (WakeupException e) {
      // closing
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (KafkaException e) {
      state = "stopped: " + e;
      log.error("console: the alert feed stopped", e);
    } finally {
      consumer = null;
    }
  }

  /** Assigns partitions not assigned yet, positioned at the look-back's start; returns them. */
  private List<TopicPartition> assignNew(KafkaConsumer<byte[], byte[]> c, long now) {
    Set<TopicPartition> have = c.assignment();
    List<TopicPartition> added = new ArrayList<>();
    List<org.apache.kafka.common.PartitionInfo> infos;
    try {
      infos = c.partitionsFor(topic.name(), Duration.ofSeconds(10));
    } catch (org.apache.kafka.common.errors.TimeoutException e) {
      state = "cannot reach Kafka at " + kafka.get("bootstrap.servers") + " (retrying): " + e.getMessage();
      log.warn("console: {}", state);
      return added;
    }
    if (infos != null) {
      infos.forEach(i -> {
        TopicPartition tp = new TopicPartition(i.topic(), i.partition());
        if (!have.contains(tp)) {
          added.add(tp);
        }
      });
    }
    if (added.isEmpty()) {
      return added;
    }
    List<TopicPartition> all = new ArrayList<>(have);
    all.addAll(added);
    c.assign(all);
    boolean firstAssignment = have.isEmpty();
    if (lookbackMs < 0 || !firstAssignment) { // a partition added later holds only new alerts: read it whole
      c.seekToBeginning(added);
    } else if (lookbackMs == 0) {
      c.seekToEnd(added);
    } else {
      Map<TopicPartition, Long> at = new HashMap<>();
      added.forEach(tp -> at.put(tp, now - lookbackMs));
      Map<TopicPartition, OffsetAndTimestamp> found = c.offsetsForTimes(at);
      List<TopicPartition> none = new ArrayList<>();
      found.forEach((tp, o) -> {
        if (o == null) {
          none.add(tp); // nothing that recent
        } else {
          c.seek(tp, o.offset());
        }
      });
      c.seekToEnd(none);
    }
    added.forEach(c::position); // resolve now: alerts written after this are seen
    log.info("console: reading {} partition(s) of {} ({})", added.size(), topic.name(),
        lookbackMs < 0 ? "from the beginning" : lookbackMs == 0 ? "new alerts only" : "the last " + lookbackMs + " ms");
    return added;
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
