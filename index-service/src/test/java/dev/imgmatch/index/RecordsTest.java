package dev.imgmatch.index;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.imgmatch.avro.ImageEmbedding;
import dev.imgmatch.avro.QueryFilters;
import dev.imgmatch.avro.QueryParams;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Contract checks on what index-service reads: each failure has a reason code and names the value. */
class RecordsTest {
  static ImageEmbedding valid(float... v) {
    return ItSupport.embedding("id-1", "t", "uploads", v, new byte[32], new byte[32], 1);
  }

  private static dev.imgmatch.avro.ViewVector view(String name, Float... v) {
    return dev.imgmatch.avro.ViewVector.newBuilder().setView(name).setVector(List.of(v)).build();
  }

  @Test
  void aValidEmbeddingConvertsAndANearlyUnitVectorIsRenormalised() {
    IndexedImage img = Records.toIndexed(valid(0.6f, 0.8f));
    assertThat(img.uid()).isEqualTo(IndexedImage.uid("t", "id-1"));
    IndexedImage near = Records.toIndexed(valid(0.6f * 1.005f, 0.8f * 1.005f));
    double n = Math.sqrt(near.vector()[0] * near.vector()[0] + near.vector()[1] * near.vector()[1]);
    assertThat(n).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-6));
  }

  @Test
  void theSmallViewIsIndexedBesideTheFullVectorAndNeverProbes() {
    ImageEmbedding e = valid(0.6f, 0.8f);
    e.setExtraViews(List.of(view("trim", 1f, 0f), view("small", 0f, 1f)));
    IndexedImage img = Records.toIndexed(e);
    assertThat(img.smallVector()).containsExactly(0f, 1f);
    List<String> skipped = new ArrayList<>();
    Probe p = Records.uploadProbe(e, img, SearchFilter.tenantOnly("t", java.util.Set.of()), 10, skipped::add);
    assertThat(p.vectors()).hasSize(2).noneMatch(v -> Arrays.equals(v, new float[] {0f, 1f}));
    assertThat(skipped).isEmpty();
    assertThat(Records.toIndexed(valid(0.6f, 0.8f)).smallVector()).as("most images have none").isNull();
    // an unusable small view costs the image its twin, not its indexing
    e.setExtraViews(List.of(view("small", 1f, 0f, 0f)));
    IndexedImage noTwin = Records.toIndexed(e);
    assertThat(noTwin.smallVector()).isNull();
    Records.uploadProbe(e, noTwin, SearchFilter.tenantOnly("t", java.util.Set.of()), 10, skipped::add);
    assertThat(skipped).singleElement().asString().contains("view small").contains("without its small-view descriptor");
  }

  @Test
  void theInsetViewOnlyNominatesAndIsNeitherIndexedNorScored() {
    ImageEmbedding e = valid(0.6f, 0.8f);
    e.setExtraViews(List.of(view("trim", 1f, 0f), view("inset", 0f, 1f)));
    IndexedImage img = Records.toIndexed(e);
    assertThat(img.smallVector()).isNull();
    SearchFilter f = SearchFilter.tenantOnly("t", java.util.Set.of());
    List<String> skipped = new ArrayList<>();
    for (Probe p : List.of(Records.uploadProbe(e, img, f, 10, skipped::add), Records.probeOf(e, f, 10))) {
      assertThat(p.vectors()).hasSize(2).noneMatch(v -> Arrays.equals(v, new float[] {0f, 1f}));
      assertThat(p.nominators()).singleElement().satisfies(v -> assertThat(v).containsExactly(0f, 1f));
      // scoring sees only the scoring views: a candidate equal to the inset gains nothing from it
      assertThat(p.bestCosine(new float[] {0f, 1f}, null)).isEqualTo(0.8f);
    }
    assertThat(skipped).isEmpty();
    // an unusable inset view is skipped like any extra view of an upload, and refuses a query
    e.setExtraViews(List.of(view("inset", 1f, 0f, 0f)));
    assertThat(Records.uploadProbe(e, img, f, 10, skipped::add).nominators()).isEmpty();
    assertThat(skipped).singleElement().asString().contains("view inset");
  }

  @Test
  void aProbeKnowsItsImagesSizeWhenTheRecordSaysIt() {
    ImageEmbedding e = valid(0.6f, 0.8f);
    SearchFilter f = SearchFilter.tenantOnly("t", java.util.Set.of());
    IndexedImage img = Records.toIndexed(e);
    assertThat(Records.probeOf(e, f, 10).side()).as("before ImageEmbedding v12").isNull();
    assertThat(Records.uploadProbe(e, img, f, 10, x -> { }).side()).isNull();
    e.setWidth(48);
    e.setHeight(64);
    // uploads and queries alike: the longer side decides whether a probe is tiny (Layout.tiny)
    assertThat(Records.probeOf(e, f, 10).side()).isEqualTo(64);
    assertThat(Records.uploadProbe(e, img, f, 10, x -> { }).side()).isEqualTo(64);
  }

  @Test
  void theDepixelViewScoresLikeTheFullViewAndMarksAMosaic() {
    ImageEmbedding e = valid(0.6f, 0.8f);
    SearchFilter f = SearchFilter.tenantOnly("t", java.util.Set.of());
    assertThat(Records.probeOf(e, f, 10).mosaic()).as("no depixel view: no mosaic").isFalse();
    assertThat(Records.uploadProbe(e, Records.toIndexed(e), f, 10, x -> { }).mosaic()).isFalse();
    e.setExtraViews(List.of(view("depixel", 0f, 1f)));
    IndexedImage img = Records.toIndexed(e);
    List<String> skipped = new ArrayList<>();
    for (Probe p : List.of(Records.uploadProbe(e, img, f, 10, skipped::add), Records.probeOf(e, f, 10))) {
      assertThat(p.vectors()).hasSize(2);
      assertThat(p.nominators()).isEmpty();
      // a reference equal to the pixelated picture's blocks meets it through that view
      assertThat(p.bestCosine(new float[] {0f, 1f}, null)).isEqualTo(1f);
      // and ingest-stream made that view because it found a mosaic grid: index-service also matches its layout
      assertThat(p.mosaic()).isTrue();
    }
    assertThat(skipped).isEmpty();
  }

  @Test
  void brokenEmbeddingsAreRefusedWithAReason() {
    assertCode(valid(3f, 4f), "norm 5.0");
    assertCode(valid(Float.NaN, 1f), "component 0 is NaN");
    assertCode(valid(), "empty vector");
    ImageEmbedding e = valid(1f, 0f);
    e.setTenant("");
    assertCode(e, "empty tenant");
    float[] big = new float[2000];
    big[0] = 1;
    assertCode(valid(big), "dimension 2000");
  }

  @Test
  void localFeaturesAreCheckedCarriedToTheImageAndItsProbeAndMalformedOnesRefused() {
    ImageEmbedding e = valid(0.6f, 0.8f);
    byte[] none = {1, 0, 10, 0, 10, 0, 0}; // no keypoint, a 10 x 10 picture
    e.setLocalFeatures(java.nio.ByteBuffer.wrap(none));
    IndexedImage img = Records.toIndexed(e);
    assertThat(img.localFeatures()).isEqualTo(none);
    assertThat(img.withoutLocalFeatures().localFeatures()).isNull();
    Probe p = Records.uploadProbe(e, img, SearchFilter.tenantOnly("t", java.util.Set.of()), 10, x -> { });
    assertThat(p.local()).isNotNull();
    assertThat(p.local().width()).isEqualTo(10);
    assertThat(Records.toIndexed(valid(0.6f, 0.8f)).localFeatures()).as("most records have none").isNull();
    e.setLocalFeatures(java.nio.ByteBuffer.wrap(new byte[] {1, 0, 10, 0, 10, 0, 1})); // one keypoint, no bytes of it
    assertCode(e, "local features: 7 bytes for 1 keypoints");
    e.setLocalFeatures(java.nio.ByteBuffer.wrap(new byte[] {9}));
    assertCode(e, "local features");
  }

  @Test
  void theBackgroundCosineGoesToTheImageAndItsProbesWhenItIsACosine() {
    ImageEmbedding e = valid(0.6f, 0.8f);
    assertThat(Records.toIndexed(e).background()).as("older records carry none").isNull();
    e.setBackgroundCosine(0.71f);
    IndexedImage img = Records.toIndexed(e);
    assertThat(img.background()).isEqualTo(0.71f);
    SearchFilter f = SearchFilter.tenantOnly("t", java.util.Set.of());
    assertThat(Records.uploadProbe(e, img, f, 10, x -> { }).background()).isEqualTo(0.71f);
    assertThat(Records.probeOf(e, f, 10).background()).isEqualTo(0.71f);
    for (float bad : new float[] {Float.NaN, 7f, -3f, Float.POSITIVE_INFINITY}) { // any producer can write embeddings
      e.setBackgroundCosine(bad);
      assertThat(Records.toIndexed(e).background()).as("not a cosine: ignored, " + bad).isNull();
    }
  }

  private static void assertCode(ImageEmbedding e, String message) {
    assertThatThrownBy(() -> Records.toIndexed(e)).isInstanceOf(InvalidRecordException.class)
        .hasMessageContaining(message)
        .extracting(x -> ((InvalidRecordException) x).reasonCode()).isEqualTo(Records.INVALID_EMBEDDING);
  }

  @Test
  void queryParametersAreChecked() {
    QueryParams ok = QueryParams.newBuilder().setK(10).setMinScore(0.5f).setFilters(QueryFilters.newBuilder().build())
        .setRequestedAtMs(1).build();
    Records.checkParams("q", ok, 1000);
    assertThatThrownBy(() -> Records.checkParams("q", QueryParams.newBuilder(ok).setK(0).build(), 1000))
        .hasMessageContaining("k must be 1-1000, got 0");
    assertThatThrownBy(() -> Records.checkParams("q", QueryParams.newBuilder(ok).setMinScore(2).build(), 1000))
        .hasMessageContaining("minScore");
    QueryParams badRange = QueryParams.newBuilder(ok)
        .setFilters(QueryFilters.newBuilder().setFromMs(10L).setToMs(5L).build()).build();
    assertThatThrownBy(() -> Records.checkParams("q", badRange, 1000)).hasMessageContaining("fromMs 10");
  }

  @Test
  void aQueryProbeCarriesEveryViewAndDihedralHash() {
    ImageEmbedding q = valid(1f, 0f);
    q.setExtraViews(List.of(dev.imgmatch.avro.ViewVector.newBuilder().setView("hflip")
        .setVector(new ArrayList<>(Arrays.asList(0f, 1f))).build()));
    q.setPdqDihedral(List.of(new dev.imgmatch.avro.Pdq256(new byte[32]), new dev.imgmatch.avro.Pdq256(new byte[32])));
    Probe p = Records.probeOf(q, SearchFilter.tenantOnly("t", java.util.Set.of()), 5);
    assertThat(p.vectors()).hasSize(2);
    assertThat(p.pdqHashes()).hasSize(3);
    q.setExtraViews(List.of(dev.imgmatch.avro.ViewVector.newBuilder().setView("crop")
        .setVector(new ArrayList<>(Arrays.asList(0f, 0f, 1f))).build()));
    assertThatThrownBy(() -> Records.probeOf(q, SearchFilter.tenantOnly("t", java.util.Set.of()), 5))
        .hasMessageContaining("crop has dimension 3");
  }
}
