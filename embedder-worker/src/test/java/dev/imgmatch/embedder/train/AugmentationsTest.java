package dev.imgmatch.embedder.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class AugmentationsTest {
  static BufferedImage photo(long seed) {
    Random r = new Random(seed);
    BufferedImage img = new BufferedImage(300, 200, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    for (int i = 0; i < 30; i++) {
      g.setColor(new Color(r.nextInt(1 << 24)));
      g.fillRect(r.nextInt(300), r.nextInt(200), 10 + r.nextInt(120), 10 + r.nextInt(80));
    }
    g.dispose();
    return img;
  }

  private static int[] px(BufferedImage i) {
    return i.getRGB(0, 0, i.getWidth(), i.getHeight(), null, 0, i.getWidth());
  }

  @Test
  void everyFamilyMakesAPictureThatDiffersFromTheOriginal() {
    long seed = 7;
    System.err.println("AugmentationsTest seed " + seed);
    BufferedImage base = photo(seed);
    for (Augmentations.Family f : Augmentations.Family.values()) {
      BufferedImage out = Augmentations.edit(base, f, new Random(seed));
      assertThat(out.getWidth()).as(f.name()).isPositive();
      assertThat(out.getHeight()).as(f.name()).isPositive();
      boolean same = out.getWidth() == base.getWidth() && out.getHeight() == base.getHeight()
          && java.util.Arrays.equals(px(out), px(base));
      assertThat(same).as("%s changes the picture", f).isFalse();
    }
    BufferedImage rot = Augmentations.edit(base, Augmentations.Family.ROT90, new Random(1));
    assertThat(List.of(rot.getWidth(), rot.getHeight())).containsAnyOf(200, 300);
    BufferedImage paste = Augmentations.edit(base, Augmentations.Family.PASTE_SMALL, new Random(3));
    assertThat(paste.getWidth()).as("a small copy inside a larger canvas").isEqualTo(320);
  }

  @Test
  void viewsAreSeededAndStartWithTheOriginal() {
    BufferedImage base = photo(11);
    List<BufferedImage> a = Augmentations.views(base, 6, new Random(42));
    List<BufferedImage> b = Augmentations.views(base, 6, new Random(42));
    List<BufferedImage> c = Augmentations.views(base, 6, new Random(43));
    assertThat(a).hasSize(6);
    assertThat(px(a.get(0))).isEqualTo(px(Augmentations.fit(base, 320)));
    for (int i = 0; i < 6; i++) {
      assertThat(px(a.get(i))).as("view %d, same seed", i).isEqualTo(px(b.get(i)));
    }
    boolean anyDiffers = false;
    for (int i = 1; i < 6; i++) {
      anyDiffers |= a.get(i).getWidth() != c.get(i).getWidth() || !java.util.Arrays.equals(px(a.get(i)), px(c.get(i)));
    }
    assertThat(anyDiffers).as("another seed, other views").isTrue();
  }
}
