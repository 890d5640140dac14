package dev.imgmatch.embedder.head;

import java.util.Random;

/**
 * Fits centring + PCA-whitening: {@code P = diag(1/sqrt(lambda_j + eps)) · V_k^T}, the top-k principal directions of
 * the centred samples scaled to unit variance, with a shrinkage {@code eps = shrink * mean(lambda_1..k)} that keeps
 * weak directions from being blown up by noise.
 *
 * <p>The top-k directions come from a randomized range finder (Halko, Martinsson and Tropp 2011): a seeded Gaussian
 * test matrix, a few power iterations with re-orthonormalisation, then an exact eigen-decomposition (cyclic Jacobi)
 * of the small (k+oversampling)^2 problem. Deterministic for a given seed and sample order.
 */
public final class PcaWhitening {
  private static final int OVERSAMPLING = 24;
  private static final int POWER_ITERATIONS = 4;

  private PcaWhitening() {}

  /** The mean of the samples. */
  public static float[] mean(float[][] samples) {
    int d = samples[0].length;
    double[] m = new double[d];
    for (float[] s : samples) {
      for (int i = 0; i < d; i++) {
        m[i] += s[i];
      }
    }
    float[] out = new float[d];
    for (int i = 0; i < d; i++) {
      out[i] = (float) (m[i] / samples.length);
    }
    return out;
  }

  /**
   * Fits the head.
   *
   * @param samples n x d features (n should comfortably exceed k)
   * @param k output dimension
   * @param shrink eigenvalue shrinkage as a fraction of the mean retained eigenvalue (e.g. 0.1)
   * @param seed seed of the random test matrix
   */
  public static LinearHead fit(float[][] samples, int k, double shrink, long seed, String kind, String provenance) {
    int n = samples.length;
    int d = samples[0].length;
    if (k < 1 || k > d) {
      throw new IllegalArgumentException("PCA output dimension " + k + " must be in 1.." + d);
    }
    if (n < k + 1) {
      throw new IllegalArgumentException("PCA to " + k + " dims needs more than " + k + " samples, got " + n);
    }
    float[] mean = mean(samples);
    double[][] x = centred(samples, mean);
    int l = Math.min(d, Math.min(n, k + OVERSAMPLING));
    double[][] q = topSubspace(x, l, seed);
    // small problem: C_q = Q X^T X Q^T / (n-1), l x l
    double[][] xq = project(x, q);
    double[][] c = new double[l][l];
    for (int a = 0; a < l; a++) {
      for (int b = a; b < l; b++) {
        double s = 0;
        for (int r = 0; r < n; r++) {
          s += xq[r][a] * xq[r][b];
        }
        c[a][b] = s / (n - 1);
        c[b][a] = c[a][b];
      }
    }
    double[][] vecs = new double[l][l];
    double[] vals = jacobiEigen(c, vecs);
    Integer[] order = new Integer[l];
    for (int i = 0; i < l; i++) {
      order[i] = i;
    }
    java.util.Arrays.sort(order, (a, b) -> Double.compare(vals[b], vals[a]));
    double meanTop = 0;
    for (int j = 0; j < k; j++) {
      meanTop += Math.max(0, vals[order[j]]);
    }
    meanTop /= k;
    double eps = shrink * meanTop + 1e-12;
    float[][] p = new float[k][d];
    for (int j = 0; j < k; j++) {
      int e = order[j];
      double scale = 1.0 / Math.sqrt(Math.max(0, vals[e]) + eps);
      // direction in feature space: sum_a vecs[a][e] * q[a]
      double[] dir = new double[d];
      for (int a = 0; a < l; a++) {
        double w = vecs[a][e];
        for (int i = 0; i < d; i++) {
          dir[i] += w * q[a][i];
        }
      }
      double sign = signOf(dir);
      for (int i = 0; i < d; i++) {
        p[j][i] = (float) (sign * scale * dir[i]);
      }
    }
    return new LinearHead(kind, provenance, mean, p);
  }

  /** The samples less their mean, in double precision. */
  static double[][] centred(float[][] samples, float[] mean) {
    double[][] x = new double[samples.length][mean.length];
    for (int r = 0; r < samples.length; r++) {
      for (int i = 0; i < mean.length; i++) {
        x[r][i] = samples[r][i] - mean[i];
      }
    }
    return x;
  }

  /** The rows of {@code x} in the orthonormal basis {@code q} (rows), n x l. */
  static double[][] project(double[][] x, double[][] q) {
    double[][] y = new double[x.length][q.length];
    for (int r = 0; r < x.length; r++) {
      for (int j = 0; j < q.length; j++) {
        y[r][j] = dot(x[r], q[j]);
      }
    }
    return y;
  }

  /** -1 or +1, so that the largest component of {@code dir} comes out positive: the fit is the same on every platform. */
  static double signOf(double[] dir) {
    int arg = 0;
    for (int i = 1; i < dir.length; i++) {
      if (Math.abs(dir[i]) > Math.abs(dir[arg])) {
        arg = i;
      }
    }
    return dir[arg] < 0 ? -1 : 1;
  }

  /**
   * An orthonormal basis (rows, l x d) of the estimated top-l principal subspace of the centred rows of {@code x}:
   * a seeded Gaussian test matrix, then power iterations with re-orthonormalisation.
   */
  static double[][] topSubspace(double[][] x, int l, long seed) {
    int n = x.length;
    int d = x[0].length;
    Random rnd = new Random(seed);
    double[][] q = new double[l][d];
    for (double[] row : q) {
      for (int i = 0; i < d; i++) {
        row[i] = rnd.nextGaussian();
      }
    }
    orthonormalize(q);
    for (int it = 0; it < POWER_ITERATIONS; it++) {
      // q <- orth(X^T X q^T)^T : apply the covariance to each basis vector
      double[][] y = new double[l][n];
      for (int j = 0; j < l; j++) {
        for (int r = 0; r < n; r++) {
          y[j][r] = dot(x[r], q[j]);
        }
      }
      double[][] z = new double[l][d];
      for (int j = 0; j < l; j++) {
        for (int r = 0; r < n; r++) {
          double c = y[j][r];
          if (c != 0) {
            double[] xr = x[r];
            double[] zj = z[j];
            for (int i = 0; i < d; i++) {
              zj[i] += c * xr[i];
            }
          }
        }
      }
      orthonormalize(z);
      q = z;
    }
    return q;
  }

  static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  /** Modified Gram-Schmidt on the rows (twice, for stability). */
  static void orthonormalize(double[][] rows) {
    for (int pass = 0; pass < 2; pass++) {
      for (int j = 0; j < rows.length; j++) {
        double[] v = rows[j];
        for (int p = 0; p < j; p++) {
          double c = dot(v, rows[p]);
          double[] u = rows[p];
          for (int i = 0; i < v.length; i++) {
            v[i] -= c * u[i];
          }
        }
        double norm = Math.sqrt(dot(v, v));
        if (norm < 1e-300) {
          throw new IllegalStateException("degenerate samples: the feature matrix has rank < " + rows.length);
        }
        for (int i = 0; i < v.length; i++) {
          v[i] /= norm;
        }
      }
    }
  }

  /**
   * Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations; {@code a} is destroyed, eigenvectors are
   * the columns of {@code vecs}.
   */
  public static double[] jacobiEigen(double[][] a, double[][] vecs) {
    int n = a.length;
    for (int i = 0; i < n; i++) {
      java.util.Arrays.fill(vecs[i], 0);
      vecs[i][i] = 1;
    }
    for (int sweep = 0; sweep < 100; sweep++) {
      double off = 0;
      double total = 0;
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
          total += a[i][j] * a[i][j];
          if (i != j) {
            off += a[i][j] * a[i][j];
          }
        }
      }
      if (off <= 1e-22 * total) {
        break;
      }
      for (int p = 0; p < n - 1; p++) {
        for (int q = p + 1; q < n; q++) {
          double apq = a[p][q];
          if (Math.abs(apq) < 1e-300) {
            continue;
          }
          double theta = (a[q][q] - a[p][p]) / (2 * apq);
          double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
          if (theta == 0) {
            t = 1;
          }
          double cs = 1 / Math.sqrt(t * t + 1);
          double sn = t * cs;
          for (int k = 0; k < n; k++) { // columns p, q
            double akp = a[k][p];
            double akq = a[k][q];
            a[k][p] = cs * akp - sn * akq;
            a[k][q] = sn * akp + cs * akq;
          }
          for (int k = 0; k < n; k++) { // rows p, q
            double apk = a[p][k];
            double aqk = a[q][k];
            a[p][k] = cs * apk - sn * aqk;
            a[q][k] = sn * apk + cs * aqk;
          }
          for (int k = 0; k < n; k++) {
            double vkp = vecs[k][p];
            double vkq = vecs[k][q];
            vecs[k][p] = cs * vkp - sn * vkq;
            vecs[k][q] = sn * vkp + cs * vkq;
          }
        }
      }
    }
    double[] vals = new double[n];
    for (int i = 0; i < n; i++) {
      vals[i] = a[i][i];
    }
    return vals;
  }
}
