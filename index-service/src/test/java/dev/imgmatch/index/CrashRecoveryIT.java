package dev.imgmatch.index;

import static dev.imgmatch.index.ItSupport.embedding;
import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.schemas.Topics;
import dev.imgmatch.testkit.KafkaBroker;
import dev.imgmatch.testkit.KafkaBrokerExtension;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.SegmentInfos;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of index-service (a child JVM) in the middle of a stream of uploads, then a restart: every upload is
 * in the index exactly once and a read_committed reader of match-alerts sees every expected alert exactly once.
 */
@ExtendWith(KafkaBrokerExtension.class)
class CrashRecoveryIT {
  static final Duration WAIT = Duration.ofSeconds(120);

  @TempDir
  Path dir;

  @Test
  void killDashNineDuringUploadsThenRestartIndexesEachUploadAndAlertsEachCopyExactlyOnce(KafkaBroker broker)
      throws Exception {
    long seed = ShardIndexTest.seed();
    Synthetic syn = new Synthetic(seed, 64, 8);
    Topics topics = new Topics(broker.uniqueName("crash") + ".");
    Path index = dir.resolve("index");
    Map<String, String> settings = ItSupport.settings(broker, topics.prefix(), index);
    // alerts commit every 100 ms, the index every 1.5 s: a kill between the two leaves the index behind the alerts,
    // and the restart must index that stretch again without alerting again
    settings.put(IndexServiceConfig.COMMIT_INTERVAL_MS, "1500");
    // the killed member leaves the group after its session times out; keep that short for the restart
    settings.put("kafka.session.timeout.ms", "6000");
    settings.put("kafka.heartbeat.interval.ms", "1000");

    int protectedCount = 10;
    int uploads = 600;
    List<float[]> pv = new ArrayList<>();
    List<byte[]> ph = new ArrayList<>();
    Set<String> expectedAlerts = new HashSet<>();
    Set<String> allIds = new HashSet<>();

    // the services' logs outlive the test (a TempDir does not), for a failure seen only in CI
    Path logs = Files.createDirectories(Path.of("target", "it-logs"));
    Process first = startService(settings, logs.resolve(topics.prefix() + "first.log"));
    Process second = null;
    try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(broker.producerProps())) {
      long now = System.currentTimeMillis();
      // topics are created by the service; wait for them before producing
      assertThat(ItSupport.await(WAIT, () -> broker.listTopics().contains(topics.embeddings().name()))).isTrue();
      for (int i = 0; i < protectedCount; i++) {
        pv.add(syn.clustered());
        ph.add(syn.hash());
        String id = "prot-" + i;
        allIds.add(id);
        ItSupport.send(p, topics.embeddings(), id, embedding(id, "t", "protected", pv.get(i), ph.get(i), syn.sha(), now));
      }
      // the originals must be searchable before their copies arrive (alerts match "what is already indexed")
      assertThat(ItSupport.await(WAIT, () -> committedTotal(index) >= protectedCount)).isTrue();
      Thread.sleep(300);

      Thread producer = new Thread(() -> {
        try {
          for (int i = 0; i < uploads; i++) {
            String id = "up-" + i;
            boolean copy = i % 6 == 0;
            float[] v = copy ? syn.near(pv.get(i % protectedCount), 0.02) : syn.gaussianUnit();
            byte[] h = copy ? syn.flip(ph.get(i % protectedCount), 8) : syn.hash();
            if (copy) {
              synchronized (expectedAlerts) {
                expectedAlerts.add(id);
              }
            }
            synchronized (allIds) {
              allIds.add(id);
            }
            p.send(topics.embeddings().record(id, embedding(id, "t", "uploads", v, h, syn.sha(), now)));
            if (i % 20 == 0) {
              p.flush();
              Thread.sleep(25);
            }
          }
          p.flush();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }, "it-uploads");
      producer.start();

      // kill -9 once the service is busy with the stream, at a seeded moment after its alerts ran ahead of its index
      String group = settings.get(IndexServiceConfig.GROUP_ID);
      assertThat(ItSupport.await(WAIT, () -> committedTotal(index) >= protectedCount + 60)).isTrue();
      assertThat(ItSupport.await(WAIT, () -> alertsCommittedTotal(broker, group) > committedTotal(index) + 10)).isTrue();
      Thread.sleep(syn.random().nextInt(100));
      first.destroyForcibly();
      assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
      long atKill = committedTotal(index);
      long alertsAtKill = alertsCommittedTotal(broker, group);
      System.out.println("killed -9 with " + atKill + " embeddings in the index commit and " + alertsAtKill
          + " with their alerts committed");
      assertThat(alertsAtKill).as("the index is never committed ahead of the alerts").isGreaterThanOrEqualTo(atKill);
      producer.join();

      second = startService(settings, logs.resolve(topics.prefix() + "second.log"));
      Map<Integer, Long> ends = endOffsets(broker, topics.embeddings().name());
      long total = ends.values().stream().mapToLong(Long::longValue).sum();
      assertThat(total).isEqualTo(protectedCount + uploads);
      Process s2 = second;
      assertThat(ItSupport.await(WAIT, () -> !s2.isAlive() || committedOffsets(index).equals(ends)))
          .as("the restarted service catches up").isTrue();
      assertThat(second.isAlive()).isTrue();
      second.destroy(); // SIGTERM: graceful
      assertThat(second.waitFor(60, TimeUnit.SECONDS)).isTrue();
    } finally {
      first.destroyForcibly();
      if (second != null) {
        second.destroyForcibly();
      }
    }

    Map<String, Integer> counts = new TreeMap<>();
    try (LocalShards shards = new LocalShards(index, ShardIndex.Options.defaults(), 1000)) {
      for (int s = 0; s < 3; s++) {
        shards.open(s).uidCounts().forEach((uid, n) -> counts.merge(uid, n, Integer::sum));
      }
    }
    Set<String> expectedUids = allIds.stream().map(id -> IndexedImage.uid("t", id)).collect(Collectors.toSet());
    assertThat(counts.keySet()).isEqualTo(expectedUids);
    assertThat(counts.values()).allMatch(n -> n == 1);

    List<MatchAlert> alerts = ItSupport.readUntil(broker, topics.matchAlerts(),
        l -> l.stream().map(MatchAlert::getImageId).collect(Collectors.toSet()).containsAll(expectedAlerts), WAIT);
    Set<String> alerted = alerts.stream().map(MatchAlert::getImageId).collect(Collectors.toSet());
    System.out.printf("alerts: %d records for %d uploads (%d expected); redelivered after the crash: %d%n",
        alerts.size(), alerted.size(), expectedAlerts.size(), alerts.size() - alerted.size());
    Set<String> missing = new TreeSet<>(expectedAlerts);
    missing.removeAll(alerted);
    assertThat(missing).as("uploads whose alert never came (seed %d, service logs %s*.log)", seed,
        logs.toAbsolutePath().resolve(topics.prefix())).isEmpty();
    assertThat(alerted).isEqualTo(expectedAlerts);
    assertThat(alerts).as("each alert exactly once (seed %d)", seed).hasSameSizeAs(alerted);
    for (MatchAlert a : alerts) {
      int i = Integer.parseInt(a.getImageId().substring(3));
      assertThat(a.getMatches().get(0).getImageId()).isEqualTo("prot-" + (i % protectedCount));
    }
  }

  private static Process startService(Map<String, String> settings, Path log) throws IOException {
    return ItSupport.startProcess(settings, log);
  }

  /** Next offsets in each shard's last commit (read-only; the service may be writing). */
  static Map<Integer, Long> committedOffsets(Path index) {
    Map<Integer, Long> m = new HashMap<>();
    for (int s = 0; s < 3; s++) {
      Path shard = index.resolve("shard-" + s);
      if (!Files.isDirectory(shard)) {
        continue;
      }
      try (Directory d = FSDirectory.open(shard)) {
        if (DirectoryReader.indexExists(d)) {
          String v = SegmentInfos.readLatestCommit(d).getUserData().get(ShardIndex.EMBEDDINGS_OFFSET);
          if (v != null && Long.parseLong(v) >= 0) {
            m.put(s, Long.parseLong(v));
          }
        }
      } catch (IOException e) {
        // a commit in progress replaced the files we were reading: try again on the next poll
        return Map.of();
      }
    }
    return m;
  }

  /** Offsets the embeddings group committed (with the alerts transactions), summed over partitions. */
  static long alertsCommittedTotal(KafkaBroker broker, String group) throws Exception {
    try (org.apache.kafka.clients.admin.Admin admin = broker.admin()) {
      return admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS)
          .values().stream().filter(java.util.Objects::nonNull).mapToLong(o -> o.offset()).sum();
    }
  }

  static long committedTotal(Path index) {
    return committedOffsets(index).values().stream().mapToLong(Long::longValue).sum();
  }

  static Map<Integer, Long> endOffsets(KafkaBroker broker, String topic) {
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(broker.consumerProps("it-ends-" + System.nanoTime()))) {
      List<TopicPartition> parts = c.partitionsFor(topic).stream()
          .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
      Map<Integer, Long> m = new HashMap<>();
      c.endOffsets(parts).forEach((tp, o) -> {
        if (o > 0) {
          m.put(tp.partition(), o);
        }
      });
      return m;
    }
  }
}
