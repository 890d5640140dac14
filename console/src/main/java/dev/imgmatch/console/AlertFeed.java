package dev.imgmatch.console;

import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.common.TimeSeek;
import dev.imgmatch.schemas.RecordDecodingException;
import dev.imgmatch.schemas.Topic;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads {@code match-alerts} into the console on one thread ({@code console-alerts}), which owns its consumer: every
 * partition assigned (no consumer group, nothing committed: each console reads the whole look-back), from the
 * beginning or from {@code now - lookback}, {@code read_committed} (an aborted attempt of index-service is never
 * shown, a committed alert once). Partitions added to the topic later are picked up within
 * {@link TopicFollower#PARTITION_CHECK_MS}. A topic that does not exist yet is waited for. An unreadable record is logged and
 * counted, never fatal.
 */
final class AlertFeed extends TopicFollower {
  private static final Logger log = LoggerFactory.getLogger(AlertFeed.class);

  private final Topic<String, MatchAlert> topic;
  private final long lookbackMs;
  private final Consumer<MatchAlert> sink;
  private final AtomicLong read = new AtomicLong();
  private final AtomicLong unreadable = new AtomicLong();
  /** End offsets of the partitions when they were assigned: caught up once every position reaches them. */
  private final Map<TopicPartition, Long> startEnd = new HashMap<>();
  private volatile boolean caughtUp;

  /**
   * @param lookbackMs -1: from the beginning; 0: only new alerts; else this far back
   * @param sink called on the feed thread with each alert
   */
  AlertFeed(Map<String, Object> kafka, Topic<String, MatchAlert> topic, long lookbackMs, Consumer<MatchAlert> sink) {
    super("console-alerts", "imgmatch-console-alerts", kafka, List.of(topic.name()));
    this.topic = topic;
    this.lookbackMs = lookbackMs;
    this.sink = sink;
  }

  AlertFeed start() {
    startThread();
    return this;
  }

  /** Whether every alert of the look-back that existed at start has been read. */
  boolean caughtUp() {
    return caughtUp;
  }

  long read() {
    return read.get();
  }

  long unreadable() {
    return unreadable.get();
  }

  @Override
  void onRecord(ConsumerRecord<byte[], byte[]> r) {
    try {
      MatchAlert a = topic.deserializeValue(r.value());
      read.incrementAndGet();
      sink.accept(a);
    } catch (RecordDecodingException e) {
      unreadable.incrementAndGet();
      log.warn("unreadable alert at {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), e.getMessage());
    }
  }

  @Override
  void onTurn(KafkaConsumer<byte[], byte[]> c, long nowMs) {
    if (!caughtUp && !startEnd.isEmpty()
        && startEnd.entrySet().stream().allMatch(e -> c.position(e.getKey()) >= e.getValue())) {
      caughtUp = true;
      setState("following " + topic.name());
      log.info("console: read the alerts of the look-back ({} alerts); following {}", read.get(), topic.name());
    }
  }

  /** The first partitions at the look-back's start; a partition added later holds only new alerts: read it whole. */
  @Override
  void seekAdded(KafkaConsumer<byte[], byte[]> c, List<TopicPartition> added, boolean first) {
    startEnd.putAll(c.endOffsets(added));
    if (lookbackMs < 0 || !first) {
      c.seekToBeginning(added);
    } else if (lookbackMs == 0) {
      c.seekToEnd(added);
    } else {
      long now = System.currentTimeMillis();
      Map<TopicPartition, Long> at = new HashMap<>();
      added.forEach(tp -> at.put(tp, now - lookbackMs));
      TimeSeek.seek(c, at); // nothing that recent: the end (an alert committed meanwhile is not skipped)
    }
    log.info("console: reading {} partition(s) of {} ({})", added.size(), topic.name(),
        lookbackMs < 0 ? "from the beginning" : lookbackMs == 0 ? "new alerts only" : "the last " + lookbackMs + " ms");
  }
}
