package dev.imgmatch.console;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the console's readers of topics share: one thread that owns its consumer, every partition of its topics
 * assigned (no consumer group, nothing committed), {@code read_committed}; topics that do not exist yet are waited
 * for and partitions added later picked up within {@link #PARTITION_CHECK_MS}; an unreachable cluster is retried and
 * said in {@link #state()}. Subclasses position new partitions ({@link #seekAdded}, default: the beginning), take each
 * record ({@link #onRecord}: it must not throw for a bad record) and may do work every turn ({@link #onTurn}).
 */
abstract class TopicFollower implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TopicFollower.class);
  static final long PARTITION_CHECK_MS = 30_000;

  private final Map<String, Object> kafka;
  private final List<String> topics;
  private final String clientId;
  private final Thread thread;
  private volatile boolean running = true;
  private volatile String state = "starting";
  private volatile KafkaConsumer<byte[], byte[]> consumer;

  TopicFollower(String threadName, String clientId, Map<String, Object> kafka, List<String> topics) {
    this.kafka = kafka;
    this.topics = List.copyOf(topics);
    this.clientId = clientId;
    this.thread = new Thread(this::run, threadName);
    thread.setDaemon(true);
  }

  /** What the reader is doing, in words (for /health). */
  String state() {
    return state;
  }

  void setState(String s) {
    state = s;
  }

  void startThread() {
    thread.start();
  }

  /** Positions partitions just assigned ({@code first}: the first assignment of this reader); default: beginning. */
  void seekAdded(KafkaConsumer<byte[], byte[]> c, List<TopicPartition> added, boolean first) {
    c.seekToBeginning(added);
  }

  /** One record of one of the topics. */
  abstract void onRecord(ConsumerRecord<byte[], byte[]> r);

  /** Work of every turn of the loop, after the records of the turn (time checks, catching up). */
  void onTurn(KafkaConsumer<byte[], byte[]> c, long nowMs) {}

  private void run() {
    Map<String, Object> p = new HashMap<>(kafka);
    p.remove(ConsumerConfig.GROUP_ID_CONFIG);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
        new ByteArrayDeserializer())) {
      consumer = c;
      long nextCheck = 0;
      while (running) {
        long now = System.currentTimeMillis();
        if (now >= nextCheck) {
          assignNew(c);
          boolean all = c.assignment().stream().map(TopicPartition::topic).distinct().count() == topics.size();
          nextCheck = now + (all ? PARTITION_CHECK_MS : 2_000);
          if (c.assignment().isEmpty()) {
            state = "waiting for topic(s) " + String.join(", ", topics);
            Thread.sleep(500);
            continue;
          }
        }
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
          onRecord(r);
        }
        onTurn(c, System.currentTimeMillis());
      }
    } catch (WakeupException e) {
      // closing
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (KafkaException e) {
      state = "stopped: " + e;
      log.error("console: the reader of {} stopped", topics, e);
    } finally {
      consumer = null;
    }
  }

  /** Assigns the partitions of the topics not assigned yet, positioned by {@link #seekAdded}. */
  private void assignNew(KafkaConsumer<byte[], byte[]> c) {
    Set<TopicPartition> have = c.assignment();
    List<TopicPartition> added = new ArrayList<>();
    for (String name : topics) {
      List<PartitionInfo> infos;
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
    seekAdded(c, added, have.isEmpty());
    added.forEach(c::position); // resolve now: records written after this are seen
    state = "following " + c.assignment().stream().map(TopicPartition::topic).distinct().sorted().toList();
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
