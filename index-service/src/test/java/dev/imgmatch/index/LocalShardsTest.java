package dev.imgmatch.index;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.Decision;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Several real shards on disk: searches span them and see every upsert and deletion at once. */
class LocalShardsTest {
  static final MatchPolicy POLICY = new MatchPolicy(MatchPolicy.parseRules("uploads:protected,uploads"), Set.of(),
      31, 50, 0.9, 0.8, Decision.REVIEW, 10, 10);

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
}
