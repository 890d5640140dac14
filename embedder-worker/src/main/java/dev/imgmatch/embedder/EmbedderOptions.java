package dev.imgmatch.embedder;

import dev.imgmatch.embedder.model.ModelSpec;
import java.nio.file.Path;
import java.util.Objects;

/**
 * How to build an {@link Embedder}: which model, which descriptor head, where the cache is.
 *
 * @param cacheDir root of the model / natives / head cache (default {@code ~/.cache/imgmatch})
 * @param model a custom SavedModel, or null for the default model (nsfwjs MobileNetV2 1.4, built on first use)
 * @param head {@code pca-whiten} (default: centring + PCA-whitening fitted on {@code trainDir}), {@code center}
 *     (centring only), {@code none} (raw features, L2-normalised) or the path of a {@code .head} file
 * @param dims output dimension of a fitted PCA-whitening head
 * @param trainDir a folder of training photos for fitting heads; null = the default photos ({@code DefaultPhotos},
 *     pinned Debian packages obtained on first use)
 * @param viewsPerImage augmented views per training photo when fitting
 * @param seed seed of the fit (views and PCA)
 * @param inferenceBatch most pictures per model call (larger calls are split)
 */
public record EmbedderOptions(Path cacheDir, ModelSpec model, String head, int dims, Path trainDir, int viewsPerImage,
    long seed, int inferenceBatch) {
  public static final String HEAD_PCA = "pca-whiten";
  public static final String HEAD_LW = "learned-whiten";
  public static final String HEAD_CENTER = "center";
  public static final String HEAD_NONE = "none";
  /**
   * Output dimension of the fitted heads. Learned whitening keeps the directions along which the default photos
   * differ; 205 photos span about 200 of them, and more dimensions add only whitened noise: 160 gave the best
   * decisions on the dev benchmark of 160, 200 and 256 (docs/BENCHMARKS.md, "The default head").
   */
  public static final int DEFAULT_DIMS = 160;
  public static final int DEFAULT_VIEWS = 32;
  public static final long DEFAULT_SEED = 20261122L;
  public static final int DEFAULT_INFERENCE_BATCH = 8;

  public EmbedderOptions {
    Objects.requireNonNull(cacheDir, "cacheDir");
    Objects.requireNonNull(head, "head");
    if (dims < 1) {
      throw new IllegalArgumentException("descriptor dims must be >= 1, got " + dims);
    }
    if (viewsPerImage < 1) {
      throw new IllegalArgumentException("views per image must be >= 1, got " + viewsPerImage);
    }
    if (inferenceBatch < 1) {
      throw new IllegalArgumentException("inference batch must be >= 1, got " + inferenceBatch);
    }
  }

  /** The defaults: default model and PCA-whitened head, cache from {@link #defaultCacheDir()}. */
  public static EmbedderOptions defaults() {
    return new EmbedderOptions(defaultCacheDir(), null, HEAD_LW, DEFAULT_DIMS, defaultTrainDir(), DEFAULT_VIEWS,
        DEFAULT_SEED, DEFAULT_INFERENCE_BATCH);
  }

  public EmbedderOptions withCacheDir(Path dir) {
    return new EmbedderOptions(dir, model, head, dims, trainDir, viewsPerImage, seed, inferenceBatch);
  }

  public EmbedderOptions withHead(String h) {
    return new EmbedderOptions(cacheDir, model, h, dims, trainDir, viewsPerImage, seed, inferenceBatch);
  }

  public EmbedderOptions withTrainDir(Path dir) {
    return new EmbedderOptions(cacheDir, model, head, dims, dir, viewsPerImage, seed, inferenceBatch);
  }

  public EmbedderOptions withModel(ModelSpec spec) {
    return new EmbedderOptions(cacheDir, spec, head, dims, trainDir, viewsPerImage, seed, inferenceBatch);
  }

  /**
   * {@code IMGMATCH_CACHE_DIR} (environment) or {@code -Dimgmatch.cache.dir}, else {@code $XDG_CACHE_HOME/imgmatch},
   * else {@code ~/.cache/imgmatch}.
   */
  public static Path defaultCacheDir() {
    String p = System.getProperty("imgmatch.cache.dir", System.getenv("IMGMATCH_CACHE_DIR"));
    if (p != null && !p.isBlank()) {
      return Path.of(p);
    }
    String xdg = System.getenv("XDG_CACHE_HOME");
    if (xdg != null && !xdg.isBlank()) {
      return Path.of(xdg, "imgmatch");
    }
    return Path.of(System.getProperty("user.home"), ".cache", "imgmatch");
  }

  /**
   * {@code IMGMATCH_DESCRIPTOR_TRAIN_DIR} or {@code -Dimgmatch.descriptor.train.dir} when set, else null (the default
   * photos). Never a folder found relative to the working directory.
   */
  public static Path defaultTrainDir() {
    String p = System.getProperty("imgmatch.descriptor.train.dir", System.getenv("IMGMATCH_DESCRIPTOR_TRAIN_DIR"));
    return p != null && !p.isBlank() ? Path.of(p) : null;
  }
}
