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
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fits the default descriptor heads reproducibly and caches them like the model.
 *
 * <p>Where training photos exist ({@code descriptor.train.dir}, e.g. {@code ../shared/bench/train}): every photo
 * gives {@code viewsPerImage} seeded augmented views ({@link TrainingViews}), their features are computed with the
 * real model, and {@link PcaWhitening} fits centring + whitening to {@code dims} (kind {@code pcaw<dims>}), or only
 * the mean (kind {@code center}). Without photos it falls back, loudly, to a centring-only head fitted on procedurally
 * generated pictures (kind {@code center.synth}): a different version string, so its vectors are never mixed with
 * the others. Fitting on query images is never done here.
 *
 * <p>Cache: {@code <cache>/heads/<modelId>/<key>/head.bin}, key = SHA-256 of (recipe, model version inputs,
 * training files' names and digests, dims, seed, views) cut to 16 hex digits.
 */
public final class HeadFitting {
  private static final Logger log = LoggerFactory.getLogger(HeadFitting.class);
  /** Version of the fitting procedure; bump when it changes what gets fitted. */
  public static final String FIT_VERSION = "fit-1";
  public static final double SHRINK = 0.1;
  static final int SYNTHETIC_IMAGES = 240;

  /** Computes raw model features for pictures (the real model). */
  @FunctionalInterface
  public interface Features {
    float[][] of(List<BufferedImage> images);
  }

  /** Which head to fit. */
  public enum Kind {
    /** Centring + PCA-whitening to {@code dims}. */
    PCA_WHITEN,
    /** Centring only. */
    CENTER
  }

  private HeadFitting() {}

  /**
   * The cached head, fitting it first when missing.
   *
   * @param modelKey everything that identifies the features (model id, weights digest, preprocessing)
   * @param trainDir folder of training photos, or null / missing for the synthetic fallback
   */
  public static LinearHead ensure(Path cacheRoot, String modelId, String modelKey, Features features, Kind kind,
      Path trainDir, int dims, int viewsPerImage, long seed, Consumer<String> progress) {
    List<Path> photos = listPhotos(trainDir);
    boolean synthetic = photos.isEmpty();
    if (synthetic) {
      log.warn("no training photos found at {}: falling back to a centring-only head fitted on {} procedurally "
          + "generated pictures (kind center.synth); matching quality will be much lower than with the PCA-whitened "
          + "head. Set descriptor.train.dir (IMGMATCH_DESCRIPTOR_TRAIN_DIR) to a folder of photos.",
          trainDir == null ? "(not set)" : trainDir.toAbsolutePath(), SYNTHETIC_IMAGES);
    }
    String photosDigest = synthetic ? "synthetic-" + SYNTHETIC_IMAGES : digest(photos);
    String key = Hashing.sha256Hex(String.join("\n", FIT_VERSION, TrainingViews.RECIPE, modelKey, photosDigest,
        kind.name(), String.valueOf(dims), String.valueOf(seed), String.valueOf(viewsPerImage),
        String.valueOf(SHRINK))).substring(0, 16);
    Path file = cacheRoot.resolve("heads").resolve(modelId).resolve(key).resolve("head.bin");
    try {
      if (Files.isRegularFile(file)) {
        return LinearHead.read(file);
      }
      long t0 = System.nanoTime();
      LinearHead head;
      if (synthetic) {
        Random rnd = new Random(seed);
        List<BufferedImage> imgs = new ArrayList<>();
        for (int i = 0; i < SYNTHETIC_IMAGES; i++) {
          imgs.add(TrainingViews.synthetic(rnd, 160 + rnd.nextInt(200), 160 + rnd.nextInt(200)));
        }
        progress.accept("fitting fallback head (centring on " + imgs.size() + " synthetic pictures, seed " + seed + ")");
        float[][] f = features.of(imgs);
        head = LinearHead.centring("center.synth", "centring on " + imgs.size() + " synthetic pictures, seed " + seed
            + ", " + FIT_VERSION, PcaWhitening.mean(f));
      } else {
        progress.accept("fitting descriptor head " + kind + " on " + photos.size() + " photos x " + viewsPerImage
            + " augmented views from " + trainDir + " (seed " + seed + ", once) ...");
        List<float[]> all = new ArrayList<>();
        for (int i = 0; i < photos.size(); i++) {
          BufferedImage photo = ImageIO.read(photos.get(i).toFile());
          if (photo == null) {
            log.warn("skipping {}: not a decodable picture", photos.get(i));
            continue;
          }
          Random rnd = new Random(seed * 1_000_003L + i);
          for (float[] row : features.of(TrainingViews.views(photo, viewsPerImage, rnd))) {
            all.add(row);
          }
          if ((i + 1) % 10 == 0 || i + 1 == photos.size()) {
            progress.accept("  features of " + (i + 1) + "/" + photos.size() + " photos (" + all.size() + " views)");
          }
        }
        float[][] samples = all.toArray(new float[0][]);
        String prov = String.format(Locale.ROOT, "%s on %d views of %d photos (%s), seed %d, %s, %s", kind,
            samples.length, photos.size(), trainDir.getFileName(), seed, TrainingViews.RECIPE, FIT_VERSION);
        head = kind == Kind.CENTER
            ? LinearHead.centring("center", prov, PcaWhitening.mean(samples))
            : PcaWhitening.fit(samples, dims, SHRINK, seed, "pcaw" + dims, prov);
      }
      head.write(file);
      progress.accept("descriptor head " + head.version() + " fitted in " + (System.nanoTime() - t0) / 1_000_000
          + " ms: " + file);
      return head;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot fit or cache the descriptor head at " + file + ": " + e.getMessage(), e);
    }
  }

  /** JPEG/PNG files directly in {@code dir}, sorted by name; empty when the folder is absent. */
  public static List<Path> listPhotos(Path dir) {
    if (dir == null || !Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(Files::isRegularFile)
          .filter(p -> p.getFileName().toString().toLowerCase(Locale.ROOT).matches(".*\\.(jpe?g|png)"))
          .sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir, e);
    }
  }

  private static String digest(List<Path> photos) {
    StringBuilder sb = new StringBuilder();
    try {
      for (Path p : photos) {
        sb.append(p.getFileName()).append(' ').append(Hashing.sha256Hex(Files.readAllBytes(p))).append('\n');
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return Hashing.sha256Hex(sb.toString());
  }
}
