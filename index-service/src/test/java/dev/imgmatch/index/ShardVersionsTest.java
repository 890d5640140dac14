package dev.imgmatch.index;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model upgrade on a real Lucene shard: descriptors of a new version added beside the indexed ones are searched by
 * probes of that version, the old version's keep working until they are retired, and retiring rewrites only the
 * images that have the new version, a bounded step at a time; all of it survives a reopen.
 */
class ShardVersionsTest {
  @TempDir
  Path dir;

  @Test
  void aNewVersionIsSearchedBesideTheOldUntilTheOldIsRetired() throws Exception {
    long seed = dev.imgmatch.testkit.Seeds.of("shard versions", 20261203L);
    Synthetic syn = new Synthetic(seed, 32, 4);
    Synthetic syn2 = new Synthetic(seed + 1, 48, 4); // the new version: another dimension
    SearchFilter all = SearchFilter.tenantOnly("t", Set.of());
    float[] refV1 = syn.clustered();
    float[] refV2 = syn2.clustered();
    float[] otherV1 = syn.clustered();
    IndexedImage ref = syn.image("t", "ref", "protected", refV1, syn.hash(), 90, 1);
    IndexedImage other = syn.image("t", "other", "uploads", otherV1, syn.hash(), 90, 2);
    try (ShardIndex shard = ShardIndex.open(dir, 0, ShardIndex.Options.defaults())) {
      shard.upsert(ref);
      shard.upsert(other);
      IndexedImage add = new IndexedImage("t", "ref", "protected", null, Map.of(), "m2", refV2, syn.sha(), syn.hash(),
          90, 1);
      assertThat(shard.versions().add(add)).as("added to the image indexed moments ago (not yet refreshed)").isTrue();
      IndexedImage ghost = new IndexedImage("t", "gone", "protected", null, Map.of(), "m2", refV2, syn.sha(),
          syn.hash(), 90, 1);
      assertThat(shard.versions().add(ghost)).as("no image of that id yet: kept pending").isFalse();
      assertThat(shard.versions().pendingCount()).isEqualTo(1);
      IndexedImage stale = new IndexedImage("t", "ref", "protected", null, Map.of(), "m2", refV2, syn.sha(),
          syn.hash(), 90, 0);
      assertThat(shard.versions().add(stale)).as("descriptors of an older upload than the one indexed").isFalse();
      assertThat(shard.versions().pendingCount()).as("an older upload's descriptors are not kept").isEqualTo(1);
      shard.commit("t");
      shard.refresh();
      assertThat(shard.vectorDims()).containsOnlyKeys(Fields.vector("m1"), Fields.vector("m2"));

      Hit v2 = onlyHit(shard.search(new Probe("m2", List.of(syn2.near(refV2, 0.01)), List.of(), 0, null, all, 5),
          ShardIndexTest.POLICY), "ref");
      assertThat(v2.cosine()).as("cosine in the new version").isGreaterThan(0.9f);
      Hit v1 = onlyHit(shard.search(new Probe("m1", List.of(refV1), List.of(), 0, null, all, 5), ShardIndexTest.POLICY),
          "ref");
      assertThat(v1.cosine()).as("the old version still serves").isCloseTo(1f, Offset.offset(1e-3f));
      assertThat(shard.lookup(all, "ref").orElseThrow().modelVersion()).as("seen through the version indexed with")
          .isEqualTo("m1");
      assertThat(shard.imageCount()).isEqualTo(2);
    }
    float[] goneV1 = syn.clustered();
    try (ShardIndex shard = ShardIndex.open(dir, 0, ShardIndex.Options.defaults())) {
      assertThat(shard.versions().pendingCount()).as("pending descriptors survive a reopen").isEqualTo(1);
      // the upload the pending descriptors belong to arrives (the embedder was slower than reindex)
      shard.upsert(new IndexedImage("t", "gone", "protected", null, Map.of(), "m1", goneV1, syn.sha(), syn.hash(), 90,
          1));
      assertThat(shard.versions().pendingCount()).isZero();
      shard.commit("t");
      shard.refresh();
      assertThat(onlyHit(shard.search(new Probe("m2", List.of(refV2), List.of(), 0, null, all, 5),
          ShardIndexTest.POLICY), "gone").cosine()).as("its m2 descriptor is searched").isGreaterThan(0.99f);
      shard.versions().startRetiring("m2");
      assertThat(shard.versions().retireStep(1)).as("a bounded step").isEqualTo(1);
      shard.commit("t");
    }
    try (ShardIndex shard = ShardIndex.open(dir, 0, ShardIndex.Options.defaults())) {
      assertThat(shard.versions().retiring()).as("a retirement interrupted by a restart goes on").isEqualTo("m2");
      assertThat(shard.versions().retireStep(10)).as("only the images with m2 are rewritten, the rest now").isEqualTo(1);
      assertThat(shard.versions().retireStep(10)).isZero();
      assertThat(shard.versions().retiring()).isNull();
      shard.commit("t");
      shard.refresh();
      IndexedImage back = shard.lookup(all, "ref").orElseThrow();
      assertThat(back.modelVersion()).isEqualTo("m2");
      assertThat(back.vector()).containsExactly(refV2, Offset.offset(1e-6f));
      assertThat(shard.search(new Probe("m1", List.of(refV1), List.of(), 0, null, all, 5), ShardIndexTest.POLICY))
          .as("no m1 descriptor of ref is left").noneMatch(h -> h.imageId().equals("ref") && h.cosine() != null);
      assertThat(shard.lookup(all, "other").orElseThrow().modelVersion())
          .as("an image without the new version keeps its own").isEqualTo("m1");
      assertThat(shard.imageCount()).isEqualTo(3);
      assertThat(shard.uidCounts().values()).containsOnly(1);
    }
  }

  private static Hit onlyHit(List<Hit> hits, String id) {
    assertThat(hits).extracting(Hit::imageId).contains(id);
    return hits.stream().filter(h -> h.imageId().equals(id)).findFirst().orElseThrow();
  }
}
