package dev.imgmatch.bench.index;

import dev.imgmatch.common.GrayThumb;
import dev.imgmatch.index.Layout;
import dev.imgmatch.index.MatchPolicy;
import dev.imgmatch.ingest.ViewEncoder;
import dev.imgmatch.ingest.ViewSpec;
import dev.imgmatch.ingest.image.GrayThumbnails;
import dev.imgmatch.ingest.image.MosaicFinder;
import dev.imgmatch.ingest.image.RgbImage;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * Offline study of layout matching (index-service's {@link Layout}) on a benchmark folder ({@code queries.csv},
 * {@code ground_truth.csv}, {@code queries/}, {@code refs/}, as {@code ./imgmatch calibrate} writes them and dev is
 * laid out): for every query in which {@link MosaicFinder} finds a mosaic grid, the 16 x 16-cell layout correlation of
 * its 64-px thumbnail (as ingest-stream makes it) with its true reference and with every other reference (brute
 * force, no HNSW), the ratio test's outcome with the shipped {@link MatchPolicy.LayoutMatching#DEFAULT}, and a
 * summary: how many pixelated copies the rule decides for their true reference, how many for a wrong one, and how
 * many mosaics of unindexed photos it would alert. docs/BENCHMARKS.md, "Pixelated copies: found by their layout":
 *
 * <pre>
 *   java -cp "benchmarks/target/classes:$(cat benchmarks/target/classpath.txt)" \
 *     dev.imgmatch.bench.index.LayoutStudy cal-B cal-C ../shared/bench/dev
 * </pre>
 *
 * <p>With {@code -Dlayout.windows=true} it also measures the window search ({@code match.layout.windows}, docs/BENCHMARKS.md,
 * "Pixelated copies: a window search"), here over every reference rather than the look-up's candidates: each
 * reference is also correlated through windows of its thumbnail with the probe's shape
 * ({@link Layout.ProbeLayout#windowCorrelation}), the probe taken for a crop of it, and the same decision taken on
 * those correlations; it prints both decisions and their union. With {@code -Dlayout.all=true} it studies every
 * query, not only those in which a mosaic grid is found (what the layouts would decide if every probe were matched
 * by them). With {@code -Dlayout.unwarp=true} a query in which the grid is found only once a keystone made after the
 * pixelating is undone ({@code ViewEncoder.mosaic}, docs/BENCHMARKS.md "Pixelated, then warped: the keystone undone")
 * is studied too, by the unwarped picture's thumbnail, as ingest-stream sends it.
 */
public final class LayoutStudy {
  private LayoutStudy() {}

  public static void main(String[] args) throws IOException {
    if (args.length == 0) {
      throw new IllegalArgumentException("usage: LayoutStudy DIR...");
    }
    for (String a : args) {
      study(Path.of(a));
    }
  }

  private static void study(Path dir) throws IOException {
    Map<String, String> queries = BenchThumbs.column(dir.resolve("queries.csv"), 1); // id -> transform
    Map<String, String> truth = BenchThumbs.column(dir.resolve("ground_truth.csv"), 1);
    Map<String, GrayThumb> refs = new LinkedHashMap<>();
    try (Stream<Path> s = Files.list(dir.resolve("refs"))) {
      for (Path p : s.sorted().toList()) {
        BufferedImage b = ImageIO.read(p.toFile());
        if (b != null) {
          refs.put(BenchThumbs.id(p), BenchThumbs.of(b));
        }
      }
    }
    Map<String, Path> queryFiles = new HashMap<>();
    try (Stream<Path> s = Files.list(dir.resolve("queries"))) {
      s.forEach(p -> queryFiles.put(BenchThumbs.id(p), p));
    }
    MatchPolicy.LayoutMatching m = MatchPolicy.LayoutMatching.DEFAULT;
    int mosaics = 0;
    int copies = 0;
    int right = 0;
    int wrong = 0;
    int unindexedAlerted = 0;
    int windowRight = 0;
    int windowWrong = 0;
    int windowUnindexed = 0;
    int unionRight = 0;
    int unionWrong = 0;
    int unionUnindexed = 0;
    double bestUnindexed = -1;
    long fitNanos = 0; // the whole layout's correlation, every (probe, reference) pair: the baseline of the windows'
    long windowNanos = 0;
    long pairs = 0;
    System.out.printf(Locale.ROOT, "== %s (%d references)%n", dir, refs.size());
    for (Map.Entry<String, String> q : queries.entrySet()) {
      Path file = queryFiles.get(q.getKey());
      BufferedImage b = file == null ? null : ImageIO.read(file.toFile());
      RgbImage img = b == null ? null : BenchThumbs.rgb(b);
      if (img == null) {
        continue;
      }
      RgbImage seen = img; // the picture whose thumbnail ingest-stream sends
      boolean mosaic = MosaicFinder.DEFAULT.find(img) != null;
      if (!mosaic && UNWARP) {
        ViewEncoder.Mosaic found = VIEWS.mosaic(img, null);
        if (found != null && found.unwarped() != null) {
          seen = found.unwarped();
          mosaic = true;
          System.out.printf(Locale.ROOT, "%-12s found a mosaic once unwarped%n", q.getKey());
        }
      }
      if (!mosaic && !ALL) {
        continue;
      }
      mosaics++;
      GrayThumb qt = GrayThumbnails.of(seen, 64);
      Layout.ProbeLayout ql = Layout.ProbeLayout.of(qt); // once per probe, not once per reference
      if (ql == null) {
        continue; // a flat thumbnail has no layout
      }
      String trueRef = truth.get(q.getKey());
      List<Map.Entry<String, Double>> scored = new ArrayList<>();
      Map<String, Boolean> shape = new HashMap<>(); // of the framing (whole, or inside a border) that fit best
      List<Map.Entry<String, Double>> windowed = new ArrayList<>();
      for (Map.Entry<String, GrayThumb> r : refs.entrySet()) {
        long t0 = System.nanoTime();
        Layout.Fit f = ql.fit(r.getValue());
        fitNanos += System.nanoTime() - t0;
        if (f != null) {
          scored.add(Map.entry(r.getKey(), f.correlation()));
          shape.put(r.getKey(), f.sameShape());
          if (WINDOWS) {
            long t1 = System.nanoTime();
            double w = ql.windowCorrelation(r.getValue());
            windowNanos += System.nanoTime() - t1;
            pairs++;
            windowed.add(Map.entry(r.getKey(), Math.max(f.sameShape() ? f.correlation() : -1, w)));
          }
        }
      }
      if (scored.isEmpty()) {
        continue;
      }
      Decision whole = decide(scored, shape, m);
      String best = whole.best();
      boolean decided = whole.decided();
      Decision windows = WINDOWS ? decide(windowed, null, m) : null;
      String byWindow = windows != null && windows.decided() ? windows.best() : null;
      if (byWindow != null) {
        if (trueRef == null) {
          windowUnindexed++;
        } else if (byWindow.equals(trueRef)) {
          windowRight++;
        } else {
          windowWrong++;
        }
      }
      if (WINDOWS && (decided || byWindow != null)) {
        String either = decided ? best : byWindow;
        if (trueRef == null) {
          unionUnindexed++;
        } else if (either.equals(trueRef) && (byWindow == null || byWindow.equals(either))) {
          unionRight++;
        } else {
          unionWrong++;
        }
      }
      double trueC = scored.stream().filter(e -> e.getKey().equals(trueRef)).mapToDouble(Map.Entry::getValue)
          .findFirst().orElse(Double.NaN);
      if (trueRef != null) {
        copies++;
        if (decided && best.equals(trueRef)) {
          right++;
        } else if (decided) {
          wrong++;
        }
      } else {
        bestUnindexed = Math.max(bestUnindexed, whole.c0());
        if (decided) {
          unindexedAlerted++;
        }
      }
      System.out.printf(Locale.ROOT, "%-12s %-34s true %s %.3f  best %s %.3f  next %.3f  ratio %.2f  %s%n",
          q.getKey(), q.getValue(), trueRef == null ? "-" : trueRef, trueC, best, whole.c0(), whole.c1(),
          whole.ratio(),
          (decided ? (trueRef == null ? "ALERT (unindexed)" : best.equals(trueRef) ? "decided" : "WRONG") : "")
          + (byWindow == null ? "" : " window: " + byWindow));
    }
    System.out.printf(Locale.ROOT, "%s: %d mosaics; copies %d: decided %d for their reference, %d for a wrong one;"
        + " unindexed %d: %d decided (best correlation %.3f)%n", dir.getFileName(), mosaics, copies, right, wrong,
        mosaics - copies, unindexedAlerted, bestUnindexed);
    if (WINDOWS) {
      System.out.printf(Locale.ROOT, "%s, by windows: %d for their reference, %d for a wrong one, %d unindexed;"
          + " either rule: %d, %d, %d%n", dir.getFileName(), windowRight, windowWrong, windowUnindexed, unionRight,
          unionWrong, unionUnindexed);
      System.out.printf(Locale.ROOT, "%s, cost per (probe, reference) pair, one thread: whole layout %.1f µs,"
          + " windows %.1f µs (%.1f times; %d pairs)%n", dir.getFileName(), fitNanos / 1e3 / pairs,
          windowNanos / 1e3 / pairs, (double) windowNanos / fitNanos, pairs);
    }
  }

  /** Study every query, not only those in which a mosaic grid is found ({@code -Dlayout.all=true}). */
  private static final boolean ALL = Boolean.getBoolean("layout.all");

  /**
   * Also study the queries in which the grid is found only once a keystone is undone, by their unwarped picture's
   * thumbnail, as ingest-stream does ({@code ViewEncoder.mosaic}; {@code -Dlayout.unwarp=true}).
   */
  private static final boolean UNWARP = Boolean.getBoolean("layout.unwarp");

  private static final ViewEncoder VIEWS = new ViewEncoder(ViewSpec.DEFAULT);

  /** Measure the window search too ({@code -Dlayout.windows=true}). */
  private static final boolean WINDOWS = Boolean.getBoolean("layout.windows");

  /** The best reference, its correlation, the runner-up's (at least the floor), their ratio, and the outcome. */
  private record Decision(String best, double c0, double c1, double ratio, boolean decided) {}

  /**
   * The shipped rule ({@link MatchPolicy.LayoutMatching}) over a non-empty list of (reference, correlation): the best
   * decides when it reaches the least correlation, passes the ratio test against the runner-up and has the probe's
   * shape ({@code shape}: per reference; null when every one has it).
   */
  private static Decision decide(List<Map.Entry<String, Double>> scored, Map<String, Boolean> shape,
      MatchPolicy.LayoutMatching m) {
    List<Map.Entry<String, Double>> sorted = new ArrayList<>(scored);
    sorted.sort((x, y) -> Double.compare(y.getValue(), x.getValue()));
    String best = sorted.get(0).getKey();
    double c0 = sorted.get(0).getValue();
    double c1 = Math.max(Layout.COMPETITOR_FLOOR, sorted.size() > 1 ? sorted.get(1).getValue() : 0);
    double ratio = (1 - c0) / (1 - c1);
    return new Decision(best, c0, c1, ratio, c0 >= m.minCorrelation() && ratio <= m.maxRatio()
        && (shape == null || shape.get(best)));
  }
}
