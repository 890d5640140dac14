package dev.imgmatch.ingest.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ResizeTest {
  @Test
  void resizesToTheExactSizeWithoutKeepingAspect() {
    int[] px = new int[640 * 120];
    Arrays.fill(px, 0x336699);
    RgbImage out = Resize.to(new RgbImage(640, 120, px), 224, 224);
    assertThat(out.width()).isEqualTo(224);
    assertThat(out.height()).isEqualTo(224);
    assertThat(out.pixels()).containsOnly(0x336699); // weights sum to 1 both when shrinking and enlarging
  }

  @Test
  void shrinkingAveragesTheAreaUnderEachOutputPixel() {
    // 4x1 black, white, black, white -> 2x1: each output covers one black and one white pixel
    RgbImage src = new RgbImage(4, 2, new int[] {0, 0xFFFFFF, 0, 0xFFFFFF, 0, 0xFFFFFF, 0, 0xFFFFFF});
    RgbImage out = Resize.to(src, 2, 1);
    assertThat(out.pixels()).containsExactly(0x808080, 0x808080);
  }

  @Test
  void enlargingInterpolatesBetweenPixelCentres() {
    RgbImage src = new RgbImage(2, 1, new int[] {0x000000, 0xC8C8C8});
    RgbImage out = Resize.to(src, 4, 1);
    assertThat(out.pixels()).containsExactly(0x000000, 0x323232, 0x969696, 0xC8C8C8);
  }
}
