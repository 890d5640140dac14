package dev.imgmatch.bench.e2e;

import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.cli.stack.LocalStack;
import dev.imgmatch.cli.stack.ServiceSettings;
import dev.imgmatch.client.AlertWatcher;
import dev.imgmatch.client.Uploader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Upload → alert latency of single uploads on a quiet stack: the "within about a second" promise, measured end to
 * end (the whole local stack: broker, ingest-stream, embedder-worker, index-service, each in this JVM as in
 * {@code ./imgmatch demo}).
 *
 * <p>For each configuration a fresh stack indexes {@code --refs} references into {@code protected}, then uploads
 * copies (positive queries of the split, whose reference is indexed) one at a time into {@code uploads}, waiting
 * for each one's alert before sending the next, so nothing queues. Latency = from the send call to the alert
 * arriving at a consumer of match-alerts (client view), plus the service's own alertedAt − submittedAt. The first
 * {@code --warmup} uploads are not counted (JIT, first model runs). Configurations run in alternation for
 * {@code --rounds} rounds so that drift of a noisy machine hits both; compare them within one run.
 *
 * <pre>
 * java -cp "benchmarks/target/classes:$(cat benchmarks/target/classpath.txt)" dev.imgmatch.bench.e2e.AlertLatencyBench \
 *   --split ../shared/bench/dev --refs 120 --uploads 40 --rounds 2 [--compare verify|transactions]
 * </pre>
 */
public final class AlertLatencyBench {
  private AlertLatencyBench() {}

  /** Named index-service settings to compare (--compare); the first is the baseline. */
  static final Map<String, Map<String, Map<String, String>>> COMPARISONS = new LinkedHashMap<>();

  static {
    Map<String, Map<String, String>> verify = new LinkedHashMap<>();
    verify.put("verification off", Map.of("match.verify.candidates", "0"));
    verify.put("shipped defaults (verification of 3)", Map.of());
    COMPARISONS.put("verify", verify);
    // alerts become visible to read_committed readers when their transaction commits (issue 14)
    Map<String, Map<String, String>> tx = new LinkedHashMap<>();
    tx.put("alerts committed every 10 ms", Map.of("alerts.transaction.interval.ms", "10"));
    tx.put("shipped defaults (every 100 ms)", Map.of());
    COMPARISONS.put("transactions", tx);
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> a = dev.imgmatch.bench.BenchArgs.parse(args,
        "--split DIR --refs N --uploads N --warmup N --rounds N --timeout-ms MS");
    if (!a.containsKey("split")) { // benchmark folders are always named explicitly
      throw new IllegalArgumentException("usage: AlertLatencyBench --split DIR [--refs N] [--uploads N] [--rounds N]"
          + " (e.g. --split ../shared/bench/dev)");
    }
    Path split = Path.of(a.get("split"));
    int nRefs = Integer.parseInt(a.getOrDefault("refs", "120"));
    int nUploads = Integer.parseInt(a.getOrDefault("uploads", "40"));
    int warmup = Integer.parseInt(a.getOrDefault("warmup", "5"));
    int rounds = Integer.parseInt(a.getOrDefault("rounds", "2"));
    long timeoutMs = Long.parseLong(a.getOrDefault("timeout-ms", "5000"));
    Map<String, Map<String, String>> configs = COMPARISONS.get(a.getOrDefault("compare", "verify"));
    if (configs == null) {
      throw new IllegalArgumentException("--compare takes one of " + COMPARISONS.keySet());
    }

    // copies whose reference is indexed: positives of the split, a seeded sample, plus unrelated references to fill
    Map<String, String> refOf = new HashMap<>();
    List<String> truth = Files.readAllLines(split.resolve("ground_truth.csv"));
    for (String line : truth.subList(1, truth.size())) { // header: query,ref
      String[] f = line.split(",");
      refOf.putIfAbsent(f[0].trim(), f[1].trim());
    }
    Map<String, Path> queries = BenchStack.files(split.resolve("queries"));
    Map<String, Path> refs = BenchStack.files(split.resolve("refs"));
    List<String> copies = new ArrayList<>(refOf.keySet().stream().filter(queries::containsKey).sorted().toList());
    Collections.shuffle(copies, new Random(7));
    copies = copies.subList(0, Math.min(copies.size(), warmup + nUploads));
    Set<String> needed = copies.stream().map(refOf::get).collect(Collectors.toSet());
    List<String> refIds = new ArrayList<>(needed);
    for (String r : refs.keySet().stream().sorted().toList()) {
      if (refIds.size() >= Math.max(nRefs, needed.size())) {
        break;
      }
      if (!needed.contains(r)) {
        refIds.add(r);
      }
    }
    System.err.printf(Locale.ROOT, "latency: %d references, %d copies (%d warm-up), %d round(s) of %s%n", refIds.size(),
        copies.size(), Math.min(warmup, copies.size()), rounds, configs.keySet());

    Map<String, List<long[]>> results = new LinkedHashMap<>();
    configs.keySet().forEach(k -> results.put(k, new ArrayList<>()));
    Map<String, Integer> missed = new HashMap<>();
    for (int round = 1; round <= rounds; round++) {
      for (var c : configs.entrySet()) {
        System.err.printf("latency: round %d, %s%n", round, c.getKey());
        int[] miss = {0};
        results.get(c.getKey()).addAll(runOnce(c.getValue(), refIds, refs, copies, queries, warmup, timeoutMs, miss));
        missed.merge(c.getKey(), miss[0], Integer::sum);
      }
    }

    System.out.println();
    System.out.println("| configuration | uploads | client p50 / p90 / p99 / max ms | service p50 / p99 ms | no alert |");
    System.out.println("|---|---|---|---|---|");
    double baseP50 = 0;
    for (var e : results.entrySet()) {
      long[] client = e.getValue().stream().mapToLong(x -> x[0]).sorted().toArray();
      long[] service = e.getValue().stream().mapToLong(x -> x[1]).sorted().toArray();
      if (client.length == 0) {
        System.out.printf("| %s | 0 | – | – | %d |%n", e.getKey(), missed.get(e.getKey()));
        continue;
      }
      double p50 = pct(client, 50);
      if (baseP50 == 0) {
        baseP50 = p50;
      }
      System.out.printf(Locale.ROOT, "| %s | %d | %.0f / %.0f / %.0f / %d (p50 %.2f× the first row) | %.0f / %.0f | %d |%n",
          e.getKey(), client.length, p50, pct(client, 90), pct(client, 99), client[client.length - 1], p50 / baseP50,
          pct(service, 50), pct(service, 99), missed.get(e.getKey()));
    }
  }

  /** One fresh stack: index the references, then the copies one by one. Returns {client ms, service ms} per copy. */
  static List<long[]> runOnce(Map<String, String> indexSettings, List<String> refIds, Map<String, Path> refs,
      List<String> copies, Map<String, Path> queries, int warmup, long timeoutMs, int[] missed) throws Exception {
    Path data = Files.createTempDirectory("imgmatch-latency-");
    String prefix = "lat-" + Long.toHexString(System.nanoTime() & 0xffffff) + ".";
    LocalStack.Options o = new LocalStack.Options(data.resolve("stack"), null, prefix, 2, -1, Map.of(), Map.of(),
        indexSettings);
    List<long[]> out = new ArrayList<>();
    Map<String, MatchAlert> alerts = new ConcurrentHashMap<>();
    Map<String, Long> arrived = new ConcurrentHashMap<>();
    try (LocalStack stack = LocalStack.start(o, line -> System.err.println("latency:   " + line));
        Uploader up = new Uploader(stack.clientProps(), stack.topics());
        AlertWatcher watcher = new AlertWatcher(stack.clientProps(), stack.topics(), al -> {
          long now = System.nanoTime();
          alerts.putIfAbsent(al.getImageId().toString(), al); // before 'arrived', which the main thread waits on
          arrived.putIfAbsent(al.getImageId().toString(), now);
        })) {
      BenchStack.indexReferences(stack, up, refIds, refs, Duration.ofMinutes(10));
      Thread.sleep(1000); // let the refresher and the consumers settle
      for (int i = 0; i < copies.size(); i++) {
        String q = copies.get(i);
        String id = "up-" + q;
        Path f = queries.get(q);
        byte[] bytes = Files.readAllBytes(f);
        long t0 = System.nanoTime();
        up.send(id, "bench", "uploads", "bench", bytes, f.getFileName().toString(), Map.of()).get();
        long end = t0 + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (!arrived.containsKey(id) && System.nanoTime() < end) {
          Thread.sleep(1);
        }
        if (i < warmup) {
          continue;
        }
        Long t1 = arrived.get(id);
        if (t1 == null) {
          missed[0]++; // no alert (a copy the defaults do not catch): waited out, not counted
          continue;
        }
        MatchAlert al = alerts.get(id);
        out.add(new long[] {TimeUnit.NANOSECONDS.toMillis(t1 - t0), al.getAlertedAtMs() - al.getSubmittedAtMs()});
      }
    } finally {
      ServiceSettings.deleteTree(data);
    }
    return out;
  }

  static double pct(long[] sorted, double p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int i = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }


}
