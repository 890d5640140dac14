package dev.imgmatch.bench.index;

import dev.imgmatch.common.GrayThumb;
import dev.imgmatch.index.Verifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * index-service's geometric verification per candidate pair, on one thread: {@link Verifier#align} (coarse to fine,
 * the probe against the candidate and against the flipped candidate) and, as the baseline in the same run, the
 * exhaustive search {@link Verifier#similarityExhaustive} over the same alignments (twice, for the same two
 * searches). Pairs from a benchmark split: each positive query with its reference (copies) and with a random other
 * reference (unrelated), thumbnails made as ingest-stream makes them (64 px). Also reports how far the shortcut's
 * similarity falls short of the exhaustive one, and what preparing the probe once ({@link Verifier.Probe}) saves when one
 * probe is aligned with three candidates, as index-service does.
 *
 * <pre>
 *   java -cp "benchmarks/target/classes:$(cat benchmarks/target/classpath.txt)" \
 *     dev.imgmatch.bench.index.VerifierBench --split ../shared/bench/dev [--pairs 200] [--passes 3]
 * </pre>
 * Prints a Markdown report on stdout.
 */
public final class VerifierBench {
  private VerifierBench() {}

  public static void main(String[] args) throws Exception {
    Path split = null; // benchmark folders are always named explicitly
    int pairs = 200;
    int passes = 3;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--split" -> split = Path.of(args[++i]);
        case "--pairs" -> pairs = Integer.parseInt(args[++i]);
        case "--passes" -> passes = Integer.parseInt(args[++i]);
        default -> throw new IllegalArgumentException("usage: VerifierBench --split DIR [--pairs N] [--passes N]");
      }
    }
    if (split == null) {
      throw new IllegalArgumentException("usage: VerifierBench --split DIR [--pairs N] [--passes N] (e.g. ../shared/bench/dev)");
    }
    List<String[]> truth = new ArrayList<>();
    List<String> lines = Files.readAllLines(split.resolve("ground_truth.csv"));
    for (String line : lines.subList(1, lines.size())) {
      truth.add(line.split(","));
    }
    List<String> refs = truth.stream().map(t -> t[1]).distinct().sorted().toList();
    Random rnd = new Random(7);
    List<GrayThumb[]> copies = new ArrayList<>();
    List<GrayThumb[]> others = new ArrayList<>();
    for (int i = 0; i < Math.min(pairs / 2, truth.size()); i++) {
      String[] t = truth.get(i * truth.size() / Math.min(pairs / 2, truth.size()));
      GrayThumb q = BenchThumbs.of(BenchThumbs.find(split.resolve("queries"), t[0]));
      copies.add(new GrayThumb[] {q, BenchThumbs.of(BenchThumbs.find(split.resolve("refs"), t[1]))});
      String other = refs.get(rnd.nextInt(refs.size()));
      others.add(new GrayThumb[] {q, BenchThumbs.of(BenchThumbs.find(split.resolve("refs"), other.equals(t[1]) ? refs.get(0) : other))});
      if (i % 20 == 19) {
        System.err.printf("VerifierBench: %d of %d pairs loaded%n", 2 * (i + 1), pairs);
      }
    }
    List<GrayThumb[]> all = new ArrayList<>(copies);
    all.addAll(others);
    System.out.printf("# Geometric verification per candidate pair (one thread)%n%n");
    System.out.printf("- pairs: %d (%d copies, %d unrelated) from %s, %d passes, interleaved%n", all.size(),
        copies.size(), others.size(), split.toAbsolutePath().normalize(), passes);
    // warm-up, then interleaved passes
    for (GrayThumb[] p : all.subList(0, Math.min(20, all.size()))) {
      Verifier.align(p[0], p[1]);
      Verifier.similarityExhaustive(p[0], p[1]);
    }
    long fast = 0;
    long slow = 0;
    long perPair = 0;
    long shared = 0;
    double sink = 0;
    for (int pass = 0; pass < passes; pass++) {
      long t0 = System.nanoTime();
      for (GrayThumb[] p : all) {
        sink += Verifier.align(p[0], p[1]).evidence();
      }
      long t1 = System.nanoTime();
      for (GrayThumb[] p : all) {
        sink += Verifier.similarityExhaustive(p[0], p[1]) + Verifier.similarityExhaustive(p[0], p[1]);
      }
      long t2 = System.nanoTime();
      for (int i = 0; i < copies.size(); i++) { // as index-service verifies: one probe, its three best candidates
        for (GrayThumb c : threeCandidates(copies, others, i)) {
          sink += Verifier.align(copies.get(i)[0], c).evidence();
        }
      }
      long t3 = System.nanoTime();
      for (int i = 0; i < copies.size(); i++) {
        Verifier.Probe probe = new Verifier.Probe(copies.get(i)[0]);
        for (GrayThumb c : threeCandidates(copies, others, i)) {
          sink += Verifier.align(probe, c).evidence();
        }
      }
      long t4 = System.nanoTime();
      fast += t1 - t0;
      slow += t2 - t1;
      perPair += t3 - t2;
      shared += t4 - t3;
      System.err.printf("VerifierBench: pass %d of %d done%n", pass + 1, passes);
    }
    double fastMs = fast / 1e6 / passes / all.size();
    double slowMs = slow / 1e6 / passes / all.size();
    double perPairMs = perPair / 1e6 / passes / (3.0 * copies.size());
    double sharedMs = shared / 1e6 / passes / (3.0 * copies.size());
    double shortMean = 0;
    double shortMax = 0;
    int shortBig = 0;
    for (GrayThumb[] p : all) {
      double d = Verifier.similarityExhaustive(p[0], p[1]) - Verifier.similarity(p[0], p[1]);
      shortMean += d / all.size();
      shortMax = Math.max(shortMax, d);
      shortBig += d > 0.02 ? 1 : 0;
    }
    System.out.printf("%n| search | ms per pair (both searches) | relative |%n|---|---|---|%n");
    System.out.printf("| exhaustive (baseline) | %.1f | 1.00 |%n", slowMs);
    System.out.printf("| coarse to fine (shipped) | %.1f | %.2f |%n", fastMs, fastMs / slowMs);
    System.out.printf("%n| one probe, three candidates (its reference, two others) | ms per candidate | relative |%n"
        + "|---|---|---|%n");
    System.out.printf("| the probe prepared for each candidate (baseline) | %.2f | 1.00 |%n", perPairMs);
    System.out.printf("| the probe prepared once (shipped) | %.2f | %.2f |%n", sharedMs, sharedMs / perPairMs);
    System.out.printf("%n- shortfall of the shipped similarity against the exhaustive one: mean %.4f, max %.3f, "
        + "%d of %d pairs more than 0.02%n", shortMean, shortMax, shortBig, all.size());
    System.out.printf("- mean evidence: copies %.3f, unrelated %.3f (checksum %.1f)%n", meanEvidence(copies),
        meanEvidence(others), sink);
  }

  /** Query {@code i}'s reference and two unrelated references: the three candidates index-service verifies. */
  private static List<GrayThumb> threeCandidates(List<GrayThumb[]> copies, List<GrayThumb[]> others, int i) {
    return List.of(copies.get(i)[1], others.get(i)[1], others.get((i + 1) % others.size())[1]);
  }

  private static double meanEvidence(List<GrayThumb[]> pairs) {
    double s = 0;
    for (GrayThumb[] p : pairs) {
      double e = Verifier.align(p[0], p[1]).evidence();
      s += Double.isNaN(e) ? 0 : e / pairs.size();
    }
    return s;
  }
}
