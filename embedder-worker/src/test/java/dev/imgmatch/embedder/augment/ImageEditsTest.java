package dev.imgmatch.embedder.augment;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.embedder.head.TrainingViews;
import dev.imgmatch.testkit.Seeds;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The edits' geometry and their identities, on a seeded generated picture. */
class ImageEditsTest {
  static int[] px(BufferedImage b) {
    return b.getRGB(0, 0, b.getWidth(), b.getHeight(), null, 0, b.getWidth());
  }

  @Test
  void editsKeepOrChangeTheSizeAsTheySayAndUndoThemselvesWhereTheyShould() {
    long seed = Seeds.of("ImageEditsTest", 20261204L);
    Random rnd = new Random(seed);
    BufferedImage img = ImageEdits.copy(TrainingViews.synthetic(rnd, 120, 80));

    assertThat(px(ImageEdits.hflip(ImageEdits.hflip(img)))).isEqualTo(px(img));
    assertThat(px(ImageEdits.vflip(ImageEdits.vflip(img)))).isEqualTo(px(img));
    BufferedImage r = img;
    for (int i = 0; i < 4; i++) {
      r = ImageEdits.rotate90(r);
      assertThat(r.getWidth()).isEqualTo(i % 2 == 0 ? 80 : 120);
    }
    assertThat(px(r)).as("four quarter turns").isEqualTo(px(img));
    assertThat(px(ImageEdits.color(img, 0, 1, 1, new double[] {1, 1, 1}))).as("neutral colour edit").isEqualTo(px(img));
    assertThat(px(ImageEdits.color(img, 300, 1, 1, new double[] {1, 1, 1}))).as("saturates to white")
        .containsOnly(0xFFFFFFFF);

    BufferedImage wide = ImageEdits.letterbox(img, true, 0.5, Color.BLACK);
    assertThat(wide.getWidth()).isEqualTo(180);
    assertThat(wide.getHeight()).isEqualTo(80);
    assertThat(wide.getRGB(0, 40) & 0xFFFFFF).isZero();
    BufferedImage framed = ImageEdits.frame(img, 7, Color.WHITE);
    assertThat(framed.getWidth()).isEqualTo(134);
    assertThat(framed.getRGB(0, 0) & 0xFFFFFF).isEqualTo(0xFFFFFF);

    BufferedImage crop = ImageEdits.crop(img, 0.25, new Random(seed));
    assertThat(crop.getWidth() * crop.getHeight()).isBetween(120 * 80 / 8, 120 * 80 / 2);
    assertThat(ImageEdits.scale(img, 0.01).getWidth()).as("at least 8 px").isEqualTo(8);
    assertThat(ImageEdits.fit(img, 60).getWidth()).isEqualTo(60);
    assertThat(ImageEdits.fit(img, 1000).getWidth()).as("never up").isEqualTo(120);
    BufferedImage blocky = ImageEdits.pixelate(img, 0.1);
    assertThat(blocky.getRGB(0, 0)).isEqualTo(blocky.getRGB(1, 1)); // a 12 x 8 picture blown up: 10 px blocks

    // blurs and noise keep the size; a flat picture stays flat under any blur
    BufferedImage flat = ImageEdits.letterbox(ImageEdits.scale(img, 0.1), false, 0, Color.GRAY);
    BufferedImage grey = ImageEdits.color(flat, 0, 0, 1, new double[] {1, 1, 1}); // contrast 0: all mid-grey
    assertThat(px(ImageEdits.blur(grey, 3))).isEqualTo(px(grey));
    assertThat(px(ImageEdits.boxBlur5(grey))).isEqualTo(px(grey));
    assertThat(ImageEdits.gaussianNoise(img, 10, new Random(seed)).getWidth()).isEqualTo(120);
    assertThat(ImageEdits.jpeg(img, 50).getHeight()).isEqualTo(80);
    BufferedImage pasted = ImageEdits.paste(img, new Random(seed));
    assertThat(pasted.getWidth()).isEqualTo(320);
  }
}
