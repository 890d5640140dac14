package dev.imgmatch.ingest.image;

import static dev.imgmatch.ingest.image.InsetFinderTest.jpegRoundTrip;
import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.testkit.Seeds;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Undoing a keystone made after a pixelating, on generated pictures through a real JPEG encode and decode. */
public class KeystoneTest {
  private static final long SEED = Seeds.of("KeystoneTest", 20261206L);

  /**
   * {@code img} squeezed towards its centre line, the more the further along: at the far side to {@code 1 / (1 + 2
   * strength)} of its height ({@code across}: of its width, the squeeze varying down the picture), its outside black.
   */
  public static BufferedImage keystone(BufferedImage img, double strength, boolean across, boolean flip) {
    int w = img.getWidth();
    int h = img.getHeight();
    BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        double along = across ? y / (h - 1.0) : x / (w - 1.0);
        double k = 1 + 2 * strength * (flip ? 1 - along : along);
        long sx = across ? Math.round((x - w / 2.0) * k + w / 2.0) : x;
        long sy = across ? y : Math.round((y - h / 2.0) * k + h / 2.0);
        out.setRGB(x, y, sx >= 0 && sx < w && sy >= 0 && sy < h ? img.getRGB((int) sx, (int) sy) : 0);
      }
    }
    return out;
  }

  /** Mean absolute difference of grey level per pixel between two pictures of one size. */
  private static double difference(RgbImage a, RgbImage b) {
    long sum = 0;
    for (int i = 0; i < a.pixels().length; i++) {
      sum += Math.abs(MosaicFinder.luma(a.pixels()[i]) - MosaicFinder.luma(b.pixels()[i]));
    }
    return (double) sum / a.pixels().length;
  }

  @ParameterizedTest(name = "{0}x{1}, strength {2}, across {3}, flipped {4}")
  @CsvSource({
      "320, 240, 0.20, false, false",
      "320, 240, 0.10, false, true",
      "240, 320, 0.25, true, false",
      "640, 360, 0.15, true, true",
  })
  void aKeystoneIsUndoneAndAMosaicPixelatedBeforeItIsFoundAgain(int w, int h, double strength, boolean across,
      boolean flip) throws Exception {
    BufferedImage photo = InsetFinderTest.detailed(w, h, SEED + w + (across ? 1 : 0));
    RgbImage original = jpegRoundTrip(photo);
    RgbImage warped = jpegRoundTrip(keystone(photo, strength, across, flip));
    RgbImage unwarped = across ? Keystone.rows(warped) : Keystone.columns(warped);
    assertThat(unwarped).as("undone").isNotNull();
    assertThat(difference(unwarped, original)).as("back to the original, up to rounding and JPEG")
        .isLessThan(0.5 * difference(warped, original));
    assertThat(across ? Keystone.columns(warped) : Keystone.rows(warped)).as("no fill the other way").isNull();

    // pixelated, then warped: the grid is bent out of the finder's reach, and lines up again once undone
    int cells = w / 12;
    BufferedImage mosaic = MosaicFinderTest.pixelate(photo, cells);
    RgbImage warpedMosaic = jpegRoundTrip(keystone(mosaic, strength, across, flip));
    assertThat(MosaicFinder.DEFAULT.find(warpedMosaic)).as("warped: no grid").isNull();
    RgbImage blocks = MosaicFinder.DEFAULT.find(across ? Keystone.rows(warpedMosaic) : Keystone.columns(warpedMosaic));
    assertThat(blocks).as("unwarped: the grid").isNotNull();
    assertThat(blocks.width()).isBetween(cells - 1, cells + 1);
    int rows = Math.round(h * cells / (float) w);
    assertThat(blocks.height()).isBetween(rows - 1, rows + 1);
  }

  @Test
  void picturesWithoutAKeystonesFillAreLeftAlone() throws Exception {
    int w = 320;
    int h = 240;
    BufferedImage photo = InsetFinderTest.detailed(w, h, SEED);
    assertThat(Keystone.columns(jpegRoundTrip(photo))).as("no fill").isNull();
    assertThat(Keystone.rows(jpegRoundTrip(photo))).as("no fill").isNull();

    // a letterbox: black bars of one depth (BorderTrim's, not a warp)
    BufferedImage letterbox = InsetFinderTest.detailed(w, h, SEED); // the same picture, drawn on
    Graphics2D g = letterbox.createGraphics();
    g.setColor(Color.BLACK);
    g.fillRect(0, 0, w, 30);
    g.fillRect(0, h - 30, w, 30);
    g.dispose();
    assertThat(Keystone.columns(jpegRoundTrip(letterbox))).as("letterbox").isNull();

    // black shapes along the top edge, of no regular outline
    BufferedImage blots = InsetFinderTest.detailed(w, h, SEED);
    g = blots.createGraphics();
    g.setColor(Color.BLACK);
    Random r = new Random(SEED);
    for (int x = 0; x < w; x += 20) {
      g.fillRect(x, 0, 20, r.nextInt(h / 2));
    }
    g.dispose();
    assertThat(Keystone.columns(jpegRoundTrip(blots))).as("blots").isNull();

    // all black, and a warp that leaves too little of the picture
    assertThat(Keystone.columns(jpegRoundTrip(new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB)))).isNull();
    assertThat(Keystone.columns(jpegRoundTrip(keystone(photo, 1.5, false, false)))).as("a sliver left").isNull();
  }

  @Test
  void degeneratePicturesAreLeftAloneWithoutFailing() {
    for (int[] size : new int[][] {{1, 1}, {8, 1}, {1, 8}, {3, 200}, {200, 3}, {9, 9}}) {
      int w = size[0];
      int h = size[1];
      int[] black = new int[w * h];
      int[] halfBlack = new int[w * h];
      for (int i = 0; i < halfBlack.length; i++) {
        halfBlack[i] = i % w < w / 2 ? 0 : 0x808080;
      }
      for (int[] px : new int[][] {black, halfBlack}) {
        RgbImage img = new RgbImage(w, h, px);
        RgbImage c = Keystone.columns(img);
        RgbImage r = Keystone.rows(img);
        if (c != null) {
          assertThat(c.width()).isEqualTo(w);
          assertThat(c.height()).isEqualTo(h);
        }
        if (r != null) {
          assertThat(r.width()).isEqualTo(w);
          assertThat(r.height()).isEqualTo(h);
        }
        assertThat(Keystone.columns(new RgbImage(w, h, new int[w * h]))).as("all black, %dx%d", w, h).isNull();
      }
    }
  }
}
