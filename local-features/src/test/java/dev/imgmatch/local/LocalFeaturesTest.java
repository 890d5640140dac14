package dev.imgmatch.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.imgmatch.testkit.Seeds;
import dev.imgmatch.testkit.TexturedPictures;
import java.awt.image.BufferedImage;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LocalFeaturesTest {
  private static final long SEED = Seeds.of("LocalFeaturesTest", 20261203L);
  private final SiftExtractor sift = new SiftExtractor(512, 300);

  @Test
  void encodedFeaturesReadBackTheSame() {
    LocalFeatures f = sift.extract(TexturedPictures.random(new Random(SEED), 400, 300));
    assertThat(f.size()).isBetween(50, 300);
    assertThat(f.width()).isEqualTo(400);
    byte[] bytes = f.encode();
    assertThat(bytes).hasSize(7 + f.size() * LocalFeatures.BYTES_PER_KEYPOINT);
    LocalFeatures back = LocalFeatures.decode(bytes);
    assertThat(back.size()).isEqualTo(f.size());
    assertThat(back.encode()).isEqualTo(bytes);
    for (int i = 0; i < f.size(); i++) {
      assertThat(back.x(i)).isCloseTo(f.x(i), org.assertj.core.data.Offset.offset(0.0626f));
      assertThat(back.descriptor(i)).containsExactly(f.descriptor(i));
    }
  }

  @Test
  void theLargerPictureIsScaledToTheExtractorsSideAndAFlatOneHasNoKeypoints() {
    LocalFeatures big = sift.extract(TexturedPictures.random(new Random(SEED + 1), 1600, 900));
    assertThat(big.width()).isEqualTo(512);
    assertThat(big.height()).isEqualTo(288);
    BufferedImage flat = new BufferedImage(300, 200, BufferedImage.TYPE_INT_RGB);
    assertThat(sift.extract(flat).size()).isZero();
    assertThat(sift.extract(new BufferedImage(5, 5, BufferedImage.TYPE_INT_RGB)).size()).isZero();
  }

  @Test
  void aSmallPictureIsEnlargedToTheExtractorsEnlargeSideAndGivesMoreKeypoints() {
    BufferedImage small = TexturedPictures.random(new Random(SEED + 3), 160, 120);
    SiftExtractor enlarging = new SiftExtractor(512, 2000, 400);
    assertThat(enlarging.enlargeTo()).isEqualTo(400);
    LocalFeatures plain = new SiftExtractor(512, 2000).extract(small);
    LocalFeatures enlarged = enlarging.extract(small);
    assertThat(plain.width()).isEqualTo(160);
    assertThat(enlarged.width()).isEqualTo(400);
    assertThat(enlarged.height()).isEqualTo(300);
    assertThat(enlarged.size()).as("keypoints enlarged vs not").isGreaterThan(plain.size());
    for (int i = 0; i < enlarged.size(); i++) {
      assertThat(enlarged.x(i)).isBetween(0f, 400f);
      assertThat(enlarged.y(i)).isBetween(0f, 300f);
    }
    // a picture already at least that large is only shrunk, as without enlarging
    BufferedImage big = TexturedPictures.random(new Random(SEED + 4), 1000, 500);
    assertThat(enlarging.extract(big).width()).isEqualTo(512);
    assertThat(enlarging.extract(big).encode()).isEqualTo(new SiftExtractor(512, 2000).extract(big).encode());
    // the enlarged copy of a picture verifies against the picture itself
    GeometricVerifier.Verification v = new GeometricVerifier().verify(enlarged,
        new SiftExtractor(512, 500).extract(TexturedPictures.random(new Random(SEED + 3), 160, 120)));
    assertThat(v.inliers()).isGreaterThanOrEqualTo(12);
  }

  @Test
  void aPartsFeaturesArePlacedInTheWholesFrameAndVerifyAgainstThePastedPicture() {
    BufferedImage work = TexturedPictures.random(new Random(SEED + 5), 400, 300);
    // the work pasted small (80 x 60) at (150, 120) into a flat 320 x 320 canvas
    BufferedImage canvas = new BufferedImage(320, 320, BufferedImage.TYPE_INT_RGB);
    java.awt.Graphics2D g = canvas.createGraphics();
    g.setColor(new java.awt.Color(0x7a3b9c));
    g.fillRect(0, 0, 320, 320);
    g.drawImage(work, 150, 120, 80, 60, null);
    g.dispose();
    SiftExtractor probe = new SiftExtractor(512, 800, 512);
    LocalFeatures whole = probe.extract(canvas); // enlarged to 512: 1.6 feature px per canvas px
    LocalFeatures part = probe.extract(canvas.getSubimage(150, 120, 80, 60)); // enlarged to 512 x 384
    double s = whole.width() / 320.0;
    LocalFeatures merged = whole.withPart(part, 150 * s, 120 * s, 80 * s / part.width(), 60 * s / part.height());

    assertThat(merged.size()).isEqualTo(whole.size() + part.size());
    assertThat(merged.width()).isEqualTo(whole.width());
    for (int i = 0; i < whole.size(); i++) {
      assertThat(merged.x(i)).isEqualTo(whole.x(i));
      assertThat(merged.descriptor(i)).containsExactly(whole.descriptor(i));
    }
    for (int j = 0; j < part.size(); j++) { // inside the pasted region of the whole's frame
      assertThat(merged.x(whole.size() + j)).isBetween((float) (150 * s) - 0.01f, (float) (230 * s) + 0.01f);
      assertThat(merged.y(whole.size() + j)).isBetween((float) (120 * s) - 0.01f, (float) (180 * s) + 0.01f);
      assertThat(merged.descriptor(whole.size() + j)).containsExactly(part.descriptor(j));
    }
    LocalFeatures reference = new SiftExtractor(512, 500).extract(work);
    GeometricVerifier verifier = new GeometricVerifier();
    int alone = verifier.verify(whole, reference).inliers();
    int withPart = verifier.verify(merged, reference).inliers();
    assertThat(withPart).as("inliers with the part (%d alone)", alone).isGreaterThan(alone).isGreaterThanOrEqualTo(12);
    assertThat(LocalFeatures.decode(merged.encode()).size()).isEqualTo(merged.size());
    // never more than a record may carry; a bad placement is refused
    LocalFeatures many = whole;
    for (int i = 0; i < 40; i++) {
      many = many.withPart(whole, 0, 0, 1, 1);
    }
    assertThat(many.size()).isEqualTo(Math.min(41 * whole.size(), LocalFeatures.MAX_KEYPOINTS));
    assertThatThrownBy(() -> whole.withPart(part, 0, 0, 0, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> whole.withPart(part, Double.NaN, 0, 1, 1)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void openCvRunsEachCallOnTheCallingThread() {
    OpenCvNatives.load();
    assertThat(org.bytedeco.opencv.global.opencv_core.getNumThreads()).isEqualTo(1);
  }

  @Test
  void rootSiftComponentsAreUnitLengthAfterQuantisation() {
    LocalFeatures f = sift.extract(TexturedPictures.random(new Random(SEED + 2), 300, 300));
    for (int i = 0; i < f.size(); i++) {
      double norm = 0;
      for (float v : f.descriptor(i)) {
        norm += v * v;
      }
      assertThat(Math.sqrt(norm)).isCloseTo(1.0, org.assertj.core.data.Offset.offset(0.02));
    }
  }

  @Test
  void bytesThatAreNotFeaturesAreRefusedWithTheReason() {
    byte[] good = sift.extract(TexturedPictures.random(new Random(SEED + 3), 200, 200)).encode();
    assertThatThrownBy(() -> LocalFeatures.decode(null)).hasMessageContaining("null");
    assertThatThrownBy(() -> LocalFeatures.decode(new byte[3])).hasMessageContaining("header");
    byte[] format = good.clone();
    format[0] = 9;
    assertThatThrownBy(() -> LocalFeatures.decode(format)).hasMessageContaining("unknown format 9");
    assertThatThrownBy(() -> LocalFeatures.decode(Arrays.copyOf(good, good.length - 1))).hasMessageContaining("expected");
    byte[] many = good.clone();
    many[5] = (byte) 0xff;
    many[6] = (byte) 0xff;
    assertThatThrownBy(() -> LocalFeatures.decode(many)).hasMessageContaining("more than 4096");
    byte[] outside = good.clone();
    outside[7] = (byte) 0xff; // keypoint 0's x far beyond the 200 px picture
    assertThatThrownBy(() -> LocalFeatures.decode(outside)).hasMessageContaining("outside the 200x200 picture");
    byte[] zero = good.clone();
    zero[1] = 0;
    zero[2] = 0;
    assertThatThrownBy(() -> LocalFeatures.decode(zero)).hasMessageContaining("picture size 0x200");
  }

  @Test
  void settingsOutsideTheirRangeAreRefused() {
    assertThatThrownBy(() -> new SiftExtractor(8, 300)).hasMessageContaining("maxSide 8");
    assertThatThrownBy(() -> new SiftExtractor(512, 0)).hasMessageContaining("maxKeypoints 0");
    assertThatThrownBy(() -> new SiftExtractor(512, 300, 600)).hasMessageContaining("enlargeTo 600");
    assertThatThrownBy(() -> new SiftExtractor(512, 300, 8)).hasMessageContaining("enlargeTo 8");
    assertThatThrownBy(() -> new VisualWords(8, 30, 1)).hasMessageContaining("do not fit");
    assertThatThrownBy(() -> new GeometricVerifier(1.2, 5, 6)).hasMessageContaining("ratio 1.2");
  }
}
