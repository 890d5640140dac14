package dev.imgmatch.bench.embedder;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The region grid of the regional-descriptor benchmark, and how its views are compared. */
class RegionViewsTest {
  @Test
  void theRegionsAreTheHalfSizeGridAQuarterApartAndTheCentreTwoThirds() {
    BufferedImage img = new BufferedImage(400, 300, BufferedImage.TYPE_INT_RGB);
    List<BufferedImage> r = RegionViewsBench.regions(img);
    assertThat(r).hasSize(10);
    for (BufferedImage g : r.subList(0, 9)) {
      assertThat(g.getWidth()).isEqualTo(200);
      assertThat(g.getHeight()).isEqualTo(150);
    }
    assertThat(r.get(9).getWidth()).isEqualTo(267);
    assertThat(r.get(9).getHeight()).isEqualTo(200);
    // a picture of 3 x 2 px still gives windows of at least one pixel, inside the picture
    for (BufferedImage g : RegionViewsBench.regions(new BufferedImage(3, 2, BufferedImage.TYPE_INT_RGB))) {
      assertThat(g.getWidth()).isBetween(1, 3);
      assertThat(g.getHeight()).isBetween(1, 2);
    }
  }

  @Test
  void theSimilarityIsTheBestOverTheComparedViewsButNeverRegionAgainstRegion() {
    float[] a = {1, 0, 0};
    float[] b = {0, 1, 0};
    float[] c = {0, 0, 1};
    RegionViewsBench.Views q = new RegionViewsBench.Views("q", new float[][] {a, c});
    RegionViewsBench.Views r = new RegionViewsBench.Views("r", new float[][] {b, a, c});
    assertThat(RegionViewsBench.similarity(q, r, false, false)).isEqualTo(0.0); // a . b
    assertThat(RegionViewsBench.similarity(q, r, false, true)).isEqualTo(1.0); // a . r's region a
    assertThat(RegionViewsBench.similarity(q, r, true, false)).isEqualTo(0.0); // q's region c . b
    // both: whole against region either way, but q's region c against r's region c is not compared
    RegionViewsBench.Views r2 = new RegionViewsBench.Views("r2", new float[][] {b, c});
    assertThat(RegionViewsBench.similarity(q, r2, true, true)).isEqualTo(0.0);
    assertThat(RegionViewsBench.unit(new float[] {3, 4})).containsExactly(0.6f, 0.8f);
  }
}
