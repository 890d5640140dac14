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
  void rowAtATimeGivesTheWholePlanesPixelsBitForBit() {
    long seed = Long.getLong("imgmatch.test.seed", 20261204L);
    System.out.println("ResizeTest seed " + seed + " (-Dimgmatch.test.seed to override)");
    java.util.Random rnd = new java.util.Random(seed);
    for (int trial = 0; trial < 100; trial++) {
      int w = 1 + rnd.nextInt(300);
      int h = 1 + rnd.nextInt(300);
      int[] px = new int[w * h];
      for (int i = 0; i < px.length; i++) {
        px[i] = rnd.nextInt(0x1000000);
      }
      RgbImage src = new RgbImage(w, h, px);
      int tw = 1 + rnd.nextInt(trial % 2 == 0 ? 300 : 64); // enlarging, shrinking and both at once
      int th = 1 + rnd.nextInt(trial % 3 == 0 ? 300 : 64);
      assertThat(Resize.to(src, tw, th).pixels()).as("%dx%d to %dx%d", w, h, tw, th)
          .isEqualTo(Resize.toWholePlanes(src, tw, th).pixels());
    }
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
