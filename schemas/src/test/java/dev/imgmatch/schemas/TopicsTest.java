package dev.imgmatch.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.imgmatch.avro.Deletion;
import java.util.HashSet;
import org.junit.jupiter.api.Test;

class TopicsTest {
  @Test
  void namesCarryThePrefixAndAreDistinct() {
    Topics t = new Topics("acme.");
    var names = new HashSet<String>();
    t.all().forEach(topic -> {
      assertThat(topic.name()).startsWith("acme.");
      assertThat(names.add(topic.name())).as("duplicate %s", topic.name()).isTrue();
    });
    assertThat(names).hasSize(17).contains("acme.uploads", "acme.match-alerts", "acme.rejects", "acme.originals");
  }

  /** ops/docker/create-topics.sh and DeploymentFilesTest pin the same list: change them together. */
  @Test
  void theTopicListIsTheDeployedOne() {
    assertThat(Topics.defaults().all()).extracting(t -> t.name().substring(Topics.DEFAULT_PREFIX.length()))
        .containsExactly("uploads", "queries", "prepared", "embeddings", "embedding-extras", "probes", "match-alerts",
            "query-replies",
            "deletions", "rejects", "originals", "model-serving", "bank-entries",
            "collection-settings", "review-decisions", "previews",
            "reference-previews");
  }

  @Test
  void invalidPrefixIsRejectedWithTheValue() {
    assertThatThrownBy(() -> new Topics("bad prefix/")).hasMessageContaining("bad prefix/");
  }

  @Test
  void descriptorSerializesKeysAsUtf8AndValuesAsAvro() {
    Topic<String, Deletion> t = Topics.defaults().deletions();
    Deletion d = Deletion.newBuilder().setImageId("é1").setTenant("t").setRequestedAtMs(1).build();
    var rec = t.record("é1", d);
    assertThat(rec.topic()).isEqualTo("imgmatch.deletions");
    assertThat(new String(rec.key(), java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("é1");
    assertThat(t.deserializeValue(rec.value())).isEqualTo(d);
    assertThat(t.deserializeValue(null)).isNull();
  }

  @Test
  void rejectCutsLargePayloadsButKeepsTheirSize() {
    byte[] big = new byte[5000];
    var r = Rejects.of("CORRUPT_IMAGE", "bad", "ingest-stream", "imgmatch.uploads", 1, 2L, "k".getBytes(), big,
        new java.io.IOException("eof"), 100, 7L);
    assertThat(r.getOriginalValue().remaining()).isEqualTo(100);
    assertThat(r.getOriginalValueSize()).isEqualTo(5000);
    assertThat(r.getException()).contains("IOException");
    // and the reject itself is a valid record of its topic
    var topic = Topics.defaults().rejects();
    assertThat(topic.deserializeValue(topic.serializeValue(r))).isEqualTo(r);
  }
}
