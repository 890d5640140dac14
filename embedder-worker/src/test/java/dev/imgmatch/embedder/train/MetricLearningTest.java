package dev.imgmatch.embedder.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;

class MetricLearningTest {
  @Test
  void analyticGradientMatchesFiniteDifferences() {
    long seed = 99;
    System.err.println("MetricLearningTest gradient seed " + seed);
    Random r = new Random(seed);
    int k = 6;
    int b = 4;
    double[][] w = new double[k][k];
    for (double[] row : w) {
      for (int j = 0; j < k; j++) {
        row[j] = r.nextGaussian();
      }
    }
    double[][] u = new double[2 * b][k];
    int[] owner = new int[2 * b];
    for (int i = 0; i < 2 * b; i++) {
      for (int j = 0; j < k; j++) {
        u[i][j] = r.nextGaussian();
      }
      owner[i] = i % b;
    }
    float[][] bank = new float[5][];
    int[] bankOwner = {0, 1, 7, 8, 9};
    for (int q = 0; q < bank.length; q++) {
      double[] v = new double[k];
      for (int j = 0; j < k; j++) {
        v[j] = r.nextGaussian();
      }
      bank[q] = MetricLearning.toFloat(MetricLearning.normalize(v));
    }
    double[][] grad = new double[k][k];
    MetricLearning.lossAndGradient(w, u, owner, bank, bankOwner, 0.5, 2, grad, null);
    double h = 1e-6;
    for (int rr = 0; rr < k; rr++) {
      for (int c = 0; c < k; c++) {
        double keep = w[rr][c];
        w[rr][c] = keep + h;
        double plus = MetricLearning.lossAndGradient(w, u, owner, bank, bankOwner, 0.5, 2, new double[k][k], null);
        w[rr][c] = keep - h;
        double minus = MetricLearning.lossAndGradient(w, u, owner, bank, bankOwner, 0.5, 2, new double[k][k], null);
        w[rr][c] = keep;
        assertThat(grad[rr][c]).as("dL/dW[%d][%d]", rr, c).isCloseTo((plus - minus) / (2 * h), within(1e-5));
      }
    }
  }

  /** Views differ from their image mostly along nuisance directions; learning must suppress those. */
  @Test
  void learningImprovesViewToOriginalRetrievalWhereNuisanceDominates() {
    long seed = 5;
    System.err.println("MetricLearningTest retrieval seed " + seed);
    Random r = new Random(seed);
    int k = 12;
    int images = 80;
    int views = 4;
    float[][][] groups = new float[images][views][k];
    for (int i = 0; i < images; i++) {
      double[] id = new double[k];
      for (int j = 0; j < 4; j++) {
        id[j] = r.nextGaussian(); // identity lives in the first 4 dims
      }
      for (int v = 0; v < views; v++) {
        for (int j = 0; j < k; j++) {
          groups[i][v][j] = (float) (id[j] + (j >= 4 ? 1.5 * r.nextGaussian() : 0.1 * r.nextGaussian()));
        }
      }
    }
    double before = recallAt1(MetricLearning.identity(k), groups);
    double[][] w = MetricLearning.train(groups, k, new MetricLearning.Params(30, 16, 1e-2, 0.1, 64, 8, 1e-4, seed),
        System.err::println);
    double after = recallAt1(w, groups);
    System.err.printf("recall@1 before %.3f after %.3f%n", before, after);
    assertThat(after).isGreaterThan(before + 0.2);
  }

  private static double recallAt1(double[][] w, float[][][] groups) {
    int hits = 0;
    int n = 0;
    double[][] db = new double[groups.length][];
    for (int i = 0; i < groups.length; i++) {
      db[i] = MetricLearning.normalize(MetricLearning.mul(w, MetricLearning.toDouble(groups[i][0])));
    }
    for (int i = 0; i < groups.length; i++) {
      for (int v = 1; v < groups[i].length; v++) {
        double[] q = MetricLearning.normalize(MetricLearning.mul(w, MetricLearning.toDouble(groups[i][v])));
        int best = 0;
        for (int j = 1; j < db.length; j++) {
          if (MetricLearning.dot(q, db[j]) > MetricLearning.dot(q, db[best])) {
            best = j;
          }
        }
        hits += best == i ? 1 : 0;
        n++;
      }
    }
    return (double) hits / n;
  }
}
