package dev.imgmatch.bench.index;

import dev.imgmatch.index.IndexedImage;
import dev.imgmatch.index.ShardIndex;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * What a model upgrade costs a shard ({@code ./imgmatch reindex}, docs/OPERATIONS.md): indexing N images of the old
 * version (the baseline, in the same run), adding the new version's descriptors to each (ADD_VECTORS), and retiring
 * the old version (RETIRE_OTHERS rewrites every image). Synthetic unit vectors, a real Lucene shard on disk, the
 * service's default index options.
 *
 * <pre>java -cp "benchmarks/target/classes:$(cat benchmarks/target/classpath.txt)" \
 *   dev.imgmatch.bench.index.ModelUpgradeBench --n 100000 --dim 160 [--step 200] [--seed S] [--dir D]</pre>
 */
public final class ModelUpgradeBench {
  private ModelUpgradeBench() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> a = dev.imgmatch.bench.BenchArgs.parse(args,
        "[--n 100000] [--dim 160] [--step 200] [--seed S] [--dir D]");
    int n = Integer.parseInt(a.getOrDefault("n", "100000"));
    int dim = Integer.parseInt(a.getOrDefault("dim", "160"));
    int step = Integer.parseInt(a.getOrDefault("step", "200"));
    long seed = Long.parseLong(a.getOrDefault("seed", "20261203"));
    Path dir = a.containsKey("dir") ? Path.of(a.get("dir")) : Files.createTempDirectory("model-upgrade-bench");
    System.out.printf(Locale.ROOT, "n=%d dim=%d seed=%d dir=%s%n", n, dim, seed, dir);
    Random rnd = new Random(seed);
    try (ShardIndex shard = ShardIndex.open(dir, 0, ShardIndex.Options.defaults())) {
      long t0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        shard.upsert(image(i, "v1", dim, rnd));
      }
      shard.commit("bench");
      shard.refresh();
      double index = (System.nanoTime() - t0) / 1e9;
      report("index v1 (baseline)", n, index, index);

      t0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        shard.versions().add(image(i, "v2", dim, rnd));
      }
      shard.commit("bench");
      shard.refresh();
      report("add v2 (ADD_VECTORS)", n, (System.nanoTime() - t0) / 1e9, index);

      // as the ingest loop does it: bounded steps between polls (each step's time is what an alert may wait)
      t0 = System.nanoTime();
      shard.versions().startRetiring("v2");
      java.util.List<Long> steps = new java.util.ArrayList<>();
      int rewritten = 0;
      while (true) {
        long s0 = System.nanoTime();
        int k = shard.versions().retireStep(step);
        steps.add(System.nanoTime() - s0);
        if (k == 0) {
          break;
        }
        rewritten += k;
      }
      shard.commit("bench");
      report("retire v1 (RETIRE_OTHERS, " + rewritten + " rewritten)", n, (System.nanoTime() - t0) / 1e9, index);
      java.util.Collections.sort(steps);
      System.out.printf(Locale.ROOT, "retirement steps of %d images: %d, p50 %.0f ms, p99 %.0f ms, max %.0f ms%n",
          step, steps.size(), steps.get(steps.size() / 2) / 1e6,
          steps.get((int) Math.ceil(steps.size() * 0.99) - 1) / 1e6, steps.getLast() / 1e6);
      System.out.printf(Locale.ROOT, "vector fields after: %s, images %d%n", shard.vectorDims().keySet(),
          shard.imageCount());
    }
  }

  private static void report(String what, int n, double s, double baseline) {
    System.out.printf(Locale.ROOT, "%-40s %8.1f s  %8.0f images/s  %.2fx the baseline%n", what, s, n / s, s / baseline);
  }

  private static IndexedImage image(int i, String version, int dim, Random rnd) {
    float[] v = new float[dim];
    double norm = 0;
    for (int j = 0; j < dim; j++) {
      v[j] = (float) rnd.nextGaussian();
      norm += v[j] * v[j];
    }
    for (int j = 0; j < dim; j++) {
      v[j] /= (float) Math.sqrt(norm);
    }
    byte[] pdq = new byte[32];
    byte[] sha = new byte[32];
    rnd.nextBytes(pdq);
    rnd.nextBytes(sha);
    return new IndexedImage("t", "img-" + i, "protected", null, Map.of(), version, v, sha, pdq, 90, 1_000L + i);
  }
}
