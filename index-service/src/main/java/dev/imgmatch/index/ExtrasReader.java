package dev.imgmatch.index;

import dev.imgmatch.avro.ImageEmbedding;
import dev.imgmatch.avro.ImageExtras;
import dev.imgmatch.common.TimeSeek;
import dev.imgmatch.schemas.RecordDecodingException;
import dev.imgmatch.schemas.Topic;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds an upload's extras — the local features and preview the embedder wrote on {@code embedding-extras} instead
 * of into its {@code embeddings} record ({@code extrasAside}) — for the owner of its partition, which matches it once.
 * Ingest thread only.
 *
 * <p>The embedder writes the extras in the same transaction as the embeddings record, just before it, to the same
 * partition number; so when this instance reads the embeddings record (read_committed), its extras are committed and
 * lie near the same time in partition <i>p</i> of the extras topic. The reader keeps one consumer (no group: it seeks
 * by time) reading that partition forward, a little ahead of the embeddings consumer, and keeps what it read in a
 * bounded buffer until the embeddings record asks for it. A partition first asked for, or asked for a record already
 * passed (after a restart or a rebalance, one the buffer dropped, or one taken already and asked for again after a
 * rolled-back transaction: the keys of both are remembered), is read again from the record's {@code embeddedAtMs}
 * less {@code lookbackMs}. Records are told apart by tenant, id and {@code embeddedAtMs} (the same id may be uploaded
 * again).
 *
 * <p>Not found — the extras outlived their retention (this instance was days behind), or were lost with a topic
 * deleted by hand — the upload is matched without them (as one whose features were too large): counted, never an
 * error. What it costs in the steady state: one more fetch stream per owned partition, no round trip per record.
 */
final class ExtrasReader implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ExtrasReader.class);
  /** How long one poll waits for the partition's next records. */
  private static final Duration POLL = Duration.ofMillis(100);

  private final Consumer<byte[], byte[]> consumer;
  private final Topic<String, ImageExtras> topic;
  private final long lookbackMs;
  private final long lookaheadMs;
  private final long waitMs;
  private final long maxBufferBytes;
  private final LongSupplier nanoClock;
  /** Read and not yet asked for, oldest first. */
  private final LinkedHashMap<Key, ImageExtras> buffer = new LinkedHashMap<>();
  private long bufferBytes;
  /**
   * Keys of records read and no longer buffered (the newest {@link #GONE_KEYS}): dropped before they were asked for,
   * or taken — and asked for again when index-service rolls a transaction back and matches its records again.
   */
  private final LinkedHashMap<Key, Boolean> gone = new LinkedHashMap<>(16, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Key, Boolean> eldest) {
      return size() > GONE_KEYS;
    }
  };
  private static final int GONE_KEYS = 65_536;
  /** Per partition: the latest record timestamp read since the last seek. */
  private final Map<Integer, Long> readUpTo = new HashMap<>();
  private final Set<Integer> assigned = new HashSet<>();
  /** Extras asked for and not found so far (index-service's metrics count both; this one is for the log). */
  private long missing;
  private long lastMissLogNanos;

  private record Key(int partition, String tenant, String id, long embeddedAtMs) {}

  /**
   * A reader.
   *
   * @param consumer a read_committed consumer without a group (assigned and positioned here); closed with the reader
   * @param lookbackMs how far before an embeddings record's {@code embeddedAtMs} its extras are looked for (clock
   *     skew between an embedder and the brokers of a LogAppendTime topic)
   * @param lookaheadMs how far past it they may still lie (producers' clocks: records of several embedders interleave)
   * @param waitMs the longest one lookup reads
   * @param maxBufferBytes what the buffer of records read ahead may hold
   */
  ExtrasReader(Consumer<byte[], byte[]> consumer, Topic<String, ImageExtras> topic, long lookbackMs, long lookaheadMs,
      long waitMs, long maxBufferBytes, LongSupplier nanoClock) {
    this.consumer = consumer;
    this.topic = topic;
    this.lookbackMs = lookbackMs;
    this.lookaheadMs = lookaheadMs;
    this.waitMs = waitMs;
    this.maxBufferBytes = maxBufferBytes;
    this.nanoClock = nanoClock;
  }

  /**
   * The extras of the embeddings record {@code r} (decoded as {@code e}), or null when they cannot be found.
   */
  ImageExtras find(ConsumerRecord<byte[], byte[]> r, ImageEmbedding e) {
    int p = r.partition();
    Key key = new Key(p, e.getTenant(), e.getId(), e.getEmbeddedAtMs());
    ImageExtras x = take(key);
    if (x != null) {
      return x;
    }
    TopicPartition tp = new TopicPartition(topic.name(), p);
    // the embedder stamps both records when it sends them, just after embeddedAtMs: the anchor (a record redriven
    // from the rejects later keeps it, not its timestamp)
    long at = e.getEmbeddedAtMs();
    boolean seeked = false;
    if (!assigned.contains(p) || readUpTo.getOrDefault(p, Long.MIN_VALUE) > at + lookaheadMs
        || gone.remove(key) != null) {
      seek(tp, at - lookbackMs);
      seeked = true;
    }
    long deadline = nanoClock.getAsLong() + waitMs * 1_000_000L;
    List<TopicPartition> others = consumer.assignment().stream().filter(t -> !t.equals(tp)).toList();
    consumer.pause(others); // only this partition's records now: the buffer holds what is asked for next
    consumer.resume(List.of(tp));
    try {
      while (nanoClock.getAsLong() < deadline) {
        for (ConsumerRecord<byte[], byte[]> c : consumer.poll(POLL).records(tp)) {
          keep(c);
        }
        x = take(key);
        if (x != null) {
          return x;
        }
        if (readUpTo.getOrDefault(p, Long.MIN_VALUE) > at + lookaheadMs) {
          if (seeked) {
            break; // read from before its time to well past it: not there
          }
          seek(tp, at - lookbackMs); // passed, and not in the buffer: once more from before it
          seeked = true;
        }
        // at the end of what is readable it is not "not there": another embedder's transaction still open in this
        // partition holds back everything after its first record (the last stable offset), ours included
      }
    } finally {
      consumer.resume(others);
    }
    missing++;
    if (missing == 1 || nanoClock.getAsLong() - lastMissLogNanos > 10_000_000_000L) {
      lastMissLogNanos = nanoClock.getAsLong();
      log.warn("the local features and preview of image {} (tenant {}, {}-{}) are not on {}: matched without them"
          + " (kept {} days; {} missing so far)", e.getId(), e.getTenant(), r.topic(), r.offset(), topic.name(),
          Long.parseLong(topic.configs().getOrDefault("retention.ms", "0")) / 86_400_000L, missing);
    }
    return null;
  }

  private ImageExtras take(Key key) {
    ImageExtras x = buffer.remove(key);
    if (x != null) {
      bufferBytes -= size(x);
      gone.put(key, Boolean.TRUE);
    }
    return x;
  }

  private void keep(ConsumerRecord<byte[], byte[]> c) {
    readUpTo.merge(c.partition(), c.timestamp(), Math::max);
    ImageExtras x;
    try {
      x = topic.deserializeValue(c.value());
    } catch (RecordDecodingException | IllegalArgumentException bad) {
      log.warn("{}-{}@{} is not an ImageExtras record, skipped: {}", c.topic(), c.partition(), c.offset(),
          bad.getMessage());
      return;
    }
    if (x == null) {
      return;
    }
    Key key = new Key(c.partition(), x.getTenant(), x.getId(), x.getEmbeddedAtMs());
    gone.remove(key);
    ImageExtras was = buffer.put(key, x);
    bufferBytes += size(x) - (was == null ? 0 : size(was));
    for (Iterator<Map.Entry<Key, ImageExtras>> it = buffer.entrySet().iterator();
        bufferBytes > maxBufferBytes && it.hasNext(); ) {
      Map.Entry<Key, ImageExtras> oldest = it.next();
      bufferBytes -= size(oldest.getValue());
      gone.put(oldest.getKey(), Boolean.TRUE);
      it.remove();
    }
  }

  private static long size(ImageExtras x) {
    return 64 + (x.getLocalFeatures() == null ? 0 : x.getLocalFeatures().remaining())
        + (x.getPreview() == null ? 0 : x.getPreview().remaining());
  }

  /**
   * Reads {@code tp} again from {@code timestampMs} (from the end when nothing readable is that recent: the end before
   * the look-up, {@link TimeSeek} — the coordinator writes a commit's markers one partition after another, so an
   * embeddings record can be readable while its extras are not yet, and the end read a moment later lies past them).
   */
  private void seek(TopicPartition tp, long timestampMs) {
    if (assigned.add(tp.partition())) {
      Set<TopicPartition> all = new HashSet<>(consumer.assignment());
      all.add(tp);
      consumer.assign(all);
    }
    TimeSeek.seek(consumer, Map.of(tp, Math.max(0, timestampMs)));
    readUpTo.remove(tp.partition());
  }

  @Override
  public void close() {
    consumer.close(Duration.ofSeconds(5));
  }
}
