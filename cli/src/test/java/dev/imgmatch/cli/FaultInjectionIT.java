package dev.imgmatch.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.ImageEmbedding;
import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.avro.Reject;
import dev.imgmatch.cli.samples.SampleImages;
import dev.imgmatch.cli.stack.LocalStack;
import dev.imgmatch.ops.LocalBroker;
import dev.imgmatch.schemas.RecordDecodingException;
import dev.imgmatch.schemas.Topic;
import dev.imgmatch.schemas.Topics;
import dev.imgmatch.testkit.CommittedRecords;
import dev.imgmatch.testkit.Seeds;
import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fault-injection suite (issue 14): the whole stack ({@link LocalStack}: ingest-stream, embedder-worker with the
 * real model, index-service on a real Lucene index) on a broker in its own JVM. While good uploads flow — originals,
 * near copies and exact copies of protected images — every case of {@link HostileInputs} is sent to the topic it
 * attacks; half-way the broker is killed with SIGKILL and restarted; at the end the stack is stopped and started
 * again on an empty disk (index and ingest state deleted) and more traffic flows. Then, read_committed:
 * <ul>
 *   <li>no stage stopped (sampled every 200 ms while the stack ran);
 *   <li>every good upload has exactly one embedding; every expected copy exactly one alert, nothing else alerted;
 *   <li>every bad record has exactly one reject per stage that reads it, with the expected reason (hostile but
 *       valid input: one embedding, no reject).
 * </ul>
 * The table it prints (and writes to {@code target/fault-injection.md}) is the one in docs/RELIABILITY.md.
 */
class FaultInjectionIT {
  static final Duration WAIT = Duration.ofSeconds(300);
  /** How long outcomes may take to arrive after the last input (the broker restart included). */
  static final Duration OUTCOMES = Duration.ofSeconds(120);

  @TempDir
  Path dir;

  private final Map<String, String> stopped = new ConcurrentHashMap<>();
  private volatile LocalStack watched;

  @Test
  @Timeout(1200)
  void hostileInputsABrokerKillAndAnEmptyDiskRestartStopNothingLoseNothingDuplicateNothing() throws Exception {
    long seed = Seeds.of("fault injection", 20261203L);
    String prefix = "faults.";
    Topics topics = new Topics(prefix);
    LocalBroker.Options bo = LocalBroker.Options.defaults(dir.resolve("broker"));
    LocalBroker broker = LocalBroker.start(bo);
    LocalStack.Options so = new LocalStack.Options(dir.resolve("stack"), broker.bootstrapServers(), prefix, 2, -1,
        Map.of(), Map.of(), Map.of());
    LocalStack stack = LocalStack.start(so, m -> System.out.println("[stack] " + m));
    Thread monitor = monitor();
    Map<String, Boolean> expectAlert = new LinkedHashMap<>(); // good upload id -> whether it copies a protected one
    List<HostileInputs.Case> cases;
    long brokerKilledAtMs;
    try (KafkaProducer<byte[], byte[]> p = producer(broker.bootstrapServers(), topics)) {
      watched = stack;
      // protected originals, indexed before any copy comes
      int protectedCount = 4;
      List<BufferedImage> originals = new ArrayList<>();
      List<byte[]> originalBytes = new ArrayList<>();
      for (int i = 0; i < protectedCount; i++) {
        originals.add(SampleImages.original(seed + i, 640, 480));
        originalBytes.add(SampleImages.jpeg(originals.get(i), 0.9f));
        p.send(topics.uploads().record("prot-" + i, HostileInputs.submissionOf("prot-" + i, "t", "protected",
            originalBytes.get(i), Map.of())));
      }
      p.flush();
      LocalStack s0 = stack;
      await(() -> s0.index().counters().get("indexed") >= protectedCount, "the protected images indexed");
      ImageEmbedding sample = readAll(broker.bootstrapServers(), topics.embeddings()).get(0);
      cases = new HostileInputs(topics, seed, sample).cases();

      // good traffic interleaved with every hostile case; the broker is killed half-way
      int good = 24;
      int next = 0;
      brokerKilledAtMs = -1;
      for (int i = 0; i < good; i++) {
        String id = "good-" + i;
        byte[] bytes;
        if (i % 4 == 0) { // near copy: half size, JPEG quality 0.7
          bytes = SampleImages.jpeg(SampleImages.scale(originals.get(i / 4 % protectedCount), 0.5), 0.7f);
        } else if (i % 4 == 2) { // exact copy: the ingest fast path alerts
          bytes = originalBytes.get(i / 4 % protectedCount);
        } else {
          bytes = SampleImages.jpeg(SampleImages.original(seed + 1000 + i, 600, 400), 0.85f);
        }
        expectAlert.put(id, i % 2 == 0);
        p.send(topics.uploads().record(id, HostileInputs.submissionOf(id, "t", "uploads", bytes, Map.of())));
        for (int k = 0; k < 2 && next < cases.size(); k++) {
          p.send(cases.get(next++).record());
        }
        p.flush();
        if (i == good / 2) {
          brokerKilledAtMs = System.currentTimeMillis();
          System.out.println("kill -9 of the broker (pid " + broker.pid() + ")");
          ProcessHandle.of(broker.pid()).ifPresent(ProcessHandle::destroyForcibly);
          broker.waitFor();
          broker.close();
          Thread.sleep(2000);
          broker = LocalBroker.start(bo);
          System.out.println("broker restarted on the same disk at " + broker.bootstrapServers());
        }
      }
      while (next < cases.size()) {
        p.send(cases.get(next++).record());
      }
      p.flush();
      awaitOutcomes(broker.bootstrapServers(), topics, expectAlert, cases);

      // restart on an empty disk: the index and ingest state are gone; nothing is alerted again
      watched = null;
      stack.close();
      deleteTree(dir.resolve("stack").resolve("index"));
      deleteTree(dir.resolve("stack").resolve("ingest-state"));
      stack = LocalStack.start(so, m -> System.out.println("[stack, empty disk] " + m));
      LocalStack s1 = stack;
      watched = stack;
      // rebuilt before it takes its partitions (replicas caught up) or after (replayed): either way without matching
      await(() -> s1.index().counters().get("replayed") + s1.index().counters().get("replicated")
          >= protectedCount + good, "the index rebuilt from embeddings without matching");
      for (int i = good; i < good + 4; i++) {
        String id = "good-" + i;
        byte[] bytes = i % 2 == 0
            ? SampleImages.jpeg(SampleImages.scale(originals.get(i % protectedCount), 0.6), 0.75f)
            : SampleImages.jpeg(SampleImages.original(seed + 1000 + i, 600, 400), 0.85f);
        expectAlert.put(id, i % 2 == 0);
        p.send(topics.uploads().record(id, HostileInputs.submissionOf(id, "t", "uploads", bytes, Map.of())));
      }
      p.flush();
      awaitOutcomes(broker.bootstrapServers(), topics, expectAlert, cases);
      Thread.sleep(1500); // a duplicate, if any, would be committed by now
      watched = null;
    } finally {
      monitor.interrupt();
      stack.close();
    }
    try {
      verify(broker.bootstrapServers(), topics, expectAlert, cases, seed);
    } finally {
      broker.close();
    }
  }

  /** Samples every 200 ms whether a stage of the watched stack stopped. */
  private Thread monitor() {
    Thread t = new Thread(() -> {
      while (!Thread.currentThread().isInterrupted()) {
        LocalStack s = watched;
        String problem = s == null ? null : s.problem();
        if (problem != null && watched != null) {
          stopped.putIfAbsent(problem, "");
          System.out.println("STAGE STOPPED: " + problem);
        }
        try {
          Thread.sleep(200);
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "stage-monitor");
    t.setDaemon(true);
    t.start();
    return t;
  }

  /** Waits until every outcome could be there (at most {@link #OUTCOMES}); {@link #verify} judges what came. */
  private void awaitOutcomes(String bootstrap, Topics topics, Map<String, Boolean> expectAlert,
      List<HostileInputs.Case> cases) throws Exception {
    long want = expectAlert.size() + cases.stream().filter(HostileInputs.Case::accepted).count();
    long rejects = cases.stream().mapToLong(c -> c.rejects().size()).sum();
    long alerts = expectAlert.values().stream().filter(b -> b).count();
    long deadline = System.nanoTime() + OUTCOMES.toNanos();
    while (System.nanoTime() < deadline) {
      int e = goodEmbeddings(bootstrap, topics).size();
      int r = readAll(bootstrap, topics.rejects()).size();
      int a = readAll(bootstrap, topics.matchAlerts()).size();
      if (e >= want && r >= rejects && a >= alerts) {
        return;
      }
      System.out.printf("waiting: %d/%d embeddings, %d/%d rejects, %d/%d alerts%n", e, want, r, rejects, a, alerts);
      Thread.sleep(3000);
    }
  }

  private static List<String> goodEmbeddings(String bootstrap, Topics topics) {
    return readAll(bootstrap, topics.embeddings()).stream().map(ImageEmbedding::getId)
        .filter(id -> id.startsWith("good-") || id.equals("bad-png-text-bomb") || id.equals("bad-huge-key")).toList();
  }

  private void verify(String bootstrap, Topics topics, Map<String, Boolean> expectAlert,
      List<HostileInputs.Case> cases, long seed) throws Exception {
    Map<String, Integer> embeddings = new TreeMap<>();
    for (ImageEmbedding e : readAll(bootstrap, topics.embeddings())) {
      embeddings.merge(e.getId(), 1, Integer::sum);
    }
    Map<String, Integer> alerts = new TreeMap<>();
    for (MatchAlert a : readAll(bootstrap, topics.matchAlerts())) {
      alerts.merge(a.getImageId(), 1, Integer::sum);
    }
    // (case, stage) -> reasons seen
    Map<String, Map<String, List<String>>> rejects = new TreeMap<>();
    for (Reject r : readAll(bootstrap, topics.rejects())) {
      String key = r.getOriginalKey() == null ? "" : StandardCharsets.UTF_8.decode(r.getOriginalKey()).toString();
      String name = cases.stream().filter(c -> key.startsWith(c.key()) && key.length() >= c.key().length())
          .map(HostileInputs.Case::name).max(Comparator.comparingInt(String::length)).orElse("(unexpected) " + key);
      rejects.computeIfAbsent(name, k -> new TreeMap<>()).computeIfAbsent(r.getStage(), k -> new ArrayList<>())
          .add(r.getReasonCode());
    }

    StringBuilder table = new StringBuilder();
    table.append("| # | input | topic | expected | seen | ok |\n|---|---|---|---|---|---|\n");
    int n = 0;
    int wrong = 0;
    for (HostileInputs.Case c : cases) {
      String expected;
      String seen;
      boolean ok;
      Map<String, List<String>> got = rejects.getOrDefault(c.name(), Map.of());
      if (c.accepted()) {
        int e = embeddings.getOrDefault(c.key(), 0);
        expected = "1 embedding, no reject";
        seen = e + " embedding(s)" + (got.isEmpty() ? "" : ", rejects " + got);
        ok = e == 1 && got.isEmpty();
      } else {
        expected = c.rejects().toString();
        seen = got.toString();
        ok = got.size() == c.rejects().size() && c.rejects().entrySet().stream()
            .allMatch(x -> List.of(x.getValue()).equals(got.get(x.getKey())))
            && (c.topic().equals(topics.embeddings().name()) || embeddings.getOrDefault(c.key(), 0) == 0);
      }
      wrong += ok ? 0 : 1;
      table.append("| ").append(++n).append(" | ").append(c.name()).append(" | ")
          .append(c.topic().substring(topics.prefix().length())).append(" | ").append(expected).append(" | ")
          .append(seen).append(" | ").append(ok ? "yes" : "**NO**").append(" |\n");
    }
    Set<String> unexpectedRejects = new TreeSet<>(rejects.keySet());
    cases.forEach(c -> unexpectedRejects.remove(c.name()));
    int goodLost = 0;
    int goodDuplicated = 0;
    for (String id : expectAlert.keySet()) {
      int e = embeddings.getOrDefault(id, 0);
      goodLost += e == 0 ? 1 : 0;
      goodDuplicated += e > 1 ? 1 : 0;
    }
    Set<String> expectedAlerts = new TreeSet<>();
    expectAlert.forEach((id, a) -> {
      if (a) {
        expectedAlerts.add(id);
      }
    });
    int alertsMissing = (int) expectedAlerts.stream().filter(id -> !alerts.containsKey(id)).count();
    int alertsDuplicated = (int) alerts.values().stream().filter(v -> v > 1).count();
    Set<String> alertsUnexpected = new TreeSet<>(alerts.keySet());
    alertsUnexpected.removeAll(expectedAlerts);
    String summary = String.format(java.util.Locale.ROOT, "%d hostile inputs (%d kinds of topic), %d good uploads"
            + " (%d copies); broker killed -9 and restarted; stack restarted on an empty disk%n"
            + "stages stopped: %d %s%nhostile inputs with a wrong outcome: %d%nunexpected rejects: %s%n"
            + "good uploads lost: %d, duplicated: %d%nalerts missing: %d, duplicated: %d, unexpected: %s%n",
        cases.size(), cases.stream().map(HostileInputs.Case::topic).distinct().count(), expectAlert.size(),
        expectedAlerts.size(), stopped.size(), stopped.keySet(), wrong, unexpectedRejects, goodLost, goodDuplicated,
        alertsMissing, alertsDuplicated, alertsUnexpected);
    System.out.println(summary + "\n" + table);
    Files.writeString(Path.of("target", "fault-injection.md"), "seed " + seed + "\n\n" + summary + "\n" + table);

    assertThat(stopped).as("stages stopped").isEmpty();
    assertThat(wrong).as("hostile inputs with a wrong outcome (see the table above; seed %d)", seed).isZero();
    assertThat(unexpectedRejects).as("rejects of records that should have been accepted").isEmpty();
    assertThat(goodLost).as("good uploads without an embedding").isZero();
    assertThat(goodDuplicated).as("good uploads embedded twice").isZero();
    assertThat(alertsMissing).as("copies not alerted").isZero();
    assertThat(alertsDuplicated).as("alerts raised twice").isZero();
    assertThat(alertsUnexpected).as("alerts for uploads that copy nothing").isEmpty();
  }

  private static KafkaProducer<byte[], byte[]> producer(String bootstrap, Topics topics) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Topics.maxRequestSize(topics.uploads()));
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 300_000);
    return new KafkaProducer<>(p);
  }

  /** Every committed, decodable record of the topic, read to its last stable offset. */
  static <K, V> List<V> readAll(String bootstrap, Topic<K, V> topic) {
    List<V> out = new ArrayList<>();
    for (ConsumerRecord<byte[], byte[]> r : CommittedRecords.readAll(bootstrap, topic.name(), Duration.ofSeconds(60))) {
      try {
        out.add(topic.deserializeValue(r.value()));
      } catch (RecordDecodingException injected) {
        // one of the hostile records sent straight to this topic
      }
    }
    return out;
  }

  private interface Condition {
    boolean holds() throws Exception;
  }

  private void await(Condition c, String what) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!c.holds()) {
      if (System.nanoTime() > deadline) {
        LocalStack s = watched;
        throw new AssertionError("waited " + WAIT + " for " + what + (s == null ? ""
            : "; index-service " + s.index().counters() + ", readiness: " + s.index().notReadyReason()
                + ", stack problem: " + s.problem()) + "; stages stopped: " + stopped.keySet());
      }
      Thread.sleep(500);
    }
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
