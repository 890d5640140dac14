package dev.imgmatch.embedder.worker;

import dev.imgmatch.avro.ModelServing;
import dev.imgmatch.embedder.Embedder;
import dev.imgmatch.embedder.PictureEmbedder;
import dev.imgmatch.embedder.model.RgbImage;
import dev.imgmatch.schemas.RecordDecodingException;
import dev.imgmatch.schemas.Topic;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
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
 * The worker's descriptor during a model upgrade: the main embedder, and the next version's ({@code
 * descriptor.next.head}) when configured; each batch uses the one whose version the {@code model-serving} topic
 * names ({@code ./imgmatch reindex} writes it once every reference has descriptors of the new version), else the main
 * one. A background thread follows the topic (read_committed, from its beginning): the serving version is known
 * before the first batch and a switch is seen within about a second.
 *
 * <p>A serving version this worker has no embedder for (an upgrade it was not configured for) leaves it on its main
 * one, with a warning: its uploads are then matched by hashes only against images re-embedded and retired.
 */
final class ServingEmbedder implements PictureEmbedder {
  private static final Logger log = LoggerFactory.getLogger(ServingEmbedder.class);

  private final PictureEmbedder main;
  private final PictureEmbedder next;
  private final Topic<String, ModelServing> topic;
  private final Map<String, Object> kafka;
  private final CountDownLatch loaded = new CountDownLatch(1);
  private final CountDownLatch closing = new CountDownLatch(1);
  private volatile String serving;
  private volatile boolean running = true;
  private volatile KafkaConsumer<byte[], byte[]> consumer;
  private Thread thread;
  private String lastUsed;

  /**
   * @param next the next version's embedder (owned: closed with this), or null
   * @param kafka client settings of the worker (bootstrap, security)
   */
  ServingEmbedder(PictureEmbedder main, PictureEmbedder next, Topic<String, ModelServing> topic,
      Map<String, Object> kafka) {
    this.main = main;
    this.next = next;
    this.topic = topic;
    this.kafka = kafka;
    this.lastUsed = main.modelVersion();
  }

  /** Starts following the topic; waits up to {@code wait} for what it holds now. */
  void start(Duration wait) throws InterruptedException {
    thread = new Thread(this::follow, "embedder-serving");
    thread.setDaemon(true);
    thread.start();
    if (!loaded.await(wait.toMillis(), TimeUnit.MILLISECONDS)) {
      log.warn("the serving model version on {} is not known after {} s: embedding with {} until it is",
          topic.name(), wait.toSeconds(), main.modelVersion());
    }
  }

  /** The version the topic names, or null (none written yet). */
  String serving() {
    return serving;
  }

  private void follow() {
    Map<String, Object> props = new HashMap<>(kafka);
    props.keySet().removeIf(k -> k.startsWith("transactional") || k.startsWith("group."));
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.CLIENT_ID_CONFIG, "embedder-serving-" + ProcessHandleId.ID);
    props.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
    TopicPartition tp = new TopicPartition(topic.name(), 0);
    while (running) {
      try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
          new ByteArrayDeserializer())) {
        consumer = c;
        var infos = c.partitionsFor(topic.name(), Duration.ofSeconds(10));
        if (infos == null || infos.isEmpty()) {
          // no upgrade was ever run here (the topic is created with the others): the main version serves
          loaded.countDown();
          sleep(10_000);
          continue;
        }
        c.assign(List.of(tp));
        c.seekToBeginning(List.of(tp));
        while (running) {
          for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
            apply(r);
          }
          if (loaded.getCount() > 0 && c.position(tp) >= c.endOffsets(Set.of(tp)).get(tp)) {
            loaded.countDown();
          }
        }
      } catch (WakeupException e) {
        return;
      } catch (KafkaException e) {
        if (running) {
          log.warn("following {} failed (retried in 5 s): {}", topic.name(), e.toString());
          sleep(5000);
        }
      }
    }
  }

  private void apply(ConsumerRecord<byte[], byte[]> r) {
    if (r.value() == null) {
      serving = null;
      return;
    }
    try {
      ModelServing s = topic.deserializeValue(r.value());
      String v = s.getModelVersion();
      if (!v.equals(serving)) {
        log.info("serving model version is {} (set by {} at {})", v, s.getRequestedBy(), s.getRequestedAtMs());
        if (!v.equals(main.modelVersion()) && (next == null || !v.equals(next.modelVersion()))) {
          log.warn("serving model version {} is neither this worker's main version {} nor its next ({}): it keeps "
              + "embedding with {}; configure descriptor.next.head (or descriptor.head) for {}", v,
              main.modelVersion(), next == null ? "none" : next.modelVersion(), main.modelVersion(), v);
        }
      }
      serving = v;
    } catch (RecordDecodingException e) {
      log.warn("record {}-{} of {} skipped: {}", r.partition(), r.offset(), topic.name(), e.getMessage());
    }
  }

  /** Waits {@code ms}, or less when the worker closes. */
  private void sleep(long ms) {
    try {
      closing.await(ms, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The embedder for the serving version now (no side effect). */
  PictureEmbedder current() {
    String s = serving;
    return next != null && next.modelVersion().equals(s) ? next : main;
  }

  @Override
  public synchronized PictureEmbedder forBatch() {
    PictureEmbedder use = current();
    if (!use.modelVersion().equals(lastUsed)) {
      log.info("embedding with model version {} from now on (was {})", use.modelVersion(), lastUsed);
      lastUsed = use.modelVersion();
    }
    return use;
  }

  @Override
  public String modelId() {
    return main.modelId();
  }

  @Override
  public String modelVersion() {
    return main.modelVersion();
  }

  @Override
  public int dim() {
    return main.dim();
  }

  @Override
  public List<Embedder.Embedding> embed(List<RgbImage> images) throws Exception {
    return forBatch().embed(images);
  }

  /** Stops following; closes the next embedder (the main one is the caller's). */
  @Override
  public void close() {
    running = false;
    closing.countDown();
    KafkaConsumer<byte[], byte[]> c = consumer;
    if (c != null) {
      c.wakeup();
    }
    if (thread != null) {
      try {
        thread.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (next != null) {
      next.close();
    }
  }

  /** A per-process suffix for client ids. */
  private static final class ProcessHandleId {
    static final long ID = ProcessHandle.current().pid();
  }
}
