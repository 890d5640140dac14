package dev.imgmatch.embedder.head;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LinearHeadTest {
  static final long SEED = Long.getLong("test.seed", 42L);

  /** n samples of correlated, non-negative d-dimensional features with very unequal variances. */
  static float[][] samples(Random rnd, int n, int d) {
    float[][] basis = new float[6][d];
    for (float[] b : basis) {
      for (int i = 0; i < d; i++) {
        b[i] = (float) rnd.nextGaussian();
      }
    }
    float[][] x = new float[n][d];
    for (int r = 0; r < n; r++) {
      for (int j = 0; j < basis.length; j++) {
        double c = rnd.nextGaussian() * (10.0 / (j + 1));
        for (int i = 0; i < d; i++) {
          x[r][i] += (float) (c * basis[j][i]);
        }
      }
      for (int i = 0; i < d; i++) {
        x[r][i] = Math.max(0, x[r][i] + 5 + (float) (0.1 * rnd.nextGaussian()));
      }
    }
    return x;
  }

  @Test
  void pcaWhiteningDecorrelatesAndEqualisesTheTopDirections() {
    System.err.println("seed " + SEED + " (rerun with -Dtest.seed=" + SEED + ")");
    Random rnd = new Random(SEED);
    int d = 40;
    int k = 6;
    float[][] x = samples(rnd, 600, d);
    LinearHead head = PcaWhitening.fit(x, k, 0.0, SEED, "pcaw6", "test");
    // before normalisation, projected training samples should have ~identity covariance
    float[] mean = head.mean();
    double[][] cov = new double[k][k];
    for (float[] s : x) {
      float[] c = new float[d];
      for (int i = 0; i < d; i++) {
        c[i] = s[i] - mean[i];
      }
      double[] p = project(head, c);
      for (int a = 0; a < k; a++) {
        for (int b = 0; b < k; b++) {
          cov[a][b] += p[a] * p[b] / (x.length - 1);
        }
      }
    }
    for (int a = 0; a < k; a++) {
      for (int b = 0; b < k; b++) {
        assertThat(cov[a][b]).as("cov[%d][%d] (seed %d)", a, b, SEED).isCloseTo(a == b ? 1.0 : 0.0, within(0.05));
      }
    }
    float[] v = head.apply(x[0]);
    assertThat(v).hasSize(k);
    double n = 0;
    for (float f : v) {
      n += f * f;
    }
    assertThat(n).isCloseTo(1.0, within(1e-5));
  }

  private static double[] project(LinearHead head, float[] centred) {
    float[][] p = head.projection();
    double[] out = new double[p.length];
    for (int r = 0; r < p.length; r++) {
      for (int i = 0; i < centred.length; i++) {
        out[r] += p[r][i] * centred[i];
      }
    }
    return out;
  }

  @Test
  void fittingIsReproducibleAndTheVersionFollowsTheParameters(@TempDir Path dir) throws Exception {
    float[][] x = samples(new Random(SEED), 200, 16);
    LinearHead a = PcaWhitening.fit(x, 4, 0.1, 7, "pcaw4", "p");
    LinearHead b = PcaWhitening.fit(x, 4, 0.1, 7, "pcaw4", "p");
    assertThat(a.version()).isEqualTo(b.version()).startsWith("pcaw4-");
    LinearHead other = PcaWhitening.fit(x, 4, 0.2, 7, "pcaw4", "p");
    assertThat(other.version()).isNotEqualTo(a.version());
    a.write(dir.resolve("a.head"));
    LinearHead back = LinearHead.read(dir.resolve("a.head"));
    assertThat(back.version()).isEqualTo(a.version());
    assertThat(back.apply(x[3])).containsExactly(a.apply(x[3]));
    LinearHead centring = LinearHead.centring("center", "p", a.mean());
    assertThat(centring.outputDim()).isEqualTo(16);
    assertThat(centring.version()).startsWith("center-").isNotEqualTo(a.version());
  }

  @Test
  void jacobiFindsTheEigenvaluesOfASmallMatrix() {
    double[][] m = {{4, 1, 0}, {1, 3, 0}, {0, 0, 1}};
    double[][] v = new double[3][3];
    double[] vals = PcaWhitening.jacobiEigen(m, v);
    java.util.Arrays.sort(vals);
    assertThat(vals[0]).isCloseTo(1.0, within(1e-9));
    assertThat(vals[1]).isCloseTo((7 - Math.sqrt(5)) / 2, within(1e-9));
    assertThat(vals[2]).isCloseTo((7 + Math.sqrt(5)) / 2, within(1e-9));
  }
}
