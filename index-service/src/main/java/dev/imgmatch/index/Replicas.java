package dev.imgmatch.index;

import java.io.Closeable;
import java.io.IOException;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replica shards: the partitions of {@code embeddings} this instance keeps without owning them. Each is read (by a
 * consumer of its own, assigned by hand, never a group member) up to the offset its owner committed with its last
 * alerts transaction — the group's committed offset A — and no further. So a replica never holds a record whose
 * alert is not committed yet: when the partition comes to this instance (its owner left, died or the group
 * rebalanced), the shard is already warm, everything in it is before A, and matching resumes at A exactly.
 *
 * <p>Not thread-safe: used by the ingest thread only ({@link #partitions()} may be read from any thread).
 */
final class Replicas implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(Replicas.class);

  /** What a replicated record is handed to. */
  @FunctionalInterface
  interface Sink {
    void apply(ConsumerRecord<byte[], byte[]> r) throws IOException;
  }

  private final KafkaConsumer<byte[], byte[]> consumer;
  private final long refreshNanos;
  /** Followed partitions → the group's committed offset (A) as last read; records from there on wait. */
  private final Map<TopicPartition, Long> limits = new HashMap<>();
  /** Followed partitions → the next offset to read (the shard's position). */
  private final Map<TopicPartition, Long> next = new HashMap<>();
  private final Set<TopicPartition> waiting = new HashSet<>();
  private final Set<Integer> followed = ConcurrentHashMap.newKeySet();
  private long refreshedAt;
  private boolean limitsKnown;

  /**
   * @param consumer a read_committed consumer with the embeddings group's {@code group.id} (to read its committed
   *     offsets) that is only ever assigned partitions by hand
   * @param refreshMs how often the owners' committed offsets are read
   */
  Replicas(KafkaConsumer<byte[], byte[]> consumer, long refreshMs) {
    this.consumer = consumer;
    this.refreshNanos = TimeUnit.MILLISECONDS.toNanos(refreshMs);
  }

  /** The shards followed now (any thread). */
  Set<Integer> partitions() {
    return Set.copyOf(followed);
  }

  boolean follows(int partition) {
    return followed.contains(partition);
  }

  /** Follows {@code tp} from offset {@code from} (negative: its beginning). */
  void follow(TopicPartition tp, long from) {
    Set<TopicPartition> assignment = new HashSet<>(consumer.assignment());
    assignment.add(tp);
    consumer.assign(assignment);
    if (from >= 0) {
      consumer.seek(tp, from);
    } else {
      consumer.seekToBeginning(List.of(tp));
    }
    next.put(tp, Math.max(0, from));
    limits.putIfAbsent(tp, 0L);
    waiting.remove(tp);
    followed.add(tp.partition());
    limitsKnown = false; // read the new partition's A before calling it caught up
  }

  /** Stops following {@code parts} (their shards stay open: the caller now owns them). */
  void unfollow(Collection<TopicPartition> parts) {
    Set<TopicPartition> assignment = new HashSet<>(consumer.assignment());
    assignment.removeAll(parts);
    consumer.assign(assignment);
    for (TopicPartition tp : parts) {
      limits.remove(tp);
      next.remove(tp);
      waiting.remove(tp);
      followed.remove(tp.partition());
    }
  }

  /**
   * Reads once (waiting at most {@code timeout}) and hands {@code sink} every record before its partition's limit,
   * in order; a partition that reached its limit waits until its owner commits further.
   *
   * @return the records applied
   */
  int poll(Duration timeout, Sink sink) throws IOException {
    if (consumer.assignment().isEmpty()) {
      return 0;
    }
    refreshLimits(false);
    ConsumerRecords<byte[], byte[]> recs = consumer.poll(timeout);
    int applied = 0;
    for (TopicPartition tp : recs.partitions()) {
      long limit = limits.getOrDefault(tp, 0L);
      for (ConsumerRecord<byte[], byte[]> r : recs.records(tp)) {
        if (r.offset() >= limit) {
          consumer.seek(tp, r.offset()); // read again once the owner committed past it
          consumer.pause(List.of(tp));
          waiting.add(tp);
          break;
        }
        sink.apply(r);
        next.put(tp, r.offset() + 1);
        applied++;
      }
    }
    return applied;
  }

  /** Reads the owners' committed offsets when due ({@code now}: at once); a partition they moved is read again. */
  void refreshLimits(boolean now) {
    long t = System.nanoTime();
    if (!now && limitsKnown && t - refreshedAt < refreshNanos) {
      return;
    }
    refreshedAt = t;
    Map<TopicPartition, OffsetAndMetadata> committed;
    Map<TopicPartition, Long> ends;
    try {
      committed = consumer.committed(new HashSet<>(limits.keySet()), Duration.ofSeconds(5));
      ends = consumer.endOffsets(limits.keySet(), Duration.ofSeconds(5)); // read_committed: the last stable offsets
    } catch (TimeoutException e) {
      log.debug("cannot read the owners' committed offsets now: {}", e.toString());
      return;
    }
    for (TopicPartition tp : limits.keySet()) {
      OffsetAndMetadata a = committed.get(tp);
      // never past the partition's end: a committed offset beyond it (the topic was recreated) would wait for ever
      long limit = Math.min(a == null ? 0 : a.offset(), ends.getOrDefault(tp, Long.MAX_VALUE));
      limits.put(tp, limit);
      if (waiting.contains(tp) && limit > next.getOrDefault(tp, 0L)) {
        waiting.remove(tp);
        consumer.resume(List.of(tp));
      }
    }
    limitsKnown = true;
  }

  /**
   * Records the replicas are behind their owners' committed offsets, summed (as of the last read of those offsets);
   * {@code Long.MAX_VALUE} before they were read once.
   */
  long lag() {
    if (!limitsKnown) {
      return Long.MAX_VALUE;
    }
    long lag = 0;
    for (Map.Entry<TopicPartition, Long> e : limits.entrySet()) {
      long position;
      try {
        position = Math.max(next.getOrDefault(e.getKey(), 0L), consumer.position(e.getKey(), Duration.ofSeconds(5)));
      } catch (TimeoutException ex) {
        position = next.getOrDefault(e.getKey(), 0L);
      }
      lag += Math.max(0, e.getValue() - position);
    }
    return lag;
  }

  /** The limits as last read (for logs and readiness). */
  Map<Integer, Long> limits() {
    Map<Integer, Long> m = new HashMap<>();
    limits.forEach((tp, l) -> m.put(tp.partition(), l));
    return m;
  }

  @Override
  public void close() {
    consumer.close(Duration.ofSeconds(5));
  }
}
