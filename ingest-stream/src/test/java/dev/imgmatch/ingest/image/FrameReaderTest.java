package dev.imgmatch.ingest.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.imgmatch.ingest.AnimatedImages;
import dev.imgmatch.ingest.AnimatedImages.ApngFrame;
import dev.imgmatch.ingest.AnimatedImages.GifFrame;
import dev.imgmatch.ingest.TestImages;
import dev.imgmatch.testkit.Seeds;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class FrameReaderTest {
  private static final long SEED = Seeds.of("FrameReaderTest", 20251203L);
  private final ImageDecoder decoder = new ImageDecoder(ImageLimits.defaults());

  /** A textured picture, distinct per {@code k}. */
  private static BufferedImage pic(int k) {
    return TestImages.picture(160, 120, SEED + k);
  }

  private FrameReader.Result<RgbImage> frames(byte[] bytes, FrameLimits limits) throws ImageRejectedException {
    return frames(bytes, limits, System.nanoTime() + TimeUnit.SECONDS.toNanos(10));
  }

  private FrameReader.Result<RgbImage> frames(byte[] bytes, FrameLimits limits, long deadline)
      throws ImageRejectedException {
    DecodedImage first = decoder.decode(bytes);
    return new FrameReader(ImageLimits.defaults(), limits).read(bytes, first, deadline, (i, picture) -> picture);
  }

  private static List<Integer> indices(FrameReader.Result<?> r) {
    return r.kept().stream().map(FrameReader.Kept::index).toList();
  }

  static Stream<Arguments> formats() {
    return Stream.of(
        Arguments.of("gif", (Function<List<BufferedImage>, byte[]>) AnimatedImages::gif),
        Arguments.of("tiff", (Function<List<BufferedImage>, byte[]>) AnimatedImages::tiff),
        Arguments.of("apng", (Function<List<BufferedImage>, byte[]>) AnimatedImages::apng),
        Arguments.of("webp", (Function<List<BufferedImage>, byte[]>) AnimatedImages::webp));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("formats")
  void theSecondFrameIsKeptAsTheFileShowsItAndRepeatsAreNot(String format, Function<List<BufferedImage>, byte[]> make)
      throws Exception {
    BufferedImage a = pic(1);
    BufferedImage b = pic(2);
    byte[] bytes = make.apply(List.of(a, b, a, b)); // frames 2 and 3 repeat frames 0 and 1
    FrameReader.Result<RgbImage> r = frames(bytes, FrameLimits.defaults());
    assertThat(r.found()).isEqualTo(4);
    assertThat(r.stopped()).isNull();
    assertThat(indices(r)).as("frame 1 kept, the repeats dropped").containsExactly(1);
    // frame 1 is what the same picture shows as the first frame of a file of its own
    RgbImage alone = decoder.decode(make.apply(List.of(b))).stored();
    assertThat(r.kept().getFirst().value().pixels()).isEqualTo(alone.pixels());
    // and a file of one frame has no further frames
    assertThat(frames(make.apply(List.of(a)), FrameLimits.defaults()).kept()).isEmpty();
  }

  @Test
  void atMostTheCapIsKeptAndNearlyIdenticalFramesAreOneFrame() throws Exception {
    List<BufferedImage> distinct = new ArrayList<>();
    for (int k = 0; k < 20; k++) {
      distinct.add(pic(10 + k));
    }
    FrameReader.Result<RgbImage> r = frames(AnimatedImages.gif(distinct), new FrameLimits(5, FrameLimits.DEFAULT_MAX_PIXELS));
    assertThat(r.decoded()).as("frames 1-19: each stands alone, frame 0 is the first frame").isEqualTo(19);
    assertThat(r.kept()).hasSize(4);
    assertThat(indices(r)).isSorted().doesNotHaveDuplicates().allSatisfy(i -> assertThat(i).isBetween(1, 19));

    // 30 frames of one picture with a small moving mark, and one other picture at frame 17: only frame 17 is new
    BufferedImage a = pic(1);
    List<BufferedImage> hidden = new ArrayList<>();
    for (int k = 0; k < 30; k++) {
      hidden.add(k == 17 ? pic(2) : withMark(a, 4 * k, 50));
    }
    FrameReader.Result<RgbImage> h = frames(AnimatedImages.gif(hidden), new FrameLimits(3, FrameLimits.DEFAULT_MAX_PIXELS));
    assertThat(indices(h)).containsExactly(17);
  }

  /** {@code img} with a 6x6 black square at (x, y). */
  private static BufferedImage withMark(BufferedImage img, int x, int y) {
    BufferedImage c = new BufferedImage(img.getWidth(), img.getHeight(), BufferedImage.TYPE_INT_RGB);
    Graphics2D g = c.createGraphics();
    g.drawImage(img, 0, 0, null);
    g.setColor(Color.BLACK);
    g.fillRect(x, y, 6, 6);
    g.dispose();
    return c;
  }

  /** A colour different for every {@code k} (hues around the wheel, then lighter and darker). */
  private static int colour(int k) {
    return Color.HSBtoRGB((k % 97) / 97f, 1f, 0.35f + 0.6f * ((k / 97) % 7) / 6f) & 0xFFFFFF;
  }

  @Test
  void aFileOfTenThousandFramesCostsAtMostTheBudget() throws Exception {
    long budget = 100 * 2 * 32 * 32; // a hundred 32x32 frames, each decoded and shown
    List<AnimatedImages.FlatFrame> whole = new ArrayList<>();
    for (int k = 0; k < 10_000; k++) {
      whole.add(new AnimatedImages.FlatFrame(colour(k), 0, 0, 32, 32));
    }
    byte[] gif = AnimatedImages.flatGif(32, 32, whole);
    long t0 = System.nanoTime();
    FrameReader.Result<RgbImage> r = frames(gif, new FrameLimits(8, budget));
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    System.out.println("10,000 standalone frames (" + gif.length + " bytes): " + r.decoded() + " decoded, "
        + r.pixels() + " pixels, kept " + indices(r) + " in " + ms + " ms");
    assertThat(r.found()).isEqualTo(10_000);
    assertThat(r.pixels()).isLessThanOrEqualTo(budget);
    assertThat(r.decoded()).isBetween(50, 100);
    assertThat(r.kept()).hasSize(7);
    assertThat(indices(r).getLast()).as("frames that stand alone are sampled over the whole file").isGreaterThan(5_000);

    // frames drawn over the previous ones (16x16 rectangles on the 32x32 canvas) need their predecessors: the
    // beginning of the animation is decoded, as much as the budget allows
    List<AnimatedImages.FlatFrame> deltas = new ArrayList<>();
    deltas.add(whole.getFirst());
    for (int k = 1; k < 10_000; k++) {
      deltas.add(new AnimatedImages.FlatFrame(colour(k), 8, 8, 16, 16));
    }
    t0 = System.nanoTime();
    FrameReader.Result<RgbImage> d = frames(AnimatedImages.flatGif(32, 32, deltas), new FrameLimits(8, budget));
    ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    System.out.println("10,000 delta frames: " + d.decoded() + " decoded, " + d.pixels() + " pixels, kept "
        + indices(d) + " in " + ms + " ms");
    assertThat(d.found()).isEqualTo(10_000);
    assertThat(d.pixels()).isLessThanOrEqualTo(budget);
    assertThat(d.decoded()).isBetween(100, 160); // (16x16 + 32x32) per frame
    assertThat(d.kept()).hasSize(7);
    assertThat(indices(d)).allSatisfy(i -> assertThat(i).isLessThan(d.decoded()));
  }

  @Test
  void gifFramesAreComposedOnTheCanvasWithTheirDisposal() throws Exception {
    BufferedImage a = pic(1);
    // b covers a quarter of the canvas: a frame that changes less than that may be one the reader takes for the same
    // (32 x 32 signatures within FrameReader.SAME_FRAME), which a 40 x 30 b did for one seed in a few
    BufferedImage b = TestImages.picture(80, 60, SEED + 2);
    BufferedImage c = TestImages.picture(20, 20, SEED + 3);
    byte[] gif = AnimatedImages.gifFrames(List.of(new GifFrame(a), new GifFrame(b, 30, 20, "restoreToBackgroundColor"),
        new GifFrame(c, 0, 0, "none")));
    RgbImage base = decoder.decode(gif).stored();
    ImageDecoder any = new ImageDecoder(ImageLimits.defaults().withMinSize(1, 1)); // c is under 32 px
    RgbImage bAlone = any.decode(TestImages.encode(b, "gif")).stored();
    RgbImage cAlone = any.decode(TestImages.encode(c, "gif")).stored();
    FrameReader.Result<RgbImage> r = frames(gif, FrameLimits.defaults());
    assertThat(indices(r)).containsExactly(1, 2);
    int[] one = base.pixels().clone();
    paste(one, 160, bAlone, 30, 20);
    assertThat(r.kept().get(0).value().pixels()).as("frame 1: b drawn at (30, 20) over frame 0").isEqualTo(one);
    int[] two = base.pixels().clone();
    for (int y = 20; y < 80; y++) {
      Arrays.fill(two, y * 160 + 30, y * 160 + 110, 0xFFFFFF); // b's rectangle cleared: the background shows
    }
    paste(two, 160, cAlone, 0, 0);
    assertThat(r.kept().get(1).value().pixels()).as("frame 2: b disposed of, c at (0, 0)").isEqualTo(two);
  }

  private static void paste(int[] canvas, int width, RgbImage img, int x, int y) {
    for (int j = 0; j < img.height(); j++) {
      System.arraycopy(img.pixels(), j * img.width(), canvas, (y + j) * width + x, img.width());
    }
  }

  @Test
  void apngFramesAreComposedAndADefaultImageOutsideTheAnimationLeavesFrameZeroAFrame() throws Exception {
    BufferedImage a = argb(pic(1));
    // over half the canvas: a smaller frame may change too little to be told from frame 0 (FrameReader.SAME_FRAME)
    BufferedImage red = new BufferedImage(100, 80, BufferedImage.TYPE_INT_ARGB);
    for (int y = 0; y < 80; y++) {
      for (int x = 0; x < 100; x++) {
        red.setRGB(x, y, 0x80FF0000); // half-transparent red
      }
    }
    BufferedImage d = argb(pic(5));
    byte[] apng = AnimatedImages.apng(d, List.of(new ApngFrame(a), new ApngFrame(red, 10, 10, 0, 1)));
    FrameReader.Result<RgbImage> r = frames(apng, FrameLimits.defaults());
    assertThat(decoder.decode(apng).stored().pixels()).as("the default image is the first frame")
        .isEqualTo(decoder.decode(TestImages.encode(d, "png")).stored().pixels());
    assertThat(indices(r)).as("frame 0 is not the default image: it is a frame").containsExactly(0, 1);
    RgbImage over = r.kept().get(1).value();
    int under = a.getRGB(20, 20);
    int got = over.rgb(20, 20);
    for (int shift : new int[] {16, 8, 0}) {
      int want = shift == 16 ? (255 + ((under >> 16) & 0xFF) + 1) / 2 : ((under >> shift) & 0xFF) / 2;
      assertThat((got >> shift) & 0xFF).as("blended over: half red, half what was below").isCloseTo(want,
          org.assertj.core.data.Offset.offset(1));
    }
    assertThat(over.rgb(5, 5)).as("outside the frame: frame 0").isEqualTo(a.getRGB(5, 5) & 0xFFFFFF);
  }

  private static BufferedImage argb(BufferedImage img) {
    BufferedImage c = new BufferedImage(img.getWidth(), img.getHeight(), BufferedImage.TYPE_INT_ARGB);
    Graphics2D g = c.createGraphics();
    g.drawImage(img, 0, 0, null);
    g.dispose();
    return c;
  }

  @Test
  void aDamagedLaterFrameEndsTheLookButKeepsWhatCameBefore() throws Exception {
    List<BufferedImage> three = List.of(pic(1), pic(2), pic(3));
    // GIF cut inside its last frame
    byte[] gif = AnimatedImages.gif(three);
    FrameReader.Result<RgbImage> g = frames(Arrays.copyOf(gif, gif.length - 300), FrameLimits.defaults());
    assertThat(indices(g)).containsExactly(1);
    assertThat(g.stopped()).contains("truncated");
    // WebP cut inside its last frame
    byte[] webp = AnimatedImages.webp(three);
    FrameReader.Result<RgbImage> w = frames(Arrays.copyOf(webp, webp.length - 300), FrameLimits.defaults());
    assertThat(indices(w)).containsExactly(1);
    assertThat(w.stopped()).contains("runs past the end");
    // APNG whose last frame's data is garbage under a valid CRC
    byte[] apng = AnimatedImages.apng(three);
    int last = lastIndexOf(apng, "fdAT");
    int len = ByteBuffer.wrap(apng, last - 4, 4).getInt();
    byte[] garbage = TestImages.random(len - 4, SEED);
    java.io.ByteArrayOutputStream broken = new java.io.ByteArrayOutputStream();
    broken.write(apng, 0, last - 4);
    AnimatedImages.chunk(broken, "fdAT", ByteBuffer.allocate(len).putInt(ByteBuffer.wrap(apng, last + 4, 4).getInt())
        .put(garbage).array());
    broken.write(apng, last + 4 + len + 4, apng.length - (last + 4 + len + 4));
    FrameReader.Result<RgbImage> p = frames(broken.toByteArray(), FrameLimits.defaults());
    assertThat(indices(p)).containsExactly(1);
    assertThat(p.stopped()).contains("frame 2 cannot be decoded");
    // a truncated APNG fails the PNG structure check (chunk CRCs, IEND) before anything is decoded: rejected whole
    ImageRejectedException e = catchThrowableOfType(ImageRejectedException.class,
        () -> decoder.decode(Arrays.copyOf(apng, apng.length - 300)));
    assertThat(e.reason()).isEqualTo(RejectReason.CORRUPT_IMAGE);
  }

  private static int lastIndexOf(byte[] hay, String type) {
    byte[] t = type.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    for (int i = hay.length - t.length; i >= 0; i--) {
      if (Arrays.equals(hay, i, i + t.length, t, 0, t.length)) {
        return i;
      }
    }
    throw new IllegalArgumentException(type + " not found");
  }

  @Test
  void theDeadlineAndAnOversizedCanvasStopTheLookNotTheImage() throws Exception {
    byte[] gif = AnimatedImages.gif(List.of(pic(1), pic(2)));
    FrameReader.Result<RgbImage> late = frames(gif, FrameLimits.defaults(), System.nanoTime() - 1);
    assertThat(late.kept()).isEmpty();
    assertThat(late.stopped()).contains("deadline");
    byte[] huge = gif.clone();
    huge[6] = (byte) 0x30; // logical screen 30000 x 30000 (0x7530); the frames stay 160x120
    huge[7] = (byte) 0x75;
    huge[8] = (byte) 0x30;
    huge[9] = (byte) 0x75;
    FrameReader.Result<RgbImage> big = frames(huge, FrameLimits.defaults());
    assertThat(big.kept()).isEmpty();
    assertThat(big.decoded()).isZero();
    assertThat(big.stopped()).contains("canvas");
  }

  @Test
  void thePlanTakesEverythingThatFitsThenEvenlySpacedStandaloneFramesThenTheBeginning() {
    assertThat(FrameReader.plan(source(10, 5, i -> false), 1_000, 8)).as("all fit")
        .containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
    assertThat(FrameReader.plan(source(10, 5, i -> true), 1_000, 8)).as("all fit; frame 0 is the first frame")
        .containsExactly(1, 2, 3, 4, 5, 6, 7, 8, 9);
    int[] strided = FrameReader.plan(source(1_000, 10, i -> true), 100, 8);
    assertThat(strided).hasSize(10).isSorted();
    assertThat(strided[strided.length - 1]).isEqualTo(999);
    assertThat(FrameReader.plan(source(1_001, 10, i -> i % 100 == 0), 200, 8)).as("every 100th stands alone")
        .containsExactly(0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000);
    assertThat(FrameReader.plan(source(1_000, 10, i -> i == 0), 100, 8)).as("only the beginning can be reached")
        .containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
  }

  private static FrameReader.Source source(int n, long cost, java.util.function.IntPredicate standalone) {
    return new FrameReader.Source() {
      @Override
      int count() {
        return n;
      }

      @Override
      long cost(int i) {
        return cost;
      }

      @Override
      boolean standalone(int i) {
        return i == 0 || standalone.test(i);
      }

      @Override
      boolean firstIsDefault() {
        return standalone.test(1); // the TIFF-like sources of this test
      }

      @Override
      String damage() {
        return null;
      }

      @Override
      String tooBig(long budget) {
        return null;
      }

      @Override
      RgbImage show(int i, boolean jump) {
        return null;
      }

      @Override
      public void close() {}
    };
  }
}
