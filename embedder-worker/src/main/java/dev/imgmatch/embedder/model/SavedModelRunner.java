package dev.imgmatch.embedder.model;

import ai.djl.MalformedModelException;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ModelNotFoundException;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.Batchifier;
import ai.djl.translate.TranslateException;
import ai.djl.translate.Translator;
import ai.djl.translate.TranslatorContext;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Runs a {@link ModelSpec}'s SavedModel through DJL: an immutable {@link Criteria} (TensorFlow engine, local path,
 * our {@link Translator}) loads the {@link ZooModel}; one {@link Predictor} serves every call, one call at a time.
 *
 * <p>The translator does no batching of its own ({@link Batchifier} none): a call already carries the whole batch as
 * one NHWC float tensor, and gets back one row of features (and of class probabilities) per picture.
 */
public final class SavedModelRunner implements AutoCloseable {
  /** What the model returned for a batch: row i belongs to picture i. */
  public record Output(float[][] features, float[][] scores) {}

  /** A batch of pictures already resized and normalised: n * height * width * 3 floats, HWC per picture. */
  public record Input(int n, float[] pixels) {}

  private final ModelSpec spec;
  private final ZooModel<Input, Output> model;
  private final Predictor<Input, Output> predictor;
  private final ReentrantLock lock = new ReentrantLock();

  private SavedModelRunner(ModelSpec spec, ZooModel<Input, Output> model) {
    this.spec = spec;
    this.model = model;
    this.predictor = model.newPredictor();
  }

  /** Loads the model (engine natives from {@code cacheRoot}). */
  public static SavedModelRunner load(ModelSpec spec, Path cacheRoot) {
    TensorFlowRuntime.engine(cacheRoot);
    Criteria<Input, Output> criteria = Criteria.builder()
        .setTypes(Input.class, Output.class)
        .optEngine("TensorFlow")
        .optModelPath(spec.path())
        .optOption("Tags", "serve")
        .optOption("SignatureDefKey", spec.signature())
        .optTranslator(new FeatureTranslator(spec))
        .optModelName(spec.id())
        .build();
    try {
      return new SavedModelRunner(spec, criteria.loadModel());
    } catch (IOException | ModelNotFoundException | MalformedModelException e) {
      throw new IllegalStateException("cannot load SavedModel " + spec.path() + " (signature " + spec.signature()
          + "): " + e.getMessage(), e);
    }
  }

  public ModelSpec spec() {
    return spec;
  }

  /** Runs one batch; thread-safe (calls are serialised). */
  public Output run(Input input) throws TranslateException {
    lock.lock();
    try {
      return predictor.predict(input);
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void close() {
    lock.lock();
    try {
      predictor.close();
      model.close();
    } finally {
      lock.unlock();
    }
  }

  /** Float batch in, named outputs out. */
  static final class FeatureTranslator implements Translator<Input, Output> {
    private final ModelSpec spec;

    FeatureTranslator(ModelSpec spec) {
      this.spec = spec;
    }

    @Override
    public NDList processInput(TranslatorContext ctx, Input in) {
      NDArray x = ctx.getNDManager().create(FloatBuffer.wrap(in.pixels()),
          new Shape(in.n(), spec.height(), spec.width(), 3));
      x.setName(spec.input());
      return new NDList(x);
    }

    @Override
    public Output processOutput(TranslatorContext ctx, NDList list) {
      NDArray features = pick(list, spec.featuresOutput(), 0);
      NDArray scores = spec.scoresOutput() == null ? null : pick(list, spec.scoresOutput(), 1);
      return new Output(rows(features), scores == null ? null : rows(scores));
    }

    private static NDArray pick(NDList list, String name, int fallback) {
      for (NDArray a : list) {
        if (name.equals(a.getName()) || (a.getName() != null && a.getName().startsWith(name + ":"))) {
          return a;
        }
      }
      if (list.size() > fallback && (list.get(fallback).getName() == null || list.get(fallback).getName().isEmpty())) {
        return list.get(fallback);
      }
      StringBuilder names = new StringBuilder();
      list.forEach(a -> names.append(a.getName()).append(' '));
      throw new IllegalStateException("model output '" + name + "' not found; outputs are: " + names);
    }

    private static float[][] rows(NDArray a) {
      Shape s = a.getShape();
      if (s.dimension() != 2) {
        throw new IllegalStateException("expected a [batch, dim] output, got shape " + s);
      }
      int n = (int) s.get(0);
      int d = (int) s.get(1);
      float[] flat = a.toFloatArray();
      float[][] out = new float[n][d];
      for (int i = 0; i < n; i++) {
        System.arraycopy(flat, i * d, out[i], 0, d);
      }
      return out;
    }

    @Override
    public Batchifier getBatchifier() {
      return null;
    }
  }
}
