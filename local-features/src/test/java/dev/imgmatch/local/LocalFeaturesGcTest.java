package dev.imgmatch.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.testkit.Seeds;
import dev.imgmatch.testkit.TexturedPictures;
import java.awt.image.BufferedImage;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Extraction and verification while another thread collects garbage without pause — what a service sees with
 * TensorFlow or Kafka in the same JVM. With {@code org.openpnp:opencv} 4.9.0-0 (its wrappers free native objects in
 * finalizers) this crashed the JVM inside SIFT (a stress loop of such calls died every time), whatever the wrappers' reachability
 * (docs/modules/local-features.md); a crash ends the test JVM, which fails the build. Results must also not depend on
 * the collections: the same picture gives the same features every time.
 */
class LocalFeaturesGcTest {
  private static final long SEED = Seeds.of("LocalFeaturesGcTest", 31L);

  @Test
  void extractionAndVerificationSurviveConstantGarbageCollection() throws Exception {
    AtomicBoolean stop = new AtomicBoolean();
    Thread collector = new Thread(() -> {
      while (!stop.get()) {
        byte[][] junk = new byte[500][];
        for (int i = 0; i < junk.length; i++) {
          junk[i] = new byte[10_000];
        }
        System.gc();
      }
    }, "garbage");
    collector.setDaemon(true);
    collector.start();
    try {
      Random rnd = new Random(SEED);
      SiftExtractor refs = new SiftExtractor(512, 500);
      SiftExtractor queries = new SiftExtractor(512, 800);
      GeometricVerifier verifier = new GeometricVerifier(0.8, 5.0, 12);
      BufferedImage ref = TexturedPictures.random(rnd, 480, 360);
      LocalFeatures first = refs.extract(ref);
      int placed = 0;
      for (int i = 0; i < 20; i++) {
        LocalFeatures again = refs.extract(ref);
        assertThat(again.encode()).as("picture %d", i).isEqualTo(first.encode());
        LocalFeatures q = queries.extract(TexturedPictures.pasted(ref, TexturedPictures.random(rnd, 320, 240), 0.5, rnd));
        try (GeometricVerifier.Query prepared = verifier.prepare(q)) {
          placed += verifier.verify(prepared, again).inliers() >= 12 ? 1 : 0;
          assertThat(verifier.verify(prepared, refs.extract(TexturedPictures.random(rnd, 300, 200))).inliers()).isLessThan(12);
        }
      }
      assertThat(placed).isGreaterThanOrEqualTo(18);
    } finally {
      stop.set(true);
      collector.join();
    }
  }
}
