package dev.imgmatch.embedder.head;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.testkit.Seeds;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Learned whitening on seeded synthetic features where what tells pictures apart (a few directions) is weaker than
 * what edits change (other directions): PCA-whitening keeps the edits' directions, learned whitening the pictures'.
 */
class LearnedWhiteningTest {
  static final int D = 40;
  static final int GROUPS = 60;
  static final int VIEWS = 8;

  /** Identity in dims 0-7 (std 1), edit noise in dims 8-23 (std 3), small noise everywhere (std 0.05). */
  static float[][] samples(long seed, int[] groupOf) {
    Random r = new Random(seed);
    float[][] x = new float[GROUPS * VIEWS][D];
    for (int g = 0; g < GROUPS; g++) {
      double[] id = new double[8];
      for (int i = 0; i < 8; i++) {
        id[i] = r.nextGaussian();
      }
      for (int v = 0; v < VIEWS; v++) {
        int row = g * VIEWS + v;
        groupOf[row] = g;
        for (int i = 0; i < D; i++) {
          double val = 0.05 * r.nextGaussian() + 2.0;
          if (i < 8) {
            val += id[i];
          } else if (i < 24) {
            val += 3 * r.nextGaussian();
          }
          x[row][i] = (float) val;
        }
      }
    }
    return x;
  }

  /** Mean cosine of views of one group minus mean cosine of views of different groups, after the head. */
  static double separation(LinearHead h, float[][] x, int[] groupOf) {
    float[][] y = new float[x.length][];
    for (int i = 0; i < x.length; i++) {
      y[i] = h.apply(x[i]);
    }
    double same = 0;
    double other = 0;
    int ns = 0;
    int no = 0;
    for (int a = 0; a < y.length; a++) {
      for (int b = a + 1; b < y.length; b++) {
        double c = 0;
        for (int i = 0; i < y[a].length; i++) {
          c += y[a][i] * y[b][i];
        }
        if (groupOf[a] == groupOf[b]) {
          same += c;
          ns++;
        } else {
          other += c;
          no++;
        }
      }
    }
    return same / ns - other / no;
  }

  @Test
  void keepsWhatTellsPicturesApartAndDiscountsWhatEditsChange() {
    long seed = Seeds.of("LearnedWhiteningTest", 20261209L);
    int[] groupOf = new int[GROUPS * VIEWS];
    float[][] x = samples(seed, groupOf);
    LinearHead lw = LearnedWhitening.fit(x, groupOf, 8, 30, 0.1, seed, "lw8", "test");
    LinearHead pca = PcaWhitening.fit(x, 8, 0.1, seed, "pcaw8", "test");
    assertThat(lw.outputDim()).isEqualTo(8);
    assertThat(lw.inputDim()).isEqualTo(D);
    double sepLw = separation(lw, x, groupOf);
    double sepPca = separation(pca, x, groupOf);
    System.out.printf("separation: learned whitening %.3f, PCA-whitening %.3f%n", sepLw, sepPca);
    assertThat(sepLw).as("views of one picture agree, pictures differ").isGreaterThan(0.8);
    assertThat(sepLw).isGreaterThan(sepPca + 0.3);
    // the projection lives in the identity dims
    float[][] p = lw.projection();
    double idEnergy = 0;
    double all = 0;
    for (float[] row : p) {
      for (int i = 0; i < D; i++) {
        all += row[i] * row[i];
        if (i < 8) {
          idEnergy += row[i] * row[i];
        }
      }
    }
    assertThat(idEnergy / all).isGreaterThan(0.95);
  }

  @Test
  void theSameInputsGiveTheSameHead() {
    int[] groupOf = new int[GROUPS * VIEWS];
    float[][] x = samples(7, groupOf);
    LinearHead a = LearnedWhitening.fit(x, groupOf, 6, 20, 0.1, 3, "lw6", "t");
    LinearHead b = LearnedWhitening.fit(x, groupOf, 6, 20, 0.1, 3, "lw6", "t");
    assertThat(a.version()).isEqualTo(b.version());
  }
}
