package dev.imgmatch.cli.eval;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.cli.samples.SampleImages;
import dev.imgmatch.testkit.KafkaBroker;
import dev.imgmatch.testkit.KafkaBrokerExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** calibrate on a few generated photos, through the real pipeline (broker, ingest, model, index). */
@ExtendWith(KafkaBrokerExtension.class)
class CalibrateIT {
  @Test
  void calibrateWritesTheSplitAndThresholdsAboveEveryHeldOutNegative(KafkaBroker broker, @TempDir Path dir)
      throws Exception {
    Path photos = Files.createDirectories(dir.resolve("photos"));
    Path corpus = Files.createDirectories(dir.resolve("corpus"));
    for (int i = 0; i < 6; i++) {
      Files.write(photos.resolve("p" + i + ".jpg"), SampleImages.jpeg(SampleImages.original(700 + i, 480, 360), 0.9f));
    }
    for (int i = 0; i < 3; i++) {
      Files.write(corpus.resolve("c" + i + ".jpg"), SampleImages.jpeg(SampleImages.original(800 + i, 480, 360), 0.9f));
    }
    Path out = dir.resolve("cal");
    CalibrateCommand cmd = new CalibrateCommand();
    int status = new CommandLine(cmd).execute("--bootstrap", broker.bootstrapServers(), "--images", photos.toString(),
        "--corpus", corpus.toString(), "--views", "3", "--held-out", "0.5", "--out", out.toString());
    assertThat(status).isZero();

    // the split: corpus + the 3 indexed photos as references, 3 edits of each of the 6 photos as queries
    try (Stream<Path> refs = Files.list(out.resolve("refs"))) {
      assertThat(refs.map(p -> p.getFileName().toString()).sorted().toList()).hasSize(6)
          .filteredOn(n -> n.startsWith("cal-")).hasSize(3);
    }
    List<String> kinds = Files.readAllLines(out.resolve("queries.csv"));
    assertThat(kinds.stream().skip(1).filter(l -> l.endsWith(",negative"))).hasSizeBetween(1, 9);
    assertThat(Files.readAllLines(out.resolve("PRED.csv")).getFirst()).isEqualTo("query,ref,score,match");

    CalibrateCommand.Calibration c = cmd.last();
    assertThat(c.negatives()).isGreaterThan(0);
    assertThat(c.matchThreshold()).isGreaterThan(c.bestNegative()).isLessThanOrEqualTo(1.0);
    assertThat(c.reviewThreshold()).isLessThanOrEqualTo(c.matchThreshold());
    assertThat(Files.readString(out.resolve("calibration.properties")))
        .contains(String.format(java.util.Locale.ROOT, "match.threshold=%.2f", c.matchThreshold()));
  }
}
