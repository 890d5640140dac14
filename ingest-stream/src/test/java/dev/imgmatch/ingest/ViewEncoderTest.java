package dev.imgmatch.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.imgmatch.avro.ImageView;
import dev.imgmatch.ingest.image.BorderTrim;
import dev.imgmatch.ingest.image.ImageDecoder;
import dev.imgmatch.ingest.image.ImageLimits;
import dev.imgmatch.ingest.image.Resize;
import dev.imgmatch.ingest.image.RgbImage;
import dev.imgmatch.testkit.Seeds;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.util.List;
import org.junit.jupiter.api.Test;

class ViewEncoderTest {
  private static final long SEED = Seeds.of("ViewEncoderTest", 20261204L);
  private static final ImageDecoder DECODER = new ImageDecoder(ImageLimits.defaults());
  private final ViewEncoder encoder = new ViewEncoder(ViewSpec.DEFAULT);

  private static RgbImage png(BufferedImage img) throws Exception {
    return DECODER.decode(TestImages.encode(img, "png")).oriented();
  }

  /** A textured picture with no uniform edge. */
  private static BufferedImage content(int w, int h, long seed) {
    return dev.imgmatch.ingest.image.BorderTrimTest.content(w, h, seed);
  }

  private static int[] rgb(ImageView v) {
    byte[] b = new byte[v.getPixels().remaining()];
    v.getPixels().duplicate().get(b);
    int[] px = new int[b.length / 3];
    for (int i = 0; i < px.length; i++) {
      px[i] = (b[3 * i] & 0xFF) << 16 | (b[3 * i + 1] & 0xFF) << 8 | (b[3 * i + 2] & 0xFF);
    }
    return px;
  }

  @Test
  void theSmallViewIsTheImageAsASmallCopyOfItLooks() throws Exception {
    // one-pixel stripes: all detail, none of it left at 96 px
    BufferedImage stripes = new BufferedImage(640, 480, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 480; y++) {
      for (int x = 0; x < 640; x++) {
        stripes.setRGB(x, y, x % 2 == 0 ? 0xffffff : 0x000000);
      }
    }
    RgbImage img = png(stripes);
    List<ImageView> views = encoder.render(img, List.of("full", "small"));
    assertThat(views).extracting(v -> v.getName().toString()).containsExactly("full", "small");
    assertThat(views.get(1).getWidth()).isEqualTo(224);
    assertThat(views.get(1).getHeight()).isEqualTo(224);
    // the full view still alternates strongly somewhere; the small one is the flat grey a small copy shows
    assertThat(contrast(rgb(views.get(1)))).isLessThan(12);
    assertThat(contrast(rgb(views.get(0)))).isGreaterThan(contrast(rgb(views.get(1))) + 20);
    // aspect kept when shrinking, and an image already small is left alone
    assertThat(ViewEncoder.shrink(img, 96)).satisfies(r -> {
      assertThat(r.width()).isEqualTo(96);
      assertThat(r.height()).isEqualTo(72);
    });
    RgbImage tiny = png(content(80, 60, SEED));
    assertThat(ViewEncoder.shrink(tiny, 96)).isSameAs(tiny);
    assertThatThrownBy(() -> new ViewEncoder(ViewSpec.DEFAULT, BorderTrim.DEFAULT, 4))
        .hasMessageContaining("at least 8");
  }

  /** Mean absolute difference of horizontally neighbouring grey levels. */
  private static double contrast(int[] px) {
    double sum = 0;
    int n = 0;
    for (int y = 0; y < 224; y++) {
      for (int x = 1; x < 224; x++) {
        sum += Math.abs((px[y * 224 + x] & 0xff) - (px[y * 224 + x - 1] & 0xff));
        n++;
      }
    }
    return sum / n;
  }

  @Test
  void viewsComeInTheRequestedOrderEachAtTheModelSizeAndTrimOnlyWithAMargin() throws Exception {
    RgbImage plain = png(content(400, 300, SEED));
    List<ImageView> views = encoder.render(plain, List.of("full", "hflip", "center80", "trim"));
    assertThat(views).extracting(v -> v.getName().toString()).containsExactly("full", "hflip", "center80");
    assertThat(views).allSatisfy(v -> {
      assertThat(v.getWidth()).isEqualTo(224);
      assertThat(v.getHeight()).isEqualTo(224);
      assertThat(v.getPixels().remaining()).isEqualTo(224 * 224 * 3);
    });
    assertThat(encoder.render(plain, List.of("full", "trim"))).hasSize(1);
  }

  @Test
  void theInsetViewShowsAPastedPictureAndIsLeftOutWithoutOneOrWhenItIsTheBorderedPicture() throws Exception {
    BufferedImage meme = dev.imgmatch.ingest.image.InsetFinderTest.canvas(320, 320, SEED);
    Graphics2D g = meme.createGraphics();
    BufferedImage pasted = dev.imgmatch.ingest.image.InsetFinderTest.detailed(96, 80, SEED + 1);
    g.drawImage(pasted, 100, 120, null);
    g.dispose();
    RgbImage img = png(meme);
    List<ImageView> views = encoder.render(img, List.of("full", "trim", "inset"));
    assertThat(views).extracting(v -> v.getName().toString()).containsExactly("full", "inset");
    BorderTrim.Region r = encoder.inset(img, null);
    // the pasted picture, whole; a canvas shape touching it can carry the region on by a cell of the finder's grid
    // (over 201 seeds: always containing it, overlap 0.61-1.0, under 0.7 for 6)
    assertThat(r.x()).as("%s", r).isLessThanOrEqualTo(104);
    assertThat(r.y()).as("%s", r).isLessThanOrEqualTo(124);
    assertThat(r.x() + r.width()).as("%s", r).isGreaterThanOrEqualTo(192);
    assertThat(r.y() + r.height()).as("%s", r).isGreaterThanOrEqualTo(196);
    assertThat(r.iou(new BorderTrim.Region(100, 120, 96, 80))).as("%s", r).isGreaterThan(0.55);
    // the view is that region at the model's size
    int[] px = rgb(views.get(1));
    int[] want = Resize.to(BorderTrim.crop(img, r), 224, 224).pixels();
    assertThat(px).containsExactly(want);
    // a photo has none; nor has a picture in a plain border, whose inside is the trim view already
    BufferedImage photo = dev.imgmatch.ingest.image.InsetFinderTest.detailed(400, 300, SEED);
    assertThat(encoder.render(png(photo), List.of("full", "inset"))).hasSize(1);
    RgbImage boxed = png(dev.imgmatch.ingest.image.BorderTrimTest.framed(content(320, 180, SEED), 0, 70, 70, 0, 0));
    assertThat(encoder.render(boxed, List.of("full", "trim", "inset"))).extracting(v -> v.getName().toString())
        .containsExactly("full", "trim");
  }

  @Test
  void theDepixelViewIsAMosaicsBlocksAtTheModelsSizeAndIsLeftOutForOtherPictures() throws Exception {
    BufferedImage photo = dev.imgmatch.ingest.image.InsetFinderTest.detailed(480, 320, SEED);
    RgbImage mosaic = png(dev.imgmatch.ingest.image.MosaicFinderTest.pixelate(photo, 30));
    List<ImageView> views = encoder.render(mosaic, List.of("full", "trim", "depixel"));
    assertThat(views).extracting(v -> v.getName().toString()).containsExactly("full", "depixel");
    RgbImage blocks = dev.imgmatch.ingest.image.MosaicFinder.DEFAULT.find(mosaic);
    assertThat(blocks.width()).isEqualTo(30);
    assertThat(blocks.height()).isEqualTo(20);
    assertThat(rgb(views.get(1))).containsExactly(Resize.to(blocks, 224, 224).pixels());
    // a photo is no mosaic; references never get the view (they are what pixelated copies are found of)
    assertThat(encoder.render(png(photo), List.of("full", "depixel"))).hasSize(1);
    assertThat(ViewEncoder.referenceViews(List.of("full", "trim", "inset", "depixel")))
        .containsExactly("full", "trim", "small");
  }

  @Test
  void aMosaicWarpedAfterThePixelatingIsFoundUnwarpedAndItsThumbnailIsThePictureUnwarped() throws Exception {
    BufferedImage photo = dev.imgmatch.ingest.image.InsetFinderTest.detailed(320, 240, SEED);
    BufferedImage warped = dev.imgmatch.ingest.image.KeystoneTest.keystone(
        dev.imgmatch.ingest.image.MosaicFinderTest.pixelate(photo, 27), 0.2, false, true);
    byte[] jpeg = TestImages.jpeg(warped, 0.8f);
    RgbImage img = DECODER.decode(jpeg).oriented();
    assertThat(dev.imgmatch.ingest.image.MosaicFinder.DEFAULT.find(img)).as("no grid as warped").isNull();
    ViewEncoder.Mosaic mosaic = encoder.mosaic(img, null);
    assertThat(mosaic).isNotNull();
    assertThat(mosaic.unwarped()).isNotNull();
    assertThat(mosaic.blocks().width()).isBetween(26, 28);
    assertThat(encoder.render(img, List.of("full", "trim", "depixel"))).extracting(v -> v.getName().toString())
        .containsExactly("full", "depixel");
    // the thumbnail index-service compares layouts on is the picture unwarped; a plain mosaic's is the picture's own
    ImagePreparer preparer = new ImagePreparer(DECODER, encoder);
    ImagePreparer.Fingerprint f = preparer.fingerprint(jpeg, false);
    assertThat(preparer.render(f, List.of("full", "depixel")).thumbnail().gray()).containsExactly(
        dev.imgmatch.ingest.image.GrayThumbnails.of(mosaic.unwarped(), IngestConfig.DEFAULT_THUMBNAIL_SIZE).gray());
    assertThat(preparer.render(f, List.of("full")).thumbnail().gray()).as("no depixel view asked: as it is")
        .containsExactly(dev.imgmatch.ingest.image.GrayThumbnails.of(img, IngestConfig.DEFAULT_THUMBNAIL_SIZE)
            .gray());
    RgbImage plain = png(dev.imgmatch.ingest.image.MosaicFinderTest.pixelate(photo, 27));
    assertThat(encoder.mosaic(plain, null).unwarped()).as("a plain mosaic is not unwarped").isNull();
  }

  @Test
  void aMosaicWithABorderAddedAfterThePixelatingIsFoundInsideTheBorder() throws Exception {
    // a faint mosaic (a hazy sky's blocks differ by a few grey levels) between white bars added after the pixelating,
    // saved as JPEG: the bars' two edges hold too much of the differences for the grid to stand out in the whole
    BufferedImage faint = faded(dev.imgmatch.ingest.image.InsetFinderTest.detailed(240, 320, SEED), 0.15);
    BufferedImage mosaic = dev.imgmatch.ingest.image.MosaicFinderTest.pixelate(faint, 18);
    RgbImage framed = DECODER.decode(TestImages.jpeg(
        dev.imgmatch.ingest.image.BorderTrimTest.framed(mosaic, 0xFFFFFF, 0, 0, 23, 23), 0.8f)).oriented();
    assertThat(dev.imgmatch.ingest.image.MosaicFinder.DEFAULT.find(framed)).as("found in the whole").isNull();
    BorderTrim.Region margin = encoder.margin(framed);
    assertThat(margin).isNotNull();
    assertThat(encoder.render(framed, List.of("full", "trim", "depixel"))).extracting(v -> v.getName().toString())
        .containsExactly("full", "trim", "depixel");
    // without a border to look inside, no mosaic
    assertThat(encoder.render(framed, List.of("full", "depixel"))).hasSize(1);
  }

  @Test
  void aRegionMovesInwardOnlyOnItsTrimmedSides() {
    BorderTrim.Region r = new BorderTrim.Region(16, 0, 240, 320); // trimmed left and right of a 279 x 320 image
    assertThat(ViewEncoder.inward(r, 279, 320, 8)).isEqualTo(new BorderTrim.Region(24, 0, 224, 320));
    assertThat(ViewEncoder.inward(new BorderTrim.Region(0, 10, 100, 80), 100, 100, 8))
        .isEqualTo(new BorderTrim.Region(0, 18, 100, 64));
    assertThat(ViewEncoder.inward(new BorderTrim.Region(10, 10, 40, 40), 100, 100, 8)).as("too little left").isNull();
  }

  /** {@code img}'s colours pulled towards mid-grey: {@code 128 + share (c - 128)} per channel. */
  private static BufferedImage faded(BufferedImage img, double share) {
    BufferedImage out = new BufferedImage(img.getWidth(), img.getHeight(), BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < img.getHeight(); y++) {
      for (int x = 0; x < img.getWidth(); x++) {
        int p = img.getRGB(x, y);
        int rgb = 0;
        for (int shift = 16; shift >= 0; shift -= 8) {
          rgb = rgb << 8 | (int) Math.round(128 + share * (((p >> shift) & 0xFF) - 128));
        }
        out.setRGB(x, y, rgb);
      }
    }
    return out;
  }

  @Test
  void hflipIsTheFullViewMirrored() throws Exception {
    RgbImage img = png(content(333, 250, SEED));
    List<ImageView> views = encoder.render(img, List.of("full", "hflip"));
    int[] full = rgb(views.get(0));
    int[] flip = rgb(views.get(1));
    for (int y = 0; y < 224; y++) {
      for (int x = 0; x < 224; x++) {
        assertThat(flip[y * 224 + x]).isEqualTo(full[y * 224 + 223 - x]);
      }
    }
  }

  @Test
  void center80IsTheCentralEightyPercentOfEachSide() throws Exception {
    RgbImage img = png(content(500, 400, SEED));
    ImageView v = encoder.render(img, List.of("full", "center80")).get(1);
    RgbImage expected = Resize.to(BorderTrim.crop(img, new BorderTrim.Region(50, 40, 400, 320)), 224, 224);
    assertThat(rgb(v)).isEqualTo(expected.pixels());
  }

  @Test
  void trimIsThePictureInsideItsBorder() throws Exception {
    BufferedImage inner = content(320, 200, SEED);
    BufferedImage framed = new BufferedImage(320, 320, BufferedImage.TYPE_INT_RGB); // letterboxed in a square
    Graphics2D g = framed.createGraphics();
    g.setColor(Color.BLACK);
    g.fillRect(0, 0, 320, 320);
    g.drawImage(inner, 0, 60, null);
    g.dispose();
    List<ImageView> views = encoder.render(png(framed), List.of("full", "trim"));
    assertThat(views).extracting(v -> v.getName().toString()).containsExactly("full", "trim");
    // lossless: the trimmed view is exactly the un-bordered picture's full view
    assertThat(rgb(views.get(1))).isEqualTo(rgb(encoder.full(png(inner))));
  }

  @Test
  void fullMustComeFirst() {
    RgbImage img = new RgbImage(1, 1, new int[1]);
    assertThatThrownBy(() -> encoder.render(img, List.of("hflip", "full"))).isInstanceOf(IllegalArgumentException.class);
  }
}
