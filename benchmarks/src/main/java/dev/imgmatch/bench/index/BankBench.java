package dev.imgmatch.bench.index;

import dev.imgmatch.cli.Main;
import dev.imgmatch.common.TopicSetup;
import dev.imgmatch.index.BankIndex;
import dev.imgmatch.index.Hit;
import dev.imgmatch.ops.LocalBroker;
import dev.imgmatch.schemas.Topics;
import java.io.BufferedWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Hash-list banks at scale: {@code ./imgmatch bank import} of N generated PDQ hashes (a CSV file, as a team would
 * receive it) into a real broker, index-service's bank index loading them from the topic (what a fresh instance
 * does), and the time to match one upload against them (its PDQ and 8 dihedral variants, plus MD5 and SHA-256), for
 * uploads that are edited copies of entries (10-24 bits off, one variant in eight) and unrelated ones. Matching is
 * compared with the same probes against a bank of 10,000 entries loaded in the same run (the baseline). Then the
 * retroactive check of an import ({@code BankRetroactive}) on a shard of U uploads (1% edited copies of entries,
 * 10-24 bits off): imports of the last 1, 1,000 and all entries.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp "benchmarks/target/classes:$(cat benchmarks/target/classpath.txt)" \
 *   dev.imgmatch.bench.index.BankBench --n 1000000 [--probes 2000] [--uploads 100000] [--seed S] [--dir D]</pre>
 */
public final class BankBench {
  private BankBench() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> a = dev.imgmatch.bench.BenchArgs.parse(args,
        "[--n 1000000] [--probes 2000] [--uploads 100000] [--seed S] [--dir D]");
    int uploads = Integer.parseInt(a.getOrDefault("uploads", "100000"));
    int n = Integer.parseInt(a.getOrDefault("n", "1000000"));
    int probes = Integer.parseInt(a.getOrDefault("probes", "2000"));
    long seed = Long.parseLong(a.getOrDefault("seed", "20261203"));
    Path dir = a.containsKey("dir") ? Path.of(a.get("dir")) : Files.createTempDirectory("bank-bench");
    System.out.printf(Locale.ROOT, "n=%d probes=%d seed=%d dir=%s%n", n, probes, seed, dir);
    try (LocalBroker broker = LocalBroker.start(new LocalBroker.Options(dir.resolve("broker"), 0, 0, "1g",
        Duration.ofMinutes(2)))) {
      int base = Math.min(10_000, n);
      Random rnd = new Random(seed);
      List<byte[]> hashes = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        byte[] h = new byte[32];
        rnd.nextBytes(h);
        hashes.add(h);
      }
      List<Probe> ps = probes(hashes.subList(0, base), probes, rnd);
      try (dev.imgmatch.index.ShardIndex shard = uploads(dir.resolve("uploads"), uploads, hashes, rnd)) {
        double[] baseline = run(broker, "baseline", hashes.subList(0, base), dir, ps, null, shard);
        run(broker, "large", hashes, dir, ps, baseline, shard);
      }
    }
  }

  private record Probe(List<byte[]> pdqs, byte[] md5, byte[] sha256, boolean copy) {}

  /** Half edited copies of entries (one dihedral variant 10-24 bits off the entry), half unrelated hashes. */
  private static List<Probe> probes(List<byte[]> entries, int count, Random rnd) {
    List<Probe> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      List<byte[]> pdqs = new ArrayList<>();
      boolean copy = i % 2 == 0;
      int which = rnd.nextInt(9);
      for (int v = 0; v < 9; v++) {
        byte[] h = new byte[32];
        rnd.nextBytes(h);
        if (copy && v == which) {
          h = entries.get(rnd.nextInt(entries.size())).clone();
          int bits = 10 + rnd.nextInt(15);
          for (int b = 0; b < bits; b++) {
            int bit = rnd.nextInt(256);
            h[bit / 8] ^= (byte) (1 << (bit % 8));
          }
        }
        pdqs.add(h);
      }
      byte[] md5 = new byte[16];
      byte[] sha = new byte[32];
      rnd.nextBytes(md5);
      rnd.nextBytes(sha);
      out.add(new Probe(pdqs, md5, sha, copy));
    }
    return out;
  }

  /** Imports, loads and matches; returns {import s, load s, p50 ms, p99 ms}. */
  private static double[] run(LocalBroker broker, String name, List<byte[]> hashes, Path dir, List<Probe> probes,
      double[] baseline, dev.imgmatch.index.ShardIndex shard) throws Exception {
    Topics topics = new Topics("bb-" + name + ".");
    TopicSetup.ensureAll(Map.of("bootstrap.servers", broker.bootstrapServers()), topics, 3, (short) 1);
    Path csv = dir.resolve(name + ".csv");
    HexFormat hex = HexFormat.of();
    try (BufferedWriter w = Files.newBufferedWriter(csv, StandardCharsets.UTF_8)) {
      w.write("pdq,quality,md5,sha256,id,tags\n");
      for (int i = 0; i < hashes.size(); i++) {
        w.write(hex.formatHex(hashes.get(i)) + ",100,,,e" + i + ",bench\n");
      }
    }
    long t0 = System.nanoTime();
    int status = Main.execute("bank", "import", "--bank", "bench", "-b", broker.bootstrapServers(),
        "--topic-prefix", topics.prefix(), csv.toString());
    double importS = (System.nanoTime() - t0) / 1e9;
    if (status != 0) {
      throw new IllegalStateException("bank import exited " + status);
    }
    t0 = System.nanoTime();
    try (BankIndex bank = new BankIndex(dir.resolve(name + "-index"), topics.bankEntries(), topics.collectionSettings(),
        Map.of("bootstrap.servers", broker.bootstrapServers()), 31, 50, 5_000, 10_000)) {
      Thread loader = new Thread(() -> {
        try {
          bank.run();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }, "bank-loader");
      loader.start();
      if (!bank.awaitCaughtUp(60, TimeUnit.MINUTES)) {
        throw new IllegalStateException("not loaded");
      }
      double loadS = (System.nanoTime() - t0) / 1e9;
      for (int i = 0; i < Math.min(200, probes.size()); i++) { // warm-up
        Probe p = probes.get(i);
        bank.match("t", p.pdqs(), 100, p.md5(), p.sha256(), null);
      }
      long[] ns = new long[probes.size()];
      int found = 0;
      int copies = 0;
      for (int i = 0; i < probes.size(); i++) {
        Probe p = probes.get(i);
        long s = System.nanoTime();
        List<Hit> hits = bank.match("t", p.pdqs(), 100, p.md5(), p.sha256(), null);
        ns[i] = System.nanoTime() - s;
        if (p.copy()) {
          copies++;
          found += hits.isEmpty() ? 0 : 1;
        }
      }
      Arrays.sort(ns);
      double p50 = ns[ns.length / 2] / 1e6;
      double p99 = ns[(int) (ns.length * 0.99)] / 1e6;
      System.out.printf(Locale.ROOT, "%-8s %,9d entries: import %6.1f s (%,.0f/s), load %6.1f s (%,.0f/s), "
          + "match p50 %.2f ms p99 %.2f ms%s; copies found %d/%d, entries %d%n", name, hashes.size(), importS,
          hashes.size() / importS, loadS, hashes.size() / loadS, p50, p99,
          baseline == null ? " (baseline)" : String.format(Locale.ROOT, " (%.2fx / %.2fx the baseline)",
              p50 / baseline[2], p99 / baseline[3]), found, copies, bank.entries());
      retroactive(bank, shard, name, hashes.size());
      bank.stop();
      loader.join();
      return new double[] {importS, loadS, p50, p99};
    }
  }

  /** U uploads of the last day in one shard: 1% edited copies of entries (10-24 bits off), the rest unrelated. */
  private static dev.imgmatch.index.ShardIndex uploads(Path dir, int count, List<byte[]> entries, Random rnd)
      throws Exception {
    long t0 = System.nanoTime();
    dev.imgmatch.index.ShardIndex shard = dev.imgmatch.index.ShardIndex.open(dir, 0,
        dev.imgmatch.index.ShardIndex.Options.defaults());
    long now = System.currentTimeMillis();
    for (int i = 0; i < count; i++) {
      byte[] pdq = new byte[32];
      rnd.nextBytes(pdq);
      if (i % 100 == 0) {
        pdq = entries.get(rnd.nextInt(entries.size())).clone();
        int bits = 10 + rnd.nextInt(15);
        for (int b = 0; b < bits; b++) {
          int bit = rnd.nextInt(256);
          pdq[bit / 8] ^= (byte) (1 << (bit % 8));
        }
      }
      float[] v = new float[8];
      double norm = 0;
      for (int d = 0; d < v.length; d++) {
        v[d] = (float) rnd.nextGaussian();
        norm += v[d] * v[d];
      }
      for (int d = 0; d < v.length; d++) {
        v[d] /= (float) Math.sqrt(norm);
      }
      byte[] sha = new byte[32];
      rnd.nextBytes(sha);
      shard.upsert(new dev.imgmatch.index.IndexedImage("t", "u" + i, "uploads", null, Map.of(), "m1", v, sha, pdq, 90,
          now - 86_400_000L + i));
    }
    shard.commit("bench");
    shard.refresh();
    System.out.printf(Locale.ROOT, "shard of %,d uploads (1%% copies of entries) built in %.1f s%n", count,
        (System.nanoTime() - t0) / 1e9);
    return shard;
  }

  /** The retroactive check of imports of the last 1, 1,000 and all entries, against the shard's uploads. */
  private static void retroactive(BankIndex bank, dev.imgmatch.index.ShardIndex shard, String name, int n)
      throws Exception {
    dev.imgmatch.index.BankRetroactive retro = new dev.imgmatch.index.BankRetroactive(bank,
        new dev.imgmatch.index.IndexServiceConfig(Map.of()).policy(), 30, 1_000_000, 100_000);
    Map<Integer, Long> to = bank.visibleOffsets();
    for (int last : new int[] {1, 1_000, n}) {
      Map<Integer, Long> from = new java.util.HashMap<>();
      int perPartition = Math.max(1, last / Math.max(1, to.size()));
      to.forEach((p, o) -> from.put(p, last >= n ? 0 : Math.max(0, o - perPartition)));
      long t0 = System.nanoTime();
      long after = Long.MIN_VALUE;
      int steps = 0;
      int entries = 0;
      int alerts = 0;
      long probed = 0;
      double slowest = 0;
      while (true) { // as index-service runs it: a step per turn of the ingest loop
        long s0 = System.nanoTime();
        dev.imgmatch.index.BankRetroactive.Step st = retro.step(shard, from, to, after, System.currentTimeMillis(),
            System.currentTimeMillis(), 1_000_000);
        slowest = Math.max(slowest, (System.nanoTime() - s0) / 1e6);
        steps++;
        entries += st.entries();
        alerts += st.alerts().size();
        probed += st.uploadsProbed();
        after = st.next();
        if (st.done()) {
          break;
        }
      }
      System.out.printf(Locale.ROOT, "%-8s retroactive check of an import of %,9d entries (%,d uploads probed): "
          + "%.0f ms in %d step(s), slowest step %.0f ms, %d alerts%n", name, entries, probed,
          (System.nanoTime() - t0) / 1e6, steps, slowest, alerts);
    }
  }
}
