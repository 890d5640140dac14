package dev.imgmatch.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.embedder.Embedder;
import dev.imgmatch.embedder.EmbedderOptions;
import dev.imgmatch.embedder.head.LinearHead;
import dev.imgmatch.embedder.head.TrainingViews;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code train} end to end on a handful of generated pictures with the real model (small: a test, not a benchmark). */
class TrainCommandIT {
  private record Run(int rc, String out, String err) {}

  private static Run train(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    TrainCommand cmd = new TrainCommand();
    cmd.stdout = new PrintStream(out, true, StandardCharsets.UTF_8);
    cmd.err = new PrintStream(err, true, StandardCharsets.UTF_8);
    int rc = new CommandLine(cmd).execute(args);
    String e = err.toString(StandardCharsets.UTF_8);
    System.err.println(e);
    return new Run(rc, out.toString(StandardCharsets.UTF_8), e);
  }

  @Test
  void writesAComposedHeadTheEmbedderUsesAndReportsHeldOutQuality(@TempDir Path dir) throws Exception {
    long seed = 20261122L;
    System.err.println("TrainCommandIT pictures seed " + seed);
    Embedder.open(EmbedderOptions.defaults(), m -> System.err.println("[model] " + m)).close(); // model in the cache
    Path images = Files.createDirectories(dir.resolve("train"));
    Path corpus = Files.createDirectories(dir.resolve("corpus"));
    Random rnd = new Random(seed);
    for (int i = 0; i < 10; i++) {
      ImageIO.write(TrainingViews.synthetic(rnd, 200 + rnd.nextInt(100), 160 + rnd.nextInt(100)), "png",
          images.resolve("p" + i + ".png").toFile());
    }
    for (int i = 0; i < 6; i++) {
      ImageIO.write(TrainingViews.synthetic(rnd, 240, 180), "png", corpus.resolve("c" + i + ".png").toFile());
    }
    Path head = dir.resolve("a.head");
    Path pca = dir.resolve("a-pca.head");
    Run a = train("--images", images.toString(), "--corpus", corpus.toString(), "--out", head.toString(),
        "--pca-out", pca.toString(), "--dims", "8", "--views", "4", "--epochs", "2", "--seed", "1",
        "--feature-cache", dir.resolve("features").toString());
    assertThat(a.rc()).isZero();
    assertThat(a.err()).contains("8 for fitting, 2 held out").contains("view->original recall@1")
        .contains("PCA-whitening + learned projection").contains("best-negative cosine");
    LinearHead learned = LinearHead.read(head);
    LinearHead pcaOnly = LinearHead.read(pca);
    assertThat(learned.kind()).isEqualTo("pcaw8.ml");
    assertThat(pcaOnly.kind()).isEqualTo("pcaw8");
    assertThat(learned.inputDim()).isEqualTo(1792);
    assertThat(learned.outputDim()).isEqualTo(8);
    assertThat(learned.provenance()).contains("ntxent epochs=2").contains("seed=1");
    assertThat(a.out()).contains(learned.version());

    Run again = train("--images", images.toString(), "--corpus", corpus.toString(), "--out", head.toString(),
        "--dims", "8", "--views", "4", "--epochs", "2", "--seed", "1", "--feature-cache",
        dir.resolve("features").toString());
    assertThat(again.err()).as("second run reuses the cached features").contains("features read from");
    assertThat(LinearHead.read(head).version()).as("same data and parameters, same head").isEqualTo(learned.version());

    Path other = dir.resolve("b.head");
    assertThat(train("--images", images.toString(), "--out", other.toString(), "--dims", "8", "--views", "4",
        "--epochs", "2", "--seed", "2").rc()).isZero();
    assertThat(LinearHead.read(other).version()).as("other data and seed, other version")
        .isNotEqualTo(learned.version());

    try (Embedder e = Embedder.open(EmbedderOptions.defaults().withHead(head.toString()), System.err::println)) {
      assertThat(e.dim()).isEqualTo(8);
      assertThat(e.modelVersion()).startsWith(learned.version() + ".m");
      float[] v = e.embed(ImageIO.read(images.resolve("p0.png").toFile())).vector();
      double n = 0;
      for (float x : v) {
        n += x * x;
      }
      assertThat(n).isCloseTo(1.0, org.assertj.core.api.Assertions.within(1e-4));
    }
  }

  @Test
  void badArgumentsAreAUsageError(@TempDir Path dir) {
    assertThat(train("--images", dir.toString(), "--out", dir.resolve("x.head").toString(), "--views", "1").rc())
        .isEqualTo(2);
  }
}
