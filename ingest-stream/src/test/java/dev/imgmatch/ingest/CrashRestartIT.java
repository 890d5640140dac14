package dev.imgmatch.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.ImageSubmission;
import dev.imgmatch.avro.InlineImage;
import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.avro.PreparedImage;
import dev.imgmatch.schemas.Topic;
import dev.imgmatch.schemas.Topics;
import dev.imgmatch.testkit.CommittedRecords;
import dev.imgmatch.testkit.KafkaBroker;
import dev.imgmatch.testkit.KafkaBrokerExtension;
import dev.imgmatch.testkit.Seeds;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of ingest-stream (a child JVM) in the middle of a stream of uploads, twice: first restarted with its state
 * directory kept, then with it deleted (the exact-copy store restored from its changelog). A read_committed reader
 * then sees every upload prepared exactly once and every exact copy of a protected image alerted exactly once.
 */
@ExtendWith(KafkaBrokerExtension.class)
class CrashRestartIT {
  static final int PROTECTED = 8;
  static final int UPLOADS = 160;
  /** Each phase's limit: a restart without state waits ~70 s for the killed run's transaction to be aborted. */
  static final Duration PHASE_LIMIT = Duration.ofSeconds(200);

  @TempDir
  Path tmp;

  @Test
  @Timeout(900)
  void killedTwiceWithAndWithoutItsStateEveryUploadIsPreparedOnceAndEveryExactCopyAlertedOnce(KafkaBroker broker)
      throws Exception {
    long seed = Seeds.of("ingest-stream crash", 20261203L);
    Random rnd = new Random(seed);
    Topics topics = new Topics(broker.uniqueName("icrash") + ".");
    String app = broker.uniqueName("icrash-app");
    Path state = tmp.resolve("state");
    Path logs = Files.createDirectories(Path.of("target", "it-logs"));
    List<byte[]> originals = new ArrayList<>();
    for (int i = 0; i < PROTECTED; i++) {
      originals.add(TestImages.jpeg(160 + rnd.nextInt(80), 120 + rnd.nextInt(80), rnd.nextLong()));
    }
    List<String> expectedAlerts = new ArrayList<>();
    Path[] log = {logs.resolve(topics.prefix() + "1.log")};
    Process child = start(broker, topics, app, state, log[0]);
    try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(broker.producerProps())) {
      Process first = child;
      await("topics created", () -> broker.listTopics().contains(topics.uploads().name()), () -> "", first, log[0]);
      for (int i = 0; i < PROTECTED; i++) {
        send(p, topics, "prot-" + i, "protected", originals.get(i));
      }
      p.flush();
      // the exact-copy store must hold the originals before their copies come
      await("originals prepared", () -> count(broker, topics.prepared()) >= PROTECTED,
          () -> count(broker, topics.prepared()) + " of " + PROTECTED + " prepared", first, log[0]);
      AtomicInteger sent = new AtomicInteger();
      AtomicReference<Throwable> producerFailure = new AtomicReference<>();
      Thread producer = new Thread(() -> {
        for (int i = 0; i < UPLOADS; i++) {
          boolean copy = i % 8 == 0;
          byte[] bytes = copy ? originals.get(i / 8 % PROTECTED) : TestImages.jpeg(200, 150, seed + 1000 + i);
          if (copy) {
            synchronized (expectedAlerts) {
              expectedAlerts.add("up-" + i);
            }
          }
          send(p, topics, "up-" + i, "uploads", bytes);
          sent.incrementAndGet();
          if (i % 10 == 9) {
            p.flush();
            sleep(100);
          }
        }
        p.flush();
      }, "it-uploads");
      producer.setUncaughtExceptionHandler((t, e) -> producerFailure.set(e));
      producer.start();
      Supplier<String> progress = () -> count(broker, topics.prepared()) + " prepared, " + sent.get() + " of "
          + UPLOADS + " uploads sent" + (producerFailure.get() == null ? "" : ", the uploader failed: "
          + producerFailure.get());

      // first kill: mid-stream, state directory kept
      await("first run", () -> count(broker, topics.prepared()) >= PROTECTED + 30, progress, child, log[0]);
      sleep(rnd.nextInt(300));
      kill(child);
      log[0] = logs.resolve(topics.prefix() + "2.log");
      child = start(broker, topics, app, state, log[0]);
      // second kill: state directory lost
      await("restarted with its state", () -> count(broker, topics.prepared()) >= PROTECTED + 80, progress, child,
          log[0]);
      sleep(rnd.nextInt(300));
      kill(child);
      deleteTree(state);
      producer.join();
      log[0] = logs.resolve(topics.prefix() + "3.log");
      child = start(broker, topics, app, state, log[0]);
      // a new process id, so a new transactional id: the killed run's open transaction keeps the last stable offset
      // where it is until the coordinator aborts it (transaction.timeout.ms, 60 s by default, plus its check period)
      await("restarted without its state", () -> count(broker, topics.prepared()) >= PROTECTED + UPLOADS, progress,
          child, log[0]);
      Thread.sleep(1500); // a duplicate, if any, would be committed by now
    } finally {
      child.destroy();
      child.waitFor(60, TimeUnit.SECONDS);
      child.destroyForcibly();
    }

    Map<String, Integer> prepared = new TreeMap<>();
    for (PreparedImage pi : readAll(broker, topics.prepared())) {
      prepared.merge(pi.getId(), 1, Integer::sum);
    }
    assertThat(prepared).as("seed %d, logs %s*.log", seed, logs.toAbsolutePath().resolve(topics.prefix()))
        .hasSize(PROTECTED + UPLOADS);
    assertThat(prepared.values()).as("each upload prepared exactly once (seed %d)", seed).allMatch(n -> n == 1);
    Map<String, Integer> alerted = new TreeMap<>();
    for (MatchAlert a : readAll(broker, topics.matchAlerts())) {
      alerted.merge(a.getImageId(), 1, Integer::sum);
      assertThat(a.getMatches().get(0).getImageId()).startsWith("prot-");
    }
    assertThat(alerted.keySet()).containsExactlyInAnyOrderElementsOf(expectedAlerts);
    assertThat(alerted.values()).as("each exact copy alerted exactly once (seed %d)", seed).allMatch(n -> n == 1);
    System.out.printf("ingest-stream killed twice: %d prepared once each, %d exact-copy alerts once each%n",
        prepared.size(), alerted.size());
  }

  private static Process start(KafkaBroker broker, Topics topics, String app, Path state, Path log) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"), "-Xmx384m",
        "-cp", System.getProperty("java.class.path"), IngestStreamApp.class.getName(),
        IngestConfig.TOPIC_PREFIX + "=" + topics.prefix(), IngestConfig.APPLICATION_ID + "=" + app,
        IngestConfig.STREAM_THREADS + "=1", IngestConfig.TOPIC_PARTITIONS + "=2", IngestConfig.STATE_DIR + "=" + state,
        "kafka.commit.interval.ms=100", "kafka.session.timeout.ms=6000", "kafka.heartbeat.interval.ms=1000",
        "http.port=-1", "log.format=text"));
    cmd.add("kafka.bootstrap.servers=" + broker.bootstrapServers());
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  private static void kill(Process child) throws InterruptedException {
    child.destroyForcibly(); // SIGKILL: no clean close, possibly mid-transaction
    assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
  }

  private static void send(KafkaProducer<byte[], byte[]> p, Topics topics, String id, String collection, byte[] img) {
    ImageSubmission s = ImageSubmission.newBuilder().setImageId(id).setTenant("acme").setCollection(collection)
        .setImage(new InlineImage(ByteBuffer.wrap(img), null)).setSubmittedAtMs(System.currentTimeMillis()).build();
    p.send(new ProducerRecord<>(topics.uploads().name(), topics.uploads().serializeKey(id),
        topics.uploads().serializeValue(s)));
  }

  private interface Condition {
    boolean holds() throws Exception;
  }

  /**
   * Waits for the condition; fails after {@link #PHASE_LIMIT} with one line that says where it stopped (what the
   * test saw, and the child's last state change and error), since a CI log keeps little more than that line.
   */
  private static void await(String phase, Condition c, Supplier<String> progress, Process child, Path log)
      throws Exception {
    long deadline = System.nanoTime() + PHASE_LIMIT.toNanos();
    while (!c.holds()) {
      if (!child.isAlive() || System.nanoTime() > deadline) {
        throw new AssertionError(String.format("%s: %s after %s; ingest-stream %s; its log (%s): %s", phase,
            child.isAlive() ? "not done" : "child died", PHASE_LIMIT, progress.get(),
            child.isAlive() ? "alive" : "exited " + child.exitValue(), log.toAbsolutePath(), lastEvents(log)));
      }
      Thread.sleep(200);
    }
  }

  /** The child's last state change and its last error or warning, each on one line. */
  private static String lastEvents(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      String state = "";
      String problem = "";
      for (String l : lines) {
        if (l.contains("ingest-stream ") && l.contains(" -> ")) {
          state = l;
        } else if (l.contains(" ERROR ") || l.contains(" WARN ")) {
          problem = l;
        }
      }
      String last = lines.isEmpty() ? "" : lines.get(lines.size() - 1);
      return "last state change [" + state + "], last error/warning [" + problem + "], last line [" + last + "]";
    } catch (Exception e) {
      return "unreadable: " + e;
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Committed records on the topic (read_committed end offsets, markers included: an upper bound is enough here). */
  private static long count(KafkaBroker broker, Topic<?, ?> topic) {
    return readAll(broker, topic).size();
  }

  /** Every committed record of the topic, read to its last stable offset. */
  private static <K, V> List<V> readAll(KafkaBroker broker, Topic<K, V> topic) {
    return CommittedRecords.readAll(broker.bootstrapServers(), topic.name(), Duration.ofSeconds(30)).stream()
        .map(r -> topic.deserializeValue(r.value())).toList();
  }

  private static void deleteTree(Path p) throws Exception {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      for (Path f : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(f);
      }
    }
  }
}
