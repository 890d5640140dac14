package dev.imgmatch.bench.index;

import dev.imgmatch.avro.Decision;
import dev.imgmatch.index.IndexedImage;
import dev.imgmatch.index.LocalShards;
import dev.imgmatch.index.MatchPolicy;
import dev.imgmatch.index.Pdq;
import dev.imgmatch.index.Probe;
import dev.imgmatch.index.SearchFilter;
import dev.imgmatch.index.ShardIndex;
import dev.imgmatch.index.VectorFormat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.lucene.util.VectorUtil;

/**
 * index-service's Lucene shard under load: indexing throughput, kNN latency p50/p99 and recall@10 (against exact
 * brute force), bytes per vector per format, upload-to-searchable delay, and PDQ multi-index hashing vs a linear
 * scan. Synthetic clustered unit vectors (seeded); the real descriptor's dimension is a parameter.
 *
 * <pre>
 * java -Xmx4g --add-modules jdk.incubator.vector -cp "benchmarks/target/classes:$(cat benchmarks/target/classpath.txt)" \
 *   dev.imgmatch.bench.index.IndexBenchmark --n 100000 --formats float32,int8,int7,int4,bit
 * </pre>
 * Options: --n N, --dim D (256), --queries Q (1000), --k K (10), --candidates C (100), --formats list,
 * --threads T indexing threads (2), --merge true|false (force-merge to one segment before querying),
 * --dir DIR (scratch, deleted), --seed S, --nrt true|false (upload-to-searchable phase), --pdq true|false,
 * --reuse true (query the shard a previous run with the same --n/--seed/format left in --dir, committed and merged,
 * instead of indexing again: the 1M index takes ~30 min to build; the directory is then kept).
 */
public final class IndexBenchmark {
  private IndexBenchmark() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> o = new TreeMap<>(Map.of("n", "100000", "dim", "256", "queries", "1000", "k", "10",
        "candidates", "100", "formats", "float32,int7", "threads", "2", "merge", "true", "seed", "42",
        "nrt", "true"));
    o.put("pdq", "true");
    o.put("nrt-rate", "1000");
    o.put("nrt-base", "100000");
    o.put("index", "true");
    o.put("reuse", "false");
    o.put("dir", Path.of(System.getProperty("java.io.tmpdir"), "imgmatch-index-bench").toString());
    for (int i = 0; i + 1 < args.length; i += 2) {
      o.put(args[i].replaceFirst("^--", ""), args[i + 1]);
    }
    int n = Integer.parseInt(o.get("n"));
    int dim = Integer.parseInt(o.get("dim"));
    int queries = Integer.parseInt(o.get("queries"));
    int k = Integer.parseInt(o.get("k"));
    int candidates = Integer.parseInt(o.get("candidates"));
    int threads = Integer.parseInt(o.get("threads"));
    long seed = Long.parseLong(o.get("seed"));
    Path dir = Path.of(o.get("dir"));
    System.out.printf(Locale.ROOT, "# index benchmark %s%n# java %s, %d cores, max heap %d MiB%n", o,
        System.getProperty("java.version"), Runtime.getRuntime().availableProcessors(),
        Runtime.getRuntime().maxMemory() >> 20);

    long t0 = System.nanoTime();
    Data data = new Data(seed, n, dim, Math.max(10, n / 100), queries);
    System.out.printf(Locale.ROOT, "# data: %d x %d clustered unit vectors, %d queries (%.1f s)%n", n, dim, queries,
        (System.nanoTime() - t0) / 1e9);
    t0 = System.nanoTime();
    int[][] truth = data.bruteForceTopK(k);
    double bfMs = (System.nanoTime() - t0) / 1e6 / queries;
    System.out.printf(Locale.ROOT, "# exact brute force: %.2f ms per query (one thread, SIMD)%n", bfMs);
    System.out.println("| format | n | index docs/s | force-merge s | segments | p50 ms | p99 ms | recall@10 | "
        + "bytes/vector on disk (all vector files) | hot bytes/vector (searched) |");
    System.out.println("|---|---|---|---|---|---|---|---|---|---|");

    for (String fname : Boolean.parseBoolean(o.get("index")) ? o.get("formats").split(",") : new String[0]) {
      VectorFormat f = VectorFormat.fromConfig(fname);
      boolean reuse = Boolean.parseBoolean(o.get("reuse")) && Files.isDirectory(dir.resolve("shard-0"));
      if (!reuse) {
        delete(dir);
      }
      ShardIndex.Options opt = ShardIndex.Options.defaults().withFormat(f).withCandidates(candidates);
      try (ShardIndex shard = ShardIndex.open(dir, 0, opt)) {
        long ti = System.nanoTime();
        if (reuse) {
          System.out.printf(Locale.ROOT, "# %s: reusing the shard in %s (%d images): no indexing, no merge%n",
              f.configName(), dir, shard.imageCount());
        } else {
          index(shard, data, threads);
          shard.commit("bench");
        }
        double indexS = reuse ? Double.NaN : (System.nanoTime() - ti) / 1e9;
        double mergeS = 0;
        if (!reuse && Boolean.parseBoolean(o.get("merge"))) {
          long tm = System.nanoTime();
          shard.forceMerge();
          shard.commit("bench");
          mergeS = (System.nanoTime() - tm) / 1e9;
        }
        shard.refresh();
        int segments = segmentCount(dir.resolve("shard-0"));
        SearchFilter all = SearchFilter.tenantOnly("t", Set.of());
        // warm-up
        for (int q = 0; q < Math.min(queries, 200); q++) {
          shard.knnUids("m", data.queries[q], k, all);
        }
        long[] lat = new long[queries];
        long[] cpu = new long[queries];
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        double hits = 0;
        for (int q = 0; q < queries; q++) {
          long c = mx.getCurrentThreadCpuTime();
          long s = System.nanoTime();
          List<String> got = shard.knnUids("m", data.queries[q], k, all);
          lat[q] = System.nanoTime() - s;
          cpu[q] = mx.getCurrentThreadCpuTime() - c;
          Set<String> want = new HashSet<>();
          for (int d : truth[q]) {
            want.add(IndexedImage.uid("t", "i" + d));
          }
          hits += got.stream().filter(want::contains).count();
        }
        Arrays.sort(lat);
        Arrays.sort(cpu);
        System.out.printf(Locale.ROOT, "# %s: query CPU time (this thread, immune to other processes' load) p50 %.3f ms,"
            + " p99 %.3f ms; load average %.2f%n", f.configName(), cpu[queries / 2] / 1e6, cpu[(int) (queries * 0.99)] / 1e6,
            java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        Map<String, Long> files = vectorFiles(dir.resolve("shard-0"));
        long allBytes = files.values().stream().mapToLong(Long::longValue).sum();
        long hot = files.entrySet().stream().filter(e -> f.quantized() ? !e.getKey().equals("vec") : true)
            .mapToLong(Map.Entry::getValue).sum();
        System.out.printf(Locale.ROOT, "| %s | %d | %.0f | %.1f | %d | %.3f | %.3f | %.4f | %.0f %s | %.0f |%n",
            f.configName(), n, n / indexS, mergeS, segments, lat[queries / 2] / 1e6, lat[(int) (queries * 0.99)] / 1e6,
            hits / (queries * (double) k), allBytes / (double) n, files, hot / (double) n);
      }
      // taking over a shard whose files are on disk: reopen (no rebuild), first query
      long tr = System.nanoTime();
      try (ShardIndex again = ShardIndex.open(dir, 0, opt)) {
        double openMs = (System.nanoTime() - tr) / 1e6;
        long tq = System.nanoTime();
        again.knnUids("m", data.queries[0], k, SearchFilter.tenantOnly("t", Set.of()));
        System.out.printf(Locale.ROOT, "# %s: reopening the %d-vector shard from disk took %.0f ms, first query %.1f ms"
            + " (rebuilding it from the topic would take the indexing time above)%n", f.configName(), n, openMs,
            (System.nanoTime() - tq) / 1e6);
      }
    }

    if (Boolean.parseBoolean(o.get("nrt"))) {
      nrt(dir, data, VectorFormat.fromConfig(o.get("formats").split(",")[0]), candidates,
          Integer.parseInt(o.get("nrt-rate")), Integer.parseInt(o.get("nrt-base")));
    }
    if (Boolean.parseBoolean(o.get("pdq"))) {
      pdq(dir, seed);
    }
    if (!Boolean.parseBoolean(o.get("reuse"))) {
      delete(dir);
    }
  }

  private static void index(ShardIndex shard, Data data, int threads) throws Exception {
    ExecutorService ex = Executors.newFixedThreadPool(threads);
    AtomicInteger next = new AtomicInteger();
    List<Future<?>> fs = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      fs.add(ex.submit(() -> {
        byte[] sha = new byte[32];
        for (int i; (i = next.getAndIncrement()) < data.n; ) {
          shard.upsert(new IndexedImage("t", "i" + i, "protected", null, Map.of(), "m", data.vectors[i], sha,
              data.pdq(i), 90, i));
        }
        return null;
      }));
    }
    for (Future<?> f : fs) {
      f.get();
    }
    ex.shutdown();
  }

  /** Upload -> searchable: {@code rate} adds/s for 10 s on top of an index, searchers refreshed every 100 ms. */
  private static void nrt(Path dir, Data data, VectorFormat f, int candidates, int rate, int baseDocs)
      throws Exception {
    delete(dir);
    int base = Math.min(data.n, baseDocs);
    try (LocalShards shards = new LocalShards(dir, ShardIndex.Options.defaults().withFormat(f)
        .withCandidates(candidates), 100)) {
      ShardIndex shard = shards.open(0);
      for (int i = 0; i < base; i++) {
        shard.upsert(new IndexedImage("t", "i" + i, "protected", null, Map.of(), "m", data.vectors[i], new byte[32],
            data.pdq(i), 90, i));
      }
      shard.commit("bench");
      shard.refresh();
      int adds = rate * 10;
      long[] addedAt = new long[adds];
      long[] delay = new long[adds];
      Thread checker = new Thread(() -> {
        int seen = 0;
        try {
          while (seen < adds) {
            int visible = shard.imageCount() - base;
            long now = System.nanoTime();
            for (; seen < visible; seen++) {
              delay[seen] = now - addedAt[seen];
            }
            Thread.sleep(2);
          }
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      checker.start();
      long start = System.nanoTime();
      Random r = new Random(7);
      for (int i = 0; i < adds; i++) {
        long due = start + i * (1_000_000_000L / rate);
        while (System.nanoTime() < due) {
          Thread.onSpinWait();
        }
        addedAt[i] = System.nanoTime();
        shard.upsert(new IndexedImage("t", "n" + i, "uploads", null, Map.of(), "m", data.vectors[r.nextInt(data.n)],
            new byte[32], data.pdq(i), 90, i));
      }
      checker.join();
      Arrays.sort(delay);
      System.out.printf(Locale.ROOT, "%n# upload -> searchable (%s, %d docs indexed, %d adds/s, refresh every 100 ms): "
          + "p50 %.0f ms, p99 %.0f ms, max %.0f ms%n", f.configName(), base, rate, delay[adds / 2] / 1e6,
          delay[(int) (adds * 0.99)] / 1e6, delay[adds - 1] / 1e6);
    }
  }

  /** PDQ: multi-index hashing vs linear doc-values scan, per probe, at several shard sizes. */
  private static void pdq(Path dir, long seed) throws Exception {
    System.out.println("\n| PDQ docs | MIH ms/probe | scan ms/probe | matches/probe |");
    System.out.println("|---|---|---|---|");
    MatchPolicy policy = new MatchPolicy(Map.of(), Set.of(), 31, 50, 0.9, 0.8, Decision.REVIEW, 10, 10);
    Random r = new Random(seed);
    for (int size : new int[] {500, 2_000, 10_000, 50_000, 200_000}) {
      delete(dir);
      byte[][] hashes = new byte[size][32];
      try (ShardIndex shard = ShardIndex.open(dir, 0, ShardIndex.Options.defaults())) {
        float[] v = new float[8];
        v[0] = 1;
        for (int i = 0; i < size; i++) {
          r.nextBytes(hashes[i]);
          shard.upsert(new IndexedImage("t", "p" + i, "protected", null, Map.of(), "m", v, new byte[32], hashes[i],
              90, i));
        }
        shard.commit("bench");
        shard.forceMerge();
        shard.refresh();
        int probes = 300;
        double[] ms = new double[2];
        long matches = 0;
        ShardIndex.PdqMode[] modes = {ShardIndex.PdqMode.MIH, ShardIndex.PdqMode.SCAN};
        for (int mode = 0; mode < 2; mode++) {
          for (int rep = 0; rep < 2; rep++) { // the first round warms up
            long s = System.nanoTime();
            long found = 0;
            for (int q = 0; q < probes; q++) {
              byte[] probe = hashes[(q * 7919) % size].clone();
              probe[q % 32] ^= (byte) 0x11; // 2 bits away from an indexed hash
              Probe p = new Probe("none", List.of(), List.of(probe), 90, null, SearchFilter.tenantOnly("t", Set.of()), 10);
              found += shard.searchPdq(p, policy, modes[mode]);
            }
            ms[mode] = (System.nanoTime() - s) / 1e6 / probes;
            matches = found;
          }
        }
        System.out.printf(Locale.ROOT, "| %d | %.3f | %.3f | %.2f |%n", size, ms[0], ms[1], matches / (double) probes);
      }
    }
  }

  private static int segmentCount(Path shard) throws IOException {
    try (Stream<Path> s = Files.list(shard)) {
      return (int) s.filter(p -> p.getFileName().toString().endsWith(".si")).count();
    }
  }

  /** Bytes per vector-related file extension. */
  private static Map<String, Long> vectorFiles(Path shard) throws IOException {
    Map<String, Long> m = new TreeMap<>();
    try (Stream<Path> s = Files.list(shard)) {
      for (Path p : s.toList()) {
        String name = p.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String ext = dot < 0 ? "" : name.substring(dot + 1);
        if (ext.startsWith("ve")) {
          m.merge(ext, Files.size(p), Long::sum);
        }
      }
    }
    return m;
  }

  private static void delete(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  /** Seeded clustered unit vectors and queries from the same distribution. */
  static final class Data {
    final int n;
    final float[][] vectors;
    final float[][] queries;
    private final long seed;

    Data(long seed, int n, int dim, int clusters, int q) {
      this.n = n;
      this.seed = seed;
      Random r = new Random(seed);
      float[][] centres = new float[clusters][];
      for (int c = 0; c < clusters; c++) {
        centres[c] = unit(r, dim, null, 1);
      }
      vectors = new float[n][];
      for (int i = 0; i < n; i++) {
        vectors[i] = unit(r, dim, centres[r.nextInt(clusters)], 0.04);
      }
      queries = new float[q][];
      for (int i = 0; i < q; i++) {
        queries[i] = unit(r, dim, centres[r.nextInt(clusters)], 0.04);
      }
    }

    byte[] pdq(int i) {
      byte[] h = new byte[Pdq.BYTES];
      new Random(seed * 31 + i).nextBytes(h);
      return h;
    }

    static float[] unit(Random r, int dim, float[] centre, double sigma) {
      float[] v = new float[dim];
      double norm = 0;
      for (int i = 0; i < dim; i++) {
        v[i] = (float) ((centre == null ? 0 : centre[i]) + r.nextGaussian() * sigma);
        norm += v[i] * v[i];
      }
      float inv = (float) (1 / Math.sqrt(norm));
      for (int i = 0; i < dim; i++) {
        v[i] *= inv;
      }
      return v;
    }

    /** Exact top k by dot product for every query (parallel over queries). */
    int[][] bruteForceTopK(int k) {
      int[][] out = new int[queries.length][];
      java.util.stream.IntStream.range(0, queries.length).parallel().forEach(q -> {
        float[] best = new float[k];
        int[] ids = new int[k];
        Arrays.fill(best, Float.NEGATIVE_INFINITY);
        for (int i = 0; i < n; i++) {
          float s = VectorUtil.dotProduct(queries[q], vectors[i]);
          if (s > best[k - 1]) {
            int j = k - 1;
            while (j > 0 && best[j - 1] < s) {
              best[j] = best[j - 1];
              ids[j] = ids[j - 1];
              j--;
            }
            best[j] = s;
            ids[j] = i;
          }
        }
        out[q] = ids;
      });
      return out;
    }
  }
}
