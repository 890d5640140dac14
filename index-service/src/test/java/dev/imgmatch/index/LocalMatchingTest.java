package dev.imgmatch.index;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.Decision;
import dev.imgmatch.local.LocalFeatures;
import dev.imgmatch.local.SiftExtractor;
import dev.imgmatch.testkit.Seeds;
import dev.imgmatch.testkit.TexturedPictures;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Local verification in a real shard: references stored with their local features and visual words, a probe that
 * carries a reference pasted small into another picture (its descriptor unrelated, as a paste's is), the default policy.
 */
class LocalMatchingTest {
  private static final long SEED = Seeds.of("LocalMatchingTest", 18L);

  @TempDir
  Path dir;

  private final Random rnd = new Random(SEED);
  // 256-d: unrelated random descriptors stay near cosine 0 (at 16-d one came to 0.7 and decided a probe by chance)
  private final Synthetic syn = new Synthetic(SEED, 256, 4);
  private final SiftExtractor refs = new SiftExtractor(512, 500);
  private final SiftExtractor probes = new SiftExtractor(512, 800);
  private final MatchPolicy policy = new IndexServiceConfig(Map.of()).policy();
  private final SearchFilter tenant = SearchFilter.tenantOnly("t1", Set.of());

  /** References r0..r(n-1) over two real shards, each with its local features; returns their pictures. */
  private BufferedImage[] index(LocalShards shards, int n) throws Exception {
    BufferedImage[] pics = new BufferedImage[n];
    ShardIndex[] s = {shards.open(0), shards.open(1)};
    for (int i = 0; i < n; i++) {
      pics[i] = TexturedPictures.random(rnd, 480, 360);
      add(shards, s[i % 2], "r" + i, pics[i], syn.gaussianUnit());
    }
    shards.refreshNow();
    return pics;
  }

  private void add(LocalShards shards, ShardIndex s, String id, BufferedImage pic, float[] vector) throws Exception {
    shards.upsert(s, new IndexedImage("t1", id, "protected", null, Map.of(), "mv", vector, syn.hash(), syn.hash(), 90,
        1, null, null, null, refs.extract(pic).encode()));
  }

  private Probe probe(float[] vector, BufferedImage picture) {
    return new Probe("mv", List.of(vector), List.of(), 0, null, tenant, 10, null, probes.extract(picture));
  }

  private List<Hit> matched(List<Hit> ranked) {
    return ranked.stream().filter(h -> policy.decide(h.score()) == Decision.MATCH).toList();
  }

  @Test
  void aReferencePastedIntoAnUploadIsFoundByItsRareWordsPlacedAndDecidedAMatch() throws Exception {
    assertThat(policy.local().candidates()).isPositive();
    try (LocalShards shards = new LocalShards(dir, ShardIndex.Options.defaults(), 100_000)) {
      BufferedImage[] pics = index(shards, 12);
      for (int target : new int[] {2, 5, 9}) {
        Probe p = probe(syn.gaussianUnit(),
            TexturedPictures.pasted(pics[target], TexturedPictures.random(rnd, 320, 240), 0.45, rnd));
        List<Hit> ranked = shards.search(p, policy);
        Hit best = ranked.get(0);
        assertThat(best.imageId()).as("pasted copy of r%d", target).isEqualTo("r" + target);
        assertThat(best.localInliers()).isGreaterThanOrEqualTo(policy.local().minInliers());
        assertThat(best.local().box()).hasSize(4);
        assertThat(policy.decide(best.score())).isEqualTo(Decision.MATCH);
        for (Hit other : ranked.subList(1, ranked.size())) {
          assertThat(other.localInliers()).as("%s", other.imageId()).isLessThan(policy.local().minInliers());
          assertThat(other.score()).as("%s", other.imageId()).isLessThan(policy.matchThreshold());
        }
        // the same probe without its local features: the descriptor alone does not find the paste
        Probe global = new Probe("mv", p.vectors(), List.of(), 0, null, tenant, 10, null, null);
        assertThat(shards.search(global, policy)).allSatisfy(h -> {
          assertThat(h.localInliers()).isZero();
          assertThat(h.score()).isLessThan(policy.matchThreshold());
        });
      }
      // mirrored, then pasted: placed by the probe's mirrored features
      BufferedImage mirror = new BufferedImage(480, 360, BufferedImage.TYPE_INT_RGB);
      java.awt.Graphics2D g = mirror.createGraphics();
      g.drawImage(pics[7], new java.awt.geom.AffineTransform(-1, 0, 0, 1, 480, 0), null);
      g.dispose();
      List<Hit> flipped = shards.search(probe(syn.gaussianUnit(),
          TexturedPictures.pasted(mirror, TexturedPictures.random(rnd, 320, 240), 0.5, rnd)), policy);
      assertThat(matched(flipped)).extracting(Hit::imageId).containsExactly("r7");
      // an unrelated picture with structure of the same kind places no reference
      assertThat(shards.search(probe(syn.gaussianUnit(), TexturedPictures.random(rnd, 400, 300)), policy))
          .allSatisfy(h -> {
            assertThat(h.localInliers()).isLessThan(policy.local().minInliers());
            assertThat(h.score()).isLessThan(policy.matchThreshold());
          });
      // another tenant's probe does not see the references
      LocalFeatures copy = probes.extract(TexturedPictures.pasted(pics[3], TexturedPictures.random(rnd, 320, 240), 0.5,
          rnd));
      Probe other = new Probe("mv", List.of(syn.gaussianUnit()), List.of(), 0, null,
          SearchFilter.tenantOnly("t2", Set.of()), 10, null, copy);
      assertThat(shards.search(other, policy)).isEmpty();
    }
  }

  @Test
  void theGlobalSearchsBestCandidatesArePlacedThoughOtherReferencesShareMoreWords() throws Exception {
    // one word candidate per shard (and one mirrored): the probe's own canvas, indexed too, shares the most words
    MatchPolicy oneCandidate = new IndexServiceConfig(Map.of(IndexServiceConfig.LOCAL_CANDIDATES, "1")).policy();
    try (LocalShards shards = new LocalShards(dir, ShardIndex.Options.defaults(), 100_000)) {
      index(shards, 4);
      ShardIndex s0 = shards.open(0);
      BufferedImage target = TexturedPictures.random(rnd, 480, 360);
      BufferedImage canvas = TexturedPictures.random(rnd, 480, 360);
      add(shards, s0, "target", target, syn.gaussianUnit());
      add(shards, s0, "canvas", canvas, syn.gaussianUnit());
      shards.refreshNow();
      Probe p = probe(syn.gaussianUnit(), TexturedPictures.pasted(target, canvas, 0.45, rnd));
      ShardIndex.LocalProbe lp = ShardIndex.LocalProbe.of(p.local());
      String targetUid = IndexedImage.uid("t1", "target");

      List<Hit> byWords = s0.localHits(p, lp, List.of(), oneCandidate);
      assertThat(byWords).extracting(Hit::imageId).contains("canvas");
      // target is not a direct word candidate; at most the mirrored one, and a mirrored probe does not place it
      assertThat(byWords).filteredOn(h -> h.imageId().equals("target"))
          .allSatisfy(h -> assertThat(h.localInliers()).isLessThan(oneCandidate.local().minInliers()));
      List<Hit> withGlobal = s0.localHits(p, lp, List.of(targetUid), oneCandidate);
      assertThat(withGlobal).extracting(Hit::imageId).contains("canvas", "target");
      Hit placed = withGlobal.stream().filter(h -> h.imageId().equals("target")).findFirst().orElseThrow();
      assertThat(placed.localInliers()).isGreaterThanOrEqualTo(oneCandidate.local().minInliers());
      // a global candidate another shard holds, or the filter hides, is not verified here
      assertThat(shards.open(1).localHits(p, lp, List.of(targetUid), oneCandidate)).extracting(Hit::imageId)
          .doesNotContain("target");
      Probe otherTenant = new Probe("mv", p.vectors(), List.of(), 0, null, SearchFilter.tenantOnly("t2", Set.of()),
          10, null, p.local());
      assertThat(s0.localHits(otherTenant, lp, List.of(targetUid), oneCandidate)).isEmpty();
    }
  }

  @Test
  void theReferencesNearestToTheInsetViewArePlacedThoughNeitherWordsNorTheWholePicturesDescriptorRankThem()
      throws Exception {
    MatchPolicy oneCandidate = new IndexServiceConfig(Map.of(IndexServiceConfig.LOCAL_CANDIDATES, "1")).policy();
    try (LocalShards shards = new LocalShards(dir, ShardIndex.Options.defaults(), 100_000)) {
      index(shards, 4);
      ShardIndex s0 = shards.open(0);
      float[] whole = syn.gaussianUnit(); // the probe's full-view descriptor
      BufferedImage target = TexturedPictures.random(rnd, 480, 360);
      BufferedImage canvas = TexturedPictures.random(rnd, 480, 360);
      float[] targetVector = syn.gaussianUnit();
      add(shards, s0, "target", target, targetVector);
      add(shards, s0, "canvas", canvas, syn.gaussianUnit()); // shares the most words with the probe
      // the whole picture's descriptor ranks these first, each at cosine 0.7 and 0.49 to each other (two works that
      // compete: undecided, whatever the seed)
      List<float[]> apart = new java.util.ArrayList<>(List.of(whole));
      for (int i = 0; i < 2; i++) {
        float[] u = orthogonal(syn.gaussianUnit(), apart);
        apart.add(u);
        float[] near = new float[whole.length];
        for (int d = 0; d < near.length; d++) {
          near[d] = (float) (0.7 * whole[d] + Math.sqrt(1 - 0.49) * u[d]);
        }
        add(shards, shards.open(i), "decoy" + i, TexturedPictures.random(rnd, 480, 360), near);
      }
      shards.refreshNow();
      LocalFeatures local = probes.extract(TexturedPictures.pasted(target, canvas, 0.45, rnd));
      Probe plain = new Probe("mv", List.of(whole), List.of(), 0, null, tenant, 10, null, local, null);
      Probe withInset = new Probe("mv", List.of(whole), List.of(), 0, null, tenant, 10, null, local, null,
          List.of(targetVector));

      // the canvas (a work of its own, its words the most) is placed; the target is neither a word candidate nor
      // among the two best of the global search, so it is not
      List<Hit> without = shards.search(plain, oneCandidate);
      assertThat(without).filteredOn(h -> h.imageId().equals("target"))
          .allSatisfy(h -> assertThat(h.localInliers()).isLessThan(oneCandidate.local().minInliers()));
      assertThat(matched(without)).extracting(Hit::imageId).doesNotContain("target");

      List<Hit> with = shards.search(withInset, oneCandidate);
      Hit placed = with.stream().filter(h -> h.imageId().equals("target")).findFirst().orElseThrow();
      assertThat(placed.localInliers()).isGreaterThanOrEqualTo(oneCandidate.local().minInliers());
      // (its decision is the policy's: here it lies on the canvas's spot, where the canvas has more inliers)
      // the nominator scores nothing: every candidate keeps the similarity it had without it
      for (Hit h : with) {
        Hit before = without.stream().filter(x -> x.uid().equals(h.uid())).findFirst().orElseThrow();
        assertThat(h.similarity()).as("%s", h.imageId()).isEqualTo(before.similarity());
      }
      // another tenant's probe is nominated nothing it may not see
      Probe otherTenant = new Probe("mv", List.of(whole), List.of(), 0, null, SearchFilter.tenantOnly("t2", Set.of()),
          10, null, local, null, List.of(targetVector));
      assertThat(shards.search(otherTenant, oneCandidate)).isEmpty();
    }
  }

  @Test
  void aProbeTheGlobalSignalsDecideIsNotVerifiedLocally() throws Exception {
    try (LocalShards shards = new LocalShards(dir, ShardIndex.Options.defaults(), 100_000)) {
      BufferedImage[] pics = index(shards, 6);
      float[] v = syn.gaussianUnit();
      add(shards, shards.open(0), "decided", TexturedPictures.random(rnd, 480, 360), v);
      shards.refreshNow();
      // its descriptor is the indexed one of "decided"; r4 is pasted inside it as well
      List<Hit> ranked = shards.search(probe(v, TexturedPictures.pasted(pics[4], TexturedPictures.random(rnd, 320, 240),
          0.45, rnd)), policy);
      assertThat(ranked.get(0).imageId()).isEqualTo("decided");
      assertThat(matched(ranked)).extracting(Hit::imageId).containsExactly("decided");
      assertThat(ranked).allSatisfy(h -> assertThat(h.local()).as(h.imageId()).isNull());
    }
  }

  @Test
  void ofNearDuplicateReferencesPlacedOnOneSpotOnlyTheBestPlacedMatchesWhileACollageMatchesEachWork()
      throws Exception {
    try (LocalShards shards = new LocalShards(dir, ShardIndex.Options.defaults(), 100_000)) {
      BufferedImage[] pics = index(shards, 8);
      // "r1-crop": another version of r1 (a crop of it), as benchmarks and real collections hold
      add(shards, shards.open(1), "r1-crop", pics[1].getSubimage(40, 30, 400, 300), syn.gaussianUnit());
      shards.refreshNow();
      List<Hit> ranked = shards.search(probe(syn.gaussianUnit(),
          TexturedPictures.pasted(pics[1], TexturedPictures.random(rnd, 320, 240), 0.5, rnd)), policy);
      List<Hit> placed = ranked.stream().filter(h -> h.localInliers() >= policy.local().minInliers()).toList();
      assertThat(placed).extracting(Hit::imageId).containsExactlyInAnyOrder("r1", "r1-crop");
      Hit best = placed.stream().max(java.util.Comparator.comparingInt(Hit::localInliers)).orElseThrow();
      assertThat(matched(ranked)).extracting(Hit::imageId).containsExactly(best.imageId());
      Hit lifted = matched(ranked).get(0);
      String other = best.imageId().equals("r1") ? "r1-crop" : "r1";
      assertThat(lifted.local().nearDuplicates()).as("the other version is named on the match").containsExactly(other);
      assertThat(lifted.toAvro().getLocalInliers()).isEqualTo(lifted.localInliers());
      assertThat(lifted.toAvro().getNearDuplicates()).containsExactly(other);
      assertThat(dev.imgmatch.local.GeometricVerifier.Verification.overlap(placed.get(0).local().box(),
          placed.get(1).local().box())).isGreaterThanOrEqualTo(MatchPolicy.SAME_PLACE);

      // two works side by side in one picture: two places, two matches
      BufferedImage collage = TexturedPictures.random(rnd, 640, 300);
      java.awt.Graphics2D g = collage.createGraphics();
      g.setRenderingHint(java.awt.RenderingHints.KEY_INTERPOLATION,
          java.awt.RenderingHints.VALUE_INTERPOLATION_BILINEAR);
      g.drawImage(pics[2], 10, 30, 300, 225, null);
      g.drawImage(pics[5], 330, 30, 300, 225, null);
      g.dispose();
      assertThat(matched(shards.search(probe(syn.gaussianUnit(), collage), policy))).extracting(Hit::imageId)
          .containsExactlyInAnyOrder("r2", "r5");
    }
  }

  /** {@code v} less its projections on the (orthonormal) {@code others}, unit length (Gram-Schmidt). */
  private static float[] orthogonal(float[] v, List<float[]> others) {
    float[] out = v.clone();
    for (float[] o : others) {
      double dot = Probe.dot(out, o);
      for (int d = 0; d < out.length; d++) {
        out[d] -= (float) (dot * o[d]);
      }
    }
    double n = Math.sqrt(Probe.dot(out, out));
    for (int d = 0; d < out.length; d++) {
      out[d] /= (float) n;
    }
    return out;
  }

  /**
   * The same keypoints with their descriptors dealt out to one another's places: every descriptor still finds its
   * twin in the picture's features, no transform lines them up (strokes of one style, another drawing).
   */
  private LocalFeatures rearranged(LocalFeatures f) {
    byte[] b = f.encode();
    int n = f.size();
    int at = b.length - n * LocalFeatures.DIMS; // the descriptors follow the header and the positions
    byte[] out = b.clone();
    List<Integer> order = new java.util.ArrayList<>(java.util.stream.IntStream.range(0, n).boxed().toList());
    java.util.Collections.shuffle(order, rnd);
    for (int i = 0; i < n; i++) {
      System.arraycopy(b, at + order.get(i) * LocalFeatures.DIMS, out, at + i * LocalFeatures.DIMS, LocalFeatures.DIMS);
    }
    return LocalFeatures.decode(out);
  }

  private static BufferedImage mirrored(BufferedImage pic) {
    BufferedImage m = new BufferedImage(pic.getWidth(), pic.getHeight(), BufferedImage.TYPE_INT_RGB);
    java.awt.Graphics2D g = m.createGraphics();
    g.drawImage(pic, pic.getWidth(), 0, -pic.getWidth(), pic.getHeight(), null);
    g.dispose();
    return m;
  }

  @Test
  void aDescriptorMatchWhoseKeypointsMatchButLineUpNowhereIsHeldUnderTheThresholdWhileCopiesStayMatches()
      throws Exception {
    assertThat(policy.local().contradict()).isTrue();
    try (LocalShards shards = new LocalShards(dir, ShardIndex.Options.defaults(), 100_000)) {
      index(shards, 6);
      float[] v = syn.gaussianUnit();
      BufferedImage drawing = TexturedPictures.random(rnd, 480, 360);
      add(shards, shards.open(1), "drawing", drawing, v);
      shards.refreshNow();
      // the descriptor says "drawing"; the probe's keypoints are drawing's strokes, rearranged
      Probe strokes = new Probe("mv", List.of(v), List.of(), 0, null, tenant, 10, null,
          rearranged(probes.extract(drawing)));
      List<Hit> held = shards.search(strokes, policy);
      assertThat(held.get(0).imageId()).isEqualTo("drawing");
      assertThat(held.get(0).score()).isCloseTo(policy.reviewThreshold(), org.assertj.core.data.Offset.offset(1e-9))
          .isLessThan(policy.matchThreshold());
      assertThat(policy.decide(held.get(0).score())).isEqualTo(Decision.REVIEW);
      assertThat(matched(held)).isEmpty();
      // the picture itself and its mirror image line up (the mirrored probe is tried too): still a MATCH
      for (BufferedImage copy : new BufferedImage[] {drawing, mirrored(drawing)}) {
        assertThat(matched(shards.search(probe(v, copy), policy))).extracting(Hit::imageId).containsExactly("drawing");
      }
      // keypoints that say nothing either way (a flat picture: no distinctive match) leave the descriptor's decision
      BufferedImage flat = new BufferedImage(480, 360, BufferedImage.TYPE_INT_RGB);
      assertThat(matched(shards.search(probe(v, flat), policy))).extracting(Hit::imageId).containsExactly("drawing");
      // the check off: the rearranged strokes are a MATCH on their descriptor
      MatchPolicy unchecked = new IndexServiceConfig(Map.of(IndexServiceConfig.LOCAL_CONTRADICT, "false")).policy();
      assertThat(matched(shards.search(strokes, unchecked))).extracting(Hit::imageId).containsExactly("drawing");
    }
  }

  @Test
  void aContradictionNeedsManyDistinctiveMatchesFewInliersAndAReferenceWithKeypoints() {
    int m = MatchPolicy.LocalVerification.CONTRADICTING_MATCHES;
    int k = MatchPolicy.LocalVerification.CONTRADICTING_KEYPOINTS;
    int tenth = (int) Math.ceil(MatchPolicy.LocalVerification.CONTRADICTED_SHARE * 10 * m); // of 10 m matches
    assertThat(MatchPolicy.LocalVerification.contradicts(10 * m, tenth - 1, k)).isTrue();
    assertThat(MatchPolicy.LocalVerification.contradicts(m, 0, k)).isTrue();
    assertThat(MatchPolicy.LocalVerification.contradicts(m - 1, 0, k)).as("too few matches to say").isFalse();
    assertThat(MatchPolicy.LocalVerification.contradicts(10 * m, tenth, k)).as("enough of them line up").isFalse();
    assertThat(MatchPolicy.LocalVerification.contradicts(10 * m, 0, k - 1)).as("a plain reference").isFalse();
  }

  @Test
  void aPlacementCountsFromTheLeastInliersAndRisesWithThemUpTo099() {
    MatchPolicy policy = new IndexServiceConfig(Map.of()).policy();
    int min = policy.local().minInliers();
    assertThat(policy.localScore(0)).isZero();
    assertThat(policy.localScore(min - 1)).isZero();
    assertThat(policy.localScore(min)).isEqualTo(policy.matchThreshold());
    assertThat(policy.localScore(min + 20)).isGreaterThan(policy.localScore(min));
    assertThat(policy.localScore(100_000)).isEqualTo(0.99);
    MatchPolicy off = new IndexServiceConfig(Map.of(IndexServiceConfig.LOCAL_CANDIDATES, "0")).policy();
    assertThat(off.local().candidates()).isZero();
  }
}
