package dev.imgmatch.ingest.image;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.ingest.TestImages;
import dev.imgmatch.testkit.Seeds;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** Border detection on generated pictures, through a real encode and decode (JPEG noise included). */
public class BorderTrimTest {
  private static final ImageDecoder DECODER = new ImageDecoder(ImageLimits.defaults());
  private static final long SEED = Seeds.of("BorderTrimTest", 20261205L);

  /** A textured picture (shapes, gradient and per-pixel noise, as photos have): no edge of it is uniform. */
  public static BufferedImage content(int w, int h, long seed) {
    BufferedImage img = TestImages.picture(w, h, seed);
    Random r = new Random(seed);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int p = img.getRGB(x, y);
        int n = r.nextInt(81) - 40;
        int red = clamp(((p >> 16) & 0xFF) + n);
        int green = clamp(((p >> 8) & 0xFF) + n);
        int blue = clamp((p & 0xFF) + n);
        img.setRGB(x, y, red << 16 | green << 8 | blue);
      }
    }
    return img;
  }

  private static int clamp(int v) {
    return Math.max(0, Math.min(255, v));
  }

  /** {@code inner} on a canvas of {@code colour} with the given margins. */
  public static BufferedImage framed(BufferedImage inner, int colour, int top, int bottom, int left, int right) {
    BufferedImage img = new BufferedImage(inner.getWidth() + left + right, inner.getHeight() + top + bottom,
        BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setColor(new Color(colour));
    g.fillRect(0, 0, img.getWidth(), img.getHeight());
    g.drawImage(inner, left, top, null);
    g.dispose();
    return img;
  }

  private static RgbImage decode(BufferedImage img, String format) throws ImageRejectedException {
    byte[] bytes = format.equals("jpeg") ? TestImages.jpeg(img, 0.75f) : TestImages.encode(img, format);
    return DECODER.decode(bytes).oriented();
  }

  @ParameterizedTest(name = "{0} #{1} margins {2}/{3}/{4}/{5}")
  @CsvSource({
      "png, 000000, 40, 40, 0, 0", // letterbox
      "jpeg, 000000, 40, 40, 0, 0",
      "jpeg, 000000, 0, 0, 56, 56", // pillarbox
      "png, FFFFFF, 12, 12, 12, 12", // a white frame
      "jpeg, FFFFFF, 12, 12, 12, 12",
      "jpeg, 3366CC, 24, 8, 60, 16", // a coloured canvas, uneven
      "png, 808080, 0, 33, 0, 0", // padding on one side only
      "jpeg, 10F020, 17, 0, 0, 41"})
  void trimsUniformMarginsOfAnyColourAndWidth(String format, String colour, int top, int bottom, int left,
      int right) throws Exception {
    long seed = SEED ^ (top * 31L + left);
    BufferedImage img = framed(content(320, 240, seed), Integer.parseInt(colour, 16), top, bottom, left, right);
    RgbImage rgb = decode(img, format);
    BorderTrim.Region r = BorderTrim.DEFAULT.find(rgb);
    // exact on lossless pictures; JPEG may leave up to one 16x16 MCU of ringing next to the content (4:2:0
    // chroma blocks span 16 px: a line touched by the ringing is not uniform), and never trims into the content
    int slack = format.equals("png") ? 0 : 16;
    int cutTop = r.y();
    int cutLeft = r.x();
    int cutBottom = rgb.height() - r.y() - r.height();
    int cutRight = rgb.width() - r.x() - r.width();
    assertThat(cutTop).as("top, seed %d", seed).isBetween(Math.max(0, top - slack), top);
    assertThat(cutBottom).as("bottom, seed %d", seed).isBetween(Math.max(0, bottom - slack), bottom);
    assertThat(cutLeft).as("left, seed %d", seed).isBetween(Math.max(0, left - slack), left);
    assertThat(cutRight).as("right, seed %d", seed).isBetween(Math.max(0, right - slack), right);
    assertThat(r.isWhole(rgb)).isFalse();
  }

  @ParameterizedTest
  @CsvSource({"png", "jpeg"})
  void aPictureWithoutBorderIsKeptWhole(String format) throws Exception {
    for (int i = 0; i < 5; i++) {
      RgbImage rgb = decode(content(300, 200, SEED + i), format);
      assertThat(BorderTrim.DEFAULT.find(rgb).isWhole(rgb)).as("seed %d", SEED + i).isTrue();
    }
  }

  @Test
  void aPictureDarkAtOneEdgeLosesAtMostTheCap() throws Exception {
    // a black band over the bottom 40% with a sharp edge (a dark wall under a bright scene) looks like a
    // letterbox bar: at most 30% of the height goes
    BufferedImage img = content(300, 300, SEED);
    Graphics2D g = img.createGraphics();
    g.setColor(Color.BLACK);
    g.fillRect(0, 180, 300, 120);
    g.dispose();
    RgbImage rgb = decode(img, "png");
    assertThat(BorderTrim.DEFAULT.find(rgb)).isEqualTo(new BorderTrim.Region(0, 0, 300, 300 - 90));
    // dark over more than half of the side: content, not a margin
    g = img.createGraphics();
    g.setColor(Color.BLACK);
    g.fillRect(0, 120, 300, 180);
    g.dispose();
    rgb = decode(img, "png");
    assertThat(BorderTrim.DEFAULT.find(rgb).isWhole(rgb)).isTrue();
  }

  @Test
  void anObjectOnAPlainBackgroundOrASkyGradientIsNotABorder() throws Exception {
    for (String format : new String[] {"png", "jpeg"}) {
      // clipart: a disc on white; the background meets it along a curve, never along a straight edge
      BufferedImage clip = framed(new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB), 0xFFFFFF, 0, 299, 0, 299);
      Graphics2D g = clip.createGraphics();
      g.setColor(new Color(0xCC3311));
      g.fillOval(75, 75, 150, 150);
      g.dispose();
      clip.setRGB(0, 0, 0xFFFFFF);
      RgbImage rgb = decode(clip, format);
      assertThat(BorderTrim.DEFAULT.find(rgb).isWhole(rgb)).as(format).isTrue();
      // a sky: a smooth vertical gradient over the top half, then a textured landscape
      BufferedImage sky = content(300, 300, SEED);
      for (int y = 0; y < 150; y++) {
        int c = new Color(120 + y * 60 / 150, 170 + y * 40 / 150, 235).getRGB();
        for (int x = 0; x < 300; x++) {
          sky.setRGB(x, y, c);
        }
      }
      rgb = decode(sky, format);
      assertThat(BorderTrim.DEFAULT.find(rgb).isWhole(rgb)).as(format).isTrue();
    }
  }

  @Test
  void aUniformPictureIsNotTrimmed() throws Exception {
    for (int colour : new int[] {0x000000, 0xFFFFFF, 0x7F3355}) {
      BufferedImage dot = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
      dot.setRGB(0, 0, colour);
      BufferedImage img = framed(dot, colour, 0, 99, 0, 99);
      RgbImage rgb = decode(img, "jpeg");
      assertThat(BorderTrim.DEFAULT.find(rgb).isWhole(rgb)).isTrue();
    }
  }

  @Test
  void theWholeStripMustBeUniform() throws Exception {
    BufferedImage img = framed(content(200, 200, SEED), 0x000000, 40, 0, 0, 0);
    assertThat(BorderTrim.DEFAULT.find(decode(img, "png"))).isEqualTo(new BorderTrim.Region(0, 40, 200, 200));
    // a small white mark at rows 10-14 of the bar: the uniform lines end at the mark, which is no straight
    // edge, so nothing is trimmed (the strip is not uniform, and the mark's rows are never cut)
    Graphics2D g = img.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(150, 10, 5, 5);
    g.dispose();
    RgbImage rgb = decode(img, "png");
    assertThat(BorderTrim.DEFAULT.find(rgb).isWhole(rgb)).isTrue();
  }

  @Test
  void marginsThinnerThanTheMinimumAreIgnored() throws Exception {
    RgbImage rgb = decode(framed(content(300, 300, SEED), 0x000000, 1, 1, 3, 0), "png");
    // 1 px rows are under 2% of 302 (7 px); 3 px columns as well
    assertThat(BorderTrim.DEFAULT.find(rgb).isWhole(rgb)).isTrue();
  }

  @Test
  void cropReturnsTheRegionPixels() {
    int[] px = new int[4 * 3];
    for (int i = 0; i < px.length; i++) {
      px[i] = i;
    }
    RgbImage img = new RgbImage(4, 3, px);
    assertThat(BorderTrim.crop(img, new BorderTrim.Region(1, 1, 2, 2)).pixels()).containsExactly(5, 6, 9, 10);
    assertThat(BorderTrim.crop(img, new BorderTrim.Region(0, 0, 4, 3))).isSameAs(img);
  }
}
