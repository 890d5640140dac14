package dev.imgmatch.index;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.imgmatch.avro.Decision;
import dev.imgmatch.common.GrayThumb;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** A real Lucene index on disk, checked against brute force on seeded random data (the seed is printed). */
class ShardIndexTest {
  static final MatchPolicy POLICY = new MatchPolicy(Map.of("uploads", Set.of("protected")), Set.of("banned"), 31, 50,
      0.9, 0.8, Decision.REVIEW, 10, 10);

  @TempDir
  Path dir;

  static long seed() {
    return dev.imgmatch.testkit.Seeds.of("index-service test", 20261208L);
  }

  /** recall@10 of kNN against exact brute force, over a filtered tenant subset too. */
  @ParameterizedTest
  @EnumSource(value = VectorFormat.class, names = {"FLOAT32", "INT7"})
  void knnRecallAtTenIsAtLeast95PercentOfBruteForce(VectorFormat format) throws Exception {
    long seed = seed();
    Synthetic syn = new Synthetic(seed, 256, 50);
    int n = 3000;
    List<IndexedImage> imgs = new ArrayList<>();
    try (ShardIndex shard = ShardIndex.open(dir, 0, ShardIndex.Options.defaults().withFormat(format))) {
      for (int i = 0; i < n; i++) {
        IndexedImage img = syn.image(i % 4 == 0 ? "t2" : "t1", "img-" + i, "protected", syn.clustered(), syn.hash(), 80, i);
        imgs.add(img);
        shard.upsert(img);
      }
      shard.commit("embeddings");
      shard.refresh();
      int queries = 60;
      double hits = 0;
      double filteredHits = 0;
      SearchFilter all = SearchFilter.tenantOnly("t1", Set.of());
      for (int q = 0; q < queries; q++) {
        float[] v = syn.clustered();
        Set<String> truth = bruteForce(imgs, v, 10, all);
        hits += overlap(truth, shard.knnUids("m1", v, 10, all));
        SearchFilter src = new SearchFilter("t1", Set.of(), Set.of(), Set.of("src-1"), null, null, null);
        filteredHits += overlap(bruteForce(imgs, v, 10, src), shard.knnUids("m1", v, 10, src));
      }
      double recall = hits / (queries * 10.0);
      double filteredRecall = filteredHits / (queries * 10.0);
      System.out.printf("format %s: recall@10 = %.4f, with a source filter %.4f (n=%d, dim=256, seed %d)%n", format,
          recall, filteredRecall, n, seed);
      assertThat(recall).as("recall@10 for seed " + seed).isGreaterThanOrEqualTo(0.95);
      assertThat(filteredRecall).as("filtered recall@10 for seed " + seed).isGreaterThanOrEqualTo(0.95);
    }
  }

  private static Set<String> bruteForce(List<IndexedImage> imgs, float[] q, int k, SearchFilter f) {
    return new HashSet<>(imgs.stream().filter(f::accepts)
        .sorted(Comparator.comparingDouble((IndexedImage i) -> -dot(q, i.vector())))
        .limit(k).map(IndexedImage::uid).toList());
  }

  private static double overlap(Set<String> truth, List<String> got) {
    return got.stream().filter(truth::contains).count();
  }

  static float dot(float[] a, float[] b) {
    float s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  /** PDQ by multi-index hashing, by the linear doc-values scan and by a plain list scan: identical. */
  @Test
  void pdqMatchingEqualsBruteForceHammingScan() throws Exception {
    long seed = seed();
    Synthetic syn = new Synthetic(seed, 8, 4);
    List<byte[]> bases = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      bases.add(syn.hash());
    }
    List<IndexedImage> imgs = new ArrayList<>();
    try (ShardIndex shard = ShardIndex.open(dir, 0, ShardIndex.Options.defaults())) {
      for (int i = 0; i < 3000; i++) {
        byte[] h = i % 2 == 0 ? syn.hash() : syn.flip(bases.get(syn.random().nextInt(bases.size())),
            syn.random().nextInt(60));
        int quality = syn.random().nextInt(10) == 0 ? 30 : 90;
        IndexedImage img = syn.image(i % 5 == 0 ? "t2" : "t1", "p-" + i, "protected", syn.clustered(), h, quality, i);
        imgs.add(img);
        shard.upsert(img);
      }
      shard.refresh();
      SearchFilter f = SearchFilter.tenantOnly("t1", Set.of());
      int nonEmpty = 0;
      for (int q = 0; q < 120; q++) {
        byte[] probe = syn.flip(bases.get(q % bases.size()), syn.random().nextInt(40));
        for (int max : new int[] {0, 15, 31, 47}) {
          Map<String, Integer> expected = new TreeMap<>();
          for (IndexedImage img : imgs) {
            int d = Pdq.hamming(probe, img.pdq());
            if (f.accepts(img) && img.pdqQuality() >= 50 && d <= max) {
              expected.put(img.uid(), d);
            }
          }
          Map<String, Integer> mih = shard.pdqMatchesByUid(List.of(probe), max, 50, f, ShardIndex.PdqMode.MIH);
          Map<String, Integer> scan = shard.pdqMatchesByUid(List.of(probe), max, 50, f, ShardIndex.PdqMode.SCAN);
          assertThat(mih).as("MIH, max %d, seed %d", max, seed).isEqualTo(expected);
          assertThat(scan).as("scan, max %d, seed %d", max, seed).isEqualTo(expected);
          nonEmpty += expected.isEmpty() ? 0 : 1;
        }
      }
      assertThat(nonEmpty).as("the data must exercise matches").isGreaterThan(60);
    }
  }

  @Test
  void tombstonesArePrunedOnlyBeforeTheCutoffAndSurviveAReopenUntilThen() throws Exception {
    Synthetic syn = new Synthetic(2, 16, 2);
    try (ShardIndex shard = ShardIndex.open(dir, 4, ShardIndex.Options.defaults())) {
      shard.delete("t", "old", 1_000);
      shard.delete("t", "new", 5_000);
      shard.commit("emb");
    }
    try (ShardIndex shard = ShardIndex.open(dir, 4, ShardIndex.Options.defaults())) {
      assertThat(shard.tombstoneCount()).as("tombstones are read back from the index").isEqualTo(2);
      assertThat(shard.pruneTombstones(1_000)).as("none requested before 1000").isZero();
      assertThat(shard.pruneTombstones(2_000)).isEqualTo(1);
      assertThat(shard.tombstoneCount()).isEqualTo(1);
      // the pruned one no longer blocks; the kept one still does
      assertThat(shard.upsert(syn.image("t", "old", "uploads", syn.clustered(), syn.hash(), 90, 500))).isTrue();
      assertThat(shard.upsert(syn.image("t", "new", "uploads", syn.clustered(), syn.hash(), 90, 4_000))).isFalse();
      shard.commit("emb");
    }
    try (ShardIndex shard = ShardIndex.open(dir, 4, ShardIndex.Options.defaults())) {
      assertThat(shard.tombstoneCount()).as("the pruning was committed").isEqualTo(1);
      assertThat(shard.uidCounts()).containsOnlyKeys(IndexedImage.uid("t", "old"));
    }
  }

  @Test
  void upsertReplacesDeletionRemovesAndTombstoneBlocksALateOlderEmbedding() throws Exception {
    Synthetic syn = new Synthetic(1, 16, 2);
    try (ShardIndex shard = ShardIndex.open(dir, 3, ShardIndex.Options.defaults())) {
      float[] v = syn.clustered();
      byte[] h = syn.hash();
      shard.upsert(syn.image("t1", "a", "protected", v, h, 90, 100));
      shard.upsert(syn.image("t1", "a", "protected", v, h, 90, 100)); // redelivery
      shard.upsert(syn.image("t2", "a", "protected", v, h, 90, 100)); // same id, other tenant
      shard.refresh();
      assertThat(shard.uidCounts()).containsOnly(Map.entry(IndexedImage.uid("t1", "a"), 1),
          Map.entry(IndexedImage.uid("t2", "a"), 1));

      shard.delete("t1", "a", 200);
      assertThat(shard.upsert(syn.image("t1", "a", "protected", v, h, 90, 150))).as("older than the deletion").isFalse();
      shard.refresh();
      assertThat(shard.uidCounts()).containsOnlyKeys(IndexedImage.uid("t2", "a"));
      assertThat(shard.upsert(syn.image("t1", "a", "protected", v, h, 90, 300))).as("re-upload after").isTrue();
      shard.refresh();
      assertThat(shard.uidCounts()).containsKeys(IndexedImage.uid("t1", "a"));
    }
  }

  @Test
  void tenantsAreIsolatedUnlessTheCollectionIsShared() throws Exception {
    Synthetic syn = new Synthetic(2, 32, 2);
    try (ShardIndex shard = ShardIndex.open(dir, 0, ShardIndex.Options.defaults())) {
      float[] v = syn.clustered();
      byte[] h = syn.hash();
      shard.upsert(syn.image("other", "theirs", "protected", v, h, 90, 1));
      shard.upsert(syn.image("other", "global", "banned", v, h, 90, 1));
      shard.upsert(syn.image("me", "mine", "protected", v, h, 90, 1));
      shard.refresh();
      Probe p = new Probe("m1", List.of(v), List.of(h), 90, null, SearchFilter.tenantOnly("me", Set.of("banned")), 10);
      List<String> ids = shard.search(p, POLICY).stream().map(Hit::imageId).sorted().toList();
      assertThat(ids).containsExactly("global", "mine");
      assertThat(shard.lookup(SearchFilter.tenantOnly("me", Set.of()), "theirs")).isEmpty();
    }
  }

  @Test
  void everySignalIsMeasuredWhicheverFoundTheCandidate() throws Exception {
    Synthetic syn = new Synthetic(3, 64, 2);
    try (ShardIndex shard = ShardIndex.open(dir, 0, ShardIndex.Options.defaults())) {
      float[] v = syn.clustered();
      byte[] h = syn.hash();
      IndexedImage orig = syn.image("t", "orig", "protected", v, h, 90, 1);
      shard.upsert(orig);
      for (int i = 0; i < 50; i++) {
        shard.upsert(syn.image("t", "noise-" + i, "protected", syn.gaussianUnit(), syn.hash(), 90, 1));
      }
      shard.refresh();
      float[] copy = syn.near(v, 0.01);
      Probe p = new Probe("m1", List.of(copy), List.of(syn.flip(h, 10)), 90, orig.sha256(),
          SearchFilter.tenantOnly("t", Set.of()), 5);
      Hit best = shard.search(p, POLICY).stream().max(Comparator.comparingDouble(Hit::score)).orElseThrow();
      assertThat(best.imageId()).isEqualTo("orig");
      assertThat(best.exact()).isTrue();
      assertThat(best.pdqDistance()).isEqualTo(10);
      assertThat(best.cosine()).isGreaterThan(0.95f);
      assertThat(best.score()).isEqualTo(1.0);
    }
  }

  @Test
  void aSmallCopyMeetsItsOriginalThroughTheSmallViewDescriptor() throws Exception {
    Synthetic syn = new Synthetic(8, 32, 4);
    float[] full = syn.gaussianUnit();
    float[] small = syn.gaussianUnit(); // the same picture shrunk: a quite different descriptor
    IndexedImage ref = new IndexedImage("t", "ref", "protected", null, Map.of(), "m1", full, syn.sha(), syn.hash(), 90,
        1, null, small);
    try (ShardIndex shard = ShardIndex.open(dir, 0, ShardIndex.Options.defaults())) {
      shard.upsert(ref);
      for (int i = 0; i < 60; i++) {
        shard.upsert(syn.image("t", "other-" + i, "protected", syn.gaussianUnit(), syn.hash(), 90, 1));
      }
      shard.refresh();
      // a tiny copy: near the small-view descriptor, unrelated to the full one; no PDQ to help
      float[] tiny = syn.near(small, 0.02);
      Probe p = new Probe("m1", List.of(tiny), List.of(), 0, null, SearchFilter.tenantOnly("t", Set.of()), 5);
      Hit best = shard.search(p, POLICY).stream().max(Comparator.comparingDouble(Hit::similarity)).orElseThrow();
      assertThat(best.imageId()).isEqualTo("ref");
      assertThat((double) best.cosine()).isCloseTo(org.apache.lucene.util.VectorUtil.dotProduct(tiny, small),
          org.assertj.core.data.Offset.offset(1e-5));
      assertThat(best.vector()).as("the hit's vector is the full one (copies of one work compare full vectors)")
          .containsExactly(full, org.assertj.core.data.Offset.offset(1e-6f));
      shard.commit("t");
    }
    // after a restart: the small field is known again and a lookup returns the image with both vectors
    try (ShardIndex shard = ShardIndex.open(dir, 0, ShardIndex.Options.defaults())) {
      Probe p = new Probe("m1", List.of(syn.near(small, 0.02)), List.of(), 0, null,
          SearchFilter.tenantOnly("t", Set.of()), 5);
      assertThat(shard.search(p, POLICY)).extracting(Hit::imageId).contains("ref");
      IndexedImage back = shard.lookup(SearchFilter.tenantOnly("t", Set.of()), "ref").orElseThrow();
      assertThat(back.smallVector()).containsExactly(small, org.assertj.core.data.Offset.offset(1e-6f));
      assertThat(shard.vectorDims()).as("model versions list only full fields").containsOnlyKeys(Fields.vector("m1"));
    }
    assertThatThrownBy(() -> new IndexedImage("t", "x", "c", null, Map.of(), "m1", full, syn.sha(), syn.hash(), 90, 1,
        null, new float[] {1, 0})).hasMessageContaining("small view dimension 2");
  }

  @Test
  void aStoredThumbnailComesBackWithItsHitsAndLookups() throws Exception {
    Synthetic syn = new Synthetic(6, 16, 2);
    try (ShardIndex shard = ShardIndex.open(dir, 0, ShardIndex.Options.defaults())) {
      GrayThumb thumb = VerifierTest.thumb(VerifierTest.picture(21));
      IndexedImage plain = syn.image("t", "plain", "protected", syn.clustered(), syn.hash(), 90, 1);
      IndexedImage with = new IndexedImage("t", "with", "protected", null, Map.of(), "m1", plain.vector(),
          syn.sha(), syn.hash(), 90, 2, thumb);
      shard.upsert(plain);
      shard.upsert(with);
      shard.refresh();
      Probe p = new Probe("m1", List.of(plain.vector()), List.of(), 0, null, SearchFilter.tenantOnly("t", Set.of()),
          5);
      MatchPolicy verifying = new MatchPolicy(POLICY.rules(), POLICY.sharedCollections(), POLICY.pdqMaxDistance(),
          POLICY.pdqMinQuality(), POLICY.fusionPdqWeight(), POLICY.marginWeight(), POLICY.marginFloor(),
          POLICY.duplicateCosine(), POLICY.matchThreshold(), POLICY.reviewThreshold(), POLICY.alertMinDecision(),
          POLICY.knnK(), POLICY.maxAlertMatches(), MatchPolicy.Verification.DEFAULT);
      assertThat(shard.search(p, POLICY)).as("a policy that does not verify does not read thumbnails")
          .allSatisfy(h -> assertThat(h.thumbnail()).isNull());
      Map<String, Hit> hits = new java.util.HashMap<>();
      shard.search(p, verifying).forEach(h -> hits.put(h.imageId(), h));
      assertThat(hits.get("plain").thumbnail()).isNull();
      assertThat(hits.get("with").thumbnail().gray()).isEqualTo(thumb.gray());
      assertThat(hits.get("with").thumbnail().width()).isEqualTo(thumb.width());
      assertThat(shard.lookup(SearchFilter.tenantOnly("t", Set.of()), "with").orElseThrow().thumbnail().gray())
          .isEqualTo(thumb.gray());
    }
  }

  @Test
  void theBackgroundCosineIsStoredWithTheImageAndSurvivesAReopen() throws Exception {
    Synthetic syn = new Synthetic(7, 16, 2);
    IndexedImage plain = syn.image("t", "plain", "uploads", syn.clustered(), syn.hash(), 90, 1);
    IndexedImage styled = new IndexedImage("t", "styled", "uploads", null, Map.of(), plain.modelVersion(),
        plain.vector(), syn.sha(), syn.hash(), 90, 2, null, null, null, null, 0.83f);
    try (ShardIndex shard = ShardIndex.open(dir, 0, ShardIndex.Options.defaults())) {
      shard.upsert(plain);
      shard.upsert(styled);
      shard.commit("emb");
    }
    try (ShardIndex shard = ShardIndex.open(dir, 0, ShardIndex.Options.defaults())) {
      SearchFilter f = SearchFilter.tenantOnly("t", Set.of());
      assertThat(shard.lookup(f, "styled").orElseThrow().background()).isEqualTo(0.83f);
      assertThat(shard.lookup(f, "plain").orElseThrow().background()).as("none recorded: none").isNull();
    }
  }

  @Test
  void offsetsAreCommittedWithTheDocumentsAndUncommittedChangesAreLostOnReopen() throws Exception {
    Synthetic syn = new Synthetic(4, 16, 2);
    try (ShardIndex shard = ShardIndex.open(dir, 1, ShardIndex.Options.defaults())) {
      assertThat(shard.embeddingsOffset()).isEqualTo(-1);
      shard.upsert(syn.image("t", "a", "uploads", syn.clustered(), syn.hash(), 90, 1));
      shard.setEmbeddingsOffset(1);
      shard.setDeletionOffset(4, 7);
      shard.commit("embeddings");
      shard.upsert(syn.image("t", "b", "uploads", syn.clustered(), syn.hash(), 90, 1));
      shard.setEmbeddingsOffset(2);
      // closed without commit: like a crash after the last commit
    }
    try (ShardIndex shard = ShardIndex.open(dir, 1, ShardIndex.Options.defaults())) {
      assertThat(shard.embeddingsOffset()).isEqualTo(1);
      assertThat(shard.deletionOffset(4)).isEqualTo(7);
      assertThat(shard.deletionOffset(0)).isEqualTo(-1);
      assertThat(shard.uidCounts()).containsOnlyKeys(IndexedImage.uid("t", "a"));
    }
  }

  @Test
  void aVectorOfAnotherDimensionForTheSameModelVersionIsRefused() throws Exception {
    Synthetic syn = new Synthetic(5, 16, 2);
    try (ShardIndex shard = ShardIndex.open(dir, 0, ShardIndex.Options.defaults())) {
      shard.upsert(syn.image("t", "a", "uploads", syn.clustered(), syn.hash(), 90, 1));
      IndexedImage wrong = new IndexedImage("t", "b", "uploads", null, Map.of(), "m1", new float[] {1, 0, 0}, syn.sha(),
          syn.hash(), 90, 1);
      assertThatThrownBy(() -> shard.upsert(wrong)).hasMessageContaining("dimension 16");
    }
  }
}
