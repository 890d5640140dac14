package dev.imgmatch.bench.index;

import dev.imgmatch.common.GrayThumb;
import dev.imgmatch.index.Layout;
import dev.imgmatch.index.MatchPolicy;
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

  private static GrayThumb thumb(Path file) throws IOException {
    BufferedImage b = ImageIO.read(file.toFile());
    if (b == null) {
      return null;
    }
    RgbImage img = rgb(b);
    return GrayThumbnails.of(img, 64);
  }

  private static RgbImage rgb(BufferedImage b) {
    int w = b.getWidth();
    int h = b.getHeight();
    return new RgbImage(w, h, b.getRGB(0, 0, w, h, null, 0, w));
  }

  private static String id(Path p) {
    String n = p.getFileName().toString();
    int dot = n.lastIndexOf('.');
    return dot < 0 ? n : n.substring(0, dot);
  }

  private static void study(Path dir) throws IOException {
    Map<String, String[]> queries = new LinkedHashMap<>(); // id -> transform, kind
    List<String> lines = Files.readAllLines(dir.resolve("queries.csv"));
    for (String l : lines.subList(1, lines.size())) {
      String[] f = l.split(",");
      queries.put(f[0], new String[] {f[1], f.length > 2 ? f[2] : ""});
    }
    Map<String, String> truth = new HashMap<>();
    lines = Files.readAllLines(dir.resolve("ground_truth.csv"));
    for (String l : lines.subList(1, lines.size())) {
      String[] f = l.split(",");
      truth.put(f[0], f[1]);
    }
    Map<String, GrayThumb> refs = new LinkedHashMap<>();
    try (Stream<Path> s = Files.list(dir.resolve("refs"))) {
      for (Path p : s.sorted().toList()) {
        GrayThumb t = thumb(p);
        if (t != null) {
          refs.put(id(p), t);
        }
      }
    }
    Map<String, Path> queryFiles = new HashMap<>();
    try (Stream<Path> s = Files.list(dir.resolve("queries"))) {
      s.forEach(p -> queryFiles.put(id(p), p));
    }
    MatchPolicy.LayoutMatching m = MatchPolicy.LayoutMatching.DEFAULT;
    int mosaics = 0;
    int copies = 0;
    int right = 0;
    int wrong = 0;
    int unindexedAlerted = 0;
    double bestUnindexed = -1;
    System.out.printf(Locale.ROOT, "== %s (%d references)%n", dir, refs.size());
    for (Map.Entry<String, String[]> q : queries.entrySet()) {
      Path file = queryFiles.get(q.getKey());
      BufferedImage b = file == null ? null : ImageIO.read(file.toFile());
      RgbImage img = b == null ? null : rgb(b);
      if (img == null || MosaicFinder.DEFAULT.find(img) == null) {
        continue;
      }
      mosaics++;
      GrayThumb qt = GrayThumbnails.of(img, 64);
      Layout.ProbeLayout ql = Layout.ProbeLayout.of(qt); // once per probe, not once per reference
      if (ql == null) {
        continue; // a flat thumbnail has no layout
      }
      String trueRef = truth.get(q.getKey());
      List<Map.Entry<String, Double>> scored = new ArrayList<>();
      Map<String, Boolean> shape = new HashMap<>(); // of the framing (whole, or inside a border) that fit best
      for (Map.Entry<String, GrayThumb> r : refs.entrySet()) {
        Layout.Fit f = ql.fit(r.getValue());
        if (f != null) {
          scored.add(Map.entry(r.getKey(), f.correlation()));
          shape.put(r.getKey(), f.sameShape());
        }
      }
      scored.sort((x, y) -> Double.compare(y.getValue(), x.getValue()));
      if (scored.isEmpty()) {
        continue;
      }
      String best = scored.get(0).getKey();
      double c0 = scored.get(0).getValue();
      double c1 = Math.max(Layout.COMPETITOR_FLOOR, scored.size() > 1 ? scored.get(1).getValue() : 0);
      double ratio = (1 - c0) / (1 - c1);
      boolean decided = c0 >= m.minCorrelation() && ratio <= m.maxRatio()
          && shape.get(best);
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
        bestUnindexed = Math.max(bestUnindexed, c0);
        if (decided) {
          unindexedAlerted++;
        }
      }
      System.out.printf(Locale.ROOT, "%-12s %-34s true %s %.3f  best %s %.3f  next %.3f  ratio %.2f  %s%n",
          q.getKey(), q.getValue()[0], trueRef == null ? "-" : trueRef, trueC, best, c0, c1, ratio,
          decided ? (trueRef == null ? "ALERT (unindexed)" : best.equals(trueRef) ? "decided" : "WRONG") : "");
    }
    System.out.printf(Locale.ROOT, "%s: %d mosaics; copies %d: decided %d for their reference, %d for a wrong one;"
        + " unindexed %d: %d decided (best correlation %.3f)%n", dir.getFileName(), mosaics, copies, right, wrong,
        mosaics - copies, unindexedAlerted, bestUnindexed);
  }
}
