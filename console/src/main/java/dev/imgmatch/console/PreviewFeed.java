package dev.imgmatch.console;

import dev.imgmatch.avro.ImagePreview;
import dev.imgmatch.schemas.RecordDecodingException;
import dev.imgmatch.schemas.Topic;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
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
 * Reads {@code reference-previews} and {@code previews} into the {@link PreviewStore} on one thread ({@code
 * console-previews}) that owns its consumer: every partition of both assigned (no group, nothing committed), from the
 * beginning, {@code read_committed} (a preview of an aborted alerts transaction is never shown). Topics that do not
 * exist yet are waited for, partitions added later picked up. A tombstone removes the image's preview of that topic;
 * an unreadable record is logged and counted, never fatal. Expired upload previews are swept once a minute.
 */
final class PreviewFeed implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PreviewFeed.class);
  private static final long PARTITION_CHECK_MS = 30_000;
  private static final long SWEEP_MS = 60_000;

  private final Map<String, Object> kafka;
  private final Topic<String, ImagePreview> references;
  private final Topic<String, ImagePreview> uploads;
  private final PreviewStore store;
  private final LongSupplier clock;
  private final Thread thread;
  private final AtomicLong read = new AtomicLong();
  private final AtomicLong unreadable = new AtomicLong();
  private volatile boolean running = true;
  private volatile String state = "starting";
  private volatile KafkaConsumer<byte[], byte[]> consumer;

  PreviewFeed(Map<String, Object> kafka, Topic<String, ImagePreview> references, Topic<String, ImagePreview> uploads,
      PreviewStore store, LongSupplier clock) {
    this.kafka = kafka;
    this.references = references;
    this.uploads = uploads;
    this.store = store;
    this.clock = clock;
    this.thread = new Thread(this::run, "console-previews");
    thread.setDaemon(true);
  }

  PreviewFeed start() {
    thread.start();
    return this;
  }

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
    p.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, "imgmatch-console-previews");
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
        new ByteArrayDeserializer())) {
      consumer = c;
      long nextCheck = 0;
      long nextSweep = clock.getAsLong() + SWEEP_MS;
      while (running) {
        long now = clock.getAsLong();
        if (now >= nextCheck) {
          assignNew(c);
          boolean all = c.assignment().stream().map(TopicPartition::topic).distinct().count() == 2;
          nextCheck = now + (all ? PARTITION_CHECK_MS : 2_000);
          if (c.assignment().isEmpty()) {
            state = "waiting for topics " + references.name() + " and " + uploads.name();
            Thread.sleep(500);
            continue;
          }
          state = "following " + c.assignment().stream().map(TopicPartition::topic).distinct().sorted().toList();
        }
        if (now >= nextSweep) {
          int n = store.sweep(now);
          if (n > 0) {
            log.info("console: {} upload preview(s) expired", n);
          }
          nextSweep = now + SWEEP_MS;
        }
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
          apply(r, clock.getAsLong());
        }
      }
    } catch (WakeupException e) {
      // closing
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (KafkaException e) {
      state = "stopped: " + e;
      log.error("console: the preview feed stopped", e);
    } finally {
      consumer = null;
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

  /** Assigns the partitions of both topics not assigned yet, from the beginning. */
  private void assignNew(KafkaConsumer<byte[], byte[]> c) {
    Set<TopicPartition> have = c.assignment();
    List<TopicPartition> added = new ArrayList<>();
    for (String name : List.of(references.name(), uploads.name())) {
      List<org.apache.kafka.common.PartitionInfo> infos;
      try {
        infos = c.partitionsFor(name, Duration.ofSeconds(10));
      } catch (org.apache.kafka.common.errors.TimeoutException e) {
        state = "cannot reach Kafka at " + kafka.get("bootstrap.servers") + " (retrying): " + e.getMessage();
        log.warn("console: {}", state);
        return;
      }
      if (infos != null) {
        infos.stream().map(i -> new TopicPartition(i.topic(), i.partition())).filter(tp -> !have.contains(tp))
            .forEach(added::add);
      }
    }
    if (added.isEmpty()) {
      return;
    }
    List<TopicPartition> all = new ArrayList<>(have);
    all.addAll(added);
    c.assign(all);
    c.seekToBeginning(added);
    log.info("console: reading {} partition(s) of the preview topics from the beginning", added.size());
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
