package dev.imgmatch.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.testkit.Seeds;
import dev.imgmatch.testkit.TexturedPictures;
import java.awt.image.BufferedImage;
import java.util.Random;
import org.junit.jupiter.api.Test;

class GeometricVerifierTest {
  private static final long SEED = Seeds.of("GeometricVerifierTest", 18L);
  private final SiftExtractor refs = new SiftExtractor(512, 500);
  private final SiftExtractor queries = new SiftExtractor(640, 1000);
  private final GeometricVerifier verifier = new GeometricVerifier();

  @Test
  void aReferencePastedSmallIntoAnotherPictureIsFoundThereAndAnUnrelatedOneIsNot() {
    Random rnd = new Random(SEED);
    int found = 0;
    int worstCopy = Integer.MAX_VALUE;
    int bestUnrelated = 0;
    for (int k = 0; k < 4; k++) {
      BufferedImage ref = TexturedPictures.random(rnd, 480, 360);
      BufferedImage other = TexturedPictures.random(rnd, 480, 360);
      BufferedImage query = TexturedPictures.pasted(ref, TexturedPictures.random(rnd, 320, 240), 0.45 + 0.1 * k, rnd);
      LocalFeatures q = queries.extract(query);
      GeometricVerifier.Verification copy = verifier.verify(q, refs.extract(ref));
      GeometricVerifier.Verification unrelated = verifier.verify(q, refs.extract(other));
      worstCopy = Math.min(worstCopy, copy.inliers());
      bestUnrelated = Math.max(bestUnrelated, unrelated.inliers());
      if (copy.inliers() >= 12) {
        found++;
        assertThat(copy.referenceCoverage()).isGreaterThan(0.2);
        // the copy fills only part of the query: where it was pasted
        assertThat(copy.queryCoverage()).isLessThan(copy.referenceCoverage());
      }
    }
    System.out.println("pasted copies: fewest inliers " + worstCopy + "; unrelated: most " + bestUnrelated);
    assertThat(found).isGreaterThanOrEqualTo(3);
    assertThat(bestUnrelated).isLessThan(8);
  }

  @Test
  void aPictureAgainstItselfIsAFullPlacement() {
    BufferedImage pic = TexturedPictures.random(new Random(SEED + 1), 400, 300);
    LocalFeatures f = refs.extract(pic);
    GeometricVerifier.Verification v = verifier.verify(f, f);
    assertThat(v.inliers()).isGreaterThan(f.size() / 2);
    assertThat(v.referenceCoverage()).isGreaterThan(0.5);
    assertThat(v.queryCoverage()).isCloseTo(v.referenceCoverage(), org.assertj.core.data.Offset.offset(1e-9));
  }

  @Test
  void aMirroredCopyIsPlacedOnlyByTheMirroredFeaturesAndTheyMatchAFreshExtractionOfTheMirror() {
    Random rnd = new Random(SEED + 3);
    BufferedImage ref = TexturedPictures.random(rnd, 480, 360);
    BufferedImage mirror = new BufferedImage(480, 360, BufferedImage.TYPE_INT_RGB);
    java.awt.Graphics2D g = mirror.createGraphics();
    g.drawImage(ref, new java.awt.geom.AffineTransform(-1, 0, 0, 1, 480, 0), null);
    g.dispose();
    LocalFeatures r = refs.extract(ref);
    LocalFeatures q = queries.extract(TexturedPictures.pasted(mirror, TexturedPictures.random(rnd, 320, 240), 0.6, rnd));
    int direct = verifier.verify(q, r).inliers();
    GeometricVerifier.Verification mirrored = verifier.verify(q.mirrored(), r);
    System.out.println("mirrored paste: " + direct + " inliers as is, " + mirrored.inliers() + " mirrored");
    assertThat(direct).isLessThan(12);
    assertThat(mirrored.inliers()).isGreaterThanOrEqualTo(30);
    // the permutation is SIFT's own: the mirrored features of a picture find a fresh extraction of its mirror
    LocalFeatures fresh = refs.extract(mirror);
    assertThat(verifier.verify(r.mirrored(), fresh).inliers()).isGreaterThan(r.size() / 2);
    assertThat(r.mirrored().mirrored().encode()).isEqualTo(r.encode());
  }

  @Test
  void tooFewKeypointsGiveNoEvidence() {
    LocalFeatures none = LocalFeatures.empty(100, 100);
    LocalFeatures some = refs.extract(TexturedPictures.random(new Random(SEED + 2), 300, 200));
    assertThat(verifier.verify(none, some).inliers()).isZero();
    assertThat(verifier.verify(some, none).inliers()).isZero();
  }
}
