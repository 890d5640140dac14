package dev.imgmatch.bench.embedder;

import dev.imgmatch.bench.index.BinaryCodesBench;
import dev.imgmatch.embedder.head.LinearHead;
import dev.imgmatch.embedder.head.PcaWhitening;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * A non-linear autoencoder head against PCA-whitening at equal and smaller dimension (issue 18, item 5): both fitted,
 * unsupervised, on the same raw features (the model's 1792 pooled features of the indexed references and of extra
 * photos; never queries), then the queries ranked by the cosine of their codes. The autoencoder: 1792 → h (tanh) → k
 * (linear code) → h (tanh) → 1792, mean squared reconstruction error of the centred, scaled features, Adam; the code,
 * L2-normalised, is the descriptor.
 *
 * <pre>
 *   ./imgmatch embed --head none ../shared/bench/dev/refs/*.jpg > refs-raw.csv     (and queries, train photos)
 *   java -cp "benchmarks/target/classes:$(cat benchmarks/target/classpath.txt)" \
 *     dev.imgmatch.bench.embedder.AutoencoderBench refs-raw.csv queries-raw.csv ground_truth.csv train-raw.csv [seed]
 * </pre>
 */
public final class AutoencoderBench {
  private AutoencoderBench() {}

  /** A 4-layer autoencoder trained by Adam; pure Java, one thread. */
  static final class Autoencoder {
    final int d;
    final int h;
    final int k;
    final double[][][] w; // layer weights: [out][in]
    final double[][] b;
    final double[][][] mw;
    final double[][][] vw;
    final double[][] mb;
    final double[][] vb;
    int step;

    Autoencoder(int d, int h, int k, Random rnd) {
      this.d = d;
      this.h = h;
      this.k = k;
      int[][] shape = {{h, d}, {k, h}, {h, k}, {d, h}};
      w = new double[4][][];
      b = new double[4][];
      mw = new double[4][][];
      vw = new double[4][][];
      mb = new double[4][];
      vb = new double[4][];
      for (int l = 0; l < 4; l++) {
        int out = shape[l][0];
        int in = shape[l][1];
        double scale = Math.sqrt(2.0 / (in + out));
        w[l] = new double[out][in];
        for (double[] row : w[l]) {
          for (int i = 0; i < in; i++) {
            row[i] = rnd.nextGaussian() * scale;
          }
        }
        b[l] = new double[out];
        mw[l] = new double[out][in];
        vw[l] = new double[out][in];
        mb[l] = new double[out];
        vb[l] = new double[out];
      }
    }

    static double[] layer(double[][] w, double[] b, double[] x, boolean tanh) {
      double[] y = new double[w.length];
      for (int o = 0; o < w.length; o++) {
        double s = b[o];
        double[] row = w[o];
        for (int i = 0; i < x.length; i++) {
          s += row[i] * x[i];
        }
        y[o] = tanh ? Math.tanh(s) : s;
      }
      return y;
    }

    double[] encode(double[] x) {
      return layer(w[1], b[1], layer(w[0], b[0], x, true), false);
    }

    /** One Adam step on a batch; returns the batch's mean squared error per component. */
    double train(List<double[]> batch, double lr, double decay) {
      double[][][] gw = new double[4][][];
      double[][] gb = new double[4][];
      for (int l = 0; l < 4; l++) {
        gw[l] = new double[w[l].length][w[l][0].length];
        gb[l] = new double[w[l].length];
      }
      double loss = 0;
      for (double[] x : batch) {
        double[] a0 = layer(w[0], b[0], x, true);
        double[] code = layer(w[1], b[1], a0, false);
        double[] a2 = layer(w[2], b[2], code, true);
        double[] out = layer(w[3], b[3], a2, false);
        double[] g3 = new double[d];
        for (int i = 0; i < d; i++) {
          double e = out[i] - x[i];
          loss += e * e;
          g3[i] = 2 * e / d;
        }
        double[] g2 = backward(3, g3, a2, gw, gb, true);
        double[] g1 = backward(2, g2, code, gw, gb, false);
        double[] g0 = backward(1, g1, a0, gw, gb, true);
        backward(0, g0, x, gw, gb, false);
      }
      step++;
      double b1 = 0.9;
      double b2 = 0.999;
      double c1 = 1 - Math.pow(b1, step);
      double c2 = 1 - Math.pow(b2, step);
      for (int l = 0; l < 4; l++) {
        for (int o = 0; o < w[l].length; o++) {
          for (int i = 0; i < w[l][o].length; i++) {
            double g = gw[l][o][i] / batch.size() + decay * w[l][o][i];
            mw[l][o][i] = b1 * mw[l][o][i] + (1 - b1) * g;
            vw[l][o][i] = b2 * vw[l][o][i] + (1 - b2) * g * g;
            w[l][o][i] -= lr * (mw[l][o][i] / c1) / (Math.sqrt(vw[l][o][i] / c2) + 1e-8);
          }
          double g = gb[l][o] / batch.size();
          mb[l][o] = b1 * mb[l][o] + (1 - b1) * g;
          vb[l][o] = b2 * vb[l][o] + (1 - b2) * g * g;
          b[l][o] -= lr * (mb[l][o] / c1) / (Math.sqrt(vb[l][o] / c2) + 1e-8);
        }
      }
      return loss / (batch.size() * (double) d);
    }

    /**
     * Accumulates layer l's gradients for output gradient g (with respect to the layer's output) and input x;
     * returns the gradient with respect to x, through x's tanh when {@code inputTanh} (x = tanh(...)).
     */
    private double[] backward(int l, double[] g, double[] x, double[][][] gw, double[][] gb, boolean inputTanh) {
      double[] gx = new double[x.length];
      for (int o = 0; o < g.length; o++) {
        double go = g[o];
        if (go == 0) {
          continue;
        }
        gb[l][o] += go;
        double[] row = w[l][o];
        double[] grow = gw[l][o];
        for (int i = 0; i < x.length; i++) {
          grow[i] += go * x[i];
          gx[i] += go * row[i];
        }
      }
      if (inputTanh) {
        for (int i = 0; i < x.length; i++) {
          gx[i] *= 1 - x[i] * x[i];
        }
      }
      return gx;
    }
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 4) {
      throw new IllegalArgumentException(
          "usage: AutoencoderBench refs-raw.csv queries-raw.csv ground_truth.csv extra-raw.csv [seed]");
    }
    var refs = BinaryCodesBench.read(Path.of(args[0]));
    var queries = BinaryCodesBench.read(Path.of(args[1]));
    var extra = BinaryCodesBench.read(Path.of(args[3]));
    long seed = args.length > 4 ? Long.parseLong(args[4]) : 20261204L;
    System.out.println("seed " + seed + " (fifth argument overrides)");
    Map<String, Set<String>> truth = BinaryCodesBench.readTruth(Path.of(args[2]));
    List<float[]> fit = new ArrayList<>(List.of(refs.vectors()));
    fit.addAll(List.of(extra.vectors()));
    float[][] fitData = fit.toArray(new float[0][]);
    int d = fitData[0].length;
    System.out.println(fitData.length + " fitting samples of " + d + " raw features");
    float[] mean = PcaWhitening.mean(fitData);
    double var = 0;
    for (float[] x : fitData) {
      for (int i = 0; i < d; i++) {
        var += (x[i] - mean[i]) * (x[i] - mean[i]);
      }
    }
    double scale = 1 / Math.sqrt(var / (fitData.length * (double) d));

    System.out.println("| descriptor | dims | recall@1 | recall@10 |");
    System.out.println("|---|---|---|---|");
    for (int k : new int[] {160, 64}) {
      LinearHead pca = PcaWhitening.fit(fitData, k, 0.1, seed, "pcaw" + k, "bench");
      double[] r = recall(refs, queries, truth, pca::apply);
      System.out.printf(Locale.ROOT, "| PCA-whitening (shrink 0.1) | %d | %.4f | %.4f |%n", k, r[0], r[1]);
      Autoencoder ae = new Autoencoder(d, 256, k, new Random(seed));
      Random order = new Random(seed + 1);
      List<double[]> samples = new ArrayList<>();
      for (float[] x : fitData) {
        samples.add(prepared(x, mean, scale));
      }
      long t0 = System.nanoTime();
      int epochs = 60;
      for (int e = 0; e < epochs; e++) {
        java.util.Collections.shuffle(samples, order);
        double loss = 0;
        int batches = 0;
        for (int from = 0; from < samples.size(); from += 50) {
          loss += ae.train(samples.subList(from, Math.min(samples.size(), from + 50)), 1e-3, 1e-4);
          batches++;
        }
        if (e % 20 == 19 || e == 0) {
          System.out.printf(Locale.ROOT, "  autoencoder %d-d epoch %d/%d: reconstruction MSE %.4f (%.0f s)%n", k, e + 1,
              epochs, loss / batches, (System.nanoTime() - t0) / 1e9);
        }
      }
      double[] a = recall(refs, queries, truth, x -> {
        double[] c = ae.encode(prepared(x, mean, scale));
        float[] out = new float[c.length];
        for (int i = 0; i < c.length; i++) {
          out[i] = (float) c[i];
        }
        return dev.imgmatch.embedder.head.DescriptorHead.l2normalize(out);
      });
      System.out.printf(Locale.ROOT, "| autoencoder 1792-256-%d (tanh), 60 epochs | %d | %.4f | %.4f |%n", k, k, a[0], a[1]);
      // the code whitened like PCA's components are (whitening is most of what makes PCA-whitening work)
      float[][] codes = new float[fitData.length][];
      for (int i = 0; i < fitData.length; i++) {
        codes[i] = toFloats(ae.encode(prepared(fitData[i], mean, scale)));
      }
      LinearHead white = PcaWhitening.fit(codes, k, 0.1, seed, "aew" + k, "bench");
      double[] aw = recall(refs, queries, truth, x -> white.apply(toFloats(ae.encode(prepared(x, mean, scale)))));
      System.out.printf(Locale.ROOT, "| the same, code PCA-whitened | %d | %.4f | %.4f |%n", k, aw[0], aw[1]);
    }
  }

  static float[] toFloats(double[] c) {
    float[] out = new float[c.length];
    for (int i = 0; i < c.length; i++) {
      out[i] = (float) c[i];
    }
    return out;
  }

  static double[] prepared(float[] x, float[] mean, double scale) {
    double[] out = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      out[i] = (x[i] - mean[i]) * scale;
    }
    return out;
  }

  static double[] recall(BinaryCodesBench.Descriptors refs, BinaryCodesBench.Descriptors queries,
      Map<String, Set<String>> truth, java.util.function.Function<float[], float[]> descriptor) {
    float[][] r = new float[refs.vectors().length][];
    for (int i = 0; i < r.length; i++) {
      r[i] = descriptor.apply(refs.vectors()[i]);
    }
    int positives = 0;
    int at1 = 0;
    int at10 = 0;
    for (int q = 0; q < queries.ids().size(); q++) {
      Set<String> rel = truth.get(queries.ids().get(q));
      if (rel == null) {
        continue;
      }
      positives++;
      float[] v = descriptor.apply(queries.vectors()[q]);
      double[] s = new double[r.length];
      for (int i = 0; i < r.length; i++) {
        double dot = 0;
        for (int c = 0; c < v.length; c++) {
          dot += v[c] * r[i][c];
        }
        s[i] = dot;
      }
      int best = Integer.MAX_VALUE;
      for (int i = 0; i < r.length; i++) {
        if (rel.contains(refs.ids().get(i))) {
          int rank = 0;
          for (int j = 0; j < r.length; j++) {
            if (s[j] > s[i]) {
              rank++;
            }
          }
          best = Math.min(best, rank);
        }
      }
      at1 += best < 1 ? 1 : 0;
      at10 += best < 10 ? 1 : 0;
    }
    return new double[] {at1 / (double) positives, at10 / (double) positives};
  }
}
