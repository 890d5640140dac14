package dev.imgmatch.embedder.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.imgmatch.embedder.EmbedderOptions;
import dev.imgmatch.embedder.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Golden values of the converted default model (built from npm nsfwjs@4.4.0 into the cache) on a fixture picture
 * generated in code: vector length, the first raw feature components and the five class probabilities, with
 * tolerances (TensorFlow's CPU kernels may round differently on other CPUs).
 */
class DefaultModelIT {
  static ModelSpec spec;
  static SavedModelRunner runner;

  @BeforeAll
  static void build() {
    Path cache = EmbedderOptions.defaultCacheDir();
    spec = DefaultModel.ensure(cache, m -> System.err.println("[model] " + m));
    runner = SavedModelRunner.load(spec, cache);
  }

  private static SavedModelRunner.Output run(RgbImage img) throws Exception {
    float[] px = new float[spec.width() * spec.height() * 3];
    ImageOps.toModelInput(img, spec.width(), spec.height(), spec.mean(), spec.std(), px, 0);
    return runner.run(new SavedModelRunner.Input(1, px));
  }

  @Test
  void convertedModelIsCachedWithItsProvenance() throws Exception {
    assertThat(spec.path()).isDirectory();
    assertThat(spec.path().resolve("saved_model.pb")).isRegularFile();
    Path dir = spec.path().getParent();
    assertThat(dir.resolve(".complete")).exists();
    assertThat(Files.readString(dir.resolve("SOURCE.txt"))).contains("nsfwjs@4.4.0", TfjsToSavedModel.VERSION);
    // the same inputs give the same folder: a second ensure does not rebuild
    assertThat(DefaultModel.ensure(EmbedderOptions.defaultCacheDir(), m -> { }).path()).isEqualTo(spec.path());
  }

  @Test
  void pinsFeaturesAndClassProbabilitiesOnTheFixturePicture() throws Exception {
    SavedModelRunner.Output out = run(Fixtures.picture(3, 256, 256));
    float[] f = out.features()[0];
    float[] p = out.scores()[0];
    System.err.println("features[0..8] = " + Arrays.toString(Arrays.copyOf(f, 8)));
    System.err.println("probabilities = " + Arrays.toString(p));
    assertThat(f).hasSize(DefaultModel.DIM);
    for (float v : f) {
      assertThat(v).isBetween(0f, 6f); // post-ReLU6, average-pooled
    }
    float[] expected = GOLDEN_FEATURES;
    for (int i = 0; i < expected.length; i++) {
      assertThat(f[i]).as("feature %d", i).isCloseTo(expected[i], within(2e-3f + 2e-3f * Math.abs(expected[i])));
    }
    assertThat(p).hasSize(5);
    double sum = 0;
    for (int i = 0; i < 5; i++) {
      sum += p[i];
      assertThat(p[i]).as("probability of %s", DefaultModel.CLASSES.get(i)).isCloseTo(GOLDEN_PROBS[i], within(2e-3f));
    }
    assertThat(sum).isCloseTo(1.0, within(1e-4));
  }

  @Test
  void batchesGiveTheSameRowsAsSinglePictures() throws Exception {
    List<RgbImage> imgs = List.of(Fixtures.picture(1, 300, 200), Fixtures.picture(2, 224, 224));
    int per = spec.width() * spec.height() * 3;
    float[] px = new float[per * 2];
    for (int i = 0; i < 2; i++) {
      ImageOps.toModelInput(imgs.get(i), spec.width(), spec.height(), spec.mean(), spec.std(), px, i * per);
    }
    SavedModelRunner.Output both = runner.run(new SavedModelRunner.Input(2, px));
    for (int i = 0; i < 2; i++) {
      float[] single = run(imgs.get(i)).features()[0];
      for (int k = 0; k < single.length; k += 97) {
        assertThat(both.features()[i][k]).isCloseTo(single[k], within(1e-3f));
      }
    }
  }

  /** Measured on Temurin 25, TensorFlow 2.16.1 CPU (oneDNN), converter tfjs2sm-1. */
  static final float[] GOLDEN_FEATURES = {3.2126567f, 0.10473254f, 0.123021476f, 0.0f, 0.0f, 0.13401882f, 0.34846455f,
      0.85061234f};
  static final float[] GOLDEN_PROBS = {0.0031216433f, 7.409696E-5f, 0.9967938f, 4.6812593E-6f, 5.7277502E-6f};
}
