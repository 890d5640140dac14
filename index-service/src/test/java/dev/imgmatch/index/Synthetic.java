package dev.imgmatch.index;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Seeded synthetic data: clustered unit vectors and PDQ hash families (tests only; benchmarks have their own). */
final class Synthetic {
  private final Random rnd;
  private final int dim;
  private final float[][] centres;

  Synthetic(long seed, int dim, int clusters) {
    this.rnd = new Random(seed);
    this.dim = dim;
    this.centres = new float[clusters][];
    for (int i = 0; i < clusters; i++) {
      centres[i] = gaussianUnit();
    }
  }

  float[] gaussianUnit() {
    float[] v = new float[dim];
    for (int i = 0; i < dim; i++) {
      v[i] = (float) rnd.nextGaussian();
    }
    return normalise(v);
  }

  /** A point near a random centre. */
  float[] clustered() {
    float[] c = centres[rnd.nextInt(centres.length)];
    float[] v = new float[dim];
    for (int i = 0; i < dim; i++) {
      v[i] = c[i] + (float) (rnd.nextGaussian() * 0.08);
    }
    return normalise(v);
  }

  /** A slightly perturbed copy (a "transformed" image's descriptor). */
  float[] near(float[] base, double noise) {
    float[] v = new float[dim];
    for (int i = 0; i < dim; i++) {
      v[i] = base[i] + (float) (rnd.nextGaussian() * noise);
    }
    return normalise(v);
  }

  static float[] normalise(float[] v) {
    double n = 0;
    for (float x : v) {
      n += x * x;
    }
    float inv = (float) (1 / Math.sqrt(n));
    for (int i = 0; i < v.length; i++) {
      v[i] *= inv;
    }
    return v;
  }

  byte[] hash() {
    byte[] h = new byte[Pdq.BYTES];
    rnd.nextBytes(h);
    return h;
  }

  /** The hash with exactly {@code bits} distinct random bits flipped. */
  byte[] flip(byte[] h, int bits) {
    byte[] out = h.clone();
    List<Integer> idx = new ArrayList<>();
    for (int i = 0; i < 256; i++) {
      idx.add(i);
    }
    java.util.Collections.shuffle(idx, rnd);
    for (int i = 0; i < bits; i++) {
      int b = idx.get(i);
      out[b / 8] ^= (byte) (1 << (b % 8));
    }
    return out;
  }

  byte[] sha() {
    byte[] s = new byte[32];
    rnd.nextBytes(s);
    return s;
  }

  Random random() {
    return rnd;
  }

  IndexedImage image(String tenant, String id, String collection, float[] v, byte[] pdq, int quality, long t) {
    return new IndexedImage(tenant, id, collection, "src-" + (t % 3), Map.of("n", id), "m1", v, sha(), pdq, quality, t);
  }
}
