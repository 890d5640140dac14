package dev.imgmatch.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.imgmatch.ingest.image.ImageDecoder;
import dev.imgmatch.ingest.image.ImageLimits;
import dev.imgmatch.ingest.image.RgbImage;
import dev.imgmatch.schemas.Limits;
import dev.imgmatch.testkit.Seeds;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class ColourPreviewsTest {
  private static final long SEED = Seeds.of("ColourPreviewsTest", 20260516L);

  @Test
  void theLongerSideIsTheSizeAspectKeptNeverEnlarged() {
    assertThat(ColourPreviews.dimensions(4000, 3000, 320)).containsExactly(320, 240);
    assertThat(ColourPreviews.dimensions(3000, 4000, 320)).containsExactly(240, 320);
    assertThat(ColourPreviews.dimensions(10000, 10, 320)).as("never 0 px").containsExactly(320, 1);
    assertThat(ColourPreviews.dimensions(200, 100, 320)).as("small images keep their size").containsExactly(200, 100);
    assertThat(ColourPreviews.dimensions(321, 321, 320)).containsExactly(320, 320);
  }

  @Test
  void aPreviewIsADecodableColourJpegOfThatSize() throws Exception {
    Random rnd = new Random(SEED);
    int w = 1200 + rnd.nextInt(800);
    int h = 700 + rnd.nextInt(400);
    RgbImage img = new ImageDecoder(ImageLimits.defaults()).decode(TestImages.jpeg(w, h, SEED)).oriented();
    ColourPreviews.Preview p = new ColourPreviews(320, 0.8, Limits.MAX_PREVIEW_BYTES).of(img);
    assertThat(p.tooLarge()).isFalse();
    assertThat(p.width()).isEqualTo(320);
    assertThat(p.height()).isEqualTo(ColourPreviews.dimensions(w, h, 320)[1]);
    assertThat(p.bytes()).isEqualTo(p.jpeg().length).isLessThanOrEqualTo(Limits.MAX_PREVIEW_BYTES);
    BufferedImage back = ImageIO.read(new ByteArrayInputStream(p.jpeg()));
    assertThat(back.getWidth()).isEqualTo(p.width());
    assertThat(back.getHeight()).isEqualTo(p.height());
    assertThat(back.getColorModel().getNumColorComponents()).as("colour, not greyscale").isEqualTo(3);
  }

  @Test
  void aPreviewOverItsByteLimitIsLeftOutNotCut() {
    Random rnd = new Random(SEED + 1);
    int[] noise = new int[600 * 600];
    for (int i = 0; i < noise.length; i++) {
      noise[i] = rnd.nextInt(0x1000000);
    }
    ColourPreviews.Preview p = new ColourPreviews(600, 1.0, 16 * 1024).of(new RgbImage(600, 600, noise));
    assertThat(p.tooLarge()).isTrue();
    assertThat(p.jpeg()).isNull();
    assertThat(p.bytes()).isGreaterThan(16 * 1024);
  }

  @Test
  void settingsOutOfRangeAreRefusedNamingTheValue() {
    assertThatThrownBy(() -> new ColourPreviews(0, 0.8, 1000)).hasMessageContaining("got 0");
    assertThatThrownBy(() -> new ColourPreviews(320, 1.5, 1000)).hasMessageContaining("1.5");
    assertThatThrownBy(() -> new ColourPreviews(320, 0.8, Limits.MAX_PREVIEW_BYTES + 1))
        .hasMessageContaining(String.valueOf(Limits.MAX_PREVIEW_BYTES + 1));
  }
}
