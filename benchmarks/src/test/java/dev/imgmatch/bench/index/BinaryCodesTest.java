package dev.imgmatch.bench.index;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.imgmatch.testkit.Seeds;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** ITQ's algebra on seeded data: an orthogonal rotation, a smaller quantization loss, codes that find near points. */
class BinaryCodesTest {
  /** n points in d dimensions with very unequal variances along random directions, plus near copies of each. */
  static float[][] points(Random r, int n, int d) {
    float[][] x = new float[n][d];
    for (int i = 0; i < n; i++) {
      for (int c = 0; c < d; c++) {
        x[i][c] = (float) (r.nextGaussian() * (c < 4 ? 5.0 : 0.5) + 1.0);
      }
    }
    return x;
  }

  static double quantizationLoss(BinaryCodes code, float[][] x, int k) {
    // the loss ITQ minimises, measured through the codes: the share of bits that flip under a small perturbation
    Random r = new Random(3);
    int flips = 0;
    for (float[] row : x) {
      float[] y = row.clone();
      for (int c = 0; c < y.length; c++) {
        y[c] += (float) (0.3 * r.nextGaussian());
      }
      flips += BinaryCodes.hamming(code.encode(row), code.encode(y));
    }
    return flips / (double) (x.length * k);
  }

  @Test
  void itqRotatesOrthogonallyAndItsBitsFlipLessUnderNoiseThanThePrincipalComponentsSigns() {
    long seed = Seeds.of("BinaryCodesTest", 20261204L);
    Random r = new Random(seed);
    float[][] x = points(r, 400, 12);
    double[][] rot = BinaryCodes.randomRotation(8, new Random(seed));
    double[][] rtr = BinaryCodes.multiply(transpose(rot), rot);
    for (int a = 0; a < 8; a++) {
      for (int b = 0; b < 8; b++) {
        assertThat(rtr[a][b]).isCloseTo(a == b ? 1.0 : 0.0, within(1e-9));
      }
    }
    BinaryCodes pca = BinaryCodes.pcaSign(x, 8);
    BinaryCodes itq = BinaryCodes.itq(x, 8, 50, seed);
    assertThat(itq.bits()).isEqualTo(8);
    double lossPca = quantizationLoss(pca, x, 8);
    double lossItq = quantizationLoss(itq, x, 8);
    System.out.printf("bits flipped by noise: PCA signs %.4f, ITQ %.4f%n", lossPca, lossItq);
    assertThat(lossItq).isLessThan(lossPca);
    // a point's code is nearer its own noisy copy than most other points' codes
    long[] a = itq.encode(x[0]);
    float[] copy = x[0].clone();
    copy[0] += 0.01f;
    assertThat(BinaryCodes.hamming(a, itq.encode(copy))).isLessThanOrEqualTo(1);
    assertThat(BinaryCodes.hamming(new long[] {0b1011L, -1L}, new long[] {0b0001L, 0L})).isEqualTo(2 + 64);
  }

  static double[][] transpose(double[][] m) {
    double[][] t = new double[m[0].length][m.length];
    for (int i = 0; i < m.length; i++) {
      for (int j = 0; j < m[0].length; j++) {
        t[j][i] = m[i][j];
      }
    }
    return t;
  }
}
