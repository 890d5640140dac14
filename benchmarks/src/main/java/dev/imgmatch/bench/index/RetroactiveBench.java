package dev.imgmatch.bench.index;

import dev.imgmatch.avro.ImageEmbedding;
import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.avro.Pdq256;
import dev.imgmatch.avro.PdqHash;
import dev.imgmatch.avro.Purpose;
import dev.imgmatch.avro.Sha256;
import dev.imgmatch.index.IndexServiceConfig;
import dev.imgmatch.index.IndexedImage;
import dev.imgmatch.index.LocalShards;
import dev.imgmatch.index.MatchPolicy;
import dev.imgmatch.index.Probe;
import dev.imgmatch.index.Records;
import dev.imgmatch.index.Retroactive;
import dev.imgmatch.index.SearchFilter;
import dev.imgmatch.index.ShardIndex;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * What retroactive matching costs per new reference ({@code match.retroactive.days}, docs/OPERATIONS.md): N uploads
 * indexed in one shard on disk (synthetic 160-d unit vectors, random PDQs, submitted within the window), then
 * references added one by one — half the originals of some upload (cosine ~0.97, PDQ 12 bits off), half unrelated —
 * and the time of their retroactive search and judging measured. Baseline, same run: the forward match of an upload
 * (one search of the references), what every upload costs anyway.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp "benchmarks/target/classes:$(cat benchmarks/target/classpath.txt)" \
 *   dev.imgmatch.bench.index.RetroactiveBench --n 100000 [--refs 200] [--dim 160] [--seed S] [--dir D]</pre>
 */
public final class RetroactiveBench {
  private RetroactiveBench() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> a = dev.imgmatch.bench.BenchArgs.parse(args,
        "[--n 100000] [--refs 200] [--dim 160] [--seed S] [--dir D]");
    int n = Integer.parseInt(a.getOrDefault("n", "100000"));
    int refs = Integer.parseInt(a.getOrDefault("refs", "200"));
    int dim = Integer.parseInt(a.getOrDefault("dim", "160"));
    long seed = Long.parseLong(a.getOrDefault("seed", "20261203"));
    Path dir = a.containsKey("dir") ? Path.of(a.get("dir")) : Files.createTempDirectory("retro-bench");
    System.out.printf(Locale.ROOT, "n=%d refs=%d dim=%d seed=%d dir=%s%n", n, refs, dim, seed, dir);
    Random rnd = new Random(seed);
    MatchPolicy policy = new IndexServiceConfig(Map.of()).policy();
    long now = System.currentTimeMillis();
    try (LocalShards shards = new LocalShards(dir, ShardIndex.Options.defaults(), 1000)) {
      ShardIndex shard = shards.open(0);
      List<IndexedImage> uploads = new ArrayList<>(n);
      long t0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        IndexedImage u = image("up-" + i, "uploads", unit(dim, rnd), random(rnd, 32), now - 1_000_000L + i);
        shards.upsert(shard, u);
        if (i < refs) {
          uploads.add(u);
        }
      }
      shard.commit("bench");
      shards.refreshNow();
      System.out.printf(Locale.ROOT, "indexed %d uploads in %.1f s%n", n, (System.nanoTime() - t0) / 1e9);

      Retroactive retro = new Retroactive(shards, policy, 30, 100);
      long[] retroNs = new long[refs];
      long[] forwardNs = new long[refs];
      int copiesAlerted = 0;
      int unrelatedAlerted = 0;
      for (int r = 0; r < refs; r++) {
        boolean copy = r % 2 == 0;
        IndexedImage u = uploads.get(r);
        float[] v = copy ? near(u.vector(), 0.25, rnd) : unit(dim, rnd);
        byte[] pdq = copy ? flip(u.pdq(), 12, rnd) : random(rnd, 32);
        ImageEmbedding e = embedding("ref-" + r, v, pdq, random(rnd, 32), now);
        IndexedImage ref = Records.toIndexed(e);
        shards.upsert(shard, ref);
        long s = System.nanoTime();
        List<MatchAlert> alerts = retro.alertsFor(e, ref, now, why -> { });
        retroNs[r] = System.nanoTime() - s;
        if (copy) {
          copiesAlerted += alerts.stream().anyMatch(x -> x.getImageId().equals(u.imageId())) ? 1 : 0;
        } else {
          unrelatedAlerted += alerts.size();
        }
        // the baseline: an upload's forward match against the references
        SearchFilter f = SearchFilter.tenantOnly("t", Set.of()).withCollections(policy.targetsOf("uploads"));
        Probe p = new Probe(u.modelVersion(), List.of(unit(dim, rnd)), List.of(random(rnd, 32)), 90, random(rnd, 32),
            f, policy.knnK(), null);
        s = System.nanoTime();
        shards.search(p, policy);
        forwardNs[r] = System.nanoTime() - s;
      }
      Arrays.sort(retroNs);
      Arrays.sort(forwardNs);
      System.out.printf(Locale.ROOT, "%,d uploads: retroactive search per reference p50 %.1f ms p99 %.1f ms; forward"
          + " match of an upload p50 %.1f ms p99 %.1f ms (%.1fx / %.1fx); copies alerted %d/%d, unrelated alerts %d%n",
          n, retroNs[refs / 2] / 1e6, retroNs[(int) (refs * 0.99)] / 1e6, forwardNs[refs / 2] / 1e6,
          forwardNs[(int) (refs * 0.99)] / 1e6, (double) retroNs[refs / 2] / forwardNs[refs / 2],
          (double) retroNs[(int) (refs * 0.99)] / forwardNs[(int) (refs * 0.99)], copiesAlerted, (refs + 1) / 2,
          unrelatedAlerted);
    }
  }

  private static IndexedImage image(String id, String collection, float[] v, byte[] pdq, long t) {
    return new IndexedImage("t", id, collection, null, Map.of(), "v1", v, random(new Random(t), 32), pdq, 90, t);
  }

  private static ImageEmbedding embedding(String id, float[] v, byte[] pdq, byte[] sha, long t) {
    List<Float> vec = new ArrayList<>();
    for (float x : v) {
      vec.add(x);
    }
    return ImageEmbedding.newBuilder().setId(id).setPurpose(Purpose.INDEX).setTenant("t").setCollection("protected")
        .setSource(null).setAttributes(Map.of()).setModelId("bench").setModelVersion("v1").setVector(vec)
        .setExtraViews(List.of()).setSha256(new Sha256(sha)).setPdq(new PdqHash(new Pdq256(pdq), 90))
        .setPdqDihedral(List.of()).setClassScores(Map.of()).setExactDuplicateOf(null).setQuery(null)
        .setSubmittedAtMs(t).setPreparedAtMs(t).setEmbeddedAtMs(t).build();
  }

  private static float[] unit(int dim, Random rnd) {
    float[] v = new float[dim];
    for (int j = 0; j < dim; j++) {
      v[j] = (float) rnd.nextGaussian();
    }
    return normalise(v);
  }

  private static float[] near(float[] base, double noise, Random rnd) {
    float[] v = new float[base.length];
    double scale = noise / Math.sqrt(base.length);
    for (int j = 0; j < v.length; j++) {
      v[j] = (float) (base[j] + rnd.nextGaussian() * scale);
    }
    return normalise(v);
  }

  private static float[] normalise(float[] v) {
    double norm = 0;
    for (float x : v) {
      norm += x * x;
    }
    for (int j = 0; j < v.length; j++) {
      v[j] /= (float) Math.sqrt(norm);
    }
    return v;
  }

  private static byte[] random(Random rnd, int n) {
    byte[] b = new byte[n];
    rnd.nextBytes(b);
    return b;
  }

  private static byte[] flip(byte[] h, int bits, Random rnd) {
    byte[] out = h.clone();
    for (int i = 0; i < bits; i++) {
      int b = rnd.nextInt(256);
      out[b / 8] ^= (byte) (1 << (b % 8));
    }
    return out;
  }
}
