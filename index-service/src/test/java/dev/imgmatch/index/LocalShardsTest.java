package dev.imgmatch.index;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.Decision;
import dev.imgmatch.common.MatchRules;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Several real shards on disk: searches span them and see every upsert and deletion at once. */
class LocalShardsTest {
  static final MatchPolicy POLICY = new MatchPolicy(MatchRules.parse("uploads:protected,uploads").asMap(), Set.of(),
      31, 50, 0.6, 0.5, Decision.REVIEW, 10, 10); // decision scores: similarity less the margin

  @TempDir
  Path dir;

  @Test
  void anUpsertIsFoundImmediatelyAndADeletionHidesAtOnceEvenBeforeARefresh() throws Exception {
    Synthetic syn = new Synthetic(11, 32, 4);
    // refresh period 1 s: the assertions below run well inside it, or after it; both must hold
    try (LocalShards shards = new LocalShards(dir, ShardIndex.Options.defaults(), 1000)) {
      ShardIndex s0 = shards.open(0);
      ShardIndex s1 = shards.open(1);
      float[] v = syn.clustered();
      byte[] h = syn.hash();
      shards.upsert(s0, syn.image("t", "a", "uploads", v, h, 90, 1));
      shards.upsert(s1, syn.image("t", "b", "uploads", syn.gaussianUnit(), syn.hash(), 90, 2));
      Probe p = new Probe("m1", List.of(syn.near(v, 0.01)), List.of(syn.flip(h, 3)), 90, null,
          SearchFilter.tenantOnly("t", Set.of()), 10);
      List<Hit> hits = shards.search(p, POLICY);
      assertThat(hits).extracting(Hit::imageId).startsWith("a").contains("b");
      assertThat(hits.get(0).pdqDistance()).isEqualTo(3);
      assertThat(shards.lookup(SearchFilter.tenantOnly("t", Set.of()), "a")).isPresent();

      shards.refreshNow();
      assertThat(shards.recentCount()).isZero();
      assertThat(shards.search(p, POLICY)).extracting(Hit::imageId).startsWith("a");

      for (ShardIndex s : shards.all()) {
        shards.delete(s, "t", "a", 10);
      }
      assertThat(shards.search(p, POLICY)).extracting(Hit::imageId).doesNotContain("a");
      assertThat(shards.lookup(SearchFilter.tenantOnly("t", Set.of()), "a")).isEmpty();
      shards.refreshNow();
      assertThat(shards.search(p, POLICY)).extracting(Hit::imageId).containsExactly("b");
    }
  }

  /**
   * Retroactive layout matching's candidates ({@link LocalShards#mosaicsLike}): from its original's thumbnail, an
   * upload marked as a mosaic is found by its layout, before and after a refresh, and keeps its mark in the index; an
   * upload with the same thumbnail not marked as a mosaic and a mosaic of another picture are not.
   */
  @Test
  void aPixelatedUploadIsFoundByItsOriginalsLayoutBeforeAndAfterARefresh() throws Exception {
    Synthetic syn = new Synthetic(12, 32, 4);
    long seed = Long.getLong("imgmatch.test.seed", 20261205L);
    System.out.println("LocalShardsTest seed " + seed + " (-Dimgmatch.test.seed to override)");
    dev.imgmatch.common.GrayThumb original = LayoutTest.picture(64, 48, seed);
    dev.imgmatch.common.GrayThumb mosaic = LayoutTest.pixelated(original, 5);
    // another picture: random grey levels on 8-px cells (a smooth synthetic picture fits any other through some
    // window at 0.95-0.99, which the window search's ratio test, not this look-up, refuses; a checker does not)
    dev.imgmatch.common.GrayThumb otherMosaic = LayoutTest.pixelated(checker(seed + 1), 5);
    try (LocalShards shards = new LocalShards(dir, ShardIndex.Options.defaults(), 600_000)) {
      ShardIndex s0 = shards.open(0);
      ShardIndex s1 = shards.open(1);
      shards.upsert(s0, upload(syn, "mosaic", mosaic, true));
      shards.upsert(s1, upload(syn, "unmarked", mosaic, false));
      shards.upsert(s1, upload(syn, "other-mosaic", otherMosaic, true));
      Probe reference = reference(syn, original);
      assertMosaicsLikeBeforeAndAfterARefresh(shards, reference, "mosaic");
      assertThat(shards.lookup(SearchFilter.tenantOnly("t", Set.of()), "mosaic")).get()
          .extracting(IndexedImage::mosaic).isEqualTo(true);
      assertThat(shards.lookup(SearchFilter.tenantOnly("t", Set.of()), "unmarked")).get()
          .extracting(IndexedImage::mosaic).isEqualTo(false);
      Probe noThumbnail = new Probe("m1", List.of(syn.gaussianUnit()), List.of(syn.hash()), 90, null,
          SearchFilter.tenantOnly("t", Set.of()), 10);
      assertThat(shards.mosaicsLike(noThumbnail, POLICY)).isEmpty();
    }
  }

  /**
   * The window search's look-up ({@link ShardIndex#layoutCandidates} with {@code windows}): a pixelated copy of a
   * corner window of a reference, among 24 other pictures on disk, finds the reference by that window's indexed
   * layout, each shard nominating at most {@link Layout#WINDOW_LOOKUP} references per window field and probe layout.
   * Only images that keep their local features (the references of {@code index.local.collections}) have windows: an
   * upload of the same picture is not nominated by them; a shard whose images have no window fields (as images indexed
   * before they existed) answers nothing rather than failing.
   */
  @Test
  void aCroppedCopysOriginalIsFoundByTheLayoutOfAnIndexedWindow() throws Exception {
    Synthetic syn = new Synthetic(13, 32, 4);
    long seed = Long.getLong("imgmatch.test.seed", 20261205L);
    System.out.println("LocalShardsTest seed " + seed + " (-Dimgmatch.test.seed to override)");
    dev.imgmatch.common.GrayThumb original = LayoutTest.picture(64, 48, seed);
    // the window at the top right corner, three quarters of each side, pixelated
    dev.imgmatch.common.GrayThumb copy = LayoutTest.pixelated(Layout.window(original, 16, 0, 48, 36), 4);
    try (LocalShards shards = new LocalShards(dir, ShardIndex.Options.defaults(), 600_000)) {
      ShardIndex s0 = shards.open(0);
      ShardIndex s1 = shards.open(1);
      byte[] features = new dev.imgmatch.local.SiftExtractor(512, 100)
          .extract(dev.imgmatch.testkit.TexturedPictures.random(new java.util.Random(seed), 160, 120)).encode();
      shards.upsert(s0, reference(syn, "original", original, features));
      for (int i = 0; i < 24; i++) {
        shards.upsert(s0, reference(syn, "other-" + i, LayoutTest.picture(64, 48, seed + 100 + i), features));
      }
      shards.upsert(s1, upload(syn, "upload-of-the-original", original, false));
      shards.upsert(s1, reference(syn, "no-thumbnail", null, features));
      shards.refreshNow();
      Probe p = new Probe("m1", List.of(syn.gaussianUnit()), List.of(syn.hash()), 90, null,
          SearchFilter.tenantOnly("t", Set.of()), 10, copy);
      Layout.ProbeLayout q = Layout.ProbeLayout.of(copy);
      List<Layout.Candidate> byWindows = s0.layoutCandidates(p, q, POLICY, false, ShardIndex.LayoutLookup.WINDOWS);
      assertThat(byWindows).extracting(c -> c.hit().imageId()).contains("original");
      assertThat(byWindows).hasSizeLessThanOrEqualTo(Layout.WINDOW_LOOKUP * Fields.LAYOUT_WINDOWS * q.windowQueries().size());
      for (Layout.Candidate c : byWindows) {
        // nominated by a window, scored (and shape-tested) by the whole layout as every look-up candidate is
        assertThat(c.correlation()).isEqualTo(q.fit(c.thumb()).correlation());
      }
      assertThat(s1.layoutCandidates(p, q, POLICY, false, ShardIndex.LayoutLookup.WINDOWS)).as("no windows in this shard").isEmpty();
      assertThat(s1.layoutCandidates(p, q, POLICY, false, ShardIndex.LayoutLookup.WHOLE)).extracting(c -> c.hit().imageId())
          .containsExactly("upload-of-the-original"); // by its whole layout, as before
    }
  }

  /**
   * Retroactive layout matching of a cropped mosaic ({@link LocalShards#mosaicsLike} with the window search on): an
   * upload pixelated from the top right 0.6 of its original's sides, whose whole layout is too far from the
   * original's, is found from the original by the original's windows, before and after a refresh, with its window
   * correlation.
   */
  @Test
  void aCroppedPixelatedUploadIsFoundByItsOriginalsWindows() throws Exception {
    Synthetic syn = new Synthetic(14, 32, 4);
    long seed = Long.getLong("imgmatch.test.seed", 20261205L);
    System.out.println("LocalShardsTest seed " + seed + " (-Dimgmatch.test.seed to override)");
    // twelve smaller blobs: a picture whose crop has another layout (whole correlation at most 0.89 over 300 seeds)
    dev.imgmatch.common.GrayThumb original = new dev.imgmatch.common.GrayThumb(64, 48,
        dev.imgmatch.testkit.TexturedPictures.blobs(new java.util.Random(seed + 3), 64, 48, 12, 3, 8));
    dev.imgmatch.common.GrayThumb cropped = LayoutTest.pixelated(Layout.window(original, 26, 0, 38, 29), 3);
    Layout.ProbeLayout q = Layout.ProbeLayout.of(original);
    double whole = q.correlation(cropped);
    double windows = Layout.ProbeLayout.of(cropped).windowCorrelation(original);
    System.out.printf("cropped mosaic: whole %.3f, windows %.3f%n", whole, windows);
    assertThat(whole).as("the whole layouts alone would not find it").isLessThan(POLICY.layout().minCorrelation());
    assertThat(windows).isGreaterThanOrEqualTo(POLICY.layout().minCorrelation());
    try (LocalShards shards = new LocalShards(dir, ShardIndex.Options.defaults(), 600_000)) {
      ShardIndex s0 = shards.open(0);
      shards.upsert(s0, upload(syn, "cropped-mosaic", cropped, true));
      shards.upsert(s0, upload(syn, "unmarked", cropped, false));
      Probe reference = reference(syn, original);
      assertMosaicsLikeBeforeAndAfterARefresh(shards, reference, "cropped-mosaic");
      List<Layout.Candidate> byCrops = s0.layoutCandidates(reference, q, POLICY, true, ShardIndex.LayoutLookup.CROPS);
      assertThat(byCrops).extracting(c -> c.hit().imageId()).containsExactly("cropped-mosaic");
      assertThat(Layout.asCrops(original, byCrops).get(0).correlation()).isEqualTo(windows);
    }
  }

  /** A new reference of tenant t with the thumbnail {@code original}, as {@code Retroactive} judges it. */
  private static Probe reference(Synthetic syn, dev.imgmatch.common.GrayThumb original) {
    return new Probe("m1", List.of(syn.gaussianUnit()), List.of(syn.hash()), 90, null,
        SearchFilter.tenantOnly("t", Set.of()), 10, original);
  }

  /** The earlier mosaics {@code reference} finds are exactly {@code expected}, before a refresh and after it. */
  private static void assertMosaicsLikeBeforeAndAfterARefresh(LocalShards shards, Probe reference, String expected)
      throws Exception {
    assertThat(shards.mosaicsLike(reference, POLICY)).as("not refreshed yet").extracting(Hit::imageId)
        .containsExactly(expected);
    shards.refreshNow();
    assertThat(shards.recentCount()).isZero();
    assertThat(shards.mosaicsLike(reference, POLICY)).as("refreshed").extracting(Hit::imageId)
        .containsExactly(expected);
  }

  /** Seeded random grey levels on 8 x 8-pixel cells, 64 x 48. */
  private static dev.imgmatch.common.GrayThumb checker(long seed) {
    java.util.Random r = new java.util.Random(seed);
    int[] levels = new int[8 * 6];
    for (int i = 0; i < levels.length; i++) {
      levels[i] = 30 + r.nextInt(196);
    }
    byte[] g = new byte[64 * 48];
    for (int y = 0; y < 48; y++) {
      for (int x = 0; x < 64; x++) {
        g[y * 64 + x] = (byte) levels[(y / 8) * 8 + x / 8];
      }
    }
    return new dev.imgmatch.common.GrayThumb(64, 48, g);
  }

  private static IndexedImage reference(Synthetic syn, String id, dev.imgmatch.common.GrayThumb thumb, byte[] features) {
    return new IndexedImage("t", id, "protected", null, Map.of(), "m1", syn.gaussianUnit(), syn.sha(), syn.hash(), 90,
        1, thumb, null, null, features, null, false);
  }

  private static IndexedImage upload(Synthetic syn, String id, dev.imgmatch.common.GrayThumb thumb, boolean mosaic) {
    return new IndexedImage("t", id, "uploads", null, Map.of(), "m1", syn.gaussianUnit(), syn.sha(), syn.hash(), 90,
        1, thumb, null, null, null, null, mosaic);
  }

  /**
   * An upload (submitted at 1), its takedown (requested at 2) and a re-upload of the same id (submitted at 3), in
   * each of the 6 orders they can arrive in (a crash's replay interleaves embeddings and deletions anew), with and
   * without a searcher refresh between them: the index always ends holding the re-upload, and only it.
   */
  @Test
  void submissionAndRequestTimesDecideUploadsAgainstDeletionsWhateverTheArrivalOrder() throws Exception {
    Synthetic syn = new Synthetic(12, 32, 4);
    float[] v1 = syn.gaussianUnit();
    float[] v3 = syn.gaussianUnit();
    byte[] h = syn.hash();
    List<List<String>> orders = List.of(List.of("u1", "d", "u3"), List.of("u1", "u3", "d"), List.of("d", "u1", "u3"),
        List.of("d", "u3", "u1"), List.of("u3", "u1", "d"), List.of("u3", "d", "u1"));
    int run = 0;
    for (boolean refreshBetween : List.of(false, true)) {
      for (List<String> order : orders) {
        try (LocalShards shards = new LocalShards(dir.resolve("run-" + run++), ShardIndex.Options.defaults(), 100_000)) {
          ShardIndex s = shards.open(0);
          for (String step : order) {
            switch (step) {
              case "u1" -> shards.upsert(s, syn.image("t", "x", "uploads", v1, h, 90, 1));
              case "u3" -> shards.upsert(s, syn.image("t", "x", "uploads", v3, h, 90, 3));
              default -> shards.delete(s, "t", "x", 2);
            }
            if (refreshBetween) {
              shards.refreshNow();
            }
          }
          for (boolean refreshed : List.of(false, true)) {
            if (refreshed) {
              shards.refreshNow();
            }
            var found = shards.lookup(SearchFilter.tenantOnly("t", Set.of()), "x");
            assertThat(found).as("order %s, refresh between steps %s, refreshed at the end %s", order,
                refreshBetween, refreshed).isPresent();
            assertThat(found.get().submittedAtMs()).as("order %s", order).isEqualTo(3);
          }
          assertThat(s.uidCounts()).as("order %s", order).containsEntry(IndexedImage.uid("t", "x"), 1);
        }
      }
    }
  }

  @Test
  void everyUpsertIsFoundWhileTheRefresherRunsConcurrently() throws Exception {
    Synthetic syn = new Synthetic(13, 32, 4);
    // refresh every millisecond: searches keep overlapping refreshes, which forget the in-memory copy of what the
    // new searcher holds; whatever the interleaving, an image upserted before a search starts must be found (before
    // the fix, about 2 of 5000 searches missed their image: the searchers were read before the recent changes)
    try (LocalShards shards = new LocalShards(dir, ShardIndex.Options.defaults(), 1)) {
      ShardIndex[] s = {shards.open(0), shards.open(1)};
      int missed = 0;
      for (int i = 0; i < 3000; i++) {
        float[] v = syn.gaussianUnit();
        String id = "img-" + i;
        shards.upsert(s[i % 2], syn.image("t", id, "uploads", v, syn.hash(), 90, i));
        Probe p = new Probe("m1", List.of(v), List.of(), 90, null, SearchFilter.tenantOnly("t", Set.of()), 1);
        if (shards.search(p, POLICY).stream().noneMatch(h -> h.imageId().equals(id))) {
          missed++;
        }
      }
      assertThat(missed).as("images not found right after their upsert").isZero();
    }
  }

  @Test
  void closingWhileTheRefresherRunsLeavesEveryShardClosable() throws Exception {
    Synthetic syn = new Synthetic(14, 32, 4);
    // a 1 ms refresh period makes close() land in the middle of a refresh; interrupting that refresh (shutdownNow)
    // closed the shard's write.lock channel and close() failed with "FileLock invalidated by an external force"
    // (before the fix: failed by round 6 and round 9 in two runs)
    for (int round = 0; round < 100; round++) {
      Path root = dir.resolve("round-" + round);
      LocalShards shards = new LocalShards(root, ShardIndex.Options.defaults(), 1);
      ShardIndex[] s = {shards.open(0), shards.open(1)};
      for (int i = 0; i < 40; i++) {
        shards.upsert(s[i % 2], syn.image("t", "img-" + i, "uploads", syn.gaussianUnit(), syn.hash(), 90, i));
      }
      org.assertj.core.api.Assertions.assertThatCode(shards::close).as("round %d", round).doesNotThrowAnyException();
      // and the shards open again afterwards (locks released)
      try (LocalShards again = new LocalShards(root, ShardIndex.Options.defaults(), 1000)) {
        assertThat(again.open(0).embeddingsOffset()).isEqualTo(-1);
      }
    }
  }

  @Test
  void aTinyCopyMeetsAJustIndexedReferenceThroughItsSmallViewBeforeAnyRefresh() throws Exception {
    Synthetic syn = new Synthetic(15, 32, 4);
    try (LocalShards shards = new LocalShards(dir, ShardIndex.Options.defaults(), 60_000)) {
      ShardIndex s0 = shards.open(0);
      float[] small = syn.gaussianUnit();
      shards.upsert(s0, new IndexedImage("t", "ref", "protected", null, Map.of(), "m1", syn.gaussianUnit(), syn.sha(),
          syn.hash(), 90, 1, null, small));
      float[] tiny = syn.near(small, 0.02);
      Probe p = new Probe("m1", List.of(tiny), List.of(), 0, null, SearchFilter.tenantOnly("t", Set.of()), 5);
      assertThat(shards.recentCount()).isEqualTo(1);
      List<Hit> hits = shards.search(p, POLICY);
      assertThat(hits).extracting(Hit::imageId).containsExactly("ref");
      assertThat((double) hits.get(0).cosine()).isCloseTo(org.apache.lucene.util.VectorUtil.dotProduct(tiny, small),
          org.assertj.core.data.Offset.offset(1e-5));
    }
  }

  @Test
  void aCopyUploadedRightAfterItsOriginalMatchesIt() throws Exception {
    Synthetic syn = new Synthetic(12, 64, 4);
    try (LocalShards shards = new LocalShards(dir, ShardIndex.Options.defaults(), 1000)) {
      ShardIndex s0 = shards.open(0);
      ShardIndex s1 = shards.open(1);
      float[] v = syn.clustered();
      byte[] h = syn.hash();
      IndexedImage orig = syn.image("t", "orig", "uploads", v, h, 90, 1);
      shards.upsert(s0, orig);
      IndexedImage copy = syn.image("t", "copy", "uploads", syn.near(v, 0.02), syn.flip(h, 12), 90, 2);
      Probe p = new Probe("m1", List.of(copy.vector()), List.of(copy.pdq()), 90, copy.sha256(),
          SearchFilter.tenantOnly("t", Set.of()).withCollections(POLICY.targetsOf("uploads")).excluding(copy.uid()), 10);
      List<Hit> hits = shards.search(p, POLICY);
      assertThat(hits).extracting(Hit::imageId).containsExactly("orig");
      assertThat(POLICY.decide(hits.get(0).score())).isEqualTo(Decision.MATCH);
      shards.upsert(s1, copy);
      assertThat(shards.search(p, POLICY)).extracting(Hit::imageId).as("never itself").containsExactly("orig");
      assertThat(Map.of("n", shards.all().size())).containsEntry("n", 2);
    }
  }

  @Test
  void anUploadIsMatchedWithEveryViewButOnlyItsFullVectorIsIndexed() throws Exception {
    long seed = ShardIndexTest.seed();
    Synthetic syn = new Synthetic(seed, 64, 4);
    try (LocalShards shards = new LocalShards(dir, ShardIndex.Options.defaults(), 1000)) {
      ShardIndex s0 = shards.open(0);
      float[] v = syn.clustered();
      shards.upsert(s0, syn.image("t", "orig", "protected", v, syn.hash(), 90, 1));
      // unrelated pictures and an unrelated full view: below the margin floor (0.4) to one another by construction
      // (random 64-d directions reach 0.55 about once in 2000 runs, and a look-alike that close rightly blocks a MATCH)
      List<float[]> seen = new java.util.ArrayList<>(List.of(v));
      for (int i = 0; i < 20; i++) {
        float[] o = unrelated(syn, seen);
        seen.add(o);
        shards.upsert(s0, syn.image("t", "other-" + i, "protected", o, syn.hash(), 90, 1));
      }
      // the full view misses (e.g. a thick border), the trimmed view is close to the original
      float[] full = unrelated(syn, seen);
      float[] trimmed = syn.near(v, 0.02);
      dev.imgmatch.avro.ImageEmbedding e = ItSupport.embedding("up", "t", "uploads", full, syn.hash(), syn.sha(), 2);
      e.setModelVersion("m1");
      List<Float> tv = new java.util.ArrayList<>();
      for (float x : trimmed) {
        tv.add(x);
      }
      e.setExtraViews(List.of(
          dev.imgmatch.avro.ViewVector.newBuilder().setView("trim").setVector(tv).build(),
          dev.imgmatch.avro.ViewVector.newBuilder().setView("broken").setVector(List.of(1f, 0f)).build()));
      IndexedImage img = Records.toIndexed(e);
      assertThat(img.vector()).as("only the full view is indexed").containsExactly(full, org.assertj.core.data.Offset.offset(1e-6f));
      List<String> skipped = new java.util.ArrayList<>();
      SearchFilter f = SearchFilter.tenantOnly("t", Set.of()).withCollections(POLICY.targetsOf("uploads"))
          .excluding(img.uid());
      Probe p = Records.uploadProbe(e, img, f, 10, skipped::add);
      assertThat(p.vectors()).hasSize(2);
      assertThat(skipped).singleElement().asString().contains("broken").contains("dimension");
      List<Hit> hits = shards.search(p, POLICY);
      assertThat(hits.get(0).imageId()).isEqualTo("orig");
      assertThat((double) hits.get(0).cosine()).as("max over views")
          .isCloseTo(org.apache.lucene.util.VectorUtil.dotProduct(trimmed, v), org.assertj.core.data.Offset.offset(1e-4));
      assertThat(POLICY.decide(hits.get(0).score())).isEqualTo(Decision.MATCH);
      // the full view alone does not find it as a match
      Probe fullOnly = new Probe("m1", List.of(full), List.of(img.pdq()), 90, img.sha256(), f, 10);
      assertThat(shards.search(fullOnly, POLICY)).noneMatch(h -> h.imageId().equals("orig")
          && POLICY.decide(h.score()) != null);
    }
  }

  /**
   * The rules at work in index-service's match (as {@code IndexService.match} runs it: the upload's targets, search,
   * alert): a byte-identical copy is found in a collection only when the rules match the upload's collection
   * against it, and then ingest-stream has alerted the pair (same rules), so index-service leaves it out; an exact
   * copy that is not the first sighting stays index-service's to report.
   */
  @Test
  void theExactPairsTheRulesMatchAreIngestStreamsAndOnlyOtherMatchesAreAlertedHere() throws Exception {
    Synthetic syn = new Synthetic(13, 64, 4);
    float[] vp = syn.gaussianUnit();
    float[] vu = unrelated(syn, List.of(vp));
    byte[] hp = syn.hash();
    byte[] hu = syn.hash();
    byte[] sp = syn.sha();
    byte[] su = syn.sha();
    int run = 0;
    // rules -> what becomes of u2, an exact copy of the upload u1
    for (var c : Map.of(MatchRules.DEFAULT, "not found, alerts nothing",
        "uploads:protected,banned,uploads", "found u1, alerts nothing").entrySet()) {
      String rules = c.getKey();
      MatchPolicy policy = new MatchPolicy(MatchRules.parse(rules), Set.of(), 31, 50, 0.1, 0.75, 0.4, 0.9, 0.6, 0.5,
          Decision.MATCH, 10, 10);
      try (LocalShards shards = new LocalShards(dir.resolve("rules-" + run++), ShardIndex.Options.defaults(), 1000)) {
        ShardIndex s = shards.open(0);
        shards.upsert(s, Records.toIndexed(ItSupport.embedding("p1", "t", "protected", vp, hp, sp, 1)));
        shards.upsert(s, Records.toIndexed(ItSupport.embedding("u1", "t", "uploads", vu, hu, su, 2)));
        // a copy of p1's bytes registered in banned after it: ingest kept p1 as the first sighting
        shards.upsert(s, Records.toIndexed(ItSupport.embedding("b1", "t", "banned", vp, hp, sp, 3)));
        Map<String, String> alerted = new java.util.TreeMap<>();
        for (String[] up : new String[][] {{"u2", "uploads", "u1"}, {"u3", "uploads", "p1"}, {"p2", "protected", "p1"}}) {
          boolean ofP1 = up[2].equals("p1");
          dev.imgmatch.avro.ImageEmbedding e = ItSupport.embedding(up[0], "t", up[1], ofP1 ? vp : vu, ofP1 ? hp : hu,
              ofP1 ? sp : su, 4);
          e.setExactDuplicateOf(up[2]); // what ingest-stream sets
          IndexedImage img = Records.toIndexed(e);
          Set<String> targets = policy.targetsOf(img.collection());
          if (targets.isEmpty()) {
            alerted.put(up[0], "not matched");
            continue;
          }
          SearchFilter f = SearchFilter.tenantOnly("t", policy.sharedCollections()).withCollections(targets)
              .excluding(img.uid());
          List<Hit> hits = shards.search(Records.uploadProbe(e, img, f, policy.knnK(), why -> { }), policy);
          String found = hits.stream().anyMatch(h -> h.imageId().equals(up[2])) ? "found " + up[2] : "not found";
          alerted.put(up[0], found + ", alerts " + Alerts.alertFor(e, hits, policy, 9).map(a -> String.join(",",
              a.getMatches().stream().map(m -> m.getImageId().toString()).toList())).orElse("nothing"));
        }
        // ingest-stream alerts u3 -> p1 with both rule sets, u2 -> u1 only when uploads is a target of uploads:
        // exactly the first sightings found here, and left out
        assertThat(alerted).as(rules).containsExactlyInAnyOrderEntriesOf(Map.of(
            "u2", c.getValue(),
            "u3", "found p1, alerts b1",
            "p2", "not matched"));
      }
    }
  }

  /** A random unit vector whose cosine to each of {@code others} is below 0.3. */
  private static float[] unrelated(Synthetic syn, List<float[]> others) {
    while (true) {
      float[] o = syn.gaussianUnit();
      if (others.stream().allMatch(x -> Math.abs(org.apache.lucene.util.VectorUtil.dotProduct(x, o)) < 0.3f)) {
        return o;
      }
    }
  }
}
