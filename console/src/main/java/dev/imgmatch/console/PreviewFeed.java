package dev.imgmatch.console;

import dev.imgmatch.avro.ImagePreview;
import dev.imgmatch.schemas.RecordDecodingException;
import dev.imgmatch.schemas.Topic;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads {@code reference-previews} and {@code previews} into the {@link PreviewStore} on one thread ({@code
 * console-previews}) that owns its consumer: every partition of both assigned (no group, nothing committed), from the
 * beginning, {@code read_committed} (a preview of an aborted alerts transaction is never shown). Topics that do not
 * exist yet are waited for, partitions added later picked up. A tombstone removes the image's preview of that topic;
 * an unreadable record is logged and counted, never fatal. Expired upload previews are swept once a minute.
 */
final class PreviewFeed extends TopicFollower {
  private static final Logger log = LoggerFactory.getLogger(PreviewFeed.class);
  private static final long SWEEP_MS = 60_000;

  private final Topic<String, ImagePreview> references;
  private final Topic<String, ImagePreview> uploads;
  private final PreviewStore store;
  private final LongSupplier clock;
  private final AtomicLong read = new AtomicLong();
  private final AtomicLong unreadable = new AtomicLong();
  private long nextSweep;

  PreviewFeed(Map<String, Object> kafka, Topic<String, ImagePreview> references, Topic<String, ImagePreview> uploads,
      PreviewStore store, LongSupplier clock) {
    super("console-previews", "imgmatch-console-previews", kafka, List.of(references.name(), uploads.name()));
    this.references = references;
    this.uploads = uploads;
    this.store = store;
    this.clock = clock;
    this.nextSweep = clock.getAsLong() + SWEEP_MS;
  }

  PreviewFeed start() {
    startThread();
    return this;
  }

  long read() {
    return read.get();
  }

  long unreadable() {
    return unreadable.get();
  }

  @Override
  void onRecord(ConsumerRecord<byte[], byte[]> r) {
    apply(r, clock.getAsLong());
  }

  /** Expired upload previews, swept once a minute. */
  @Override
  void onTurn(KafkaConsumer<byte[], byte[]> c, long nowMs) {
    long now = clock.getAsLong();
    if (now >= nextSweep) {
      int n = store.sweep(now);
      if (n > 0) {
        log.info("console: {} upload preview(s) expired", n);
      }
      nextSweep = now + SWEEP_MS;
    }
  }

  /** One record of either topic into the store. */
  void apply(ConsumerRecord<byte[], byte[]> r, long nowMs) {
    boolean isReference = r.topic().equals(references.name());
    Topic<String, ImagePreview> topic = isReference ? references : uploads;
    PreviewStore.Kind kind = isReference ? PreviewStore.Kind.REFERENCE : PreviewStore.Kind.UPLOAD;
    String key = r.key() == null ? null : topic.deserializeKey(r.key());
    int sep = key == null ? -1 : key.indexOf('\u001f');
    if (sep < 0) {
      unreadable.incrementAndGet();
      log.warn("preview at {}-{}@{} without a tenant + U+001F + id key: skipped", r.topic(), r.partition(), r.offset());
      return;
    }
    read.incrementAndGet();
    if (r.value() == null) {
      store.remove(kind, key.substring(0, sep), key.substring(sep + 1));
      return;
    }
    try {
      ImagePreview v = topic.deserializeValue(r.value());
      ByteBuffer b = v.getJpeg().duplicate();
      byte[] jpeg = new byte[b.remaining()];
      b.get(jpeg);
      store.put(new PreviewStore.Preview(kind, v.getTenant(), v.getImageId(), v.getCollection(), jpeg, v.getWidth(),
          v.getHeight(), v.getCreatedAtMs()), nowMs);
    } catch (RecordDecodingException e) {
      read.decrementAndGet();
      unreadable.incrementAndGet();
      log.warn("unreadable preview at {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), e.getMessage());
    }
  }
}
