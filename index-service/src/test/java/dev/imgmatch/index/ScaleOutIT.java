package dev.imgmatch.index;

import static dev.imgmatch.index.ItSupport.embedding;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.imgmatch.avro.ImageEmbedding;
import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.avro.MatchedImage;
import dev.imgmatch.avro.QueryReply;
import dev.imgmatch.avro.ReplyStatus;
import dev.imgmatch.client.QueryClient;
import dev.imgmatch.schemas.Topics;
import dev.imgmatch.testkit.KafkaBroker;
import dev.imgmatch.testkit.KafkaBrokerExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scale-out with index.shards=all (the default): on several instances every upload is matched against every shard,
 * also while an instance leaves and another joins mid-stream, and the alerts are exactly those one instance raises
 * on the same input (same uploads, same matched images, same decisions and scores), each once.
 */
@ExtendWith(KafkaBrokerExtension.class)
class ScaleOutIT {
  static final Duration WAIT = Duration.ofSeconds(120);
  static final Duration Q = Duration.ofSeconds(30);

  @TempDir
  Path dir;

  /** The input of one run: protected works, then uploads (every third a copy of a work). */
  private record Input(Map<String, ImageEmbedding> works, Map<String, ImageEmbedding> uploads, Set<String> copies,
      float[] probe) {}

  @Test
  void threeInstancesAlertExactlyAsOneWhileInstancesLeaveAndJoin(KafkaBroker broker) throws Exception {
    long seed = ShardIndexTest.seed();
    Synthetic syn = new Synthetic(seed, 64, 8);
    long now = System.currentTimeMillis();
    Map<String, ImageEmbedding> works = new LinkedHashMap<>();
    List<float[]> wv = new ArrayList<>();
    List<byte[]> wh = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      wv.add(syn.clustered());
      wh.add(syn.hash());
      works.put("work-" + i, embedding("work-" + i, "t", "protected", wv.get(i), wh.get(i), syn.sha(), now));
    }
    Map<String, ImageEmbedding> uploads = new LinkedHashMap<>();
    Set<String> copies = new TreeSet<>();
    for (int i = 0; i < 90; i++) {
      String id = "up-" + i;
      boolean copy = i % 3 == 0;
      float[] v = copy ? syn.near(wv.get(i % 12), 0.02) : syn.gaussianUnit();
      byte[] h = copy ? syn.flip(wh.get(i % 12), 10) : syn.hash();
      if (copy) {
        copies.add(id);
      }
      uploads.put(id, embedding(id, "t", "uploads", v, h, syn.sha(), now));
    }
    Input in = new Input(works, uploads, copies, wv.get(0));

    Map<String, MatchAlert> one = run(broker, in, false);
    Map<String, MatchAlert> three = run(broker, in, true);
    System.out.printf("seed %d: %d copies; one instance raised %d alerts, three instances %d%n", seed, copies.size(),
        one.size(), three.size());
    assertThat(one.keySet()).as("one instance alerts every copy (seed %d)", seed).isEqualTo(copies);
    assertThat(three.keySet()).as("three instances alert the same uploads (seed %d)", seed).isEqualTo(one.keySet());
    for (String id : copies) {
      MatchAlert a = one.get(id);
      MatchAlert b = three.get(id);
      assertThat(b.getDecision()).as("decision of %s", id).isEqualTo(a.getDecision());
      assertThat(ids(b)).as("matched images of %s", id).isEqualTo(ids(a));
      assertThat(b.getScore()).as("score of %s", id).isCloseTo(a.getScore(), within(1e-4f));
      assertThat(ids(a).get(0)).isEqualTo("work-" + Integer.parseInt(id.substring(3)) % 12);
    }
  }

  /**
   * Three instances as processes ({@code IndexServiceApp}); one is killed -9 a third of the way through a steady
   * stream of uploads. Every copy is alerted once, against its work, by whichever instance owns its partition then;
   * the delay of the alerts around the failover is printed (measured, not asserted: docs/BENCHMARKS.md).
   */
  @org.junit.jupiter.params.ParameterizedTest(name = "session timeout {0} ms")
  @org.junit.jupiter.params.provider.ValueSource(ints = {6000, 2000})
  void killDashNineOfOneOfThreeInstancesLosesAndRepeatsNoAlert(int sessionMs, KafkaBroker broker) throws Exception {
    long seed = ShardIndexTest.seed() + 1;
    Synthetic syn = new Synthetic(seed, 64, 8);
    Topics topics = new Topics(broker.uniqueName("kill") + ".");
    Path logs = Files.createDirectories(Path.of("target", "it-logs"));
    List<Process> procs = new ArrayList<>();
    String group = null;
    AlertClock clock = new AlertClock(broker, topics);
    try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(broker.producerProps())) {
      for (int i = 0; i < 3; i++) {
        Map<String, String> s = ItSupport.settings(broker, topics.prefix(), dir.resolve(topics.prefix() + "p" + i));
        // the killed member leaves the group when its session times out: 6 s (the broker's default floor) or 2 s
        // (the test broker allows it; a deployment lowers group.min.session.timeout.ms for it: docs/OPERATIONS.md)
        s.put("kafka.session.timeout.ms", String.valueOf(sessionMs));
        s.put("kafka.heartbeat.interval.ms", String.valueOf(sessionMs / 4));
        group = s.get(IndexServiceConfig.GROUP_ID);
        procs.add(ItSupport.startProcess(s, logs.resolve(topics.prefix() + "p" + i + ".log")));
        if (i == 0) {
          assertThat(ItSupport.await(WAIT, () -> broker.listTopics().contains(topics.matchAlerts().name()))).isTrue();
        }
      }
      String g = group;
      assertThat(ItSupport.await(WAIT, () -> groupMembers(broker, g) == 3)).as("three members").isTrue();
      long now = System.currentTimeMillis();
      List<float[]> wv = new ArrayList<>();
      List<byte[]> wh = new ArrayList<>();
      for (int i = 0; i < 12; i++) {
        wv.add(syn.clustered());
        wh.add(syn.hash());
        ItSupport.send(p, topics.embeddings(), "work-" + i, embedding("work-" + i, "t", "protected", wv.get(i),
            wh.get(i), syn.sha(), now));
      }
      assertThat(ItSupport.await(WAIT, () -> CrashRecoveryIT.alertsCommittedTotal(broker, g) >= 12)).isTrue();
      Thread.sleep(1000); // the replicas read what the owners committed within a few hundred ms
      clock.start();
      Set<String> copies = new TreeSet<>();
      int uploads = 300;
      long killedAt = 0;
      for (int i = 0; i < uploads; i++) {
        if (i == uploads / 3) {
          killedAt = System.currentTimeMillis();
          System.out.println("kill -9 of instance p1 (pid " + procs.get(1).pid() + ")");
          procs.get(1).destroyForcibly();
          assertThat(procs.get(1).waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        String id = "up-" + i;
        boolean copy = i % 3 == 0;
        if (copy) {
          copies.add(id);
        }
        float[] v = copy ? syn.near(wv.get(i % 12), 0.02) : syn.gaussianUnit();
        byte[] h = copy ? syn.flip(wh.get(i % 12), 10) : syn.hash();
        p.send(topics.embeddings().record(id, embedding(id, "t", "uploads", v, h, syn.sha(),
            System.currentTimeMillis())));
        p.flush();
        Thread.sleep(25); // ~40 uploads/s
      }
      assertThat(ItSupport.await(WAIT, () -> clock.arrived().keySet().containsAll(copies)))
          .as("every copy alerted (seed %d, logs %s*)", seed, logs.toAbsolutePath().resolve(topics.prefix()))
          .isTrue();
      Thread.sleep(1500); // a duplicate, if any, would be committed by now
      List<MatchAlert> alerts = ItSupport.readUntil(broker, topics.matchAlerts(), l -> false, Duration.ofSeconds(3));
      Map<String, MatchAlert> byId = new HashMap<>();
      for (MatchAlert a : alerts) {
        assertThat(byId.put(a.getImageId(), a)).as("alert of %s raised twice (seed %d)", a.getImageId(), seed)
            .isNull();
        assertThat(ids(a).get(0)).isEqualTo("work-" + Integer.parseInt(a.getImageId().substring(3)) % 12);
      }
      assertThat(byId.keySet()).isEqualTo(copies);
      System.out.print("session timeout " + sessionMs + " ms: ");
      clock.report(killedAt);
      assertThat(procs.get(0).isAlive() && procs.get(2).isAlive()).as("the other instances run on").isTrue();
    } finally {
      clock.close();
      for (Process pr : procs) {
        pr.destroyForcibly();
      }
    }
  }

  private static int groupMembers(KafkaBroker broker, String group) throws Exception {
    try (org.apache.kafka.clients.admin.Admin admin = broker.admin()) {
      var d = admin.describeConsumerGroups(List.of(group)).all().get(30, TimeUnit.SECONDS).get(group);
      return (int) d.members().stream().filter(m -> !m.assignment().topicPartitions().isEmpty()).count();
    } catch (java.util.concurrent.ExecutionException e) {
      return 0; // not there yet (GroupIdNotFoundException until a member joined)
    }
  }

  /** When each alert became visible to a read_committed reader (first arrival), for the latency around a failover. */
  private static final class AlertClock implements AutoCloseable {
    private final KafkaBroker broker;
    private final Topics topics;
    private final Map<String, long[]> arrived = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile boolean running = true;
    private Thread thread;

    AlertClock(KafkaBroker broker, Topics topics) {
      this.broker = broker;
      this.topics = topics;
    }

    void start() {
      thread = new Thread(() -> {
        try (org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]> c =
            new org.apache.kafka.clients.consumer.KafkaConsumer<>(broker.consumerProps("it-clock-" + System.nanoTime()))) {
          List<org.apache.kafka.common.TopicPartition> parts = c.partitionsFor(topics.matchAlerts().name()).stream()
              .map(i -> new org.apache.kafka.common.TopicPartition(i.topic(), i.partition())).toList();
          c.assign(parts);
          c.seekToBeginning(parts);
          while (running) {
            for (var r : c.poll(Duration.ofMillis(20))) {
              MatchAlert a = topics.matchAlerts().deserializeValue(r.value());
              arrived.putIfAbsent(a.getImageId(), new long[] {a.getSubmittedAtMs(), System.currentTimeMillis()});
            }
          }
        }
      }, "alert-clock");
      thread.start();
    }

    Map<String, long[]> arrived() {
      return arrived;
    }

    /** Prints upload→visible-alert latency: all alerts, and those submitted within 30 s after the kill. */
    void report(long killedAt) {
      List<Long> all = new ArrayList<>();
      List<Long> failover = new ArrayList<>();
      for (long[] t : arrived.values()) {
        long ms = t[1] - t[0];
        all.add(ms);
        if (t[0] >= killedAt - 1000 && t[0] <= killedAt + 30_000) {
          failover.add(ms);
        }
      }
      System.out.println("upload->alert visible (read_committed), ms: all " + stats(all) + "; submitted within 30 s"
          + " of the kill " + stats(failover));
    }

    private static String stats(List<Long> ms) {
      if (ms.isEmpty()) {
        return "(none)";
      }
      List<Long> s = ms.stream().sorted().toList();
      return "n=" + s.size() + " p50=" + s.get(s.size() / 2) + " p99=" + s.get((int) Math.ceil(s.size() * 0.99) - 1)
          + " max=" + s.get(s.size() - 1);
    }

    @Override
    public void close() throws InterruptedException {
      running = false;
      if (thread != null) {
        thread.join(10_000);
      }
    }
  }

  /**
   * Sends the works, waits until they are indexed, then sends the uploads; with {@code scale} three instances run
   * and, half-way through the uploads, one of them leaves and a fourth joins. Returns the alerts by upload, after
   * checking each came once and that a query to the cluster is answered complete.
   */
  private Map<String, MatchAlert> run(KafkaBroker broker, Input in, boolean scale) throws Exception {
    Topics topics = new Topics(broker.uniqueName(scale ? "three" : "one") + ".");
    List<IndexService> running = new ArrayList<>();
    running.add(start(broker, topics, "i0")); // creates the topics
    try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(broker.producerProps());
        QueryClient client = new QueryClient(Map.of("bootstrap.servers", broker.bootstrapServers()), topics)) {
      for (Map.Entry<String, ImageEmbedding> w : in.works().entrySet()) {
        ItSupport.send(p, topics.embeddings(), w.getKey(), w.getValue());
      }
      IndexService first = running.get(0);
      assertThat(ItSupport.await(WAIT, () -> first.counters().get("indexed") >= in.works().size())).isTrue();
      if (scale) {
        running.add(start(broker, topics, "i1"));
        running.add(start(broker, topics, "i2"));
        assertThat(ItSupport.await(WAIT, () -> running.stream().allMatch(s -> s.ownedShards().size() == 1)))
            .as("three instances, a shard each").isTrue();
        for (IndexService s : running) { // every instance keeps the other shards as replicas
          assertThat(ItSupport.await(WAIT, () -> s.shards().owned().size() == 3)).isTrue();
        }
      }
      int i = 0;
      for (Map.Entry<String, ImageEmbedding> u : in.uploads().entrySet()) {
        if (scale && i == in.uploads().size() / 2) {
          IndexService leaving = running.remove(1);
          System.out.println("instance i1 leaves; i3 joins");
          leaving.close();
          // a clean close leaves the group at once: the others own every shard well before a session timeout (45 s)
          assertThat(ItSupport.await(Duration.ofSeconds(20),
              () -> running.stream().mapToInt(s -> s.ownedShards().size()).sum() == 3))
              .as("the partitions of the instance that left are taken over without waiting for its session").isTrue();
          running.add(start(broker, topics, "i3"));
        }
        p.send(topics.embeddings().record(u.getKey(), u.getValue()));
        if (++i % 10 == 0) {
          p.flush();
        }
      }
      p.flush();
      List<MatchAlert> alerts = ItSupport.readUntil(broker, topics.matchAlerts(),
          l -> l.stream().map(MatchAlert::getImageId).collect(Collectors.toSet()).containsAll(in.copies()), WAIT);
      Thread.sleep(1500); // a duplicate, if any, would be committed by now
      alerts = ItSupport.readUntil(broker, topics.matchAlerts(), l -> false, Duration.ofSeconds(3));
      Map<String, MatchAlert> byId = new HashMap<>();
      for (MatchAlert a : alerts) {
        assertThat(byId.put(a.getImageId(), a)).as("alert of %s raised twice", a.getImageId()).isNull();
      }
      QueryReply r = client.byVector("t", ItSupport.MODEL, in.probe(), 5, Q).get();
      assertThat(r.getStatus()).as("a query is answered from every shard").isEqualTo(ReplyStatus.OK);
      assertThat(r.getShardsAnswered()).isEqualTo(3);
      assertThat(r.getResults().get(0).getImageId()).isEqualTo("work-0");
      for (IndexService s : running) {
        assertThat(s.failure()).isEmpty();
      }
      return byId;
    } finally {
      for (IndexService s : running) {
        s.close();
      }
    }
  }

  private IndexService start(KafkaBroker broker, Topics topics, String name) throws InterruptedException {
    IndexService s = new IndexService(new IndexServiceConfig(ItSupport.settings(broker, topics.prefix(),
        dir.resolve(topics.prefix() + name)))).start();
    assertThat(s.awaitReady(WAIT)).as("%s ready", name).isTrue();
    return s;
  }

  private static List<String> ids(MatchAlert a) {
    return a.getMatches().stream().map(MatchedImage::getImageId).toList();
  }
}
