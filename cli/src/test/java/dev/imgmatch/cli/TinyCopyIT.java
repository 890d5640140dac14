package dev.imgmatch.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.cli.samples.SampleImages;
import dev.imgmatch.cli.stack.LocalStack;
import dev.imgmatch.client.AlertWatcher;
import dev.imgmatch.client.Uploader;
import dev.imgmatch.embedder.augment.ImageEdits;
import dev.imgmatch.testkit.KafkaBroker;
import dev.imgmatch.testkit.KafkaBrokerExtension;
import dev.imgmatch.testkit.Seeds;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18 (tiny copies), end to end on the real pipeline (the test broker, ingest-stream, the real model and its
 * background set, a Lucene index with layout vectors): protected pictures shrunk to 56 px and edited — mirrored and
 * recoloured, greyed with a caption — are alerted against their originals by their layouts (index-service's
 * {@code Layout.tiny}), although the model ranks another protected picture first for both; an unrelated picture shrunk
 * the same way is not alerted. With {@code match.layout.tiny.max.side=0} neither copy is alerted (checked when the test
 * was written, with {@code -Dimgmatch.test.tiny=0}; not part of the run): no descriptor, hash or keypoint decides a
 * picture of 56 x 42 pixels after such edits.
 */
@ExtendWith(KafkaBrokerExtension.class)
class TinyCopyIT {
  /** The copies' longer side, pixels: under match.layout.tiny.max.side (128). */
  private static final int SIDE = 56;

  @Test
  void tinyEditedCopiesAreAlertedByTheirLayout(KafkaBroker broker, @TempDir Path dir) throws Exception {
    long seed = Seeds.of("TinyCopyIT", 2918L);
    Random rnd = new Random(seed);
    List<BufferedImage> works = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      works.add(SampleImages.original(seed * 31 + i, 480, 360));
    }
    BufferedImage unrelated = SampleImages.original(seed * 31 + 100, 480, 360);
    BufferedImage recoloured = ImageEdits.fit(ImageEdits.color(ImageEdits.hflip(works.get(1)), 10, 1.2, 0.3,
        new double[] {1.1, 1.0, 0.8}), SIDE);
    BufferedImage captioned = ImageEdits.fit(ImageEdits.text(ImageEdits.gray(works.get(5)), rnd), SIDE);

    String prefix = broker.uniqueName("tiny") + ".";
    LocalStack.Options opts = new LocalStack.Options(dir, broker.bootstrapServers(), prefix, 1, -1, Map.of(),
        Map.of(), Map.of("match.layout.tiny.max.side", System.getProperty("imgmatch.test.tiny", "128")), null);
    try (LocalStack stack = LocalStack.start(opts, line -> System.err.println("stack: " + line));
        Uploader up = new Uploader(stack.clientProps(), stack.topics());
        AlertWatcher alerts = new AlertWatcher(stack.clientProps(), stack.topics(), a -> { })) {
      for (int i = 0; i < works.size(); i++) {
        up.send("protected/work" + i, "t", "protected", "it", SampleImages.jpeg(works.get(i), 0.9f), "w.jpg", Map.of())
            .get();
      }
      StackWait.until(() -> stack.index().counters().get("indexed") >= works.size(), stack);
      up.send("uploads/recoloured", "t", "uploads", "it", SampleImages.jpeg(recoloured, 0.85f), "r.jpg", Map.of()).get();
      up.send("uploads/captioned", "t", "uploads", "it", SampleImages.jpeg(captioned, 0.85f), "c.jpg", Map.of()).get();
      up.send("uploads/unrelated", "t", "uploads", "it",
          SampleImages.jpeg(ImageEdits.fit(ImageEdits.gray(unrelated), SIDE), 0.85f), "u.jpg", Map.of()).get();
      StackWait.until(() -> stack.index().counters().get("indexed") >= works.size() + 3, stack);
      StackWait.until(() -> alerts.alerts().stream().filter(a -> a.getImageId().equals("uploads/recoloured")
          || a.getImageId().equals("uploads/captioned")).count() >= 2, stack);
      Thread.sleep(1000); // an alert for the unrelated upload, if any, comes right after its indexing

      List<MatchAlert> got = alerts.alerts();
      Alerts.print("alert", got);
      Alerts.assertAlertedAgainst(got, "uploads/recoloured", "protected/work1");
      Alerts.assertAlertedAgainst(got, "uploads/captioned", "protected/work5");
      assertThat(got).as("the unrelated tiny picture").noneMatch(a -> a.getImageId().equals("uploads/unrelated"));
    }
  }
}
