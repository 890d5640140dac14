package dev.imgmatch.ingest.pdq;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.ingest.TestImages;
import dev.imgmatch.ingest.image.DecodedImage;
import dev.imgmatch.ingest.image.ImageDecoder;
import dev.imgmatch.ingest.image.ImageLimits;
import dev.imgmatch.ingest.image.RgbImage;
import dev.imgmatch.testkit.Seeds;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class PdqHasherTest {
  private final PdqHasher hasher = new PdqHasher();

  private static RgbImage rgb(java.awt.image.BufferedImage img) {
    int[] px = img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    for (int i = 0; i < px.length; i++) {
      px[i] &= 0xFFFFFF;
    }
    return new RgbImage(img.getWidth(), img.getHeight(), px);
  }

  @Test
  void hexAndBytesRoundTripInTheReferenceBitOrder() {
    PdqHash h = PdqHash.fromHex("f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22", 100);
    assertThat(h.toHex()).isEqualTo("f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22");
    assertThat(h.bit(255)).isTrue(); // leading hex digit f = bits 255..252
    assertThat(h.bit(0)).isFalse(); // trailing digit 2 = 0010: bit 1 set, bit 0 clear
    assertThat(h.bit(1)).isTrue();
    assertThat(h.distance(h)).isZero();
    assertThat(h.distance(PdqHash.fromHex("07070f311f0b57b0f9c8f5ddfc709c0f4c91d12a699de1e2cc194c63b16364dd", 0)))
        .isEqualTo(256);
  }

  @Test
  void halfTheBitsAreSetAndQualityIsHighForATexturedImage() {
    PdqHash h = hasher.hash(rgb(TestImages.picture(300, 200, 11)));
    int ones = 0;
    for (int k = 0; k < 256; k++) {
      ones += h.bit(k) ? 1 : 0;
    }
    assertThat(ones).isEqualTo(128); // threshold at the lower median of 256 distinct coefficients
    assertThat(h.quality()).isGreaterThan(50);
  }

  @Test
  void aFlatImageHasQualityZero() {
    int[] px = new int[100 * 100];
    java.util.Arrays.fill(px, 0x808080);
    assertThat(hasher.hash(new RgbImage(100, 100, px)).quality()).isZero();
  }

  @Test
  void dihedralVariantsMatchTheHashesOfTransformedPixels() {
    long seed = Seeds.of("PdqHasherTest.dihedralVariantsMatchTheHashesOfTransformedPixels", 20261206L);
    // odd filter windows (3 along both axes) keep the Jarosz filter symmetric under flips
    RgbImage img = rgb(TestImages.picture(383, 259, seed));
    List<PdqHash> variants = hasher.compute(img).dihedral();
    int[] exifFor = {1, 8, 3, 6, 4, 2, 5, 7}; // the pixel transform of each Dihedral, as an EXIF orientation
    for (Dihedral d : Dihedral.values()) {
      PdqHash direct = hasher.hash(img.oriented(exifFor[d.ordinal()]));
      assertThat(direct.distance(variants.get(d.ordinal())))
          .as("%s (seed %d)", d, seed).isLessThanOrEqualTo(4); // 0 on 200 seeds tried
    }
  }

  @Test
  void orientingAnExifRotatedPhotoGivesTheMatchingDihedralVariantOfItsStoredPixels() throws Exception {
    // a 4032x3024 camera-sized JPEG carrying EXIF orientation N: 3 = half turn, 6 = quarter turn clockwise, 8 =
    // counter-clockwise; decoded at reduced resolution by default, like the reference's exif-rotn-N.jpg photos
    byte[] jpeg = TestImages.jpeg(OracleImages.shapes(4032, 3024, 20261210L), 0.9f);
    ImageDecoder decoder = new ImageDecoder(ImageLimits.defaults());
    for (var c : List.of(new Object[] {3, Dihedral.ROT180}, new Object[] {6, Dihedral.ROT270},
        new Object[] {8, Dihedral.ROT90})) {
      int orientation = (Integer) c[0];
      DecodedImage d = decoder.decode(TestImages.withExifOrientation(jpeg, orientation));
      assertThat(d.exifOrientation()).isEqualTo(orientation);
      assertThat(d.subsampling()).as("4032x3024 decodes at reduced resolution by default").isEqualTo(2);
      PdqHash expected = hasher.compute(d.stored()).dihedral().get(((Dihedral) c[1]).ordinal());
      assertThat(hasher.hash(d.oriented()).distance(expected)).as("orientation %d", orientation)
          .isLessThanOrEqualTo(10);
    }
  }
}
