package dev.imgmatch.ingest.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.imgmatch.common.GrayThumb;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class GrayThumbnailsTest {
  @Test
  void theLongerSideBecomesTheSizeWithTheAspectKeptAndLumaWeights() {
    int[] red = new int[300 * 100];
    Arrays.fill(red, 0xFF0000);
    GrayThumb t = GrayThumbnails.of(new RgbImage(300, 100, red), 64);
    assertThat(t.width()).isEqualTo(64);
    assertThat(t.height()).isEqualTo(21);
    assertThat(t.gray()).hasSize(64 * 21);
    assertThat(t.gray()[0] & 0xFF).as("0.299 * 255").isEqualTo(76);
    int[] tall = new int[50 * 200];
    Arrays.fill(tall, 0x00FF00);
    GrayThumb u = GrayThumbnails.of(new RgbImage(50, 200, tall), 64);
    assertThat(u.width()).isEqualTo(16);
    assertThat(u.height()).isEqualTo(64);
    assertThat(u.gray()[5] & 0xFF).as("0.587 * 255").isEqualTo(150);
  }

  @Test
  void aSmallImageIsNeverEnlargedAndBadSizesAreRefused() {
    GrayThumb t = GrayThumbnails.of(new RgbImage(20, 10, new int[200]), 64);
    assertThat(t.width()).isEqualTo(20);
    assertThat(t.height()).isEqualTo(10);
    assertThatThrownBy(() -> GrayThumbnails.of(new RgbImage(20, 10, new int[200]), 0)).hasMessageContaining("1-255");
    assertThatThrownBy(() -> new GrayThumb(3, 3, new byte[8])).hasMessageContaining("3x3");
  }
}
