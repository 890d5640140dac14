package dev.imgmatch.bench.index;

import dev.imgmatch.avro.ImageEmbedding;
import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.avro.Pdq256;
import dev.imgmatch.avro.PdqHash;
import dev.imgmatch.avro.Purpose;
import dev.imgmatch.avro.Sha256;
import dev.imgmatch.common.GrayThumb;
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
 * <p>With {@code --mosaics F}, every image also has a thumbnail (smooth random blobs, 64 x 48: a layout), a fraction F
 * of the uploads are marked as mosaics (their thumbnail pixelated), and every fourth copied upload is instead a
 * pixelated copy of its reference with an unrelated descriptor and PDQ — found by nothing but its layout. Each
 * reference's retroactive search is then timed twice, with layout matching on (the default) and off
 * ({@code match.layout.candidates=0}), in alternating order: what {@link LocalShards#mosaicsLike} adds.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp "benchmarks/target/classes:$(cat benchmarks/target/classpath.txt)" \
 *   dev.imgmatch.bench.index.RetroactiveBench --n 100000 [--refs 200] [--dim 160] [--mosaics F] [--seed S] \
 *   [--dir D]</pre>
 */
public final class RetroactiveBench {
  private RetroactiveBench() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> a = dev.imgmatch.bench.BenchArgs.parse(args,
        "[--n 100000] [--refs 200] [--dim 160] [--mosaics F] [--seed S] [--dir D]");
    int n = Integer.parseInt(a.getOrDefault("n", "100000"));
    int refs = Integer.parseInt(a.getOrDefault("refs", "200"));
    int dim = Integer.parseInt(a.getOrDefault("dim", "160"));
    long seed = Long.parseLong(a.getOrDefault("seed", "20261203"));
    double mosaics = Double.parseDouble(a.getOrDefault("mosaics", "0"));
    boolean thumbs = mosaics > 0;
    Path dir = a.containsKey("dir") ? Path.of(a.get("dir")) : Files.createTempDirectory("retro-bench");
    System.out.printf(Locale.ROOT, "n=%d refs=%d dim=%d mosaics=%.3f seed=%d dir=%s%n", n, refs, dim, mosaics, seed,
        dir);
    Random rnd = new Random(seed);
    MatchPolicy policy = new IndexServiceConfig(Map.of()).policy();
    MatchPolicy noLayout = new IndexServiceConfig(Map.of("match.layout.candidates", "0")).policy();
    long now = System.currentTimeMillis();
    try (LocalShards shards = new LocalShards(dir, ShardIndex.Options.defaults(), 1000)) {
      ShardIndex shard = shards.open(0);
      List<IndexedImage> uploads = new ArrayList<>(n);
      List<GrayThumb> originals = new ArrayList<>(refs); // the pictures the copied uploads copy
      int pixelatedCopies = 0;
      long t0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        GrayThumb thumb = thumbs ? picture(rnd) : null;
        boolean mosaic = thumbs && rnd.nextDouble() < mosaics;
        float[] v = unit(dim, rnd);
        if (i < refs) {
          originals.add(thumb);
          if (thumbs && i % 8 == 0) { // every fourth copy (i even): a pixelated copy, nothing else alike
            mosaic = true;
            pixelatedCopies++;
          }
        }
        IndexedImage u = image("up-" + i, "uploads", v, random(rnd, 32), now - 1_000_000L + i,
            mosaic ? pixelated(thumb) : thumb, mosaic);
        shards.upsert(shard, u);
        if (i < refs) {
          uploads.add(u);
        }
      }
      shard.commit("bench");
      shards.refreshNow();
      System.out.printf(Locale.ROOT, "indexed %d uploads in %.1f s%n", n, (System.nanoTime() - t0) / 1e9);

      Retroactive retro = new Retroactive(shards, policy, 30, 100);
      Retroactive retroNoLayout = new Retroactive(shards, noLayout, 30, 100);
      long[] retroNs = new long[refs];
      long[] noLayoutNs = new long[refs];
      long[] forwardNs = new long[refs];
      int copiesAlerted = 0;
      int pixelatedAlerted = 0;
      int pixelatedAlertedNoLayout = 0;
      int unrelatedAlerted = 0;
      for (int r = 0; r < refs; r++) {
        boolean copy = r % 2 == 0;
        IndexedImage u = uploads.get(r);
        boolean pixelatedCopy = thumbs && r % 8 == 0; // as indexed above
        float[] v = copy && !pixelatedCopy ? near(u.vector(), 0.25, rnd) : unit(dim, rnd);
        byte[] pdq = copy && !pixelatedCopy ? flip(u.pdq(), 12, rnd) : random(rnd, 32);
        GrayThumb thumb = !thumbs ? null : copy ? originals.get(r) : picture(rnd);
        ImageEmbedding e = embedding("ref-" + r, v, pdq, random(rnd, 32), now, thumb);
        IndexedImage ref = Records.toIndexed(e);
        shards.upsert(shard, ref);
        List<MatchAlert> alerts = null;
        List<MatchAlert> alertsNoLayout = null;
        for (int turn = 0; turn < 2; turn++) { // alternating which goes first
          boolean layoutOn = (turn + r) % 2 == 0;
          long s = System.nanoTime();
          List<MatchAlert> got = (layoutOn ? retro : retroNoLayout).alertsFor(e, ref, now, why -> { });
          long took = System.nanoTime() - s;
          if (layoutOn) {
            retroNs[r] = took;
            alerts = got;
          } else {
            noLayoutNs[r] = took;
            alertsNoLayout = got;
          }
        }
        boolean hit = alerts.stream().anyMatch(x -> x.getImageId().equals(u.imageId()));
        if (pixelatedCopy) {
          pixelatedAlerted += hit ? 1 : 0;
          pixelatedAlertedNoLayout += alertsNoLayout.stream().anyMatch(x -> x.getImageId().equals(u.imageId())) ? 1 : 0;
        } else if (copy) {
          copiesAlerted += hit ? 1 : 0;
        } else {
          unrelatedAlerted += alerts.size();
          for (MatchAlert x : alerts) {
            System.out.printf(Locale.ROOT, "unrelated reference %s alerted %s (score %.3f, cosine %s; %d without layout"
                + " matching)%n", ref.imageId(), x.getImageId(), x.getScore(), x.getMatches().getFirst().getCosine(),
                alertsNoLayout.size());
          }
        }
        // the baseline: an upload's forward match against the references
        SearchFilter f = SearchFilter.tenantOnly("t", Set.of()).withCollections(policy.targetsOf("uploads"));
        Probe p = new Probe(u.modelVersion(), List.of(unit(dim, rnd)), List.of(random(rnd, 32)), 90, random(rnd, 32),
            f, policy.knnK(), null);
        long s = System.nanoTime();
        shards.search(p, policy);
        forwardNs[r] = System.nanoTime() - s;
      }
      Arrays.sort(retroNs);
      Arrays.sort(noLayoutNs);
      Arrays.sort(forwardNs);
      if (thumbs) {
        System.out.printf(Locale.ROOT, "%,d uploads (%.1f %% mosaics): retroactive search per reference with layout"
            + " matching p50 %.1f ms p99 %.1f ms, without p50 %.1f ms p99 %.1f ms (%.2fx / %.2fx); pixelated copies"
            + " alerted %d/%d with, %d/%d without%n", n, 100 * mosaics, retroNs[refs / 2] / 1e6,
            retroNs[(int) (refs * 0.99)] / 1e6, noLayoutNs[refs / 2] / 1e6, noLayoutNs[(int) (refs * 0.99)] / 1e6,
            (double) retroNs[refs / 2] / noLayoutNs[refs / 2],
            (double) retroNs[(int) (refs * 0.99)] / noLayoutNs[(int) (refs * 0.99)], pixelatedAlerted, pixelatedCopies,
            pixelatedAlertedNoLayout, pixelatedCopies);
      }
      System.out.printf(Locale.ROOT, "%,d uploads: retroactive search per reference p50 %.1f ms p99 %.1f ms; forward"
          + " match of an upload p50 %.1f ms p99 %.1f ms (%.1fx / %.1fx); copies alerted %d/%d, unrelated alerts %d%n",
          n, retroNs[refs / 2] / 1e6, retroNs[(int) (refs * 0.99)] / 1e6, forwardNs[refs / 2] / 1e6,
          forwardNs[(int) (refs * 0.99)] / 1e6, (double) retroNs[refs / 2] / forwardNs[refs / 2],
          (double) retroNs[(int) (refs * 0.99)] / forwardNs[(int) (refs * 0.99)], copiesAlerted,
          (refs + 1) / 2 - pixelatedCopies, unrelatedAlerted);
    }
  }

  private static IndexedImage image(String id, String collection, float[] v, byte[] pdq, long t, GrayThumb thumb,
      boolean mosaic) {
    return new IndexedImage("t", id, collection, null, Map.of(), "v1", v, random(new Random(t), 32), pdq, 90, t, thumb,
        null, null, null, null, mosaic);
  }

  /**
   * A 64 x 48 thumbnail of 24 random blobs of 2-12 px: a photo-like layout. (Twelve blobs of up to 18 px are too
   * alike: with 1,000 of them pixelated in the window, 1-5 of 100 unrelated references correlated with one at 0.95 or
   * more — photos' layouts vary more, docs/BENCHMARKS.md.)
   */
  private static GrayThumb picture(Random rnd) {
    return new GrayThumb(64, 48, dev.imgmatch.testkit.TexturedPictures.blobs(rnd, 64, 48, 24, 2, 64 / 6.0));
  }

  /** Each 4 x 4 block of {@code t} replaced by its mean: a pixelated copy's thumbnail. */
  private static GrayThumb pixelated(GrayThumb t) {
    return new GrayThumb(t.width(), t.height(),
        dev.imgmatch.testkit.TexturedPictures.pixelatedGrey(t.gray(), t.width(), t.height(), 4));
  }

  private static ImageEmbedding embedding(String id, float[] v, byte[] pdq, byte[] sha, long t, GrayThumb thumb) {
    List<Float> vec = new ArrayList<>();
    for (float x : v) {
      vec.add(x);
    }
    return ImageEmbedding.newBuilder().setId(id).setPurpose(Purpose.INDEX).setTenant("t").setCollection("protected")
        .setSource(null).setAttributes(Map.of()).setModelId("bench").setModelVersion("v1").setVector(vec)
        .setExtraViews(List.of()).setSha256(new Sha256(sha)).setPdq(new PdqHash(new Pdq256(pdq), 90))
        .setPdqDihedral(List.of()).setClassScores(Map.of()).setExactDuplicateOf(null).setQuery(null)
        .setSubmittedAtMs(t).setPreparedAtMs(t).setEmbeddedAtMs(t).setThumbnail(thumb == null ? null : thumb.toAvro())
        .build();
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
