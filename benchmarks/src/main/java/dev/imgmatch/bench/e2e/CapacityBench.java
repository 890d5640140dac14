package dev.imgmatch.bench.e2e;

import dev.imgmatch.avro.ImageEmbedding;
import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.cli.stack.Instances;
import dev.imgmatch.cli.stack.LocalStack;
import dev.imgmatch.cli.stack.ServiceSettings;
import dev.imgmatch.client.Uploader;
import dev.imgmatch.schemas.Topic;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Capacity: the highest sustained upload rate at which upload → alert p99 stays within the budget (1 s), on the real
 * stack ({@link LocalStack}: in one JVM, or with {@code --instances} one JVM per service instance).
 *
 * <p>A fresh stack indexes {@code --refs} references of the split into {@code protected}; then, for each rate of
 * {@code --rates} in turn, the split's queries (copies and non-copies alike, in a seeded order, each sent under a new
 * id) are uploaded <b>open loop</b> at that fixed rate for {@code --seconds}: upload i is due at t0 + i/rate and
 * its latency counts from when it was due (so a stalled sender cannot hide a queue: no coordinated omission).
 * Latencies go to HdrHistograms: upload → alert visible to a read_committed reader (the copies the policy alerts
 * on), upload → embedding visible (every upload), and each stage from the timestamps the records carry
 * (ingest = preparedAt − submittedAt, embedder = embeddedAt − preparedAt, index = alertedAt − embeddedAt,
 * delivery = seen − alertedAt). A rate is sustained when p99 ≤ the budget and the embeddings of every upload arrived
 * within the step plus 5 s. Rates run in increasing order on the same stack (the index grows by every upload).
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp "benchmarks/target/classes:$(cat benchmarks/target/classpath.txt)" \
 *   dev.imgmatch.bench.e2e.CapacityBench --split ../shared/bench/dev --rates 1,2,3,4 --seconds 40 \
 *   [--instances index=2,embedder=2,ingest=2] [--refs 200] [--budget-ms 1000] [--seed 7]
 * </pre>
 * Run it under {@code taskset -c 0} to measure one core (the local broker and any instance JVMs inherit it).
 */
public final class CapacityBench {
  private CapacityBench() {}

  /** Latency histograms of one rate step (milliseconds, 3 significant digits). */
  static final class Step {
    final Histogram alert = new Histogram(3_600_000L, 3);
    final Histogram embedding = new Histogram(3_600_000L, 3);
    final Map<String, Histogram> stages = new LinkedHashMap<>();
    int sent;
    int embedded;
    int alerted;
    double achievedRate;

    Step() {
      for (String s : List.of("ingest", "embedder", "index", "delivery")) {
        stages.put(s, new Histogram(3_600_000L, 3));
      }
    }
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> a = dev.imgmatch.bench.BenchArgs.parse(args,
        "--split DIR [--rates 1,2,3] [--seconds 40] [--instances ...] [--refs N] [--budget-ms MS] [--seed N]"
            + " [--set 'SERVICE:KEY=VALUE;...']");
    if (!a.containsKey("split")) {
      throw new IllegalArgumentException("usage: CapacityBench --split DIR [--rates 1,2,3] [--seconds 40]"
          + " [--instances index=N,embedder=M,ingest=K] [--refs N] [--budget-ms 1000] [--seed N]");
    }
    Path split = Path.of(a.get("split"));
    double[] rates = Arrays.stream(a.getOrDefault("rates", "1,2,3,4").split(",")).mapToDouble(Double::parseDouble)
        .toArray();
    int seconds = Integer.parseInt(a.getOrDefault("seconds", "40"));
    int nRefs = Integer.parseInt(a.getOrDefault("refs", "200"));
    long budgetMs = Long.parseLong(a.getOrDefault("budget-ms", "1000"));
    long seed = Long.parseLong(a.getOrDefault("seed", "7"));
    Instances instances = a.containsKey("instances") ? Instances.parse(a.get("instances")) : Instances.ONE;
    System.err.printf(Locale.ROOT, "capacity: seed %d (--seed), instances %s, %d cores seen by this JVM%n", seed,
        instances, Runtime.getRuntime().availableProcessors());

    Map<String, Path> refs = BenchStack.files(split.resolve("refs"));
    Map<String, Path> queries = BenchStack.files(split.resolve("queries"));
    List<String> refIds = new ArrayList<>(refs.keySet().stream().sorted().toList());
    Collections.shuffle(refIds, new Random(seed));
    refIds = refIds.subList(0, Math.min(nRefs, refIds.size()));
    List<String> order = new ArrayList<>(queries.keySet().stream().sorted().toList());
    Collections.shuffle(order, new Random(seed + 1));
    Map<String, byte[]> bytes = new HashMap<>();
    for (String q : order) {
      bytes.put(q, Files.readAllBytes(queries.get(q)));
    }

    Path data = Files.createTempDirectory("imgmatch-capacity-");
    String prefix = "cap-" + Long.toHexString(System.nanoTime() & 0xffffff) + ".";
    // --set 'index:match.verify.candidates=0;ingest:ingest.upload.views=full': one cost driver off at a time
    Map<String, Map<String, String>> set = Map.of("ingest", new HashMap<>(), "embedder", new HashMap<>(),
        "index", new HashMap<>());
    for (String kv : a.getOrDefault("set", "").split(";")) {
      if (kv.isBlank()) {
        continue;
      }
      int colon = kv.indexOf(':');
      int eq = kv.indexOf('=');
      if (colon < 0 || eq < colon || !set.containsKey(kv.substring(0, colon))) {
        throw new IllegalArgumentException("--set takes SERVICE:KEY=VALUE (ingest, embedder, index), got " + kv);
      }
      set.get(kv.substring(0, colon)).put(kv.substring(colon + 1, eq), kv.substring(eq + 1));
    }
    System.err.println("capacity: settings " + set);
    LocalStack.Options o = new LocalStack.Options(data.resolve("stack"), null, prefix, 2, -1, set.get("ingest"),
        set.get("embedder"), set.get("index")).withInstances(instances);
    Map<String, Long> due = new ConcurrentHashMap<>(); // upload id -> when it was due (epoch ms)
    Map<String, Long> alertSeen = new ConcurrentHashMap<>();
    Map<String, MatchAlert> alerts = new ConcurrentHashMap<>();
    Map<String, Long> embSeen = new ConcurrentHashMap<>();
    Map<String, ImageEmbedding> embs = new ConcurrentHashMap<>();
    List<Step> steps = new ArrayList<>();
    AtomicBoolean reading = new AtomicBoolean(true);
    try (LocalStack stack = LocalStack.start(o, line -> System.err.println("capacity:   " + line));
        Uploader up = new Uploader(stack.clientProps(), stack.topics())) {
      Thread alertReader = reader(stack, stack.topics().matchAlerts(), reading, (al, t) -> {
        alerts.putIfAbsent(al.getImageId(), al);
        alertSeen.putIfAbsent(al.getImageId(), t);
      });
      Thread embReader = reader(stack, stack.topics().embeddings(), reading, (e, t) -> {
        embs.putIfAbsent(e.getId(), e);
        embSeen.putIfAbsent(e.getId(), t);
      });
      BenchStack.indexReferences(stack, up, refIds, refs, Duration.ofMinutes(15));
      System.err.printf("capacity: %d references indexed%n", refIds.size());
      int next = 0;
      for (double rate : rates) {
        // warm-up at this rate (not counted), then the measured step
        next = send(up, order, bytes, next, rate, Math.min(10, seconds / 4), due, "w" + rate);
        List<String> ids = new ArrayList<>();
        long t0 = System.currentTimeMillis();
        int n = (int) Math.round(rate * seconds);
        for (int i = 0; i < n; i++) {
          long at = t0 + Math.round(i * 1000.0 / rate);
          long wait = at - System.currentTimeMillis();
          if (wait > 0) {
            Thread.sleep(wait);
          }
          String q = order.get(next++ % order.size());
          String id = "u" + rate + "-" + i + "-" + q;
          due.put(id, at);
          up.send(id, "bench", "uploads", "bench", bytes.get(q), q + ".jpg", Map.of());
          ids.add(id);
        }
        up.flush();
        long sentFor = System.currentTimeMillis() - t0;
        long settle = System.currentTimeMillis() + 5_000 + Math.max(0, sentFor - seconds * 1000L) * 2;
        while (System.currentTimeMillis() < settle && !embSeen.keySet().containsAll(ids)) {
          Thread.sleep(100);
        }
        Thread.sleep(1500); // the alerts of the last embeddings
        if (stack.problem() != null) {
          throw new IllegalStateException(stack.problem());
        }
        Step s = new Step();
        s.sent = ids.size();
        s.achievedRate = ids.size() * 1000.0 / Math.max(1, sentFor);
        for (String id : ids) {
          long d = due.get(id);
          ImageEmbedding e = embs.get(id);
          if (e != null) {
            s.embedded++;
            s.embedding.recordValue(Math.max(0, embSeen.get(id) - d));
            s.stages.get("ingest").recordValue(Math.max(0, e.getPreparedAtMs() - e.getSubmittedAtMs()));
            s.stages.get("embedder").recordValue(Math.max(0, e.getEmbeddedAtMs() - e.getPreparedAtMs()));
          }
          MatchAlert al = alerts.get(id);
          if (al != null) {
            s.alerted++;
            s.alert.recordValue(Math.max(0, alertSeen.get(id) - d));
            if (e != null) {
              s.stages.get("index").recordValue(Math.max(0, al.getAlertedAtMs() - e.getEmbeddedAtMs()));
            }
            s.stages.get("delivery").recordValue(Math.max(0, alertSeen.get(id) - al.getAlertedAtMs()));
          }
        }
        steps.add(s);
        boolean ok = s.embedded == s.sent && s.alert.getValueAtPercentile(99) <= budgetMs;
        System.err.printf(Locale.ROOT, "capacity: %.2f uploads/s (sent at %.2f/s): alert p50 %d p99 %d ms, %d/%d"
                + " embedded, %d alerted: %s%n", rate, s.achievedRate, s.alert.getValueAtPercentile(50),
            s.alert.getValueAtPercentile(99), s.embedded, s.sent, s.alerted, ok ? "sustained" : "NOT sustained");
        if (!ok && s.embedded < s.sent) {
          break; // a backlog: higher rates only queue more
        }
      }
      reading.set(false);
      alertReader.join(5_000);
      embReader.join(5_000);
    } finally {
      ServiceSettings.deleteTree(data);
    }

    System.out.println();
    System.out.printf(Locale.ROOT, "instances %s, %d cores, %d references, %d s per rate, budget p99 ≤ %d ms%n",
        instances, Runtime.getRuntime().availableProcessors(), refIds.size(), seconds, budgetMs);
    System.out.println("| uploads/s | embedded | alerted | upload→alert p50 / p99 / max ms | upload→embedding p50 / p99 ms"
        + " | ingest p50/p99 | embedder p50/p99 | index p50/p99 | delivery p50/p99 | sustained |");
    System.out.println("|---|---|---|---|---|---|---|---|---|---|");
    for (int i = 0; i < steps.size(); i++) {
      Step s = steps.get(i);
      StringBuilder st = new StringBuilder();
      for (Histogram h : s.stages.values()) {
        st.append(String.format(Locale.ROOT, " %d / %d |", h.getValueAtPercentile(50), h.getValueAtPercentile(99)));
      }
      System.out.printf(Locale.ROOT, "| %.2f | %d/%d | %d | %d / %d / %d | %d / %d |%s %s |%n", rates[i], s.embedded,
          s.sent, s.alerted, s.alert.getValueAtPercentile(50), s.alert.getValueAtPercentile(99), s.alert.getMaxValue(),
          s.embedding.getValueAtPercentile(50), s.embedding.getValueAtPercentile(99), st,
          s.embedded == s.sent && s.alert.getValueAtPercentile(99) <= budgetMs ? "yes" : "no");
    }
  }

  /** Sends {@code seconds} of warm-up uploads at {@code rate}; returns the next position in {@code order}. */
  private static int send(Uploader up, List<String> order, Map<String, byte[]> bytes, int next, double rate,
      int seconds, Map<String, Long> due, String tag) throws Exception {
    long t0 = System.currentTimeMillis();
    int n = (int) Math.round(rate * seconds);
    for (int i = 0; i < n; i++) {
      long wait = t0 + Math.round(i * 1000.0 / rate) - System.currentTimeMillis();
      if (wait > 0) {
        Thread.sleep(wait);
      }
      String q = order.get(next++ % order.size());
      String id = tag + "-" + i + "-" + q;
      due.put(id, System.currentTimeMillis());
      up.send(id, "bench", "uploads", "bench", bytes.get(q), q + ".jpg", Map.of());
    }
    up.flush();
    return next;
  }

  @FunctionalInterface
  interface Seen<V> {
    void accept(V value, long epochMs);
  }

  /** A read_committed reader of {@code topic} from its end, handing each value with the time it was seen. */
  private static <V> Thread reader(LocalStack stack, Topic<String, V> topic, AtomicBoolean reading, Seen<V> seen) {
    Map<String, Object> p = new HashMap<>(stack.clientProps());
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p);
    List<TopicPartition> parts = c.partitionsFor(topic.name(), Duration.ofSeconds(30)).stream()
        .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
    c.assign(parts);
    c.seekToEnd(parts);
    parts.forEach(c::position); // fix the start now, before any upload is sent
    Thread t = new Thread(() -> {
      try (c) {
        while (reading.get()) {
          for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(20))) {
            long now = System.currentTimeMillis();
            try {
              seen.accept(topic.deserializeValue(r.value()), now);
            } catch (RuntimeException e) {
              // a record of another shape (a reject's echo): not ours to time
            }
          }
        }
      }
    }, "capacity-" + topic.name());
    t.setDaemon(true);
    t.start();
    return t;
  }
}
