package dev.imgmatch.bench.local;

import dev.imgmatch.embedder.train.Augmentations;
import dev.imgmatch.local.GeometricVerifier;
import dev.imgmatch.local.LocalFeatures;
import dev.imgmatch.local.SiftExtractor;
import dev.imgmatch.local.VisualWords;
import dev.imgmatch.local.WordPostings;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;

/**
 * Local features alone, on real photos: how often visual words put a copy's reference among the first candidates, how
 * often RANSAC verification then finds it first with enough inliers, how many inliers unrelated pictures reach, and
 * what it costs. References = the first {@code --indexed} photos of {@code --photos} (fitted to 640 px, as
 * {@code calibrate} does) plus every picture of {@code --corpus}; queries = edits of every photo of {@code --photos}
 * (one per family and photo, and as many random chains of 1-3 edits): those of indexed photos are copies, those of
 * the others negatives.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp "benchmarks/target/classes:$(cat benchmarks/target/classpath.txt)" \
 *   dev.imgmatch.bench.local.LocalFeaturesBench --photos ../shared/bench/train --corpus ../shared/bench/dev/refs \
 *   --indexed 40 --families paste_small,crop_heavy,shear,tiny,pixelate,rot90,perspective --chains 1
 * </pre>
 */
public final class LocalFeaturesBench {
  public static void main(String[] args) throws IOException {
    File photos = null;
    File corpus = null;
    int indexed = 40;
    int candidates = 20;
    int minInliers = 12;
    int refSide = 512;
    int refKeypoints = 500;
    int querySide = 640;
    int queryKeypoints = 1000;
    int chains = 1;
    int minMatches = 6;
    long seed = 1000;
    List<String> families = List.of("paste_small", "crop_heavy", "shear", "tiny", "pixelate");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--photos" -> photos = new File(args[++i]);
        case "--corpus" -> corpus = new File(args[++i]);
        case "--indexed" -> indexed = Integer.parseInt(args[++i]);
        case "--candidates" -> candidates = Integer.parseInt(args[++i]);
        case "--min-inliers" -> minInliers = Integer.parseInt(args[++i]);
        case "--ref-side" -> refSide = Integer.parseInt(args[++i]);
        case "--ref-keypoints" -> refKeypoints = Integer.parseInt(args[++i]);
        case "--query-side" -> querySide = Integer.parseInt(args[++i]);
        case "--query-keypoints" -> queryKeypoints = Integer.parseInt(args[++i]);
        case "--min-matches" -> minMatches = Integer.parseInt(args[++i]);
        case "--chains" -> chains = Integer.parseInt(args[++i]);
        case "--seed" -> seed = Long.parseLong(args[++i]);
        case "--families" -> families = List.of(args[++i].split(","));
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    if (photos == null) {
      throw new IllegalArgumentException("--photos DIR is required (e.g. ../shared/bench/train)");
    }
    System.out.printf(Locale.ROOT, "seed %d (--seed N to change); references at %d px, %d keypoints; queries at %d px,"
        + " %d keypoints; %d candidates; a copy counts when its reference is verified first with >= %d inliers%n",
        seed, refSide, refKeypoints, querySide, queryKeypoints, candidates, minInliers);
    SiftExtractor refX = new SiftExtractor(refSide, refKeypoints);
    SiftExtractor queryX = new SiftExtractor(querySide, queryKeypoints);
    GeometricVerifier verifier = new GeometricVerifier(0.8, 5.0, minMatches);
    VisualWords vw = VisualWords.DEFAULT;
    WordPostings index = new WordPostings();
    List<LocalFeatures> refs = new ArrayList<>();
    List<File> photoFiles = images(photos);
    List<BufferedImage> bases = new ArrayList<>();
    long bytes = 0;
    long words = 0;
    long t0 = System.nanoTime();
    for (File f : photoFiles) {
      bases.add(Augmentations.fit(ImageIO.read(f), 640));
    }
    List<BufferedImage> refPictures = new ArrayList<>(bases.subList(0, Math.min(indexed, bases.size())));
    if (corpus != null) {
      for (File f : images(corpus)) {
        refPictures.add(ImageIO.read(f));
      }
    }
    long tRefs = 0;
    for (BufferedImage pic : refPictures) {
      long s = System.nanoTime();
      LocalFeatures lf = LocalFeatures.decode(refX.extract(pic).encode());
      int[] w = vw.distinctWords(lf);
      tRefs += System.nanoTime() - s;
      index.add(w);
      refs.add(lf);
      bytes += lf.encode().length;
      words += w.length;
    }
    System.out.printf(Locale.ROOT, "%d references: %.1f ms each (features + words), %.1f KB of features and %.0f words"
        + " each; loaded in %.0f s%n", refs.size(), tRefs / 1e6 / refs.size(), bytes / 1024.0 / refs.size(),
        (double) words / refs.size(), (System.nanoTime() - t0) / 1e9);

    Map<String, Row> rows = new LinkedHashMap<>();
    long tQuery = 0;
    long tCand = 0;
    long tVerify = 0;
    int queries = 0;
    for (int p = 0; p < bases.size(); p++) {
      boolean copy = p < indexed;
      List<String> names = new ArrayList<>();
      List<BufferedImage> edits = new ArrayList<>();
      for (String fam : families) {
        Augmentations.Family family = Augmentations.Family.valueOf(fam.toUpperCase(Locale.ROOT));
        edits.add(Augmentations.edit(bases.get(p), family, new Random(seed + 31L * p + family.ordinal())));
        names.add(fam);
      }
      Random chainRnd = new Random(seed * 7 + p);
      for (int c = 0; c < chains; c++) {
        Augmentations.Edited e = Augmentations.randomEdit(bases.get(p), chainRnd);
        edits.add(e.image());
        names.add(e.families().contains("+") ? "chain" : "single:" + e.families());
      }
      for (int e = 0; e < edits.size(); e++) {
        long s = System.nanoTime();
        LocalFeatures q = queryX.extract(edits.get(e));
        int[] qw = vw.distinctWords(q);
        long s2 = System.nanoTime();
        int[] top = index.top(qw, candidates);
        long s3 = System.nanoTime();
        int best = -1;
        int bestIn = -1;
        int own = 0;
        int rank = -1;
        int bestWrong = 0;
        GeometricVerifier.Query prepared = verifier.prepare(q);
        for (int c = 0; c < top.length; c++) {
          int in = verifier.verify(prepared, refs.get(top[c])).inliers();
          if (top[c] == p && copy) {
            rank = c;
            own = in;
          } else {
            bestWrong = Math.max(bestWrong, in);
          }
          if (in > bestIn) {
            bestIn = in;
            best = top[c];
          }
        }
        prepared.close();
        tQuery += s2 - s;
        tCand += s3 - s2;
        tVerify += System.nanoTime() - s3;
        queries++;
        Row row = rows.computeIfAbsent(names.get(e), k -> new Row());
        if (copy) {
          row.copies++;
          row.inCandidates += rank >= 0 ? 1 : 0;
          row.found += best == p && own >= minInliers ? 1 : 0;
          row.maxWrongOnCopies = Math.max(row.maxWrongOnCopies, bestWrong);
        } else {
          row.negatives++;
          row.maxNegative = Math.max(row.maxNegative, bestWrong);
          row.negativesAbove += bestWrong >= minInliers ? 1 : 0;
        }
      }
      System.err.printf(Locale.ROOT, "\r%d / %d photos", p + 1, bases.size());
    }
    System.err.println();
    System.out.printf(Locale.ROOT, "%n| edit | copies | reference among the %d candidates | verified first (>= %d inliers)"
        + " | most inliers of a wrong reference (copies) | negatives | most inliers (negatives) | negatives >= %d |%n"
        + "|---|---|---|---|---|---|---|---|%n", candidates, minInliers, minInliers);
    rows.forEach((name, r) -> System.out.printf(Locale.ROOT, "| %s | %d | %d (%.2f) | %d (%.2f) | %d | %d | %d | %d |%n",
        name, r.copies, r.inCandidates, r.copies == 0 ? 0 : (double) r.inCandidates / r.copies, r.found,
        r.copies == 0 ? 0 : (double) r.found / r.copies, r.maxWrongOnCopies, r.negatives, r.maxNegative,
        r.negativesAbove));
    System.out.printf(Locale.ROOT, "%nper query (%d): features + words %.1f ms, candidates %.1f ms, verification of %d"
        + " candidates %.1f ms%n", queries, tQuery / 1e6 / queries, tCand / 1e6 / queries, candidates,
        tVerify / 1e6 / queries);
  }

  private static List<File> images(File dir) {
    File[] files = dir.listFiles(f -> f.getName().matches("(?i).*\\.(jpe?g|png|gif|bmp|webp)"));
    if (files == null) {
      throw new IllegalArgumentException(dir + " is not a folder of pictures");
    }
    Arrays.sort(files);
    return List.of(files);
  }

  private static final class Row {
    int copies;
    int inCandidates;
    int found;
    int maxWrongOnCopies;
    int negatives;
    int maxNegative;
    int negativesAbove;
  }
}
