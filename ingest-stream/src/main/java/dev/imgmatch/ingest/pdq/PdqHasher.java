package dev.imgmatch.ingest.pdq;

import dev.imgmatch.ingest.image.RgbImage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * PDQ (Meta's perceptual hash, as published with ThreatExchange), written from the algorithm's description:
 * <ol>
 *   <li>luminance per pixel, Rec. 601 weights in single precision: {@code 0.299 R + 0.587 G + 0.114 B};
 *   <li>a Jarosz filter: two passes of a box filter along rows then columns, window
 *       {@code ceil(dimension / 128)} (as {@code (d + 127) / 128}), tent-shaped after two passes;
 *   <li>decimation to 64x64 by sampling the filtered image at {@code floor((i + 0.5) * dimension / 64)};
 *   <li>quality: the sum of truncated absolute neighbour differences ({@code (u - v) * 100 / 255}) over the
 *       64x64 grid divided by 90, capped at 100;
 *   <li>a 16x16 DCT (frequencies 1-16 of the 64-point DCT-II along both axes, the DC term left out);
 *   <li>bit {@code 16 i + j} set when coefficient (i, j) is greater than the median of the 256 (the 128th
 *       smallest).
 * </ol>
 * Every floating-point operation happens in the same order as in the reference, so hashes agree bit for bit
 * on the same pixels. It is faster because it does less, not differently: the second filter pass only
 * computes the 64 columns and rows that decimation reads, and the column passes run row by row over all
 * columns at once (cache- and SIMD-friendly) with per-column running sums in the same order.
 *
 * <p>The 8 dihedral variants come from the DCT coefficients (sign flips and transposition), as the
 * reference does, without re-filtering rotated pixels.
 *
 * <p>Not thread-safe: it keeps work buffers. Use one per thread.
 */
public final class PdqHasher {
  private static final int N = 64;
  private static final int K = 16;
  /** Buffers up to this many floats are kept between calls; larger images get temporary ones. */
  private static final int KEEP_FLOATS = 4 * 1024 * 1024;
  private static final float LUMA_R = 0.299f;
  private static final float LUMA_G = 0.587f;
  private static final float LUMA_B = 0.114f;
  private static final float[][] DCT = dctMatrix();

  private float[] bufA = new float[0];
  private float[] bufB = new float[0];

  /** A hash and the 16x16 DCT it came from (needed for the dihedral variants). */
  public record Result(PdqHash hash, float[][] dct) {
    /** The hashes of the 8 dihedral variants, in {@link Dihedral} order (the first is {@link #hash()}). */
    public List<PdqHash> dihedral() {
      List<PdqHash> out = new ArrayList<>(8);
      for (Dihedral d : Dihedral.values()) {
        out.add(d == Dihedral.IDENTITY ? hash : bits(transform(dct, d), hash.quality()));
      }
      return out;
    }
  }

  public PdqHash hash(RgbImage img) {
    return compute(img).hash();
  }

  public Result compute(RgbImage img) {
    int w = img.width();
    int h = img.height();
    int n = w * h;
    float[] a = buffer(true, n);
    float[] b = buffer(false, n);
    luma(img.pixels(), a, n);
    int winAlongRows = windowSize(w);
    int winAlongCols = windowSize(h);
    // pass 1: rows a -> b, columns b -> a
    for (int y = 0; y < h; y++) {
      boxRow(a, y * w, b, y * w, w, winAlongRows);
    }
    boxColumns(b, a, h, w, winAlongCols);
    // pass 2, only where decimation samples: rows a -> compact (h x 64), then columns of the compact grid
    int[] sampleX = samples(w);
    int[] sampleY = samples(h);
    float[] compact = new float[h * N];
    float[] row = b; // reuse: needs w floats
    for (int y = 0; y < h; y++) {
      boxRow(a, y * w, row, 0, w, winAlongRows);
      int o = y * N;
      for (int j = 0; j < N; j++) {
        compact[o + j] = row[sampleX[j]];
      }
    }
    float[] filtered = new float[h * N];
    boxColumns(compact, filtered, h, N, winAlongCols);
    float[][] grid = new float[N][N];
    for (int i = 0; i < N; i++) {
      System.arraycopy(filtered, sampleY[i] * N, grid[i], 0, N);
    }
    int quality = quality(grid);
    float[][] dct = dct16(grid);
    return new Result(bits(dct, quality), dct);
  }

  static int windowSize(int dimension) {
    return (dimension + 2 * N - 1) / (2 * N);
  }

  private static void luma(int[] px, float[] out, int n) {
    for (int i = 0; i < n; i++) {
      int p = px[i];
      out[i] = LUMA_R * ((p >> 16) & 0xFF) + LUMA_G * ((p >> 8) & 0xFF) + LUMA_B * (p & 0xFF);
    }
  }

  /**
   * One box-filter pass along a vector with a window that grows at the start and shrinks at the end
   * (outputs average only the samples inside the vector), exactly the reference's running sum.
   */
  static void boxRow(float[] in, int inOff, float[] out, int outOff, int length, int window) {
    int half = (window + 2) / 2;
    int p1 = half - 1;
    int p2 = window - half + 1;
    int p3 = length - window;
    int p4 = half - 1;
    int li = inOff;
    int ri = inOff;
    int oi = outOff;
    float sum = 0f;
    int count = 0;
    for (int i = 0; i < p1; i++) {
      sum += in[ri++];
      count++;
    }
    for (int i = 0; i < p2; i++) {
      sum += in[ri++];
      count++;
      out[oi++] = sum / count;
    }
    for (int i = 0; i < p3; i++) {
      sum += in[ri++];
      sum -= in[li++];
      out[oi++] = sum / count;
    }
    for (int i = 0; i < p4; i++) {
      sum -= in[li++];
      count--;
      out[oi++] = sum / count;
    }
  }

  /** {@link #boxRow} down every column of a rows x cols matrix, all columns advancing together. */
  static void boxColumns(float[] in, float[] out, int rows, int cols, int window) {
    int half = (window + 2) / 2;
    int p1 = half - 1;
    int p2 = window - half + 1;
    int p3 = rows - window;
    int p4 = half - 1;
    float[] sum = new float[cols];
    int li = 0;
    int ri = 0;
    int oi = 0;
    int count = 0;
    for (int i = 0; i < p1; i++, ri++) {
      int r = ri * cols;
      for (int x = 0; x < cols; x++) {
        sum[x] += in[r + x];
      }
      count++;
    }
    for (int i = 0; i < p2; i++, ri++, oi++) {
      int r = ri * cols;
      int o = oi * cols;
      count++;
      for (int x = 0; x < cols; x++) {
        float s = sum[x] + in[r + x];
        sum[x] = s;
        out[o + x] = s / count;
      }
    }
    for (int i = 0; i < p3; i++, ri++, li++, oi++) {
      int r = ri * cols;
      int l = li * cols;
      int o = oi * cols;
      for (int x = 0; x < cols; x++) {
        float s = sum[x] + in[r + x];
        s -= in[l + x];
        sum[x] = s;
        out[o + x] = s / count;
      }
    }
    for (int i = 0; i < p4; i++, li++, oi++) {
      int l = li * cols;
      int o = oi * cols;
      count--;
      for (int x = 0; x < cols; x++) {
        float s = sum[x] - in[l + x];
        sum[x] = s;
        out[o + x] = s / count;
      }
    }
  }

  private static int[] samples(int dimension) {
    int[] s = new int[N];
    for (int i = 0; i < N; i++) {
      s[i] = (int) (((i + 0.5) * dimension) / N);
    }
    return s;
  }

  static int quality(float[][] g) {
    int sum = 0;
    for (int i = 0; i < N - 1; i++) {
      for (int j = 0; j < N; j++) {
        sum += Math.abs((int) (((g[i][j] - g[i + 1][j]) * 100) / 255));
      }
    }
    for (int i = 0; i < N; i++) {
      for (int j = 0; j < N - 1; j++) {
        sum += Math.abs((int) (((g[i][j] - g[i][j + 1]) * 100) / 255));
      }
    }
    return Math.min(100, sum / 90);
  }

  private static float[][] dctMatrix() {
    float[][] d = new float[K][N];
    double scale = Math.sqrt(2.0 / N);
    for (int i = 0; i < K; i++) {
      for (int j = 0; j < N; j++) {
        d[i][j] = (float) (scale * Math.cos((Math.PI / 2 / N) * (i + 1) * (2 * j + 1)));
      }
    }
    return d;
  }

  /** D A D^T for the 16 x 64 matrix D, accumulating in the reference's order. */
  static float[][] dct16(float[][] a) {
    float[][] t = new float[K][N];
    for (int i = 0; i < K; i++) {
      float[] di = DCT[i];
      for (int j = 0; j < N; j++) {
        float s = 0f;
        for (int k = 0; k < N; k++) {
          s += di[k] * a[k][j];
        }
        t[i][j] = s;
      }
    }
    float[][] out = new float[K][K];
    for (int i = 0; i < K; i++) {
      for (int j = 0; j < K; j++) {
        float s = 0f;
        float[] ti = t[i];
        float[] dj = DCT[j];
        for (int k = 0; k < N; k++) {
          s += ti[k] * dj[k];
        }
        out[i][j] = s;
      }
    }
    return out;
  }

  static PdqHash bits(float[][] dct, int quality) {
    float[] flat = new float[K * K];
    for (int i = 0; i < K; i++) {
      System.arraycopy(dct[i], 0, flat, i * K, K);
    }
    float[] sorted = flat.clone();
    Arrays.sort(sorted);
    float median = sorted[K * K / 2 - 1];
    boolean[] bit = new boolean[K * K];
    for (int k = 0; k < K * K; k++) {
      bit[k] = flat[k] > median;
    }
    return PdqHash.fromBits(bit, quality);
  }

  /**
   * The DCT of a transformed image from the DCT of the original. Frequency f = index + 1, and a basis vector
   * reversed is itself times (-1)^f: mirroring negates odd frequencies (even indices) along that axis;
   * rotations and diagonal flips also swap the axes. Row index i is the vertical frequency, j the horizontal.
   */
  static float[][] transform(float[][] a, Dihedral d) {
    float[][] b = new float[K][K];
    for (int i = 0; i < K; i++) {
      for (int j = 0; j < K; j++) {
        float v = a[i][j];
        boolean iEven = (i & 1) == 0;
        boolean jEven = (j & 1) == 0;
        switch (d) {
          case IDENTITY -> b[i][j] = v;
          case ROT90 -> b[j][i] = jEven ? -v : v;
          case ROT180 -> b[i][j] = iEven != jEven ? -v : v;
          case ROT270 -> b[j][i] = iEven ? -v : v;
          case FLIP_X -> b[i][j] = iEven ? -v : v; // rows reversed (mirror across the horizontal axis)
          case FLIP_Y -> b[i][j] = jEven ? -v : v; // columns reversed
          case TRANSPOSE -> b[j][i] = v;
          case TRANSVERSE -> b[j][i] = iEven != jEven ? -v : v;
        }
      }
    }
    return b;
  }

  private float[] buffer(boolean first, int n) {
    float[] cur = first ? bufA : bufB;
    if (cur.length >= n) {
      return cur;
    }
    float[] fresh = new float[n];
    if (n <= KEEP_FLOATS) {
      if (first) {
        bufA = fresh;
      } else {
        bufB = fresh;
      }
    }
    return fresh;
  }
}
