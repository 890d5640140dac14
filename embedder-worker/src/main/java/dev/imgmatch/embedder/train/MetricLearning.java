package dev.imgmatch.embedder.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.Consumer;

/**
 * Learns a square linear map {@code W} on top of whitened descriptors with the NT-Xent (InfoNCE) loss: for a batch
 * of images, two random views of each are embedded as {@code e = normalize(W u)}; each view must pick its twin among
 * the other 2B-2 views of the batch plus its hardest negatives from a memory bank of recent embeddings of other
 * images (MoCo-style, detached). Gradients are analytic (softmax → L2 normalisation → linear map); Adam; an L2 pull
 * towards the identity keeps W close to the whitening it starts from. Pure Java, deterministic for a seed.
 */
public final class MetricLearning {
  /** Hyper-parameters. */
  public record Params(int epochs, int batchImages, double learningRate, double temperature, int bankSize,
      int hardNegatives, double identityPull, long seed) {
    public static Params defaults(int epochs, long seed) {
      return new Params(epochs, 64, 2e-3, 0.1, 1024, 32, 1e-3, seed);
    }

    public String describe() {
      return String.format(Locale.ROOT, "ntxent epochs=%d batch=%d lr=%.1e tau=%.3f bank=%d hard=%d pull=%.1e seed=%d",
          epochs, batchImages, learningRate, temperature, bankSize, hardNegatives, identityPull, seed);
    }
  }

  private MetricLearning() {}

  /**
   * Trains W (k x k, starting at the identity).
   *
   * @param groups per image, its views' whitened (not normalised) vectors; images with fewer than 2 views are skipped
   */
  public static double[][] train(float[][][] groups, int k, Params p, Consumer<String> progress) {
    double[][] w = identity(k);
    List<Integer> usable = new ArrayList<>();
    for (int i = 0; i < groups.length; i++) {
      if (groups[i].length >= 2) {
        usable.add(i);
      }
    }
    if (usable.size() < 2 || p.epochs() <= 0) {
      return w;
    }
    Random rnd = new Random(p.seed());
    Adam adam = new Adam(k, p.learningRate());
    float[][] bank = new float[p.bankSize()][];
    int[] bankOwner = new int[p.bankSize()];
    Arrays.fill(bankOwner, -1);
    int bankNext = 0;
    int step = 0;
    for (int epoch = 1; epoch <= p.epochs(); epoch++) {
      List<Integer> order = new ArrayList<>(usable);
      java.util.Collections.shuffle(order, rnd);
      double lossSum = 0;
      int batches = 0;
      for (int from = 0; from + 1 < order.size(); from += p.batchImages()) {
        List<Integer> imgs = order.subList(from, Math.min(order.size(), from + p.batchImages()));
        int b = imgs.size();
        if (b < 2) {
          continue;
        }
        double[][] u = new double[2 * b][];
        int[] owner = new int[2 * b];
        for (int i = 0; i < b; i++) {
          float[][] views = groups[imgs.get(i)];
          int va = rnd.nextInt(views.length);
          int vb = rnd.nextInt(views.length - 1);
          if (vb >= va) {
            vb++;
          }
          u[i] = toDouble(views[va]);
          u[b + i] = toDouble(views[vb]);
          owner[i] = imgs.get(i);
          owner[b + i] = imgs.get(i);
        }
        double[][] grad = new double[k][k];
        double loss = lossAndGradient(w, u, owner, bank, bankOwner, p.temperature(), p.hardNegatives(), grad, null);
        for (int r = 0; r < k; r++) {
          for (int c = 0; c < k; c++) {
            grad[r][c] += p.identityPull() * (w[r][c] - (r == c ? 1 : 0));
          }
        }
        adam.step(w, grad, ++step);
        // enqueue the (detached) embeddings of this batch with the updated map
        for (int i = 0; i < 2 * b; i++) {
          bank[bankNext] = toFloat(normalize(mul(w, u[i])));
          bankOwner[bankNext] = owner[i];
          bankNext = (bankNext + 1) % bank.length;
        }
        lossSum += loss;
        batches++;
      }
      if (epoch == 1 || epoch == p.epochs() || epoch % Math.max(1, p.epochs() / 10) == 0) {
        progress.accept(String.format(Locale.ROOT, "  metric learning epoch %d/%d: NT-Xent loss %.4f", epoch,
            p.epochs(), lossSum / Math.max(1, batches)));
      }
    }
    return w;
  }

  /**
   * NT-Xent loss of a batch whose rows {@code u[i]} and {@code u[i + b]} are two views of one image, with hard
   * negatives from the bank; adds dLoss/dW (mean over the 2b anchors) into {@code grad}. {@code embOut}, if given,
   * receives the embeddings.
   */
  static double lossAndGradient(double[][] w, double[][] u, int[] owner, float[][] bank, int[] bankOwner,
      double tau, int hard, double[][] grad, double[][] embOut) {
    int n = u.length;
    int b = n / 2;
    int k = w.length;
    double[][] y = new double[n][];
    double[] norm = new double[n];
    double[][] e = new double[n][];
    for (int i = 0; i < n; i++) {
      y[i] = mul(w, u[i]);
      norm[i] = Math.sqrt(dot(y[i], y[i])) + 1e-12;
      e[i] = new double[k];
      for (int j = 0; j < k; j++) {
        e[i][j] = y[i][j] / norm[i];
      }
      if (embOut != null) {
        embOut[i] = e[i];
      }
    }
    double[][] ge = new double[n][k];
    double loss = 0;
    for (int i = 0; i < n; i++) {
      int pos = i < b ? i + b : i - b;
      // hardest bank negatives of other images
      int[] hardIdx = hardest(e[i], owner[i], bank, bankOwner, hard);
      int m = (n - 1) + hardIdx.length;
      double[] logits = new double[m];
      int c = 0;
      for (int j = 0; j < n; j++) {
        if (j != i) {
          logits[c++] = dot(e[i], e[j]) / tau;
        }
      }
      for (int h : hardIdx) {
        logits[c++] = dotF(e[i], bank[h]) / tau;
      }
      double max = Double.NEGATIVE_INFINITY;
      for (double l : logits) {
        max = Math.max(max, l);
      }
      double z = 0;
      for (int t = 0; t < m; t++) {
        logits[t] = Math.exp(logits[t] - max);
        z += logits[t];
      }
      int posSlot = pos < i ? pos : pos - 1;
      loss += -Math.log(logits[posSlot] / z);
      // gradients: dL/dl_t = p_t - [t = pos]; l_t = e_i · c_t / tau
      c = 0;
      for (int j = 0; j < n; j++) {
        if (j == i) {
          continue;
        }
        double g = (logits[c] / z - (c == posSlot ? 1 : 0)) / tau / n;
        for (int d = 0; d < k; d++) {
          ge[i][d] += g * e[j][d];
          ge[j][d] += g * e[i][d];
        }
        c++;
      }
      for (int h : hardIdx) {
        double g = (logits[c] / z) / tau / n;
        float[] bv = bank[h];
        for (int d = 0; d < k; d++) {
          ge[i][d] += g * bv[d];
        }
        c++;
      }
    }
    // back through e = y/|y| and y = W u
    for (int i = 0; i < n; i++) {
      double proj = dot(ge[i], e[i]);
      for (int r = 0; r < k; r++) {
        double gy = (ge[i][r] - proj * e[i][r]) / norm[i];
        if (gy != 0) {
          double[] gr = grad[r];
          double[] ui = u[i];
          for (int col = 0; col < k; col++) {
            gr[col] += gy * ui[col];
          }
        }
      }
    }
    return loss / n;
  }

  private static int[] hardest(double[] e, int self, float[][] bank, int[] bankOwner, int hard) {
    if (hard <= 0) {
      return new int[0];
    }
    int[] best = new int[hard];
    double[] bestS = new double[hard];
    int count = 0;
    for (int q = 0; q < bank.length; q++) {
      if (bank[q] == null || bankOwner[q] == self) {
        continue;
      }
      double s = dotF(e, bank[q]);
      if (count < hard) {
        best[count] = q;
        bestS[count++] = s;
      } else {
        int min = 0;
        for (int t = 1; t < hard; t++) {
          if (bestS[t] < bestS[min]) {
            min = t;
          }
        }
        if (s > bestS[min]) {
          best[min] = q;
          bestS[min] = s;
        }
      }
    }
    return Arrays.copyOf(best, count);
  }

  /** Adam on a k x k matrix. */
  private static final class Adam {
    final double[][] m;
    final double[][] v;
    final double lr;

    Adam(int k, double lr) {
      m = new double[k][k];
      v = new double[k][k];
      this.lr = lr;
    }

    void step(double[][] w, double[][] g, int t) {
      double b1 = 0.9;
      double b2 = 0.999;
      double c1 = 1 - Math.pow(b1, t);
      double c2 = 1 - Math.pow(b2, t);
      for (int r = 0; r < w.length; r++) {
        for (int c = 0; c < w.length; c++) {
          m[r][c] = b1 * m[r][c] + (1 - b1) * g[r][c];
          v[r][c] = b2 * v[r][c] + (1 - b2) * g[r][c] * g[r][c];
          w[r][c] -= lr * (m[r][c] / c1) / (Math.sqrt(v[r][c] / c2) + 1e-8);
        }
      }
    }
  }

  static double[][] identity(int k) {
    double[][] w = new double[k][k];
    for (int i = 0; i < k; i++) {
      w[i][i] = 1;
    }
    return w;
  }

  static double[] mul(double[][] w, double[] u) {
    double[] y = new double[w.length];
    for (int r = 0; r < w.length; r++) {
      y[r] = dot(w[r], u);
    }
    return y;
  }

  static double[] normalize(double[] y) {
    double n = Math.sqrt(dot(y, y)) + 1e-12;
    double[] out = new double[y.length];
    for (int i = 0; i < y.length; i++) {
      out[i] = y[i] / n;
    }
    return out;
  }

  static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  private static double dotF(double[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  static double[] toDouble(float[] f) {
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }

  static float[] toFloat(double[] d) {
    float[] f = new float[d.length];
    for (int i = 0; i < d.length; i++) {
      f[i] = (float) d[i];
    }
    return f;
  }
}
