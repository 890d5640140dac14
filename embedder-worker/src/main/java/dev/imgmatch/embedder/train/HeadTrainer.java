package dev.imgmatch.embedder.train;

import dev.imgmatch.embedder.head.LinearHead;
import dev.imgmatch.embedder.head.PcaWhitening;
import dev.imgmatch.embedder.head.TrainingPhotos;
import dev.imgmatch.embedder.model.Hashing;
import dev.imgmatch.embedder.model.ImageOps;
import dev.imgmatch.embedder.model.RgbImage;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.Consumer;
import java.util.function.Function;
import javax.imageio.ImageIO;

/**
 * What {@code ./imgmatch train} does: augmented views of training photos and corpus images, raw features, centring +
 * PCA-whitening fitted on all of them, a metric-learned projection on top ({@link MetricLearning}), both measured on a
 * held-out slice of the training photos (view → original retrieval, and the best-negative scores of held-out photos
 * and their edits against the corpus), composed into one {@link LinearHead}.
 */
public final class HeadTrainer {
  /** Training parameters. */
  public record Config(int dims, int views, int corpusViews, int epochs, double holdout, long seed, double shrink,
      double learningRate, double temperature, double identityPull, Path featureCache, String modelVersion,
      int heldOutViews) {
    public Config(int dims, int views, int corpusViews, int epochs, double holdout, long seed, double shrink) {
      this(dims, views, corpusViews, epochs, holdout, seed, shrink, 5e-4, 0.1, 1e-2, null, "", views);
    }
  }

  /** Held-out measurements of one head. */
  public record Quality(double recallAt1, double map, double[] negativeBest, double[] positiveScores,
      List<String> worstNegatives) {
    public double negQuantile(double q) {
      return quantile(negativeBest, q);
    }

    public double posQuantile(double q) {
      return quantile(positiveScores, q);
    }

    /** Share of held-out positive pairs scoring above {@code t}. */
    public double positiveRecallAbove(double t) {
      int c = 0;
      for (double s : positiveScores) {
        if (s > t) {
          c++;
        }
      }
      return positiveScores.length == 0 ? 0 : (double) c / positiveScores.length;
    }
  }

  /** Result: the head written, and the held-out quality of PCA alone and of PCA + the learned map. */
  public record Result(LinearHead head, LinearHead pcaHead, Quality pcaOnly, Quality learned, int trainPhotos, int heldOut,
      int corpusImages, int samples) {}

  private HeadTrainer() {}

  public static Result train(List<Path> photos, List<Path> corpus, Config cfg,
      Function<List<RgbImage>, float[][]> rawFeatures, Consumer<String> progress) {
    List<Path> shuffled = new ArrayList<>(photos);
    Collections.shuffle(shuffled, new Random(cfg.seed()));
    int nHeld = photos.size() >= 5 ? (int) Math.round(photos.size() * cfg.holdout()) : 0;
    List<Path> held = shuffled.subList(0, nHeld);
    List<Path> fit = shuffled.subList(nHeld, shuffled.size());
    progress.accept(String.format(Locale.ROOT, "train: %d training photos (%d for fitting, %d held out), %d corpus "
        + "images; %d views per photo, %d per corpus image; seed %d", photos.size(), fit.size(), held.size(),
        corpus.size(), cfg.views(), cfg.corpusViews(), cfg.seed()));
    long t0 = System.nanoTime();
    float[][][] fitF = cached(cfg, "training photos", fit, cfg.views(), cfg.seed(), rawFeatures, progress);
    float[][][] corpusF = cached(cfg, "corpus images", corpus, cfg.corpusViews(), cfg.seed() + 1, rawFeatures,
        progress);
    float[][][] heldF = cached(cfg, "held-out photos", held, cfg.heldOutViews(), cfg.seed() + 2, rawFeatures,
        progress);
    progress.accept(String.format(Locale.ROOT, "train: features done in %.1f s",
        (System.nanoTime() - t0) / 1e9));

    List<float[]> all = new ArrayList<>();
    List<float[][]> groups = new ArrayList<>();
    for (float[][][] set : List.of(fitF, corpusF)) {
      for (float[][] g : set) {
        if (g != null) {
          all.addAll(Arrays.asList(g));
          groups.add(g);
        }
      }
    }
    String dataDigest = Hashing.sha256Hex(digest(fit) + "|" + digest(corpus) + "|" + digest(held)).substring(0, 12);
    String prov = String.format(Locale.ROOT, "train %s: pca %d shrink %.2f on %d samples (%d photos x %d views, %d "
        + "corpus x %d views, data %s), seed %d", Augmentations.RECIPE, cfg.dims(), cfg.shrink(), all.size(),
        fit.size(), cfg.views(), corpus.size(), cfg.corpusViews(), dataDigest, cfg.seed());
    progress.accept("train: fitting centring + PCA-whitening to " + cfg.dims() + " on " + all.size() + " samples");
    LinearHead pca = PcaWhitening.fit(all.toArray(new float[0][]), cfg.dims(), cfg.shrink(), cfg.seed(),
        "pcaw" + cfg.dims(), prov);

    float[][][] whitened = new float[groups.size()][][];
    for (int i = 0; i < whitened.length; i++) {
      float[][] g = groups.get(i);
      whitened[i] = new float[g.length][];
      for (int v = 0; v < g.length; v++) {
        whitened[i][v] = project(pca, g[v]);
      }
    }
    MetricLearning.Params mp = new MetricLearning.Params(cfg.epochs(), 64, cfg.learningRate(), cfg.temperature(), 1024,
        32, cfg.identityPull(), cfg.seed());
    LinearHead head = pca;
    Quality pcaQ = evaluate(pca, heldF, fitF, corpusF, held, corpus);
    report(progress, "PCA-whitening only", pcaQ);
    Quality learnedQ = null;
    if (cfg.epochs() > 0) {
      progress.accept("train: metric learning (" + mp.describe() + ") on " + whitened.length + " images");
      long t1 = System.nanoTime();
      double[][] w = MetricLearning.train(whitened, cfg.dims(), mp, progress);
      progress.accept(String.format(Locale.ROOT, "train: metric learning done in %.1f s",
          (System.nanoTime() - t1) / 1e9));
      head = compose(pca, w, "pcaw" + cfg.dims() + ".ml", prov + "; " + mp.describe());
      learnedQ = evaluate(head, heldF, fitF, corpusF, held, corpus);
      report(progress, "PCA-whitening + learned projection", learnedQ);
    }
    return new Result(head, pca, pcaQ, learnedQ, fit.size(), held.size(), corpus.size(), all.size());
  }

  static void report(Consumer<String> progress, String name, Quality q) {
    if (q == null) {
      return;
    }
    progress.accept(String.format(Locale.ROOT, "held-out %-36s view->original recall@1 %.4f  mAP %.4f", name + ":",
        q.recallAt1(), q.map()));
    if (q.negativeBest().length > 0) {
      double max = q.negQuantile(1);
      progress.accept(String.format(Locale.ROOT, "  best-negative cosine of %d held-out photos+edits vs the corpus: "
          + "p50 %.4f  p90 %.4f  p99 %.4f  max %.4f", q.negativeBest().length, q.negQuantile(0.5),
          q.negQuantile(0.9), q.negQuantile(0.99), max));
      progress.accept(String.format(Locale.ROOT, "  held-out positive (view vs its original) cosine: p10 %.4f  "
          + "p50 %.4f  p90 %.4f; share above the max negative %.4f, above max+0.05 %.4f", q.posQuantile(0.1),
          q.posQuantile(0.5), q.posQuantile(0.9), q.positiveRecallAbove(max), q.positiveRecallAbove(max + 0.05)));
      progress.accept("  highest held-out negatives: " + String.join("; ", q.worstNegatives()));
    }
  }

  /** {@code W · P} as one head (same mean). */
  static LinearHead compose(LinearHead pca, double[][] w, String kind, String prov) {
    float[][] p = pca.projection();
    int k = w.length;
    int d = pca.inputDim();
    float[][] out = new float[k][d];
    for (int r = 0; r < k; r++) {
      double[] acc = new double[d];
      for (int j = 0; j < k; j++) {
        double c = w[r][j];
        if (c != 0) {
          float[] pj = p[j];
          for (int i = 0; i < d; i++) {
            acc[i] += c * pj[i];
          }
        }
      }
      for (int i = 0; i < d; i++) {
        out[r][i] = (float) acc[i];
      }
    }
    return new LinearHead(kind, prov, pca.mean(), out);
  }

  /** {@code P (x - mean)}, not normalised. */
  static float[] project(LinearHead h, float[] x) {
    float[] mean = h.mean();
    float[][] p = h.projection();
    float[] out = new float[p.length];
    for (int r = 0; r < p.length; r++) {
      double s = 0;
      for (int i = 0; i < x.length; i++) {
        s += p[r][i] * (x[i] - mean[i]);
      }
      out[r] = (float) s;
    }
    return out;
  }

  /**
   * Held-out view → original retrieval against every original (held-out, fitting photos and corpus), and the best
   * cosine of each held-out photo and edit against the corpus originals (none of them is a copy).
   */
  static Quality evaluate(LinearHead head, float[][][] held, float[][][] fit, float[][][] corpus,
      List<Path> heldNames, List<Path> corpusNames) {
    List<Integer> corpusIdx = new ArrayList<>();
    List<float[]> db = new ArrayList<>();
    int heldCount = 0;
    for (float[][] g : held) {
      if (g != null) {
        db.add(head.apply(g[0]));
        heldCount++;
      }
    }
    List<float[]> corpusDb = new ArrayList<>();
    for (int c = 0; c < corpus.length; c++) {
      if (corpus[c] != null) {
        corpusDb.add(head.apply(corpus[c][0]));
        corpusIdx.add(c);
      }
    }
    List<Object[]> negPairs = new ArrayList<>();
    for (float[][] g : fit) {
      if (g != null) {
        db.add(head.apply(g[0]));
      }
    }
    db.addAll(corpusDb);
    int hits = 0;
    int queries = 0;
    double apSum = 0;
    List<Double> neg = new ArrayList<>();
    List<Double> pos = new ArrayList<>();
    int h = 0;
    for (int hi = 0; hi < held.length; hi++) {
      float[][] g = held[hi];
      if (g == null) {
        continue;
      }
      for (int v = 0; v < g.length; v++) {
        float[] q = head.apply(g[v]);
        double best = -2;
        int arg = -1;
        for (int c = 0; c < corpusDb.size(); c++) {
          double sc = dot(q, corpusDb.get(c));
          if (sc > best) {
            best = sc;
            arg = c;
          }
        }
        if (!corpusDb.isEmpty()) {
          neg.add(best);
          negPairs.add(new Object[] {best, heldNames.get(hi).getFileName() + (v == 0 ? "" : " view " + v) + " ~ "
              + corpusNames.get(corpusIdx.get(arg)).getFileName()});
        }
        if (v == 0) {
          continue;
        }
        double own = dot(q, db.get(h));
        pos.add(own);
        int rank = 1;
        for (int j = 0; j < db.size(); j++) {
          if (j != h && dot(q, db.get(j)) >= own) {
            rank++;
          }
        }
        queries++;
        hits += rank == 1 ? 1 : 0;
        apSum += 1.0 / rank;
      }
      h++;
    }
    negPairs.sort((a, b) -> Double.compare((double) b[0], (double) a[0]));
    List<String> worst = negPairs.stream().limit(5)
        .map(o -> String.format(Locale.ROOT, "%.4f %s", (double) o[0], o[1])).toList();
    return new Quality(queries == 0 ? 0 : (double) hits / queries, queries == 0 ? 0 : apSum / queries,
        neg.stream().mapToDouble(Double::doubleValue).sorted().toArray(),
        pos.stream().mapToDouble(Double::doubleValue).sorted().toArray(), worst);
  }

  /** Features through an optional on-disk cache keyed by model version, recipe, files, views and seed. */
  private static float[][][] cached(Config cfg, String what, List<Path> files, int views, long seed,
      Function<List<RgbImage>, float[][]> rawFeatures, Consumer<String> progress) {
    if (cfg.featureCache() == null) {
      return features(what, files, views, seed, rawFeatures, progress);
    }
    String key = Hashing.sha256Hex(String.join("|", cfg.modelVersion(), Augmentations.RECIPE, digest(files),
        String.valueOf(views), String.valueOf(seed))).substring(0, 20);
    Path f = cfg.featureCache().resolve("features-" + key + ".bin");
    try {
      if (Files.isRegularFile(f)) {
        try (java.io.DataInputStream in = new java.io.DataInputStream(new java.io.BufferedInputStream(
            Files.newInputStream(f)))) {
          float[][][] out = new float[in.readInt()][][];
          for (int i = 0; i < out.length; i++) {
            int n = in.readInt();
            if (n < 0) {
              continue;
            }
            out[i] = new float[n][in.readInt()];
            for (float[] row : out[i]) {
              for (int j = 0; j < row.length; j++) {
                row[j] = in.readFloat();
              }
            }
          }
          progress.accept("train: " + what + ": features read from " + f);
          return out;
        }
      }
      float[][][] out = features(what, files, views, seed, rawFeatures, progress);
      Files.createDirectories(cfg.featureCache());
      Path tmp = Files.createTempFile(cfg.featureCache(), "features", ".part");
      try (java.io.DataOutputStream o = new java.io.DataOutputStream(new java.io.BufferedOutputStream(
          Files.newOutputStream(tmp)))) {
        o.writeInt(out.length);
        for (float[][] g : out) {
          o.writeInt(g == null ? -1 : g.length);
          if (g != null) {
            o.writeInt(g[0].length);
            for (float[] row : g) {
              for (float v : row) {
                o.writeFloat(v);
              }
            }
          }
        }
      }
      Files.move(tmp, f, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("feature cache " + f + ": " + e.getMessage(), e);
    }
  }

  private static float[][][] features(String what, List<Path> files, int views, long seed,
      Function<List<RgbImage>, float[][]> rawFeatures, Consumer<String> progress) {
    float[][][] out = new float[files.size()][][];
    long t0 = System.nanoTime();
    int done = 0;
    for (int i = 0; i < files.size(); i++) {
      BufferedImage img;
      try {
        img = ImageIO.read(files.get(i).toFile());
      } catch (IOException e) {
        img = null;
      }
      if (img == null) {
        progress.accept("train: skipping " + files.get(i) + " (not a decodable picture)");
        continue;
      }
      Random rnd = new Random(seed * 1_000_003L + files.get(i).getFileName().toString().hashCode());
      List<RgbImage> rgb = new ArrayList<>();
      for (BufferedImage v : Augmentations.views(img, views, rnd)) {
        rgb.add(ImageOps.fromBufferedImage(v));
      }
      out[i] = rawFeatures.apply(rgb);
      done += rgb.size();
      if ((i + 1) % 25 == 0 || i + 1 == files.size()) {
        double s = (System.nanoTime() - t0) / 1e9;
        progress.accept(String.format(Locale.ROOT, "train: %s %d/%d (%d pictures, %.1f pictures/s)", what, i + 1,
            files.size(), done, done / Math.max(1e-9, s)));
      }
    }
    return out;
  }

  /** Image files of the folders (JPEG/PNG/GIF, sorted by name). */
  public static List<Path> list(List<Path> dirs) {
    List<Path> out = new ArrayList<>();
    for (Path d : dirs) {
      if (!Files.isDirectory(d)) {
        throw new IllegalArgumentException("not a folder: " + d);
      }
      out.addAll(TrainingPhotos.listPictures(d));
    }
    return out;
  }

  private static String digest(List<Path> files) {
    StringBuilder sb = new StringBuilder();
    for (Path p : files) {
      try {
        sb.append(p.getFileName()).append(' ').append(Files.size(p)).append(' ')
            .append(Hashing.sha256Hex(Files.readAllBytes(p))).append('\n');
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return Hashing.sha256Hex(sb.toString());
  }

  static double quantile(double[] sorted, double q) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int i = (int) Math.ceil(q * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }

  private static double dot(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }
}
