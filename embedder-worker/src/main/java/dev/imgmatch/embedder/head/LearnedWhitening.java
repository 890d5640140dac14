package dev.imgmatch.embedder.head;

import java.util.Arrays;
import java.util.Random;

/**
 * Learned whitening (Radenović, Tolias and Chum, "Fine-tuning CNN image retrieval with no human annotation", TPAMI
 * 2018, section 3.3), fitted on augmented views of training photos: views of one photo are copies of each other,
 * views of different photos are not. It whitens the <em>within-photo</em> covariance (what edits change), then keeps
 * the {@code k} directions along which the whitened features vary most (what tells pictures apart):
 * <pre>
 *   P = R_k^T · (S_w + eps·I)^(-1/2) · Q      applied to x - mean
 * </pre>
 * with Q the top {@code m} principal directions of the features (a randomized range finder, as in
 * {@link PcaWhitening}), S_w the covariance of each view around its photo's mean in that subspace, eps a shrinkage
 * ({@code shrink} times the mean eigenvalue of S_w), and R_k the top-k eigenvectors of the whitened features'
 * covariance. Plain PCA-whitening treats an edit's change like any other variance; this one discounts exactly what
 * edits do. Deterministic for a given seed and sample order.
 */
public final class LearnedWhitening {
  private LearnedWhitening() {}

  /**
   * Fits the head.
   *
   * @param samples n x d features
   * @param groupOf the photo of each sample (0-based, at least two samples per photo for most photos)
   * @param k output dimension
   * @param m dimension of the principal subspace the whitening is learnt in ({@code k <= m <= d})
   * @param shrink shrinkage of the within-photo covariance, as a fraction of its mean eigenvalue
   */
  public static LinearHead fit(float[][] samples, int[] groupOf, int k, int m, double shrink, long seed, String kind,
      String provenance) {
    int n = samples.length;
    int d = samples[0].length;
    if (groupOf.length != n) {
      throw new IllegalArgumentException(n + " samples but " + groupOf.length + " group labels");
    }
    if (k < 1 || k > m || m > d || m >= n) {
      throw new IllegalArgumentException("learned whitening needs 1 <= k (" + k + ") <= m (" + m + ") <= d (" + d
          + ") and m < n (" + n + ")");
    }
    float[] mean = PcaWhitening.mean(samples);
    double[][] x = PcaWhitening.centred(samples, mean);
    double[][] q = PcaWhitening.topSubspace(x, m, seed); // m x d, orthonormal rows
    double[][] y = PcaWhitening.project(x, q);
    // within-photo covariance
    int groups = Arrays.stream(groupOf).max().orElse(0) + 1;
    double[][] gm = new double[groups][m];
    int[] count = new int[groups];
    for (int r = 0; r < n; r++) {
      count[groupOf[r]]++;
      for (int j = 0; j < m; j++) {
        gm[groupOf[r]][j] += y[r][j];
      }
    }
    for (int g = 0; g < groups; g++) {
      for (int j = 0; j < m && count[g] > 0; j++) {
        gm[g][j] /= count[g];
      }
    }
    double[][] resid = new double[n][];
    for (int r = 0; r < n; r++) {
      resid[r] = new double[m];
      for (int j = 0; j < m; j++) {
        resid[r][j] = y[r][j] - gm[groupOf[r]][j];
      }
    }
    double[][] sw = covariance(resid, Math.max(1, n - groups));
    double[][] u = new double[m][m];
    double[] s = PcaWhitening.jacobiEigen(sw, u);
    double meanS = 0;
    for (double v : s) {
      meanS += Math.max(0, v);
    }
    meanS /= m;
    double eps = shrink * meanS + 1e-12;
    // W = U diag(1/sqrt(s + eps)) U^T (symmetric)
    double[][] w = new double[m][m];
    for (int e = 0; e < m; e++) {
      double scale = 1.0 / Math.sqrt(Math.max(0, s[e]) + eps);
      for (int a = 0; a < m; a++) {
        double ua = u[a][e] * scale;
        if (ua == 0) {
          continue;
        }
        for (int b = 0; b < m; b++) {
          w[a][b] += ua * u[b][e];
        }
      }
    }
    double[][] z = new double[n][m];
    for (int r = 0; r < n; r++) {
      for (int a = 0; a < m; a++) {
        z[r][a] = PcaWhitening.dot(w[a], y[r]);
      }
    }
    double[][] ct = covariance(z, n - 1);
    double[][] rv = new double[m][m];
    double[] lambda = PcaWhitening.jacobiEigen(ct, rv);
    Integer[] order = new Integer[m];
    for (int i = 0; i < m; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Double.compare(lambda[b], lambda[a]));
    // P = R_k^T W Q: row j = sum_a (sum_b R[b][e] W[b][a]) Q[a]
    float[][] p = new float[k][d];
    for (int j = 0; j < k; j++) {
      int e = order[j];
      double[] coef = new double[m]; // R_e^T W, in the subspace
      for (int b = 0; b < m; b++) {
        double rb = rv[b][e];
        if (rb == 0) {
          continue;
        }
        for (int a = 0; a < m; a++) {
          coef[a] += rb * w[b][a];
        }
      }
      double[] dir = new double[d];
      for (int a = 0; a < m; a++) {
        for (int i = 0; i < d; i++) {
          dir[i] += coef[a] * q[a][i];
        }
      }
      double sign = PcaWhitening.signOf(dir);
      for (int i = 0; i < d; i++) {
        p[j][i] = (float) (sign * dir[i]);
      }
    }
    return new LinearHead(kind, provenance, mean, p);
  }

  private static double[][] covariance(double[][] rows, int divisor) {
    int m = rows[0].length;
    double[][] c = new double[m][m];
    for (double[] r : rows) {
      for (int a = 0; a < m; a++) {
        double ra = r[a];
        if (ra == 0) {
          continue;
        }
        double[] ca = c[a];
        for (int b = a; b < m; b++) {
          ca[b] += ra * r[b];
        }
      }
    }
    for (int a = 0; a < m; a++) {
      for (int b = a; b < m; b++) {
        c[a][b] /= divisor;
        c[b][a] = c[a][b];
      }
    }
    return c;
  }
}
