package dev.imgmatch.bench.embedder;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.testkit.Seeds;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The autoencoder's backpropagation, on seeded data that lies near a low-dimensional subspace. */
class AutoencoderTest {
  @Test
  void itLearnsToReconstructDataOfLowRankThroughAShortCode() {
    long seed = Seeds.of("AutoencoderTest", 20261204L);
    Random r = new Random(seed);
    int d = 24;
    int rank = 3;
    double[][] basis = new double[rank][d];
    for (double[] b : basis) {
      for (int i = 0; i < d; i++) {
        b[i] = r.nextGaussian() / Math.sqrt(d);
      }
    }
    List<double[]> data = new ArrayList<>();
    for (int n = 0; n < 300; n++) {
      double[] x = new double[d];
      for (double[] b : basis) {
        double c = r.nextGaussian();
        for (int i = 0; i < d; i++) {
          x[i] += c * b[i];
        }
      }
      data.add(x);
    }
    double variance = 0;
    for (double[] x : data) {
      for (double v : x) {
        variance += v * v;
      }
    }
    variance /= data.size() * (double) d;
    AutoencoderBench.Autoencoder ae = new AutoencoderBench.Autoencoder(d, 16, rank, new Random(seed));
    double first = ae.train(data, 3e-3, 0);
    double last = first;
    for (int epoch = 0; epoch < 400; epoch++) {
      last = ae.train(data, 3e-3, 0);
    }
    System.out.printf("reconstruction MSE %.5f -> %.5f (data variance %.5f)%n", first, last, variance);
    assertThat(last).as("most of the variance reconstructed through a %d-d code", rank).isLessThan(0.2 * variance);
    assertThat(ae.encode(data.get(0))).hasSize(rank);
  }
}
