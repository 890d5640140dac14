package dev.imgmatch.bench.embedder;

import dev.imgmatch.bench.index.BinaryCodesBench;
import dev.imgmatch.embedder.Embedder;
import dev.imgmatch.embedder.EmbedderOptions;
import dev.imgmatch.embedder.model.ImageOps;
import dev.imgmatch.embedder.model.RgbImage;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * Regional descriptors measured (issue 18, item 2): besides each picture's whole-picture descriptor, the descriptors
 * of a grid of regions of it (R-MAC's idea, Tolias et al. 2016, at the level of the model's input: each region is
 * cropped and embedded as a view, since the shipped model's SavedModel returns pooled features only), and the
 * similarity of a query to a reference the best over the views compared:
 *
 * <ul>
 *   <li>{@code full}: whole query against whole reference (what the index holds today, besides the small view);
 *   <li>{@code ref regions}: the whole query against every region of the reference too — several vectors per
 *       reference (Lucene's parent/child vector search), for a query that shows a part of a reference (heavy crop);
 *   <li>{@code query regions}: every region of the query against the whole reference — region proposals on the query
 *       side, for a reference pasted into a larger query;
 *   <li>{@code both}.
 * </ul>
 *
 * <p>Regions: the 3 × 3 grid of windows half the picture's width and height, a quarter apart (R-MAC's level 2 with
 * 50 % overlap), plus the central two-thirds window: 10 per picture, so 11 model runs per picture for a side with
 * regions. Reported per transform family (recall@1), and for honesty the negatives' side: the best score of every
 * query that copies nothing, and the share of positives above the best negative's score (decision recall at no false
 * alarm — more vectors raise the negatives' best cosine too).
 *
 * <pre>
 *   java -cp "benchmarks/target/classes:$(cat benchmarks/target/classpath.txt)" \
 *     dev.imgmatch.bench.embedder.RegionViewsBench REFS_DIR QUERIES_DIR ground_truth.csv [queries.csv]
 * </pre>
 */
public final class RegionViewsBench {
  private RegionViewsBench() {}

  /** The region windows of a picture, as {x, y, w, h} fractions: the 3 × 3 half-size grid, then the centre 2/3. */
  static final double[][] REGIONS;

  static {
    List<double[]> r = new ArrayList<>();
    for (double y : new double[] {0, 0.25, 0.5}) {
      for (double x : new double[] {0, 0.25, 0.5}) {
        r.add(new double[] {x, y, 0.5, 0.5});
      }
    }
    r.add(new double[] {1 / 6.0, 1 / 6.0, 2 / 3.0, 2 / 3.0});
    REGIONS = r.toArray(new double[0][]);
  }

  /** The crops of {@code img} for the regions (each at least 1 × 1 px). */
  static List<BufferedImage> regions(BufferedImage img) {
    List<BufferedImage> out = new ArrayList<>(REGIONS.length);
    for (double[] f : REGIONS) {
      int x = (int) Math.round(f[0] * img.getWidth());
      int y = (int) Math.round(f[1] * img.getHeight());
      int w = Math.max(1, Math.min(img.getWidth() - x, (int) Math.round(f[2] * img.getWidth())));
      int h = Math.max(1, Math.min(img.getHeight() - y, (int) Math.round(f[3] * img.getHeight())));
      out.add(img.getSubimage(x, y, w, h));
    }
    return out;
  }

  /** Whole-picture vector first, then the regions'. */
  record Views(String id, float[][] vectors) {}

  static List<Views> embedDir(Embedder e, Path dir) throws Exception {
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(p -> p.getFileName().toString().matches("(?i).*\\.(jpe?g|png)")).sorted().toList();
    }
    List<Views> out = new ArrayList<>();
    long t0 = System.nanoTime();
    for (Path f : files) {
      BufferedImage img = ImageIO.read(f.toFile());
      if (img == null) {
        throw new IOException("not an image: " + f);
      }
      List<RgbImage> batch = new ArrayList<>();
      batch.add(ImageOps.fromBufferedImage(img));
      regions(img).forEach(r -> batch.add(ImageOps.fromBufferedImage(r)));
      List<Embedder.Embedding> emb = e.embed(batch);
      float[][] v = new float[emb.size()][];
      for (int i = 0; i < v.length; i++) {
        v[i] = unit(emb.get(i).vector());
      }
      String name = f.getFileName().toString();
      out.add(new Views(name.substring(0, name.lastIndexOf('.')), v));
      if (out.size() % 100 == 0) {
        System.err.printf("%s: %d of %d pictures (%.1f s)%n", dir.getFileName(), out.size(), files.size(),
            (System.nanoTime() - t0) / 1e9);
      }
    }
    return out;
  }

  static float[] unit(float[] v) {
    double n = 0;
    for (float x : v) {
      n += x * x;
    }
    float[] out = v.clone();
    if (n > 0) {
      double s = 1 / Math.sqrt(n);
      for (int i = 0; i < out.length; i++) {
        out[i] *= s;
      }
    }
    return out;
  }

  static double dot(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  /** Best cosine between the query's and the reference's compared views. */
  static double similarity(Views q, Views r, boolean queryRegions, boolean refRegions) {
    int nq = queryRegions ? q.vectors().length : 1;
    int nr = refRegions ? r.vectors().length : 1;
    double best = -1;
    for (int i = 0; i < nq; i++) {
      for (int j = 0; j < nr; j++) {
        if (i > 0 && j > 0) {
          continue; // a region against a region: neither side's question
        }
        best = Math.max(best, dot(q.vectors()[i], r.vectors()[j]));
      }
    }
    return best;
  }

  static Map<String, String> readTransforms(Path queriesCsv) throws IOException {
    Map<String, String> out = new HashMap<>();
    if (queriesCsv == null || !Files.exists(queriesCsv)) {
      return out;
    }
    List<String> lines = Files.readAllLines(queriesCsv);
    List<String> head = Arrays.asList(lines.get(0).split(","));
    int q = head.indexOf("query");
    int t = head.indexOf("transform");
    for (String line : lines.subList(1, lines.size())) {
      String[] f = line.split(",");
      if (q >= 0 && t >= 0 && f.length > Math.max(q, t)) {
        out.put(f[q], f[t]);
      }
    }
    return out;
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 3) {
      throw new IllegalArgumentException(
          "usage: RegionViewsBench REFS_DIR QUERIES_DIR ground_truth.csv [queries.csv]");
    }
    Map<String, Set<String>> truth = BinaryCodesBench.readTruth(Path.of(args[2]));
    Map<String, String> transforms = readTransforms(args.length > 3 ? Path.of(args[3]) : null);
    List<Views> refs;
    List<Views> queries;
    long t0 = System.nanoTime();
    try (Embedder e = Embedder.open(EmbedderOptions.defaults(), System.err::println)) {
      System.out.println("model " + e.modelId() + " " + e.modelVersion() + ", " + REGIONS.length
          + " regions per picture");
      refs = embedDir(e, Path.of(args[0]));
      queries = embedDir(e, Path.of(args[1]));
    }
    System.out.printf("embedded %d references and %d queries with %d views each in %.0f s%n", refs.size(),
        queries.size(), REGIONS.length + 1, (System.nanoTime() - t0) / 1e9);
    String[] names = {"full", "ref regions", "query regions", "both"};
    boolean[][] modes = {{false, false}, {false, true}, {true, false}, {true, true}};
    // per mode: per family [n, top1 right]; positives' best right score; negatives' best score
    List<Map<String, int[]>> fams = new ArrayList<>();
    List<List<Double>> posScores = new ArrayList<>();
    List<List<Double>> negScores = new ArrayList<>();
    for (boolean[] m : modes) {
      Map<String, int[]> fam = new TreeMap<>();
      List<Double> pos = new ArrayList<>();
      List<Double> neg = new ArrayList<>();
      for (Views q : queries) {
        Set<String> right = truth.getOrDefault(q.id(), Set.of());
        String best = null;
        double bestS = -2;
        double rightS = -2;
        for (Views r : refs) {
          double s = similarity(q, r, m[0], m[1]);
          if (s > bestS || (s == bestS && r.id().compareTo(best) < 0)) {
            bestS = s;
            best = r.id();
          }
          if (right.contains(r.id())) {
            rightS = Math.max(rightS, s);
          }
        }
        if (right.isEmpty()) {
          neg.add(bestS);
          continue;
        }
        pos.add(rightS);
        String t = transforms.getOrDefault(q.id(), "?");
        String kind = t.contains("+") ? " (chain)" : " (alone)";
        boolean top1 = right.contains(best);
        for (String f : new java.util.TreeSet<>(Arrays.asList(t.split("\\+")))) {
          int[] c = fam.computeIfAbsent(f + kind, k -> new int[2]);
          c[0]++;
          c[1] += top1 ? 1 : 0;
        }
        int[] all = fam.computeIfAbsent("ALL positives", k -> new int[2]);
        all[0]++;
        all[1] += top1 ? 1 : 0;
      }
      fams.add(fam);
      posScores.add(pos);
      negScores.add(neg);
    }
    System.out.println();
    System.out.println("| family | n | " + String.join(" | ", names) + " |");
    System.out.println("|---|---|" + "---|".repeat(names.length));
    for (String f : fams.get(0).keySet()) {
      StringBuilder row = new StringBuilder("| " + f + " | " + fams.get(0).get(f)[0] + " |");
      for (Map<String, int[]> fam : fams) {
        int[] c = fam.get(f);
        row.append(String.format(" %.2f |", c[1] / (double) c[0]));
      }
      System.out.println(row);
    }
    StringBuilder negRow = new StringBuilder("| negatives' best cosine: max / 99th pct | " + negScores.get(0).size()
        + " |");
    StringBuilder atZero = new StringBuilder("| positives above the best negative | " + posScores.get(0).size() + " |");
    for (int i = 0; i < modes.length; i++) {
      double[] n = negScores.get(i).stream().mapToDouble(Double::doubleValue).sorted().toArray();
      double max = n.length == 0 ? -1 : n[n.length - 1];
      double p99 = n.length == 0 ? -1 : n[(int) Math.floor(0.99 * (n.length - 1))];
      negRow.append(String.format(" %.3f / %.3f |", max, p99));
      long above = posScores.get(i).stream().filter(s -> s > max).count();
      atZero.append(String.format(" %.3f |", above / (double) posScores.get(i).size()));
    }
    System.out.println(negRow);
    System.out.println(atZero);
  }
}
