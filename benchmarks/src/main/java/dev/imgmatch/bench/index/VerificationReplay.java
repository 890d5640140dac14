package dev.imgmatch.bench.index;

import dev.imgmatch.common.GrayThumb;
import dev.imgmatch.index.Verifier;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Chooses the verification weights offline, the way docs/BENCHMARKS.md did: replays {@link Verifier#align} over
 * the predictions of two runs made <em>without</em> verification — a calibration run (criterion) and a dev run
 * (confirmation only) — and, for each weight w and neutral e0 of a grid, adds w·(e − e0) to the best 3 candidates
 * above 0 of every query, sets the threshold as {@code ./imgmatch calibrate} does (best calibration negative +
 * 0.05, rounded up to 0.01), and prints the calibration recall at that threshold, then dev's decision recall,
 * negative queries alerted and wrong pairs. An approximation of the pipeline (it does not skip exact or PDQ-close
 * candidates, which the pipeline does not verify); it reproduced the pipeline's calibration recall within 0.005.
 *
 * <pre>
 *   ./imgmatch calibrate --images ../shared/bench/train --corpus ../shared/bench/dev/refs --out cal0/ \
 *       --set index:match.verify.candidates=0
 *   ./imgmatch eval --refs ../shared/bench/dev/refs --queries ../shared/bench/dev/queries \
 *       --out dev0.csv --set index:match.verify.candidates=0
 *   java -cp "benchmarks/target/classes:$(cat benchmarks/target/classpath.txt)" \
 *     dev.imgmatch.bench.index.VerificationReplay --calibration cal0 --dev ../shared/bench/dev --dev-pred dev0.csv
 * </pre>
 * A split directory holds {@code refs/}, {@code queries/}, {@code queries.csv} (query,transform,kind) and
 * {@code ground_truth.csv}; the calibration directory also {@code PRED.csv}. Prints a Markdown table on stdout.
 */
public final class VerificationReplay {
  private VerificationReplay() {}

  static final int VERIFIED = 3;

  /** One prediction row, with the replayed alignment evidence (NaN when not verified). */
  record Row(String query, String ref, double score, boolean positive, double evidence) {}

  /** One split's replayed predictions, by query in file order, and which queries are positive. */
  record Split(Map<String, List<Row>> byQuery, Set<String> positives, int positiveCount) {}

  public static void main(String[] args) throws Exception {
    Path cal = null;
    Path dev = null;
    Path devPred = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--calibration" -> cal = Path.of(args[++i]);
        case "--dev" -> dev = Path.of(args[++i]);
        case "--dev-pred" -> devPred = Path.of(args[++i]);
        default -> throw new IllegalArgumentException(
            "usage: VerificationReplay --calibration DIR --dev DIR --dev-pred PRED.csv");
      }
    }
    if (cal == null || dev == null || devPred == null) {
      throw new IllegalArgumentException("usage: VerificationReplay --calibration DIR --dev DIR --dev-pred PRED.csv");
    }
    Split c = replay("calibration", cal, cal.resolve("PRED.csv"));
    Split d = replay("dev", dev, devPred);
    System.out.printf("# Verification weights replayed (%s, %s)%n%n", cal, devPred);
    System.out.printf("| w | e0 | best calibration negative | threshold | calibration recall | dev decision recall "
        + "| dev negative queries alerted | dev wrong pairs |%n|---|---|---|---|---|---|---|---|%n");
    row(c, d, 0, 0);
    for (double w : new double[] {0.3, 0.5, 0.8, 1.0, 1.2, 1.5}) {
      for (double e0 : new double[] {0.05, 0.1, 0.15, 0.2, 0.3}) {
        row(c, d, w, e0);
      }
    }
  }

  private static void row(Split c, Split d, double w, double e0) {
    double bestNegative = 0;
    for (var e : c.byQuery.entrySet()) {
      if (!c.positives.contains(e.getKey())) {
        for (Row r : e.getValue()) {
          bestNegative = Math.max(bestNegative, fused(r, w, e0));
        }
      }
    }
    double threshold = Math.ceil((bestNegative + 0.05) * 100 - 1e-9) / 100;
    int calCaught = caught(c, threshold, w, e0);
    int devCaught = caught(d, threshold, w, e0);
    int negativesAlerted = 0;
    int wrong = 0;
    for (var e : d.byQuery.entrySet()) {
      boolean alerted = false;
      for (Row r : e.getValue()) {
        if (fused(r, w, e0) >= threshold - 1e-9 && !r.positive) {
          wrong++;
          alerted = true;
        }
      }
      if (alerted && !d.positives.contains(e.getKey())) {
        negativesAlerted++;
      }
    }
    System.out.printf(Locale.ROOT, "| %.2f | %.2f | %.4f | %.2f | %.3f | %.3f | %d | %d |%n", w, e0, bestNegative,
        threshold, (double) calCaught / c.positiveCount, (double) devCaught / d.positiveCount, negativesAlerted, wrong);
  }

  private static int caught(Split s, double threshold, double w, double e0) {
    int n = 0;
    for (String q : s.positives) {
      for (Row r : s.byQuery.getOrDefault(q, List.of())) {
        if (r.positive && fused(r, w, e0) >= threshold - 1e-9) {
          n++;
          break;
        }
      }
    }
    return n;
  }

  static double fused(Row r, double w, double e0) {
    if (Double.isNaN(r.evidence)) {
      return r.score;
    }
    return Math.max(0, Math.min(1, r.score + w * (r.evidence - e0)));
  }

  private static Split replay(String name, Path split, Path pred) throws IOException {
    Map<String, Set<String>> truth = new HashMap<>();
    for (String[] f : csv(split.resolve("ground_truth.csv"))) {
      truth.computeIfAbsent(f[0], k -> new HashSet<>()).add(f[1]);
    }
    Set<String> positives = new HashSet<>();
    for (String[] f : csv(split.resolve("queries.csv"))) {
      if (f.length > 2 && f[2].equals("positive")) {
        positives.add(f[0]);
      }
    }
    Map<String, List<String[]>> rows = new LinkedHashMap<>();
    for (String[] f : csv(pred)) {
      rows.computeIfAbsent(f[0], k -> new ArrayList<>()).add(f);
    }
    Map<Path, GrayThumb> thumbs = new ConcurrentHashMap<>();
    AtomicInteger done = new AtomicInteger();
    Map<String, List<Row>> out = new ConcurrentHashMap<>();
    rows.keySet().parallelStream().forEach(q -> {
      List<Row> replayed = new ArrayList<>();
      int verified = 0;
      for (String[] f : rows.get(q)) {
        double score = Double.parseDouble(f[2]);
        double e = Double.NaN;
        if (score > 0 && verified < VERIFIED) {
          verified++;
          e = Verifier.align(thumb(thumbs, split.resolve("queries"), q), thumb(thumbs, split.resolve("refs"), f[1]))
              .evidence();
        }
        replayed.add(new Row(q, f[1], score, truth.getOrDefault(q, Set.of()).contains(f[1]), e));
      }
      out.put(q, replayed);
      int n = done.incrementAndGet();
      if (n % 100 == 0 || n == rows.size()) {
        System.err.printf("VerificationReplay: %s %d of %d queries%n", name, n, rows.size());
      }
    });
    Map<String, List<Row>> ordered = new LinkedHashMap<>();
    rows.keySet().forEach(q -> ordered.put(q, out.get(q)));
    return new Split(ordered, positives, (int) truth.keySet().stream().filter(positives::contains).count());
  }

  private static List<String[]> csv(Path f) throws IOException {
    List<String> lines = Files.readAllLines(f);
    List<String[]> out = new ArrayList<>();
    for (String l : lines.subList(1, lines.size())) {
      if (!l.isBlank()) {
        out.add(l.split(","));
      }
    }
    return out;
  }

  private static GrayThumb thumb(Map<Path, GrayThumb> cache, Path dir, String id) {
    try {
      Path file = BenchThumbs.find(dir, id);
      GrayThumb t = cache.get(file);
      if (t == null) {
        t = BenchThumbs.of(file);
        cache.put(file, t);
      }
      return t;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
