package dev.imgmatch.ingest.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.imgmatch.ingest.TestImages;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.WritableRaster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ImageDecoderTest {
  private final ImageDecoder decoder = new ImageDecoder(ImageLimits.defaults());

  private RejectReason rejection(ImageDecoder d, byte[] bytes) {
    ImageRejectedException e = catchThrowableOfType(ImageRejectedException.class, () -> d.decode(bytes));
    assertThat(e).as("expected a rejection").isNotNull();
    assertThat(e.getMessage()).isNotBlank();
    return e.reason();
  }

  @ParameterizedTest
  @ValueSource(strings = {"jpeg", "png", "gif", "bmp", "tiff"})
  void decodesEveryWritableFormatToTheRightSizeAndRoughlyTheRightColours(String format) throws Exception {
    BufferedImage src = TestImages.picture(120, 80, 7);
    byte[] bytes = format.equals("jpeg") ? TestImages.jpeg(src, 0.95f) : TestImages.encode(src, format);
    DecodedImage d = decoder.decode(bytes);
    assertThat(d.format().id()).isEqualTo(format);
    assertThat(d.stored().width()).isEqualTo(120);
    assertThat(d.stored().height()).isEqualTo(80);
    assertThat(d.exifOrientation()).isEqualTo(1);
    if (!format.equals("gif")) { // GIF quantises to 256 colours
      assertThat(meanAbsDiff(src, d.stored())).isLessThan(format.equals("jpeg") ? 6 : 0.5);
    }
  }

  @Test
  void decodesAWebpFixtureAndCompositesItsAlphaOnTheBackground() throws Exception {
    ImageDecoder small = new ImageDecoder(ImageLimits.defaults().withMinSize(1, 1));
    DecodedImage d = small.decode(TestImages.fixture("python-16x16.webp"));
    assertThat(d.format()).isEqualTo(ImageFormat.WEBP);
    assertThat(d.stored().width()).isEqualTo(16);
    assertThat(d.stored().rgb(0, 0)).as("transparent corner on white").isEqualTo(0xFFFFFF);
  }

  @Test
  void compositesAlphaOnTheConfiguredBackground() throws Exception {
    BufferedImage argb = new BufferedImage(40, 40, BufferedImage.TYPE_INT_ARGB);
    Graphics2D g = argb.createGraphics();
    g.setColor(new Color(255, 0, 0, 255));
    g.fillRect(0, 0, 20, 40);
    g.setColor(new Color(0, 0, 255, 128));
    g.fillRect(20, 0, 20, 20); // half-transparent blue; bottom right stays fully transparent
    g.dispose();
    byte[] png = TestImages.encode(argb, "png");
    ImageLimits blackBg = new ImageLimits(1 << 20, 1 << 20, 1000, 1, 1, 1000, 0, 0x000000);
    RgbImage onWhite = decoder.decode(png).stored();
    RgbImage onBlack = new ImageDecoder(blackBg).decode(png).stored();
    assertThat(onWhite.rgb(5, 5)).isEqualTo(0xFF0000);
    assertThat(onWhite.rgb(30, 30)).isEqualTo(0xFFFFFF);
    assertThat(onBlack.rgb(30, 30)).isEqualTo(0x000000);
    assertThat(onWhite.rgb(30, 5)).isEqualTo(0x7F7FFF);
    assertThat(onBlack.rgb(30, 5)).isEqualTo(0x000080);
  }

  @Test
  void grayscaleKeepsItsStoredValuesIn8And16Bits() throws Exception {
    BufferedImage g8 = new BufferedImage(40, 40, BufferedImage.TYPE_BYTE_GRAY);
    BufferedImage g16 = new BufferedImage(40, 40, BufferedImage.TYPE_USHORT_GRAY);
    for (int y = 0; y < 40; y++) {
      for (int x = 0; x < 40; x++) {
        g8.getRaster().setSample(x, y, 0, x * 6);
        g16.getRaster().setSample(x, y, 0, x * 6 * 257);
      }
    }
    RgbImage a = decoder.decode(TestImages.encode(g8, "png")).stored();
    RgbImage b = decoder.decode(TestImages.encode(g16, "png")).stored();
    assertThat(a.rgb(10, 3)).isEqualTo(60 << 16 | 60 << 8 | 60);
    assertThat(b.pixels()).containsExactly(a.pixels());
  }

  @Test
  void sixteenBitRgbIsScaledTo8Bits() throws Exception {
    java.awt.image.ComponentColorModel cm = new java.awt.image.ComponentColorModel(
        java.awt.color.ColorSpace.getInstance(java.awt.color.ColorSpace.CS_sRGB), false, false,
        java.awt.Transparency.OPAQUE, java.awt.image.DataBuffer.TYPE_USHORT);
    WritableRaster raster = cm.createCompatibleWritableRaster(40, 40);
    for (int y = 0; y < 40; y++) {
      for (int x = 0; x < 40; x++) {
        raster.setPixel(x, y, new int[] {200 * 257, 100 * 257, x * 6 * 257});
      }
    }
    BufferedImage img = new BufferedImage(cm, raster, false, null);
    RgbImage rgb = decoder.decode(TestImages.encode(img, "png")).stored();
    assertThat(rgb.rgb(10, 10)).isEqualTo(200 << 16 | 100 << 8 | 60);
  }

  @Test
  void palettesDecodeToTheirColours() throws Exception {
    byte[] r = {0, (byte) 255, 0};
    byte[] gr = {0, 0, (byte) 255};
    byte[] b = {(byte) 255, 0, 0};
    BufferedImage indexed = new BufferedImage(40, 40, BufferedImage.TYPE_BYTE_INDEXED,
        new IndexColorModel(2, 3, r, gr, b));
    WritableRaster raster = indexed.getRaster();
    for (int y = 0; y < 40; y++) {
      for (int x = 0; x < 40; x++) {
        raster.setSample(x, y, 0, x < 20 ? 1 : 2);
      }
    }
    RgbImage png = decoder.decode(TestImages.encode(indexed, "png")).stored();
    assertThat(png.rgb(0, 0)).isEqualTo(0xFF0000);
    assertThat(png.rgb(39, 39)).isEqualTo(0x00FF00);
  }

  @Test
  void cmykJpegsThatTheJdkCannotReadFallBackToTwelveMonkeys() throws Exception {
    DecodedImage d = decoder.decode(TestImages.cmykJpeg(64, 48));
    assertThat(d.stored().width()).isEqualTo(64);
    assertThat(d.stored().height()).isEqualTo(48);
  }

  @Test
  void readsTheExifOrientationAndOrientsThePixels() throws Exception {
    BufferedImage src = new BufferedImage(60, 40, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = src.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, 60, 40);
    g.setColor(Color.BLACK);
    g.fillRect(0, 0, 20, 10); // a dark block in the stored top-left corner
    g.dispose();
    byte[] plain = TestImages.jpeg(src, 0.95f);
    for (int o = 1; o <= 8; o++) {
      DecodedImage d = decoder.decode(TestImages.withExifOrientation(plain, o));
      assertThat(d.exifOrientation()).isEqualTo(o);
      RgbImage shown = d.oriented();
      assertThat(shown.width()).isEqualTo(o >= 5 ? 40 : 60);
      assertThat(d.orientedWidth()).isEqualTo(shown.width());
      // where the stored top-left block ends up, per the EXIF table
      int w = shown.width();
      int h = shown.height();
      int[] corner = switch (o) {
        case 1, 5 -> new int[] {2, 2};
        case 2, 6 -> new int[] {w - 3, 2};
        case 3, 7 -> new int[] {w - 3, h - 3};
        default -> new int[] {2, h - 3}; // 4, 8
      };
      assertThat(shown.rgb(corner[0], corner[1]) & 0xFF).as("orientation %d", o).isLessThan(60);
    }
  }

  @Test
  void subsamplesLargeImagesAndKeepsSmallOnesAtFullResolution() throws Exception {
    ImageLimits limits = new ImageLimits(1 << 24, 1L << 26, 20000, 32, 32, 10_000, 256, 0xFFFFFF);
    ImageDecoder d = new ImageDecoder(limits);
    DecodedImage big = d.decode(TestImages.jpeg(1100, 600, 3));
    assertThat(big.subsampling()).isEqualTo(2);
    assertThat(big.stored().width()).isEqualTo(550);
    assertThat(big.declaredWidth()).isEqualTo(1100);
    assertThat(d.decode(TestImages.jpeg(500, 400, 3)).subsampling()).isEqualTo(1);
  }

  @Test
  void aPngWithABadChecksumIsRejectedAlthoughTheJdkReaderWouldDecodeIt() throws Exception {
    byte[] png = TestImages.pngWithBadCrc(120, 80, 3);
    assertThat(javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(png))).as("the JDK alone").isNotNull();
    ImageRejectedException e = catchThrowableOfType(ImageRejectedException.class, () -> decoder.decode(png));
    assertThat(e.reason()).isEqualTo(RejectReason.CORRUPT_IMAGE);
    assertThat(e.getMessage()).contains("'IDAT'").contains("bad CRC");
  }

  @Test
  void aDecodePastItsDeadlineIsAbortedAndRejected() {
    // a 3000x3000 JPEG takes well over 100 ms to decode; the deadline is 1 ms
    byte[] big = TestImages.jpeg(3000, 3000, 9);
    ImageDecoder hasty = new ImageDecoder(new ImageLimits(1 << 26, 1L << 26, 20000, 32, 32, 1, 0, 0xFFFFFF));
    assertThat(rejection(hasty, big)).isEqualTo(RejectReason.DECODE_TIMEOUT);
  }

  @Test
  void aJpegWithThousandsOfScansIsRefusedBeforeDecodingAndANormalProgressiveOneIsNot() throws Exception {
    BufferedImage pic = TestImages.picture(400, 300, 5);
    javax.imageio.ImageWriter w = javax.imageio.ImageIO.getImageWritersByFormatName("jpeg").next();
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    try (var out = new javax.imageio.stream.MemoryCacheImageOutputStream(bytes)) {
      w.setOutput(out);
      javax.imageio.ImageWriteParam p = w.getDefaultWriteParam();
      p.setProgressiveMode(javax.imageio.ImageWriteParam.MODE_DEFAULT);
      w.write(null, new javax.imageio.IIOImage(pic, null, null), p);
    }
    byte[] progressive = bytes.toByteArray();
    int scans = JpegScans.count(progressive);
    assertThat(scans).as("the JDK's progressive script").isBetween(2, ImageLimits.MAX_JPEG_SCANS);
    assertThat(decoder.decode(progressive).orientedWidth()).isEqualTo(400);
    assertThat(JpegScans.count(TestImages.jpeg(200, 100, 1))).isEqualTo(1);

    // the same file with 150 more (empty) scans before its end: refused by counting, never decoded
    byte[] sos = {(byte) 0xFF, (byte) 0xDA, 0, 8, 1, 1, 0, 0, 0x3F, 0};
    java.io.ByteArrayOutputStream bomb = new java.io.ByteArrayOutputStream();
    bomb.write(progressive, 0, progressive.length - 2);
    for (int i = 0; i < 150; i++) {
      bomb.write(sos);
    }
    bomb.write(progressive, progressive.length - 2, 2);
    ImageRejectedException e = catchThrowableOfType(ImageRejectedException.class, () -> decoder.decode(bomb.toByteArray()));
    assertThat(e.reason()).isEqualTo(RejectReason.TOO_MANY_SCANS);
    assertThat(e.getMessage()).contains((scans + 150) + " scans");
  }

  @Test
  void aPngWhoseTextInflatesToGigabytesDecodesWithoutInflatingIt() throws Exception {
    byte[] bomb = TestImages.pngWithTextBomb(256); // about 250 KB whose zTXt inflates to 256 MiB
    assertThat(bomb.length).isLessThan(1 << 20);
    com.sun.management.ThreadMXBean mx =
        (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    long before = mx.getCurrentThreadAllocatedBytes();
    DecodedImage d = decoder.decode(bomb);
    assertThat(mx.getCurrentThreadAllocatedBytes() - before).as("bytes allocated decoding it").isLessThan(32L << 20);
    assertThat(d.orientedWidth()).isEqualTo(64);
    // the orientation of a PNG still comes from its eXIf chunk
    assertThat(decoder.decode(TestImages.pngWithExifOrientation(6)).exifOrientation()).isEqualTo(6);
    assertThat(decoder.decode(TestImages.pngWithExifOrientation(6)).orientedWidth()).isEqualTo(40);
  }

  @Test
  void theDeadlineStreamFailsEveryReadOncePastAndSaysSo() throws Exception {
    java.util.concurrent.atomic.AtomicBoolean expired = new java.util.concurrent.atomic.AtomicBoolean();
    byte[] data = {1, 2, 3, 4};
    try (DeadlineImageInputStream live = new DeadlineImageInputStream(data, System.nanoTime() + 60_000_000_000L,
        expired)) {
      assertThat(live.read()).isEqualTo(1);
      byte[] buf = new byte[8];
      assertThat(live.read(buf, 0, 8)).isEqualTo(3);
      assertThat(live.read()).isEqualTo(-1);
      live.seek(1);
      assertThat(live.read()).isEqualTo(2);
      assertThat(live.length()).isEqualTo(4);
    }
    assertThat(expired.get()).isFalse();
    try (DeadlineImageInputStream past = new DeadlineImageInputStream(data, System.nanoTime() - 1, expired)) {
      assertThatThrownBy(past::read).isInstanceOf(javax.imageio.IIOException.class).hasMessageContaining("deadline");
    }
    assertThat(expired.get()).isTrue();
  }

  @Test
  void refusesBadInputWithTheRightReason() {
    byte[] jpeg = TestImages.jpeg(200, 150, 5);
    assertThat(rejection(decoder, new byte[0])).isEqualTo(RejectReason.EMPTY_IMAGE);
    assertThat(rejection(decoder, TestImages.random(5000, 42))).isEqualTo(RejectReason.UNSUPPORTED_FORMAT);
    assertThat(rejection(decoder, "%PDF-1.4 hello".getBytes())).isEqualTo(RejectReason.UNSUPPORTED_FORMAT);
    assertThat(rejection(decoder, TestImages.truncated(jpeg, 0.6))).isEqualTo(RejectReason.CORRUPT_IMAGE);
    assertThat(rejection(decoder, TestImages.truncated(TestImages.png(100, 100, 1), 0.7)))
        .isEqualTo(RejectReason.CORRUPT_IMAGE);
    assertThat(rejection(decoder, TestImages.pngWithBadCrc(100, 100, 1))).isEqualTo(RejectReason.CORRUPT_IMAGE);
    assertThat(rejection(decoder, TestImages.pngHeaderOnly(30000, 30000))).isEqualTo(RejectReason.TOO_MANY_PIXELS);
    assertThat(rejection(decoder, TestImages.jpegHeaderDeclaring(30000, 30000)))
        .isEqualTo(RejectReason.TOO_MANY_PIXELS);
    assertThat(rejection(decoder, TestImages.pngHeaderOnly(25000, 10))).isEqualTo(RejectReason.TOO_MANY_PIXELS);
    assertThat(rejection(decoder, TestImages.png(1, 1, 1))).isEqualTo(RejectReason.IMAGE_TOO_SMALL);
    ImageDecoder tiny = new ImageDecoder(new ImageLimits(1000, 1 << 20, 1000, 1, 1, 1000, 0, 0));
    assertThat(rejection(tiny, jpeg)).isEqualTo(RejectReason.IMAGE_TOO_LARGE);
    byte[] garbageAfterSignature = TestImages.random(3000, 7);
    garbageAfterSignature[0] = (byte) 0xFF;
    garbageAfterSignature[1] = (byte) 0xD8;
    garbageAfterSignature[2] = (byte) 0xFF;
    assertThat(rejection(decoder, garbageAfterSignature)).isEqualTo(RejectReason.CORRUPT_IMAGE);
    byte[] gif = TestImages.encode(TestImages.picture(100, 100, 3), "gif");
    assertThat(rejection(decoder, TestImages.truncated(gif, 0.3))).isEqualTo(RejectReason.CORRUPT_IMAGE);
  }

  private static double meanAbsDiff(BufferedImage a, RgbImage b) {
    long sum = 0;
    for (int y = 0; y < b.height(); y++) {
      for (int x = 0; x < b.width(); x++) {
        int p = a.getRGB(x, y);
        int q = b.rgb(x, y);
        for (int s = 0; s <= 16; s += 8) {
          sum += Math.abs((p >> s & 0xFF) - (q >> s & 0xFF));
        }
      }
    }
    return sum / (3.0 * b.width() * b.height());
  }
}
