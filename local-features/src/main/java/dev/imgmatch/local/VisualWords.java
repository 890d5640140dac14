package dev.imgmatch.local;

import java.util.Arrays;
import java.util.Random;

/**
 * Visual words without a vocabulary: each descriptor is hashed by {@code tables} random-hyperplane hashes of
 * {@code bits} bits each (sign LSH: descriptors at a small angle share a word with high probability), giving one word
 * per table. Two pictures that share a region share many words; an inverted index over them finds the references
 * worth verifying without comparing every reference (the candidate stage of local verification).
 *
 * <p>Nothing is fitted: the hyperplanes come from a fixed seed, and descriptors are centred on one constant (0.0653,
 * the mean RootSIFT component measured on the dev references and train photos; centring on each component's own
 * mean gave the same candidates). Deterministic on every machine (a plain loop in double precision).
 */
public final class VisualWords {
  /** The default: 8 tables of 16 bits (measured: docs/BENCHMARKS.md, "Local features"). */
  public static final VisualWords DEFAULT = new VisualWords(8, 16, 18L);
  static final float CENTRE = 0.0653f;

  private final int tables;
  private final int bits;
  private final float[] planes; // tables × bits × 128

  public VisualWords(int tables, int bits, long seed) {
    if (tables < 1 || bits < 1 || bits > 24 || tables > (1 << (31 - bits))) {
      throw new IllegalArgumentException(tables + " tables of " + bits + " bits do not fit one int per word");
    }
    this.tables = tables;
    this.bits = bits;
    this.planes = new float[tables * bits * LocalFeatures.DIMS];
    Random rnd = new Random(seed);
    for (int k = 0; k < planes.length; k++) {
      planes[k] = (float) rnd.nextGaussian();
    }
  }

  public int tables() {
    return tables;
  }

  public int bits() {
    return bits;
  }

  /**
   * The words of keypoint {@code i} of {@code f}, one per table: {@code table << bits | code}.
   *
   * <p>Bit {@code b} of a table's code is the sign of the descriptor's (centred, float) components times the
   * hyperplane's, summed in double precision in component order. Four hyperplanes are summed side by side: each sum
   * is the same sequence of additions as one at a time — so the same words as references indexed before — but four
   * independent chains keep the floating-point adder busy (one chain waited on each addition; this was 7-9 % of a
   * query's Java time in index-service, docs/BENCHMARKS.md).
   */
  public int[] words(LocalFeatures f, int i) {
    int[] w = new int[tables];
    float[] x = centred(f, i);
    final int n = LocalFeatures.DIMS;
    for (int t = 0; t < tables; t++) {
      int code = 0;
      int b = 0;
      for (; b + 4 <= bits; b += 4) {
        int p0 = (t * bits + b) * n;
        int p1 = p0 + n;
        int p2 = p1 + n;
        int p3 = p2 + n;
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        for (int c = 0; c < n; c++) {
          float xc = x[c];
          s0 += planes[p0 + c] * xc;
          s1 += planes[p1 + c] * xc;
          s2 += planes[p2 + c] * xc;
          s3 += planes[p3 + c] * xc;
        }
        code |= (s0 > 0 ? 1 : 0) << b | (s1 > 0 ? 1 : 0) << (b + 1) | (s2 > 0 ? 1 : 0) << (b + 2)
            | (s3 > 0 ? 1 : 0) << (b + 3);
      }
      for (; b < bits; b++) {
        code |= (projection(t * bits + b, x) > 0 ? 1 : 0) << b;
      }
      w[t] = (t << bits) | code;
    }
    return w;
  }

  /**
   * {@link #words} one hyperplane at a time, as first shipped: the same words, about twice as slow. The reference the
   * faster loop is checked against ({@code VisualWordsTest}, {@code VisualWordsBench}), like
   * {@code Verifier.similarityExhaustive}.
   */
  public int[] wordsOneAtATime(LocalFeatures f, int i) {
    int[] w = new int[tables];
    float[] x = centred(f, i);
    for (int t = 0; t < tables; t++) {
      int code = 0;
      for (int b = 0; b < bits; b++) {
        code |= (projection(t * bits + b, x) > 0 ? 1 : 0) << b;
      }
      w[t] = (t << bits) | code;
    }
    return w;
  }

  /** Keypoint {@code i}'s descriptor less the constant centre (float, as the words were always taken). */
  private static float[] centred(LocalFeatures f, int i) {
    float[] x = f.descriptor(i);
    for (int c = 0; c < x.length; c++) {
      x[c] -= CENTRE;
    }
    return x;
  }

  /** Hyperplane {@code plane}'s float products with {@code x}, summed in double precision in component order. */
  private double projection(int plane, float[] x) {
    int base = plane * LocalFeatures.DIMS;
    double s = 0;
    for (int c = 0; c < LocalFeatures.DIMS; c++) {
      s += planes[base + c] * x[c];
    }
    return s;
  }

  /** The distinct words of every keypoint of {@code f}, sorted. */
  public int[] distinctWords(LocalFeatures f) {
    int[] all = new int[f.size() * tables];
    for (int i = 0; i < f.size(); i++) {
      System.arraycopy(words(f, i), 0, all, i * tables, tables);
    }
    return Arrays.stream(all).sorted().distinct().toArray();
  }
}
