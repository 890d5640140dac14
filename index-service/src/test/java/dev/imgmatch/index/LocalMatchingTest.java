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

  @Test
  void aReferencePastedIntoAnUploadIsFoundByItsRareWordsPlacedAndDecidedAMatch() throws Exception {
    Random rnd = new Random(SEED);
    Synthetic syn = new Synthetic(SEED, 16, 4);
    SiftExtractor refs = new SiftExtractor(512, 500);
    SiftExtractor probes = new SiftExtractor(512, 800);
    MatchPolicy policy = new IndexServiceConfig(Map.of()).policy();
    assertThat(policy.local().candidates()).isPositive();
    BufferedImage[] pics = new BufferedImage[12];
    try (ShardIndex shard = ShardIndex.open(dir, 0, ShardIndex.Options.defaults())) {
      for (int i = 0; i < pics.length; i++) {
        pics[i] = TexturedPictures.random(rnd, 480, 360);
        byte[] sha = syn.hash();
        shard.upsert(new IndexedImage("t1", "r" + i, "protected", null, Map.of(), "mv", syn.gaussianUnit(), sha,
            syn.hash(), 90, i, null, null, null, refs.extract(pics[i]).encode()));
      }
      shard.refresh();
      SearchFilter tenant = SearchFilter.tenantOnly("t1", Set.of());
      for (int target : new int[] {2, 5, 9}) {
        LocalFeatures pasted = probes.extract(
            TexturedPictures.pasted(pics[target], TexturedPictures.random(rnd, 320, 240), 0.45, rnd));
        Probe p = new Probe("mv", List.of(syn.gaussianUnit()), List.of(), 0, null, tenant, 10, null, pasted);
        List<Hit> ranked = policy.rank(shard.search(p, policy));
        Hit best = ranked.get(0);
        assertThat(best.imageId()).as("pasted copy of r%d", target).isEqualTo("r" + target);
        assertThat(best.localInliers()).isGreaterThanOrEqualTo(policy.local().minInliers());
        assertThat(policy.decide(best.score())).isEqualTo(Decision.MATCH);
        for (Hit other : ranked.subList(1, ranked.size())) {
          assertThat(other.localInliers()).as("%s", other.imageId()).isLessThan(policy.local().minInliers());
          assertThat(other.score()).as("%s", other.imageId()).isLessThan(policy.matchThreshold());
        }
        // the same probe without its local features: the descriptor alone does not find the paste
        Probe global = new Probe("mv", p.vectors(), List.of(), 0, null, tenant, 10, null, null);
        assertThat(policy.rank(shard.search(global, policy))).allSatisfy(h -> {
          assertThat(h.localInliers()).isZero();
          assertThat(h.score()).isLessThan(policy.matchThreshold());
        });
      }
      // an unrelated picture with structure of the same kind places no reference
      LocalFeatures unrelated = probes.extract(TexturedPictures.random(rnd, 400, 300));
      Probe u = new Probe("mv", List.of(syn.gaussianUnit()), List.of(), 0, null, tenant, 10, null, unrelated);
      assertThat(policy.rank(shard.search(u, policy))).allSatisfy(h -> {
        assertThat(h.localInliers()).isLessThan(policy.local().minInliers());
        assertThat(h.score()).isLessThan(policy.matchThreshold());
      });
      // another tenant's probe does not see the references
      LocalFeatures copy = probes.extract(TexturedPictures.pasted(pics[3], TexturedPictures.random(rnd, 320, 240), 0.5, rnd));
      Probe other = new Probe("mv", List.of(syn.gaussianUnit()), List.of(), 0, null,
          SearchFilter.tenantOnly("t2", Set.of()), 10, null, copy);
      assertThat(shard.search(other, policy)).isEmpty();
    }
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
