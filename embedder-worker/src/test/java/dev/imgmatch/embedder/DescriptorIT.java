package dev.imgmatch.embedder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.imgmatch.embedder.model.ImageOps;
import dev.imgmatch.embedder.model.RgbImage;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The real descriptor (default model + default head) on fixture pictures. */
class DescriptorIT {
  private static double cos(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  /** Resized to 60 %, cropped by 6 % on each side, re-encoded as JPEG quality 70, decoded again. */
  private static RgbImage transformedCopy(RgbImage img) {
    BufferedImage src = ImageOps.toBufferedImage(img);
    int cx = img.width() * 6 / 100;
    int cy = img.height() * 6 / 100;
    BufferedImage crop = src.getSubimage(cx, cy, img.width() - 2 * cx, img.height() - 2 * cy);
    BufferedImage small = new BufferedImage(crop.getWidth() * 6 / 10, crop.getHeight() * 6 / 10,
        BufferedImage.TYPE_INT_RGB);
    var g = small.createGraphics();
    g.setRenderingHint(java.awt.RenderingHints.KEY_INTERPOLATION, java.awt.RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    g.drawImage(crop, 0, 0, small.getWidth(), small.getHeight(), null);
    g.dispose();
    return Embedder.decode(Fixtures.encode(ImageOps.fromBufferedImage(small), "jpeg"));
  }

  @Test
  void aTransformedCopyScoresClearlyHigherThanUnrelatedPictures() throws Exception {
    Embedder e = SharedEmbedder.get();
    List<RgbImage> pics = new ArrayList<>();
    for (int k = 0; k < 8; k++) {
      pics.add(Fixtures.picture(k, 320, 240));
    }
    List<Embedder.Embedding> originals = e.embed(pics);
    for (int k = 0; k < 3; k++) {
      float[] copy = e.embed(List.of(transformedCopy(pics.get(k)))).get(0).vector();
      double same = cos(copy, originals.get(k).vector());
      double bestOther = -1;
      for (int j = 0; j < pics.size(); j++) {
        if (j != k) {
          bestOther = Math.max(bestOther, cos(copy, originals.get(j).vector()));
        }
      }
      System.err.printf("picture %d: copy %.3f, best unrelated %.3f%n", k, same, bestOther);
      assertThat(same).as("picture %d: copy vs best unrelated %.3f", k, bestOther).isGreaterThan(bestOther + 0.1);
      assertThat(same).isGreaterThan(0.6);
    }
  }

  @Test
  void vectorsAreUnitLengthAndCarryTheVersionedDescriptor() throws Exception {
    Embedder e = SharedEmbedder.get();
    Embedder.Embedding v = e.embed(List.of(Fixtures.picture(5, 200, 300))).get(0);
    assertThat(v.vector()).hasSize(e.dim());
    assertThat(cos(v.vector(), v.vector())).isCloseTo(1.0, within(1e-5));
    assertThat(e.modelId()).isEqualTo("mobilenet_v2_140-nsfwjs");
    assertThat(e.modelVersion()).startsWith(e.head().version());
    assertThat(v.classScores()).containsKeys("drawing", "hentai", "neutral", "porn", "sexy", "nsfw");
    assertThat(v.classScores().get("nsfw")).isCloseTo(
        v.classScores().get("porn") + v.classScores().get("hentai") + v.classScores().get("sexy"), within(1e-6f));
    // same input, same vector up to float rounding (kernels may differ with the batch and the CPU)
    assertThat(cos(e.embed(List.of(Fixtures.picture(5, 200, 300))).get(0).vector(), v.vector()))
        .isGreaterThanOrEqualTo(0.99999);
  }

  @Test
  void rawFeaturesAreNonNegativeSoCentringMatters() {
    Embedder e = SharedEmbedder.get();
    float[][] f = e.rawFeatures(List.of(Fixtures.picture(1, 224, 224), Fixtures.picture(6, 224, 224)));
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < f[0].length; i++) {
      assertThat(f[0][i]).isGreaterThanOrEqualTo(0f);
      dot += f[0][i] * f[1][i];
      na += f[0][i] * f[0][i];
      nb += f[1][i] * f[1][i];
    }
    double rawCos = dot / Math.sqrt(na * nb);
    System.err.printf("raw cosine of two unrelated pictures: %.3f%n", rawCos);
    assertThat(rawCos).isGreaterThan(0.2); // non-negative features: unrelated pictures look alike before the head
  }
}
