package dev.imgmatch.ingest.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.imgmatch.ingest.TestImages;
import dev.imgmatch.testkit.Seeds;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Finding a picture pasted into another, on generated pictures through a real JPEG encode and decode. */
public class InsetFinderTest {
  private static final ImageDecoder DECODER = new ImageDecoder(ImageLimits.defaults());
  private static final long SEED = Seeds.of("InsetFinderTest", 20261204L);

  /** A meme-like canvas: a gradient, flat shapes (filled and outlined) and a caption bar, no fine detail. */
  public static BufferedImage canvas(int w, int h, long seed) {
    Random r = new Random(seed);
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setPaint(new GradientPaint(0, 0, new Color(r.nextInt(0xFFFFFF)), w, h, new Color(r.nextInt(0xFFFFFF))));
    g.fillRect(0, 0, w, h);
    for (int i = 0; i < 5; i++) {
      g.setColor(new Color(r.nextInt(0xFFFFFF)));
      int x = r.nextInt(w * 3 / 4);
      int y = r.nextInt(h * 3 / 4);
      if (i % 2 == 0) {
        g.fillRect(x, y, w / 8 + r.nextInt(w / 4), h / 8 + r.nextInt(h / 4));
      } else {
        g.setStroke(new BasicStroke(2));
        g.drawRect(x, y, w / 8 + r.nextInt(w / 4), h / 8 + r.nextInt(h / 4));
      }
    }
    g.dispose();
    return img;
  }

  /** A picture with detail at every scale, as photos have: hundreds of overlapping shapes of many sizes, plus noise. */
  public static BufferedImage detailed(int w, int h, long seed) {
    Random r = new Random(seed);
    BufferedImage img = BorderTrimTest.content(w, h, seed);
    Graphics2D g = img.createGraphics();
    for (int i = 0; i < 400; i++) {
      g.setColor(new Color(r.nextInt(0xFFFFFF)));
      int sw = Math.max(2, w / 30 + r.nextInt(Math.max(1, w / 8)));
      int sh = Math.max(2, h / 30 + r.nextInt(Math.max(1, h / 8)));
      if (i % 2 == 0) {
        g.fillOval(r.nextInt(w) - sw / 2, r.nextInt(h) - sh / 2, sw, sh);
      } else {
        g.fillRect(r.nextInt(w) - sw / 2, r.nextInt(h) - sh / 2, sw, sh);
      }
    }
    g.dispose();
    return img;
  }

  /** {@code img} through a real JPEG encode (quality 0.8) and decode. */
  static RgbImage jpegRoundTrip(BufferedImage img) throws ImageRejectedException {
    return DECODER.decode(TestImages.jpeg(img, 0.8f)).oriented();
  }

  @ParameterizedTest(name = "{0}x{1} canvas, {4}x{5} picture at {2},{3}")
  @CsvSource({
      "320, 320, 60, 140, 80, 60", // a copy pasted small (a tenth of the picture)
      "320, 240, 100, 40, 160, 150", // a meme template's photo
      "1600, 1200, 900, 300, 500, 400", // a large screenshot: found on the shrunk copy, reported in its pixels
      "640, 200, 0, 20, 200, 160", // at the canvas's edge
  })
  void findsAPicturePastedOntoAFlatterCanvas(int w, int h, int px, int py, int pw, int ph) throws Exception {
    long seed = SEED ^ (w * 31L + px);
    BufferedImage img = canvas(w, h, seed);
    Graphics2D g = img.createGraphics();
    g.drawImage(detailed(pw, ph, seed + 1), px, py, null);
    g.dispose();

    BorderTrim.Region r = InsetFinder.DEFAULT.find(jpegRoundTrip(img));

    assertThat(r).as("the pasted picture").isNotNull();
    assertThat(r.iou(new BorderTrim.Region(px, py, pw, ph))).as("overlap of %s with the pasted picture", r)
        .isGreaterThan(0.7);
    assertThat(r.x()).isBetween(0, w - 1);
    assertThat(r.x() + r.width()).isBetween(1, w);
    assertThat(r.y() + r.height()).isBetween(1, h);
  }

  /**
   * A photo whose top is sky (a smooth gradient, no detail) over a detailed ground along hills, as many are. (A
   * horizon straight across the whole picture would be taken for its top edge: see {@link InsetFinder#edges}.)
   */
  static BufferedImage skyOverGround(int w, int h, double sky, long seed) {
    BufferedImage img = detailed(w, h, seed);
    Graphics2D g = img.createGraphics();
    g.setPaint(new GradientPaint(0, 0, new Color(70, 120, 200), 0, (float) (h * sky), new Color(150, 190, 235)));
    java.awt.Polygon hills = new java.awt.Polygon();
    hills.addPoint(0, 0);
    for (int x = 0; x <= w; x += 2) {
      hills.addPoint(x, (int) Math.round(h * sky * (1 + 0.25 * Math.sin(x * 6.0 / w))));
    }
    hills.addPoint(w, 0);
    g.fillPolygon(hills);
    g.dispose();
    return img;
  }

  @ParameterizedTest(name = "{2}x{3} picture at {0},{1}, its top {4} sky")
  @CsvSource({
      "2, 150, 66, 88, 0.5", // a copy pasted small at the canvas's edge (a statue under its sky)
      "120, 30, 130, 80, 0.4", // a landscape pasted into the middle
      "40, 80, 150, 90, 0.3",
  })
  void aPastedPictureIsFoundToItsOwnEdgesWhereItIsNotDetailed(int px, int py, int pw, int ph, double sky)
      throws Exception {
    long seed = SEED ^ (px * 31L + py);
    BufferedImage img = canvas(320, 300, seed);
    Graphics2D g = img.createGraphics();
    g.drawImage(skyOverGround(pw, ph, sky, seed + 1), px, py, null);
    g.dispose();

    InsetFinder.Found found = InsetFinder.DEFAULT.locate(jpegRoundTrip(img));

    // the detailed blocks alone stop short of the sky; the pasted picture's straight edges are its box
    assertThat(found).as("the pasted picture").isNotNull();
    assertThat(found.edged()).isTrue();
    BorderTrim.Region r = found.region();
    assertThat(Math.abs(r.x() - px)).as("left of %s", r).isLessThanOrEqualTo(3);
    assertThat(Math.abs(r.y() - py)).as("top of %s", r).isLessThanOrEqualTo(3);
    assertThat(Math.abs(r.x() + r.width() - (px + pw))).as("right of %s", r).isLessThanOrEqualTo(3);
    assertThat(Math.abs(r.y() + r.height() - (py + ph))).as("bottom of %s", r).isLessThanOrEqualTo(3);
  }

  @Test
  void aTurnedPasteOrOneWithoutEdgesKeepsTheBoxOfItsDetail() throws Exception {
    // a picture turned on its canvas has no straight side along the box: the box its detail gave stays
    BufferedImage img = canvas(256, 240, SEED);
    Graphics2D g = img.createGraphics();
    g.rotate(Math.toRadians(6), 128, 120);
    g.drawImage(detailed(120, 90, SEED + 1), 68, 75, null);
    g.dispose();
    RgbImage turned = jpegRoundTrip(img);
    assertThat(InsetFinder.edges(turned, 80, 88, 176, 152, 8)).isEqualTo(new InsetFinder.Box(80, 88, 176, 152, false));
    InsetFinder.Found found = InsetFinder.DEFAULT.locate(turned);
    assertThat(found).as("the turned picture").isNotNull();
    assertThat(found.edged()).isFalse();
    assertThat(found.region()).isEqualTo(InsetFinder.DEFAULT.find(turned));
    // detail everywhere (no canvas around it): no edge either
    RgbImage photo = jpegRoundTrip(detailed(256, 240, SEED + 2));
    assertThat(InsetFinder.edges(photo, 60, 60, 180, 160, 8)).isEqualTo(new InsetFinder.Box(60, 60, 180, 160, false));
  }

  @Test
  void aPictureDetailedEverywhereHasNoInset() throws Exception {
    BufferedImage photo = detailed(400, 300, SEED);
    assertThat(InsetFinder.DEFAULT.find(jpegRoundTrip(photo))).isNull();
  }

  @Test
  void flatShapesAndOutlinesAreNoInset() throws Exception {
    assertThat(InsetFinder.DEFAULT.find(jpegRoundTrip(canvas(320, 320, SEED)))).isNull();
    BufferedImage flat = new BufferedImage(300, 200, BufferedImage.TYPE_INT_RGB);
    assertThat(InsetFinder.DEFAULT.find(jpegRoundTrip(flat))).isNull();
  }

  @Test
  void intersectionOverUnion() {
    BorderTrim.Region a = new BorderTrim.Region(0, 0, 10, 10);
    assertThat(a.iou(a)).isEqualTo(1.0);
    assertThat(a.iou(new BorderTrim.Region(5, 0, 10, 10)))
        .isCloseTo(50.0 / 150, org.assertj.core.data.Offset.offset(1e-12));
    assertThat(a.iou(new BorderTrim.Region(10, 10, 5, 5))).isZero();
  }

  @Test
  void aPictureTooSmallToHoldBlocksHasNoInset() {
    RgbImage tiny = new RgbImage(16, 12, new int[16 * 12]);
    assertThat(InsetFinder.DEFAULT.find(tiny)).isNull();
  }

  @Test
  void oddSettingsAreRefused() {
    for (double[] bad : new double[][] {{-1, 0.01, 0.6, 0.3}, {10, 0, 0.6, 0.3}, {10, 0.7, 0.6, 0.3},
        {10, 0.01, 1.0, 0.3}, {Double.NaN, 0.01, 0.6, 0.3}, {10, 0.01, 0.6, 1.5}}) {
      assertThatThrownBy(() -> new InsetFinder(bad[0], bad[1], bad[2], bad[3]))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }
}
