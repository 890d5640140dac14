package dev.imgmatch.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.cli.samples.SampleImages;
import dev.imgmatch.cli.stack.LocalStack;
import dev.imgmatch.client.AlertWatcher;
import dev.imgmatch.client.Uploader;
import dev.imgmatch.testkit.KafkaBroker;
import dev.imgmatch.testkit.KafkaBrokerExtension;
import dev.imgmatch.testkit.Seeds;
import dev.imgmatch.testkit.TexturedPictures;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18, item 1, end to end on the real pipeline (the test broker, ingest-stream extracting local features, the
 * real model, a Lucene index with visual words): a protected picture pasted small into another picture is alerted
 * against it by local verification; an unrelated picture is not.
 */
@ExtendWith(KafkaBrokerExtension.class)
class PastedCopyIT {
  @Test
  void aProtectedPicturePastedSmallIntoAnotherIsAlertedAgainstIt(KafkaBroker broker, @TempDir Path dir)
      throws Exception {
    Random rnd = new Random(Seeds.of("PastedCopyIT", 1801L));
    BufferedImage work = TexturedPictures.random(rnd, 640, 480);
    BufferedImage pasted = TexturedPictures.pasted(work, TexturedPictures.random(rnd, 640, 480), 0.25, rnd);
    BufferedImage unrelated = TexturedPictures.random(rnd, 640, 480);
    // other works of the same (synthetic) style in the index, as any real index holds: these generated pictures
    // reach cosine 0.5-0.7 with each other, which unrelated photos do not, and with one work alone the margin assumes
    // its floor (0.40) for the competition — under seed 13 the unrelated upload was a MATCH at cosine 0.72, and the
    // pasted copy was decided by its descriptor, not placed. With them the copy is placed (77-112 inliers, seeds
    // 11-16 and the default) and the unrelated upload alerts nothing.
    List<BufferedImage> others = List.of(TexturedPictures.random(rnd, 640, 480), TexturedPictures.random(rnd, 640, 480),
        TexturedPictures.random(rnd, 640, 480));

    String prefix = broker.uniqueName("pasted") + ".";
    LocalStack.Options opts = new LocalStack.Options(dir, broker.bootstrapServers(), prefix, 1, -1,
        Map.of("ingest.local.features", "true"), Map.of(), Map.of());
    try (LocalStack stack = LocalStack.start(opts, line -> System.err.println("stack: " + line));
        Uploader up = new Uploader(stack.clientProps(), stack.topics());
        AlertWatcher alerts = new AlertWatcher(stack.clientProps(), stack.topics(), a -> { })) {
      up.send("protected/work", "t", "protected", "it", SampleImages.jpeg(work, 0.9f), "work.jpg", Map.of()).get();
      for (int i = 0; i < others.size(); i++) {
        up.send("protected/other" + i, "t", "protected", "it", SampleImages.jpeg(others.get(i), 0.9f), "o.jpg",
            Map.of()).get();
      }
      StackWait.until(() -> stack.index().counters().get("indexed") >= 1 + others.size(), stack);
      up.send("uploads/pasted", "t", "uploads", "it", SampleImages.jpeg(pasted, 0.85f), "pasted.jpg", Map.of()).get();
      up.send("uploads/unrelated", "t", "uploads", "it", SampleImages.jpeg(unrelated, 0.85f), "u.jpg", Map.of()).get();
      StackWait.until(() -> stack.index().counters().get("indexed") >= 3 + others.size(), stack);
      StackWait.until(() -> alerts.alerts().stream().anyMatch(a -> a.getImageId().equals("uploads/pasted")), stack);
      Thread.sleep(1000); // an alert for the unrelated upload, if any, comes right after its indexing

      assertThat(stack.ingest().counters().get("local.features")).as("features of every picture")
          .isEqualTo(3 + others.size());
      List<MatchAlert> got = alerts.alerts();
      got.forEach(a -> System.err.println("alert: " + a.getImageId() + " " + a.getDecision() + " " + a.getScore()
          + " ~ " + a.getMatches().getFirst().getImageId() + " cos " + a.getMatches().getFirst().getCosine()
          + " inliers " + a.getMatches().getFirst().getLocalInliers()));
      assertThat(got).filteredOn(a -> a.getImageId().equals("uploads/pasted")).singleElement()
          .satisfies(a -> assertThat(a.getMatches()).extracting(m -> m.getImageId().toString())
              .containsExactly("protected/work"))
          .satisfies(a -> assertThat(a.getMatches().getFirst().getLocalInliers()).as("placed by its keypoints")
              .isNotNull());
      assertThat(got).as("the unrelated upload").noneMatch(a -> a.getImageId().equals("uploads/unrelated"));
    }
  }
}
