package dev.imgmatch.bench.index;

import dev.imgmatch.embedder.head.PcaWhitening;
import java.util.Random;

/**
 * Binary codes of descriptors for Hamming-distance search (issue 18, item 5): the sign bits of the centred
 * descriptor (what a 1-bit quantizer such as Lucene's keeps of each component, before its corrective terms), the sign
 * bits of its top-k principal components, and <b>iterative quantization</b> (ITQ; Gong and Lazebnik, CVPR 2011): the
 * top-k principal components rotated by the orthogonal R that minimises the quantization loss ||sign(VR) - VR||,
 * found by alternating B = sign(VR) and the orthogonal Procrustes problem R = polar(VᵀB). Fitted, unsupervised, on
 * the indexed references (never on queries). Pure functions; measured by {@link BinaryCodesBench}.
 */
public final class BinaryCodes {
  /** Centring, a projection to k dimensions (rows), and how codes are made from it. */
  private final double[] mean;
  private final double[][] projection; // k x d

  private BinaryCodes(double[] mean, double[][] projection) {
    this.mean = mean;
    this.projection = projection;
  }

  public int bits() {
    return projection.length;
  }

  /** Sign bits of the centred descriptor itself (k = d, no projection). */
  public static BinaryCodes sign(float[][] refs) {
    int d = refs[0].length;
    double[][] identity = new double[d][d];
    for (int i = 0; i < d; i++) {
      identity[i][i] = 1;
    }
    return new BinaryCodes(mean(refs), identity);
  }

  /** Sign bits of the top-k principal components of the references. */
  public static BinaryCodes pcaSign(float[][] refs, int k) {
    double[] mu = mean(refs);
    return new BinaryCodes(mu, topComponents(refs, mu, k));
  }

  /** ITQ: the top-k principal components, rotated to minimise the quantization loss ({@code iterations} rounds). */
  public static BinaryCodes itq(float[][] refs, int k, int iterations, long seed) {
    double[] mu = mean(refs);
    double[][] pc = topComponents(refs, mu, k); // k x d
    int n = refs.length;
    double[][] v = new double[n][k];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < k; j++) {
        double s = 0;
        for (int c = 0; c < mu.length; c++) {
          s += pc[j][c] * (refs[i][c] - mu[c]);
        }
        v[i][j] = s;
      }
    }
    double[][] r = randomRotation(k, new Random(seed));
    for (int it = 0; it < iterations; it++) {
      double[][] vr = multiply(v, r); // n x k
      // M = Vᵀ B (k x k), B = sign(VR)
      double[][] m = new double[k][k];
      for (int i = 0; i < n; i++) {
        for (int a = 0; a < k; a++) {
          double via = v[i][a];
          for (int b = 0; b < k; b++) {
            m[a][b] += via * (vr[i][b] >= 0 ? 1 : -1);
          }
        }
      }
      r = polar(m);
    }
    // projection = (pc rotated): rows of Rᵀ · pc
    double[][] proj = new double[k][mu.length];
    for (int b = 0; b < k; b++) {
      for (int a = 0; a < k; a++) {
        double rab = r[a][b];
        for (int c = 0; c < mu.length; c++) {
          proj[b][c] += rab * pc[a][c];
        }
      }
    }
    return new BinaryCodes(mu, proj);
  }

  /** The code of one descriptor, {@link #bits()} bits packed into longs. */
  public long[] encode(float[] x) {
    int k = projection.length;
    long[] code = new long[(k + 63) / 64];
    for (int j = 0; j < k; j++) {
      double s = 0;
      double[] p = projection[j];
      for (int c = 0; c < p.length; c++) {
        s += p[c] * (x[c] - mean[c]);
      }
      if (s >= 0) {
        code[j >>> 6] |= 1L << (j & 63);
      }
    }
    return code;
  }

  public static int hamming(long[] a, long[] b) {
    int d = 0;
    for (int i = 0; i < a.length; i++) {
      d += Long.bitCount(a[i] ^ b[i]);
    }
    return d;
  }

  static double[] mean(float[][] x) {
    double[] mu = new double[x[0].length];
    for (float[] row : x) {
      for (int c = 0; c < mu.length; c++) {
        mu[c] += row[c];
      }
    }
    for (int c = 0; c < mu.length; c++) {
      mu[c] /= x.length;
    }
    return mu;
  }

  /** The k leading eigenvectors of the covariance, as rows. */
  static double[][] topComponents(float[][] x, double[] mu, int k) {
    int d = mu.length;
    if (k < 1 || k > d) {
      throw new IllegalArgumentException("bits must be 1.." + d + ", got " + k);
    }
    double[][] cov = new double[d][d];
    for (float[] row : x) {
      for (int a = 0; a < d; a++) {
        double xa = row[a] - mu[a];
        for (int b = a; b < d; b++) {
          cov[a][b] += xa * (row[b] - mu[b]);
        }
      }
    }
    for (int a = 0; a < d; a++) {
      for (int b = 0; b < a; b++) {
        cov[a][b] = cov[b][a];
      }
    }
    double[][] vecs = new double[d][d];
    double[] vals = PcaWhitening.jacobiEigen(cov, vecs);
    Integer[] order = new Integer[d];
    for (int i = 0; i < d; i++) {
      order[i] = i;
    }
    java.util.Arrays.sort(order, (p, q) -> Double.compare(vals[q], vals[p]));
    double[][] out = new double[k][d];
    for (int j = 0; j < k; j++) {
      for (int c = 0; c < d; c++) {
        out[j][c] = vecs[c][order[j]];
      }
    }
    return out;
  }

  /** The orthogonal factor of m (m = U S Wᵀ → U Wᵀ = m (mᵀm)^(-1/2)): the Procrustes solution. */
  static double[][] polar(double[][] m) {
    int k = m.length;
    double[][] mtm = new double[k][k];
    for (int a = 0; a < k; a++) {
      for (int b = 0; b < k; b++) {
        double s = 0;
        for (int i = 0; i < k; i++) {
          s += m[i][a] * m[i][b];
        }
        mtm[a][b] = s;
      }
    }
    double[][] q = new double[k][k];
    double[] lambda = PcaWhitening.jacobiEigen(mtm, q);
    double[][] inv = new double[k][k]; // Q Λ^(-1/2) Qᵀ
    for (int a = 0; a < k; a++) {
      for (int b = 0; b < k; b++) {
        double s = 0;
        for (int e = 0; e < k; e++) {
          s += q[a][e] * q[b][e] / Math.sqrt(Math.max(lambda[e], 1e-12));
        }
        inv[a][b] = s;
      }
    }
    return multiply(m, inv);
  }

  static double[][] randomRotation(int k, Random rnd) {
    double[][] g = new double[k][k];
    for (double[] row : g) {
      for (int j = 0; j < k; j++) {
        row[j] = rnd.nextGaussian();
      }
    }
    return polar(g);
  }

  static double[][] multiply(double[][] a, double[][] b) {
    int n = a.length;
    int k = b.length;
    int m = b[0].length;
    double[][] out = new double[n][m];
    for (int i = 0; i < n; i++) {
      for (int e = 0; e < k; e++) {
        double aie = a[i][e];
        if (aie == 0) {
          continue;
        }
        for (int j = 0; j < m; j++) {
          out[i][j] += aie * b[e][j];
        }
      }
    }
    return out;
  }
}
