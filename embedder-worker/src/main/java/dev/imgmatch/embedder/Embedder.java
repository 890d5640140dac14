package dev.imgmatch.embedder;

import ai.djl.translate.TranslateException;
import dev.imgmatch.embedder.head.DefaultPhotos;
import dev.imgmatch.embedder.head.DescriptorHead;
import dev.imgmatch.embedder.head.HeadFitting;
import dev.imgmatch.embedder.head.LinearHead;
import dev.imgmatch.embedder.head.TrainingPhotos;
import dev.imgmatch.embedder.model.DefaultModel;
import dev.imgmatch.embedder.model.Hashing;
import dev.imgmatch.embedder.model.ImageOps;
import dev.imgmatch.embedder.model.ModelSpec;
import dev.imgmatch.embedder.model.RgbImage;
import dev.imgmatch.embedder.model.SavedModelRunner;
import dev.imgmatch.schemas.Limits;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The image descriptor, end to end: pixels → resize and normalise ({@link ImageOps}) → model (a SavedModel through
 * DJL) → descriptor head → L2-normalised vector, plus the model's class probabilities. The worker, the
 * {@code embed} CLI command, the benchmark and the evaluation all call this class, so they compute exactly the same
 * vectors.
 *
 * <pre>{@code
 * try (Embedder e = Embedder.open(EmbedderOptions.defaults(), System.err::println)) {
 *   Embedding v = e.embed(List.of(Embedder.decode(Files.readAllBytes(file)))).get(0);
 *   // v.vector(): e.dim() floats, unit length; e.modelId(), e.modelVersion() go with it
 * }
 * }</pre>
 *
 * <p>Thread-safe: model calls are serialised (one TensorFlow session); preprocessing runs on the caller's thread.
 */
public final class Embedder implements PictureEmbedder {
  /** One picture's result. */
  public record Embedding(float[] vector, Map<String, Float> classScores) {}

  private final ModelSpec spec;
  private final SavedModelRunner runner;
  private final DescriptorHead head;
  private final String modelVersion;
  private final int inferenceBatch;

  /** Where the background set is cached. */
  private final Path cacheDir;
  /** Null until {@link #useBackground}. */
  private volatile dev.imgmatch.embedder.head.BackgroundSet background;

  private Embedder(ModelSpec spec, SavedModelRunner runner, DescriptorHead head, int inferenceBatch, Path cacheDir) {
    this.cacheDir = cacheDir;
    this.spec = spec;
    this.runner = runner;
    this.head = head;
    this.inferenceBatch = inferenceBatch;
    String weights = spec.weightsDigest();
    this.modelVersion = head.version() + ".m" + Hashing.sha256Hex(String.join("\n", spec.id(), weights,
        spec.preprocessing(), head.version())).substring(0, 10);
  }

  /** Builds or loads the model and the head (first use: minutes; later: seconds). */
  public static Embedder open(EmbedderOptions o, Consumer<String> progress) {
    ModelSpec spec = o.model() != null ? o.model() : DefaultModel.ensure(o.cacheDir(), progress);
    SavedModelRunner runner = SavedModelRunner.load(spec, o.cacheDir());
    try {
      DescriptorHead head = head(o, spec, runner, progress);
      return new Embedder(spec, runner, head, o.inferenceBatch(), o.cacheDir());
    } catch (RuntimeException e) {
      runner.close();
      throw e;
    }
  }

  private static DescriptorHead head(EmbedderOptions o, ModelSpec spec, SavedModelRunner runner,
      Consumer<String> progress) {
    String h = o.head();
    if (h.equals(EmbedderOptions.HEAD_NONE)) {
      return new IdentityHead(dimOf(spec, runner));
    }
    if (h.equals(EmbedderOptions.HEAD_PCA) || h.equals(EmbedderOptions.HEAD_LW) || h.equals(EmbedderOptions.HEAD_CENTER)) {
      HeadFitting.Features features = imgs -> {
        List<RgbImage> rgb = new ArrayList<>(imgs.size());
        imgs.forEach(i -> rgb.add(ImageOps.fromBufferedImage(i)));
        return rawFeatures(spec, runner, rgb, EmbedderOptions.DEFAULT_INFERENCE_BATCH);
      };
      String modelKey = spec.id() + "\n" + spec.weightsDigest() + "\n" + spec.preprocessing();
      TrainingPhotos photos = o.trainDir() == null ? new DefaultPhotos(o.cacheDir()) : TrainingPhotos.ofDir(o.trainDir());
      return HeadFitting.ensure(o.cacheDir(), spec.id(), modelKey, features,
          h.equals(EmbedderOptions.HEAD_PCA) ? HeadFitting.Kind.PCA_WHITEN
              : h.equals(EmbedderOptions.HEAD_LW) ? HeadFitting.Kind.LEARNED_WHITEN : HeadFitting.Kind.CENTER, photos,
          o.dims(), o.viewsPerImage(), o.seed(), progress);
    }
    Path file = Path.of(h.startsWith("file:") ? h.substring(5) : h);
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("descriptor head '" + h + "' is neither learned-whiten, pca-whiten, center, "
          + "none nor an existing .head file");
    }
    try {
      LinearHead head = LinearHead.read(file);
      progress.accept("descriptor head " + head.version() + " from " + file + " (" + head.provenance() + ")");
      return head;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read descriptor head " + file + ": " + e.getMessage(), e);
    }
  }

  private static int dimOf(ModelSpec spec, SavedModelRunner runner) {
    RgbImage gray = new RgbImage(spec.width(), spec.height(), new byte[spec.width() * spec.height() * 3]);
    return rawFeatures(spec, runner, List.of(gray), 1)[0].length;
  }

  /**
   * Refuses an embedder whose vectors the index would refuse (more than {@link Limits#MAX_VECTOR_DIMENSION}
   * dimensions, e.g. {@code descriptor.head=none}): the worker checks it before it emits anything. Tools that want raw
   * features ({@code embed --head none}, {@code train}) do not.
   */
  public static void requireIndexable(PictureEmbedder e) {
    if (e.dim() > Limits.MAX_VECTOR_DIMENSION) {
      throw new IllegalStateException("descriptor " + e.modelVersion() + " has " + e.dim() + " dimensions, but the "
          + "index takes at most " + Limits.MAX_VECTOR_DIMENSION + ": use descriptor.head=" + EmbedderOptions.HEAD_LW
          + " (descriptor.dims <= " + Limits.MAX_VECTOR_DIMENSION + ") or a .head file that projects to at most that "
          + "many");
    }
  }

  /** Model id written into every embedding. */
  @Override
  public String modelId() {
    return spec.id();
  }

  /** Changes whenever weights, preprocessing or head change. */
  @Override
  public String modelVersion() {
    return modelVersion;
  }

  /** Descriptor dimension. */
  @Override
  public int dim() {
    return head.outputDim();
  }

  public DescriptorHead head() {
    return head;
  }

  public ModelSpec spec() {
    return spec;
  }

  /** Decodes an encoded picture file's bytes (PNG, JPEG, ...) to RGB8. */
  public static RgbImage decode(byte[] bytes) {
    return ImageOps.decode(bytes);
  }

  /**
   * Loads the background set of this model version (first use: obtains its pictures and embeds them, ~1 minute; then
   * read from the cache), after which {@link #backgroundCosine} answers. Idempotent.
   */
  public synchronized dev.imgmatch.embedder.head.BackgroundSet useBackground(Consumer<String> progress) {
    if (background == null) {
      background = dev.imgmatch.embedder.head.BackgroundSet.ensure(cacheDir, modelVersion, pictures -> {
        List<float[]> out = new ArrayList<>(pictures.size());
        List<RgbImage> rgb = new ArrayList<>(pictures.size());
        List<Integer> at = new ArrayList<>();
        for (byte[] b : pictures) {
          try {
            rgb.add(decode(b));
            at.add(out.size());
          } catch (IllegalArgumentException e) {
            // a picture the decoder refuses is left out
          }
          out.add(null);
        }
        try {
          List<Embedding> e = embed(rgb);
          for (int i = 0; i < e.size(); i++) {
            out.set(at.get(i), e.get(i).vector());
          }
        } catch (TranslateException e) {
          throw new IllegalStateException("model failed on the background set: " + e.getMessage(), e);
        }
        return out;
      }, progress);
    }
    return background;
  }

  @Override
  public Float backgroundCosine(List<float[]> views) {
    var b = background;
    return b == null || views.isEmpty() ? null : b.maxCosine(views);
  }

  /** Descriptors and class scores of the pictures, in order. */
  @Override
  public List<Embedding> embed(List<RgbImage> images) throws TranslateException {
    List<Embedding> out = new ArrayList<>(images.size());
    for (int from = 0; from < images.size(); from += inferenceBatch) {
      List<RgbImage> chunk = images.subList(from, Math.min(images.size(), from + inferenceBatch));
      SavedModelRunner.Output o = runner.run(input(spec, chunk));
      for (int i = 0; i < chunk.size(); i++) {
        out.add(new Embedding(head.apply(o.features()[i]), scores(o.scores() == null ? null : o.scores()[i])));
      }
    }
    return out;
  }

  /** Convenience for one BufferedImage. */
  public Embedding embed(BufferedImage image) throws TranslateException {
    return embed(List.of(ImageOps.fromBufferedImage(image))).get(0);
  }

  /** The model's raw pooled features (before the head), for fitting heads (e.g. issue 7's learned projection). */
  public float[][] rawFeatures(List<RgbImage> images) {
    return rawFeatures(spec, runner, images, inferenceBatch);
  }

  private static float[][] rawFeatures(ModelSpec spec, SavedModelRunner runner, List<RgbImage> images, int batch) {
    float[][] out = new float[images.size()][];
    try {
      for (int from = 0; from < images.size(); from += batch) {
        List<RgbImage> chunk = images.subList(from, Math.min(images.size(), from + batch));
        float[][] f = runner.run(input(spec, chunk)).features();
        System.arraycopy(f, 0, out, from, chunk.size());
      }
    } catch (TranslateException e) {
      throw new IllegalStateException("model failed: " + e.getMessage(), e);
    }
    return out;
  }

  private static SavedModelRunner.Input input(ModelSpec spec, List<RgbImage> chunk) {
    int per = spec.width() * spec.height() * 3;
    float[] px = new float[per * chunk.size()];
    for (int i = 0; i < chunk.size(); i++) {
      ImageOps.toModelInput(chunk.get(i), spec.width(), spec.height(), spec.mean(), spec.std(), px, i * per);
    }
    return new SavedModelRunner.Input(chunk.size(), px);
  }

  private Map<String, Float> scores(float[] probs) {
    if (probs == null || spec.classNames().isEmpty()) {
      return Map.of();
    }
    Map<String, Float> m = new LinkedHashMap<>();
    for (int i = 0; i < Math.min(probs.length, spec.classNames().size()); i++) {
      m.put(spec.classNames().get(i), probs[i]);
    }
    if (m.containsKey("porn") && m.containsKey("hentai") && m.containsKey("sexy")) {
      m.put("nsfw", m.get("porn") + m.get("hentai") + m.get("sexy"));
    }
    return Collections.unmodifiableMap(m);
  }

  @Override
  public void close() {
    runner.close();
  }

  /** No head: raw features, L2-normalised. */
  private record IdentityHead(int dim) implements DescriptorHead {
    @Override
    public String version() {
      return "raw" + dim;
    }

    @Override
    public int inputDim() {
      return dim;
    }

    @Override
    public int outputDim() {
      return dim;
    }

    @Override
    public float[] apply(float[] features) {
      return DescriptorHead.l2normalize(features.clone());
    }
  }
}
