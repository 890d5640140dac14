package dev.imgmatch.embedder.model;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * imgmatch's default model, built on first use and never committed: MobileNetV2 (width 1.4, 224x224) fine-tuned for
 * five NSFW classes, shipped as a TF.js graph model in the MIT-licensed npm package {@code nsfwjs@4.4.0}
 * ({@code dist/models/mobilenet_v2_mid}). We convert it with {@link TfjsToSavedModel} into a SavedModel whose
 * {@value TfjsToSavedModel#SIGNATURE} signature returns {@code features} (the 1792-d globally pooled activations,
 * non-negative) and {@code probabilities} (drawing, hentai, neutral, porn, sexy).
 *
 * <p>Cache: {@code <cache>/models/<id>/<key>/savedmodel}, where key = SHA-256 of (package tarball SHA-256, converter
 * version) cut to 16 hex digits; a {@code .complete} marker is written last, so an interrupted build is redone. The
 * tarball itself sits in {@code <cache>/npm/}. Nothing is rebuilt while the inputs stay the same.
 */
public final class DefaultModel {
  public static final String ID = "mobilenet_v2_140-nsfwjs";
  public static final String PACKAGE = "nsfwjs";
  public static final String PACKAGE_VERSION = "4.4.0";
  /** SHA-256 of nsfwjs-4.4.0.tgz as served by registry.npmjs.org. */
  public static final String PACKAGE_SHA256 = "585cd178f3b994337c4d10a87b080d342fc52f8b9bf0085c4d1f345a3a1c5382";
  public static final List<String> CLASSES = List.of("drawing", "hentai", "neutral", "porn", "sexy");
  public static final int INPUT_SIZE = 224;
  public static final int DIM = 1792;

  static final String MODEL_DIR = "package/dist/models/mobilenet_v2_mid/";
  static final String INPUT_NODE = "input";
  static final String FEATURES_NODE = "StatefulPartitionedCall/sequential/keras_layer/StatefulPartitionedCall/"
      + "StatefulPartitionedCall/StatefulPartitionedCall/predict/feature_vector/SpatialSqueeze";
  static final String SCORES_NODE = "StatefulPartitionedCall/sequential/prediction/Softmax";

  private DefaultModel() {}

  /** The spec of the default model, converting it into the cache first when needed. */
  public static ModelSpec ensure(Path cacheRoot, Consumer<String> progress) {
    Path tgz = NpmPackage.obtain(PACKAGE, PACKAGE_VERSION, PACKAGE_SHA256, cacheRoot, progress);
    String key = cacheKey(PACKAGE_SHA256);
    Path dir = cacheRoot.resolve("models").resolve(ID).resolve(key);
    Path saved = dir.resolve("savedmodel");
    if (!Files.exists(dir.resolve(".complete"))) {
      build(tgz, dir, saved, progress);
    }
    return spec(saved);
  }

  /**
   * The spec for a converted default model at {@code savedModel}. Its identity is what it is built from (the pinned
   * tarball and the converter version): two conversions write the same graph in a different byte order, and every
   * machine must compute the same model version.
   */
  public static ModelSpec spec(Path savedModel) {
    return new ModelSpec(ID, savedModel, TfjsToSavedModel.SIGNATURE, "input", "features", "probabilities", CLASSES,
        INPUT_SIZE, INPUT_SIZE, new float[] {0, 0, 0}, new float[] {1, 1, 1},
        "npm:" + PACKAGE + "@" + PACKAGE_VERSION + " sha256:" + PACKAGE_SHA256 + " converter:" + TfjsToSavedModel.VERSION);
  }

  static String cacheKey(String tarballSha256) {
    return Hashing.sha256Hex(tarballSha256 + "\n" + TfjsToSavedModel.VERSION).substring(0, 16);
  }

  private static synchronized void build(Path tgz, Path dir, Path saved, Consumer<String> progress) {
    long t0 = System.nanoTime();
    try {
      progress.accept("building the default model " + ID + " from " + tgz.getFileName() + " into " + dir + " (once)");
      Map<String, byte[]> files = NpmPackage.readTgz(tgz, n -> n.startsWith(MODEL_DIR));
      byte[] modelJs = files.get(MODEL_DIR + "model.min.js");
      if (modelJs == null) {
        throw new IllegalStateException(tgz + " has no " + MODEL_DIR + "model.min.js");
      }
      Map<String, byte[]> shards = new HashMap<>();
      files.forEach((k, v) -> shards.put(k.substring(MODEL_DIR.length()).replace(".min.js", ""), v));
      progress.accept("reading TF.js graph model (" + files.size() + " files) and dequantizing weights ...");
      TfjsGraphModel model = TfjsGraphModel.read(new String(modelJs, StandardCharsets.UTF_8), shards);
      progress.accept(model.nodes().size() + " nodes, " + model.weights().size() + " weights ("
          + model.producer() + "); converting to a SavedModel ...");
      TensorFlowRuntime.engine(cacheRootOf(dir)); // loads the natives the TensorFlow Java API needs
      Files.createDirectories(dir);
      Path tmp = Files.createTempDirectory(dir, "build");
      Map<String, String> outputs = new LinkedHashMap<>();
      outputs.put("features", FEATURES_NODE);
      outputs.put("probabilities", SCORES_NODE);
      TfjsToSavedModel.convert(model, INPUT_NODE, new long[] {-1, INPUT_SIZE, INPUT_SIZE, 3}, outputs,
          tmp.resolve("savedmodel"), progress);
      if (Files.exists(saved)) {
        deleteTree(saved);
      }
      Files.move(tmp.resolve("savedmodel"), saved, StandardCopyOption.ATOMIC_MOVE);
      deleteTree(tmp);
      Files.writeString(dir.resolve("SOURCE.txt"), "npm " + PACKAGE + "@" + PACKAGE_VERSION + " sha256 "
          + PACKAGE_SHA256 + "\n" + MODEL_DIR + "\nconverter " + TfjsToSavedModel.VERSION + "\nlicense MIT (nsfwjs)\n");
      Files.writeString(dir.resolve(".complete"), "ok\n");
      progress.accept("default model ready in " + (System.nanoTime() - t0) / 1_000_000 + " ms: " + saved);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot build the default model into " + dir + ": " + e.getMessage(), e);
    }
  }

  /** {@code <cache>/models/<id>/<key>} to {@code <cache>}. */
  private static Path cacheRootOf(Path dir) {
    return dir.getParent().getParent().getParent();
  }

  static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (var s = Files.walk(p)) {
      for (Path f : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(f);
      }
    }
  }
}
