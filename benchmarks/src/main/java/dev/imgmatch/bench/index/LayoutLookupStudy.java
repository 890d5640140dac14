package dev.imgmatch.bench.index;

import dev.imgmatch.common.GrayThumb;
import dev.imgmatch.index.Layout;
import dev.imgmatch.index.MatchPolicy;
import dev.imgmatch.ingest.image.MosaicFinder;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * Offline study of the layout look-up of pixelated probes (index-service's {@link Layout}): which references the
 * look-up nominates, by the whole coarse layout ({@code match.layout.candidates} per probe layout, as the field
 * {@code layout}) and by the indexed windows ({@link Layout#indexedWindows}, {@link Layout#WINDOW_LOOKUP} per window
 * field and probe layout, as {@code layoutw0} … {@code layoutw4}), brute force over one benchmark folder's references
 * (one shard, exact nearest neighbours instead of HNSW), and what the window search decides over each set of
 * candidates (the shipped rule: every candidate's best of its whole layout, when the shape fits, and of its windows;
 * {@link MatchPolicy.LayoutMatching#DEFAULT}). For every query in which {@link MosaicFinder} finds a mosaic grid it
 * prints those whose nomination or decision the windows change, then a summary: copies nominated and decided without
 * and with the windows, decisions for a wrong reference, mosaics of unindexed photos decided, and the look-up's
 * candidates per probe. docs/BENCHMARKS.md, "Pixelated copies: windows in the index":
 *
 * <pre>
 *   java -cp "benchmarks/target/classes:$(cat benchmarks/target/classpath.txt)" \
 *     dev.imgmatch.bench.index.LayoutLookupStudy cal-A cal-B ...
 * </pre>
 *
 * The pipeline's window search also searches the probe's best other hits (its descriptor's), which this study leaves
 * out: it measures what the look-up alone finds.
 */
public final class LayoutLookupStudy {
  private LayoutLookupStudy() {}

  public static void main(String[] args) throws IOException {
    if (args.length == 0) {
      throw new IllegalArgumentException("usage: LayoutLookupStudy DIR...");
    }
    long[] total = new long[11];
    for (String a : args) {
      long[] t = study(Path.of(a));
      for (int i = 0; i < t.length; i++) {
        total[i] += t[i];
      }
    }
    print("all", total);
  }

  private static void print(String name, long[] c) {
    System.out.printf(Locale.ROOT, "%s: %d mosaics, %d copies; nominated %d -> %d, decided %d -> %d, wrong %d -> %d,"
        + " unindexed decided %d (with windows); candidates per probe %.1f -> %.1f%n", name, c[0], c[1], c[2], c[3],
        c[4], c[5], c[6], c[7], c[8], (double) c[9] / Math.max(1, c[0]), (double) c[10] / Math.max(1, c[0]));
  }

  /** The references nearest to each of {@code queries} by {@code field} of {@code vectors}: k each. */
  private static Set<String> nearest(List<float[]> queries, Map<String, float[][]> vectors, int field, int k) {
    Set<String> out = new TreeSet<>();
    for (float[] q : queries) {
      List<Map.Entry<String, Double>> scored = new ArrayList<>();
      for (Map.Entry<String, float[][]> r : vectors.entrySet()) {
        float[] v = r.getValue()[field];
        if (v != null) {
          double dot = 0;
          for (int i = 0; i < v.length; i++) {
            dot += q[i] * v[i];
          }
          scored.add(Map.entry(r.getKey(), dot));
        }
      }
      scored.sort(Map.Entry.<String, Double>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()));
      scored.stream().limit(k).forEach(e -> out.add(e.getKey()));
    }
    return out;
  }

  /** The window search's decision over {@code candidates}, or null (distinct references are distinct works). */
  private static String decide(Layout.ProbeLayout q, Map<String, GrayThumb> refs, Set<String> candidates) {
    MatchPolicy.LayoutMatching m = MatchPolicy.LayoutMatching.DEFAULT;
    List<Map.Entry<String, Double>> scored = new ArrayList<>();
    for (String c : candidates) {
      Layout.Fit f = q.fit(refs.get(c));
      if (f != null) {
        scored.add(Map.entry(c, Math.max(f.sameShape() ? f.correlation() : -1, q.windowCorrelation(refs.get(c)))));
      }
    }
    if (scored.isEmpty()) {
      return null;
    }
    scored.sort(Map.Entry.<String, Double>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()));
    double c0 = scored.get(0).getValue();
    double c1 = Math.max(Layout.COMPETITOR_FLOOR, scored.size() > 1 ? scored.get(1).getValue() : 0);
    return c0 >= m.minCorrelation() && (1 - c0) / (1 - c1) <= m.maxRatio() ? scored.get(0).getKey() : null;
  }

  /**
   * Counts: mosaics, copies, nominated before/after, decided before/after, wrong before/after, unindexed decided
   * after, candidates before/after.
   */
  private static long[] study(Path dir) throws IOException {
    Map<String, String> truth = BenchThumbs.column(dir.resolve("ground_truth.csv"), 1);
    Map<String, String> transform = BenchThumbs.column(dir.resolve("queries.csv"), 1);
    Map<String, GrayThumb> refs = new LinkedHashMap<>();
    Map<String, float[][]> vectors = new LinkedHashMap<>(); // field 0: the whole layout, 1..: the windows
    try (Stream<Path> s = Files.list(dir.resolve("refs"))) {
      for (Path p : s.sorted().toList()) {
        BufferedImage b = ImageIO.read(p.toFile());
        if (b != null) {
          GrayThumb t = BenchThumbs.of(b);
          refs.put(BenchThumbs.id(p), t);
          float[][] w = Layout.indexedWindows(t);
          float[][] v = new float[1 + w.length][];
          v[0] = Layout.indexed(t);
          System.arraycopy(w, 0, v, 1, w.length);
          vectors.put(BenchThumbs.id(p), v);
        }
      }
    }
    int windowFields = vectors.values().stream().mapToInt(v -> v.length - 1).max().orElse(0);
    long[] c = new long[11];
    List<Path> queries;
    try (Stream<Path> s = Files.list(dir.resolve("queries"))) {
      queries = s.sorted(Comparator.comparing(Path::toString)).toList();
    }
    for (Path qp : queries) {
      BufferedImage b = ImageIO.read(qp.toFile());
      if (b == null) {
        continue;
      }
      Layout.ProbeLayout q = MosaicFinder.DEFAULT.find(BenchThumbs.rgb(b)) == null ? null
          : Layout.ProbeLayout.of(BenchThumbs.of(b));
      if (q == null) {
        continue;
      }
      c[0]++;
      String t = truth.get(BenchThumbs.id(qp));
      Set<String> whole = nearest(q.coarse(), vectors, 0, MatchPolicy.LayoutMatching.DEFAULT.candidates());
      Set<String> both = new TreeSet<>(whole);
      for (int f = 1; f <= windowFields; f++) {
        both.addAll(nearest(q.coarse(), vectors, f, Layout.WINDOW_LOOKUP));
      }
      c[9] += whole.size();
      c[10] += both.size();
      String d0 = decide(q, refs, whole);
      String d1 = decide(q, refs, both);
      if (t != null) {
        c[1]++;
        c[2] += whole.contains(t) ? 1 : 0;
        c[3] += both.contains(t) ? 1 : 0;
        c[4] += t.equals(d0) ? 1 : 0;
        c[5] += t.equals(d1) ? 1 : 0;
        c[6] += d0 != null && !t.equals(d0) ? 1 : 0;
        c[7] += d1 != null && !t.equals(d1) ? 1 : 0;
      } else {
        c[8] += d1 != null ? 1 : 0;
      }
      boolean n0 = t != null && whole.contains(t);
      boolean n1 = t != null && both.contains(t);
      if (n0 != n1 || !java.util.Objects.equals(d0, d1)) {
        System.out.printf(Locale.ROOT, "%s %-12s %-34s true %s  nominated %b -> %b  decided %s -> %s%n",
            dir.getFileName(), BenchThumbs.id(qp), transform.get(BenchThumbs.id(qp)), t, n0, n1, d0, d1);
      }
    }
    print(dir.getFileName().toString(), c);
    return c;
  }
}
