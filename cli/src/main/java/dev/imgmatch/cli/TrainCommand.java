package dev.imgmatch.cli;

import dev.imgmatch.embedder.Embedder;
import dev.imgmatch.embedder.EmbedderOptions;
import dev.imgmatch.embedder.train.HeadTrainer;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./imgmatch train --images DIR [--corpus DIR] --out FILE.head}: fits a descriptor head (centring +
 * PCA-whitening + a metric-learned projection) on augmented views of training photos and of the indexed corpus, and
 * writes it for {@code descriptor.head=FILE}. Never give it query images.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
    description = "Fit a descriptor head (PCA-whitening + metric-learned projection, NT-Xent with hard negatives) on "
        + "augmented views of training photos and the indexed corpus; use it with descriptor.head=FILE.")
public final class TrainCommand implements CliCommand {
  @Option(names = "--images", required = true, paramLabel = "DIR",
      description = "Folder of training photos (repeatable); a held-out slice measures the head.")
  List<Path> images = new ArrayList<>();

  @Option(names = "--corpus", paramLabel = "DIR",
      description = "Folder of indexed images (repeatable): unsupervised fitting on the corpus. Never queries.")
  List<Path> corpus = new ArrayList<>();

  @Option(names = "--out", required = true, paramLabel = "FILE.head", description = "Head file to write.")
  Path out;

  @Option(names = "--dims", description = "Output dimension (default ${DEFAULT-VALUE}).")
  int dims = EmbedderOptions.DEFAULT_DIMS;

  @Option(names = "--views", description = "Views per training photo, the original included (default "
      + "${DEFAULT-VALUE}).")
  int views = 16;

  @Option(names = "--corpus-views", description = "Views per corpus image (default: views/4, at least 2).")
  Integer corpusViews;

  @Option(names = "--holdout-views", description = "Views per held-out photo (more = a finer negative-score "
      + "distribution; default: --views).")
  Integer holdoutViews;

  @Option(names = "--epochs", description = "Metric-learning epochs; 0 = PCA-whitening only (default "
      + "${DEFAULT-VALUE}).")
  int epochs = 40;

  @Option(names = "--holdout", description = "Share of training photos held out for measuring (default "
      + "${DEFAULT-VALUE}).")
  double holdout = 0.2;

  @Option(names = "--shrink", description = "Whitening eigenvalue shrinkage (default ${DEFAULT-VALUE}).")
  double shrink = 0.1;

  @Option(names = "--pca-out", paramLabel = "FILE.head",
      description = "Also write the PCA-whitening-only head (for comparisons).")
  Path pcaOut;

  @Option(names = "--lr", description = "Adam learning rate (default ${DEFAULT-VALUE}).")
  double lr = 5e-4;

  @Option(names = "--tau", description = "NT-Xent temperature (default ${DEFAULT-VALUE}).")
  double tau = 0.1;

  @Option(names = "--identity-pull", description = "L2 pull of the learned map towards the identity (default "
      + "${DEFAULT-VALUE}).")
  double identityPull = 1e-2;

  @Option(names = "--feature-cache", paramLabel = "DIR",
      description = "Keep raw features of the views here and reuse them (same model, files, views, seed).")
  Path featureCache;

  @Option(names = "--seed", description = "Seed (default ${DEFAULT-VALUE}).")
  long seed = EmbedderOptions.DEFAULT_SEED;

  @Option(names = "--cache-dir", description = "Model cache (default ${DEFAULT-VALUE} or IMGMATCH_CACHE_DIR).")
  Path cacheDir = EmbedderOptions.defaultCacheDir();

  PrintStream err = System.err;
  PrintStream stdout = System.out;

  @Override
  public int order() {
    return 45;
  }

  @Override
  public Integer call() {
    if (views < 2 || dims < 1 || epochs < 0 || holdout < 0 || holdout >= 1) {
      err.println("train: need --views >= 2, --dims >= 1, --epochs >= 0, 0 <= --holdout < 1");
      return 2;
    }
    try {
      List<Path> photos = HeadTrainer.list(images);
      List<Path> corpusFiles = HeadTrainer.list(corpus);
      if (photos.size() + corpusFiles.size() <= dims) {
        err.println("train: " + (photos.size() + corpusFiles.size()) + " images are too few for " + dims
            + " dims (the views add samples, but pass more images or lower --dims)");
      }
      int cv = corpusViews != null ? corpusViews : Math.max(2, views / 4);
      try (Embedder e = Embedder.open(EmbedderOptions.defaults().withCacheDir(cacheDir)
          .withHead(EmbedderOptions.HEAD_NONE), err::println)) {
        HeadTrainer.Result r = HeadTrainer.train(photos, corpusFiles,
            new HeadTrainer.Config(dims, views, cv, epochs, holdout, seed, shrink, lr, tau, identityPull,
                featureCache, e.modelId() + "@" + e.modelVersion(), holdoutViews != null ? holdoutViews : views), e::rawFeatures, err::println);
        r.head().write(out);
        if (pcaOut != null) {
          r.pcaHead().write(pcaOut);
          stdout.println("wrote " + pcaOut + ": head " + r.pcaHead().version() + " (PCA-whitening only)");
        }
        stdout.println(String.format(Locale.ROOT, "wrote %s: head %s (%d -> %d), %d samples; use "
            + "descriptor.head=%s", out, r.head().version(), r.head().inputDim(), r.head().outputDim(), r.samples(),
            out.toAbsolutePath()));
      }
      return 0;
    } catch (IllegalArgumentException | java.io.IOException ex) {
      err.println("train: " + ex.getMessage());
      return 1;
    }
  }
}
