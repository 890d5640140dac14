package dev.imgmatch.embedder.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The default model is identified by what it is built from, not by the bytes of its conversion (two conversions of
 * the same package wrote the same graph in another byte order, and gave two machines two model versions).
 */
class DefaultModelSpecTest {
  @TempDir
  Path dir;

  @Test
  void theDefaultModelsIdentityIsItsPinnedInputsAndACustomModelsIsItsBytes() throws Exception {
    Path a = Files.createDirectories(dir.resolve("a"));
    Path b = Files.createDirectories(dir.resolve("b"));
    Files.write(a.resolve("saved_model.pb"), new byte[] {1, 2, 3});
    Files.write(b.resolve("saved_model.pb"), new byte[] {3, 2, 1});
    assertThat(DefaultModel.spec(a).weightsDigest()).isEqualTo(DefaultModel.spec(b).weightsDigest())
        .contains(DefaultModel.PACKAGE_SHA256).contains(TfjsToSavedModel.VERSION);
    ModelSpec customA = new ModelSpec("mine", a, "serving_default", "in", "out", null, java.util.List.of(), 224, 224,
        new float[3], new float[] {1, 1, 1});
    ModelSpec customB = new ModelSpec("mine", b, "serving_default", "in", "out", null, java.util.List.of(), 224, 224,
        new float[3], new float[] {1, 1, 1});
    assertThat(customA.weightsDigest()).isNotEqualTo(customB.weightsDigest()).hasSize(64);
  }
}
