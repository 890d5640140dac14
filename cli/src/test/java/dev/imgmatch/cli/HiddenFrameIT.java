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
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14, item 3, end to end on the real pipeline (the test broker, ingest-stream, the real model, a Lucene index):
 * a picture indexed in 'banned' is found in the second frame of an animated GIF whose first frame is unrelated.
 */
@ExtendWith(KafkaBrokerExtension.class)
class HiddenFrameIT {
  @Test
  void aBannedPictureInTheSecondFrameOfAnAnimatedGifIsFound(KafkaBroker broker, @TempDir Path dir) throws Exception {
    long seed = Seeds.of("HiddenFrameIT", 1403L);
    BufferedImage banned = SampleImages.original(seed, 640, 480);
    BufferedImage cover = SampleImages.original(seed + 1, 640, 480);
    BufferedImage after = SampleImages.original(seed + 2, 640, 480);
    byte[] hiding = gif(List.of(cover, banned, after));
    byte[] innocent = gif(List.of(cover, after));

    String prefix = broker.uniqueName("frames") + ".";
    LocalStack.Options opts = new LocalStack.Options(dir, broker.bootstrapServers(), prefix, 1, -1, Map.of(), Map.of(),
        Map.of());
    try (LocalStack stack = LocalStack.start(opts, line -> System.err.println("stack: " + line));
        Uploader up = new Uploader(stack.clientProps(), stack.topics());
        AlertWatcher alerts = new AlertWatcher(stack.clientProps(), stack.topics(), a -> { })) {
      up.send("banned/pic", "t", "banned", "it", SampleImages.jpeg(banned, 0.9f), "pic.jpg", Map.of()).get();
      StackWait.until(() -> stack.index().counters().get("indexed") >= 1, stack);
      up.send("uploads/hiding.gif", "t", "uploads", "it", hiding, "hiding.gif", Map.of()).get();
      up.send("uploads/innocent.gif", "t", "uploads", "it", innocent, "innocent.gif", Map.of()).get();
      StackWait.until(() -> stack.index().counters().get("indexed") >= 3, stack);
      StackWait.until(() -> alerts.alerts().stream().anyMatch(a -> a.getImageId().equals("uploads/hiding.gif")), stack);
      Thread.sleep(1000); // an alert for the innocent GIF, if any, comes right after its indexing

      assertThat(stack.ingest().counters().get("view.frame")).as("frame views of the two GIFs").isEqualTo(3);
      List<MatchAlert> got = alerts.alerts();
      got.forEach(a -> System.err.println("alert: " + a.getImageId() + " " + a.getDecision() + " " + a.getScore()
          + " ~ " + a.getMatches().getFirst().getImageId() + " cos " + a.getMatches().getFirst().getCosine()));
      assertThat(got).filteredOn(a -> a.getImageId().equals("uploads/hiding.gif")).singleElement()
          .satisfies(a -> assertThat(a.getMatches().getFirst().getImageId()).isEqualTo("banned/pic"));
      assertThat(got).as("the GIF without the banned picture").noneMatch(a -> a.getImageId().equals("uploads/innocent.gif"));
    }
  }

  /** An animated GIF of {@code frames} (the JDK's writer: each frame covers the canvas). */
  private static byte[] gif(List<BufferedImage> frames) throws Exception {
    ImageWriter w = ImageIO.getImageWritersByFormatName("gif").next();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ImageOutputStream out = ImageIO.createImageOutputStream(bytes)) {
      w.setOutput(out);
      w.prepareWriteSequence(null);
      for (BufferedImage f : frames) {
        w.writeToSequence(new IIOImage(f, null, null), null);
      }
      w.endWriteSequence();
    } finally {
      w.dispose();
    }
    return bytes.toByteArray();
  }
}
