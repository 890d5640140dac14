package dev.imgmatch.embedder.head;

import dev.imgmatch.embedder.model.Hashing;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fits the default descriptor heads reproducibly and caches them like the model.
 *
 * <p>The photos are {@link TrainingPhotos}: by default {@link DefaultPhotos} (pinned Debian packages, obtained on
 * first use), or a folder an operator names ({@code descriptor.train.dir}). Every photo gives {@code viewsPerImage}
 * seeded augmented views ({@link TrainingViews}), their features are computed with the real model, and
 * {@link PcaWhitening} fits centring + whitening to {@code dims} (kind {@code pcaw<dims>}), or only the mean (kind
 * {@code center}). There is no fallback: when the photos cannot be had, fitting fails with the reason, and the
 * caller refuses to start. Fitting on query images is never done here.
 *
 * <p>Cache: {@code <cache>/heads/<modelId>/<key>/head.bin}, key = SHA-256 of (recipe, model version inputs, the
 * photos' identity, kind, dims, seed, views) cut to 16 hex digits. The head's version is its kind plus the first 12
 * digits of that key: the same inputs give the same version on every machine.
 */
public final class HeadFitting {
  private static final Logger log = LoggerFactory.getLogger(HeadFitting.class);
  /** Version of the fitting procedure; bump when it changes what gets fitted. */
  public static final String FIT_VERSION = "fit-2";
  public static final double SHRINK = 0.1;
  /**
   * Principal subspace the learned whitening works in (768 gave the same decisions as 512, for a slower fit), and
   * the shrinkage of its within-photo covariance: weaker shrinkage whitens what edits change more fully (0.01, 0.03,
   * 0.1, 0.3 measured; 0.03 best on dev, docs/BENCHMARKS.md).
   */
  public static final int LW_SUBSPACE = 512;
  public static final double LW_SHRINK = 0.03;

  /** Computes raw model features for pictures (the real model). */
  @FunctionalInterface
  public interface Features {
    float[][] of(List<BufferedImage> images);
  }

  /** Which head to fit. */
  public enum Kind {
    /** Centring + PCA-whitening to {@code dims}. */
    PCA_WHITEN,
    /** Centring + learned whitening to {@code dims} ({@link LearnedWhitening}: views of one photo are copies). */
    LEARNED_WHITEN,
    /** Centring only. */
    CENTER
  }

  private HeadFitting() {}

  /** The recipe of the augmented views a head is fitted on: {@link TrainingViews} (the default). */
  public static final String RECIPE_VIEWS = TrainingViews.RECIPE;
  /** The recipe of the calibration split and of metric learning ({@code train.Augmentations}: 19 families). */
  public static final String RECIPE_AUG = dev.imgmatch.embedder.train.Augmentations.RECIPE;

  /**
   * The view recipe heads are fitted with: {@code IMGMATCH_DESCRIPTOR_FIT_RECIPE} or {@code
   * -Dimgmatch.descriptor.fit.recipe} ({@value #RECIPE_VIEWS} or {@value #RECIPE_AUG}), else {@value #RECIPE_VIEWS}.
   * Part of the head's key and so of its version. An experiment switch (docs/BENCHMARKS.md, "The head's views").
   */
  public static String recipe() {
    String r = System.getProperty("imgmatch.descriptor.fit.recipe", System.getenv("IMGMATCH_DESCRIPTOR_FIT_RECIPE"));
    if (r == null || r.isBlank()) {
      return RECIPE_VIEWS;
    }
    if (!r.strip().equals(RECIPE_VIEWS) && !r.strip().equals(RECIPE_AUG)) {
      throw new IllegalArgumentException("descriptor fit recipe must be " + RECIPE_VIEWS + " or " + RECIPE_AUG + ", got "
          + r);
    }
    return r.strip();
  }

  /** The cache key of a head fitted from these inputs. */
  public static String key(String modelKey, TrainingPhotos photos, Kind kind, int dims, long seed, int viewsPerImage) {
    return key(recipe(), modelKey, photos, kind, dims, seed, viewsPerImage);
  }

  private static String key(String recipe, String modelKey, TrainingPhotos photos, Kind kind, int dims, long seed,
      int viewsPerImage) {
    return Hashing.sha256Hex(String.join("\n", FIT_VERSION, recipe, modelKey, photos.identity(),
        kind.name(), String.valueOf(dims), String.valueOf(seed), String.valueOf(viewsPerImage),
        String.valueOf(SHRINK), kind == Kind.LEARNED_WHITEN ? LW_SUBSPACE + "/" + LW_SHRINK : "")).substring(0, 16);
  }

  /**
   * The cached head, fitting it first when missing.
   *
   * @param modelKey everything that identifies the features (model id, weights digest, preprocessing)
   * @param photos what to fit on
   */
  public static LinearHead ensure(Path cacheRoot, String modelId, String modelKey, Features features, Kind kind,
      TrainingPhotos photos, int dims, int viewsPerImage, long seed, Consumer<String> progress) {
    String recipe = recipe(); // read once: the key and the views of one fit always agree
    String key = key(recipe, modelKey, photos, kind, dims, seed, viewsPerImage);
    String kindName = switch (kind) {
      case CENTER -> "center";
      case PCA_WHITEN -> "pcaw" + dims;
      case LEARNED_WHITEN -> "lw" + dims;
    };
    String version = kindName + "-" + key.substring(0, 12);
    Path file = cacheRoot.resolve("heads").resolve(modelId).resolve(key).resolve("head.bin");
    try {
      if (Files.isRegularFile(file)) {
        return LinearHead.read(file).withVersion(version);
      }
      long t0 = System.nanoTime();
      progress.accept("fitting the descriptor head " + kind + " (once) on " + photos.source() + " ...");
      List<TrainingPhotos.Photo> list = photos.load(progress);
      progress.accept("  " + list.size() + " photos x " + viewsPerImage + " augmented views, seed " + seed);
      List<float[]> all = new ArrayList<>();
      List<Integer> groups = new ArrayList<>();
      int used = 0;
      for (int i = 0; i < list.size(); i++) {
        BufferedImage photo = TrainingPhotos.decode(list.get(i));
        if (photo == null) {
          log.warn("skipping {}: not a decodable picture", list.get(i).name());
          continue;
        }
        used++;
        Random rnd = new Random(seed * 1_000_003L + i);
        List<BufferedImage> views = recipe.equals(RECIPE_AUG)
            ? dev.imgmatch.embedder.train.Augmentations.views(photo, viewsPerImage, rnd)
            : TrainingViews.views(photo, viewsPerImage, rnd);
        for (float[] row : features.of(views)) {
          all.add(row);
          groups.add(used - 1);
        }
        if ((i + 1) % 10 == 0 || i + 1 == list.size()) {
          progress.accept("  features of " + (i + 1) + "/" + list.size() + " photos (" + all.size() + " views)");
        }
      }
      if (used < 2) {
        throw new IllegalStateException("cannot fit the descriptor head: " + used + " decodable photos in "
            + photos.source());
      }
      float[][] samples = all.toArray(new float[0][]);
      String prov = String.format(Locale.ROOT, "%s on %d views of %d photos (%s), seed %d, %s, %s", kind,
          samples.length, used, photos.source(), seed, recipe, FIT_VERSION);
      LinearHead head = switch (kind) {
        case CENTER -> LinearHead.centring(kindName, prov, PcaWhitening.mean(samples));
        case PCA_WHITEN -> PcaWhitening.fit(samples, dims, SHRINK, seed, kindName, prov);
        case LEARNED_WHITEN -> LearnedWhitening.fit(samples, groups.stream().mapToInt(Integer::intValue).toArray(),
            dims, Math.min(samples[0].length, Math.max(dims, LW_SUBSPACE)), LW_SHRINK, seed, kindName, prov);
      };
      head.write(file);
      progress.accept("descriptor head " + version + " fitted in " + (System.nanoTime() - t0) / 1_000_000
          + " ms: " + file);
      return head.withVersion(version);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot fit or cache the descriptor head at " + file + ": " + e.getMessage(), e);
    }
  }
}
