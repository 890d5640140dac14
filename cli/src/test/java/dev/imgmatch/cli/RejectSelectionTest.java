package dev.imgmatch.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.imgmatch.avro.Reject;
import dev.imgmatch.cli.RejectSelection.Outcome;
import dev.imgmatch.schemas.Rejects;
import dev.imgmatch.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class RejectSelectionTest {
  private static final Topics TOPICS = new Topics("t.");
  private static final long T0 = 1_700_000_000_000L;

  private static Reject reject(String reason, String stage, String topic, byte[] value, int maxPayload, long at) {
    return Rejects.of(reason, "m", stage, topic, 2, 17, "id-1".getBytes(StandardCharsets.UTF_8), value, null,
        maxPayload, at);
  }

  private static Reject reject(String reason, String stage, String topic) {
    return reject(reason, stage, topic, new byte[] {1, 2, 3}, Rejects.DEFAULT_MAX_PAYLOAD_BYTES, T0);
  }

  private static RejectSelection select(List<String> reasons, List<String> stages, List<String> sources, Long since,
      Long until) {
    return RejectSelection.of(TOPICS, reasons, stages, sources, since, until);
  }

  @Test
  void selectsByReasonCaseInsensitively() {
    RejectSelection s = select(List.of("embedding_failed", " OUTPUT_FAILED "), List.of(), List.of(), null, null);
    assertThat(s.judge(reject("EMBEDDING_FAILED", "embedder-worker", "t.prepared")).outcome()).isEqualTo(Outcome.RESUBMIT);
    assertThat(s.judge(reject("OUTPUT_FAILED", "embedder-worker", "t.prepared")).outcome()).isEqualTo(Outcome.RESUBMIT);
    assertThat(s.judge(reject("CORRUPT_IMAGE", "ingest-stream", "t.uploads")).outcome())
        .isEqualTo(Outcome.NOT_SELECTED);
  }

  @Test
  void selectsByStageAndSourceTopicWithOrWithoutPrefix() {
    RejectSelection s = select(List.of("INTERNAL_ERROR"), List.of("ingest-stream"), List.of("uploads", "t.queries"),
        null, null);
    assertThat(s.sourceTopics()).containsExactlyInAnyOrder("t.uploads", "t.queries");
    assertThat(s.judge(reject("INTERNAL_ERROR", "ingest-stream", "t.uploads")).outcome()).isEqualTo(Outcome.RESUBMIT);
    assertThat(s.judge(reject("INTERNAL_ERROR", "ingest-stream", "t.queries")).outcome()).isEqualTo(Outcome.RESUBMIT);
    assertThat(s.judge(reject("INTERNAL_ERROR", "index-service", "t.queries")).outcome())
        .isEqualTo(Outcome.NOT_SELECTED);
    assertThat(s.judge(reject("INTERNAL_ERROR", "ingest-stream", "t.prepared")).outcome())
        .isEqualTo(Outcome.NOT_SELECTED);
  }

  @Test
  void timeWindowIsSinceInclusiveUntilExclusive() {
    RejectSelection s = select(List.of("X"), List.of(), List.of(), T0, T0 + 1000);
    byte[] v = {1};
    assertThat(s.judge(reject("X", "s", "t.uploads", v, 100, T0 - 1)).outcome()).isEqualTo(Outcome.NOT_SELECTED);
    assertThat(s.judge(reject("X", "s", "t.uploads", v, 100, T0)).outcome()).isEqualTo(Outcome.RESUBMIT);
    assertThat(s.judge(reject("X", "s", "t.uploads", v, 100, T0 + 999)).outcome()).isEqualTo(Outcome.RESUBMIT);
    assertThat(s.judge(reject("X", "s", "t.uploads", v, 100, T0 + 1000)).outcome()).isEqualTo(Outcome.NOT_SELECTED);
    assertThatThrownBy(() -> select(List.of("X"), List.of(), List.of(), T0, T0))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void incompletePayloadsCannotBeResubmitted() {
    RejectSelection s = select(List.of("X"), List.of(), List.of(), null, null);
    // cut at 4 of 10 bytes
    var cut = s.judge(reject("X", "s", "t.uploads", new byte[10], 4, T0));
    assertThat(cut.outcome()).isEqualTo(Outcome.INCOMPLETE_PAYLOAD);
    assertThat(cut.why()).contains("4 of the original 10 bytes");
    // payload not kept at all
    assertThat(s.judge(reject("X", "s", "t.uploads", new byte[10], 0, T0)).outcome())
        .isEqualTo(Outcome.INCOMPLETE_PAYLOAD);
    // a null value (tombstone)
    var tomb = s.judge(reject("X", "s", "t.uploads", null, 100, T0));
    assertThat(tomb.outcome()).isEqualTo(Outcome.INCOMPLETE_PAYLOAD);
    assertThat(tomb.why()).contains("null");
    // exactly at the cap: whole
    assertThat(s.judge(reject("X", "s", "t.uploads", new byte[10], 10, T0)).outcome()).isEqualTo(Outcome.RESUBMIT);
    // an empty value is a whole (empty) record
    assertThat(s.judge(reject("X", "s", "t.uploads", new byte[0], 10, T0)).outcome()).isEqualTo(Outcome.RESUBMIT);
    // a key at the cap may have been cut
    Reject longKey = Rejects.of("X", "m", "s", "t.uploads", 0, 0, new byte[Rejects.MAX_KEY_BYTES + 5], new byte[] {1},
        null, 100, T0);
    assertThat(s.judge(longKey).outcome()).isEqualTo(Outcome.INCOMPLETE_PAYLOAD);
  }

  @Test
  void onlyThisStacksInputTopicsAreTargets() {
    RejectSelection s = select(List.of("X"), List.of(), List.of(), null, null);
    for (String ok : List.of("t.uploads", "t.queries", "t.prepared", "t.embeddings", "t.probes", "t.deletions")) {
      assertThat(s.judge(reject("X", "s", ok)).outcome()).as(ok).isEqualTo(Outcome.RESUBMIT);
    }
    for (String foreign : List.of("t.rejects", "t.match-alerts", "t.query-replies", "t.ingest-by-sha256",
        "other.uploads", "uploads", "__consumer_offsets", "")) {
      assertThat(s.judge(reject("X", "s", foreign)).outcome()).as(foreign).isEqualTo(Outcome.FOREIGN_TOPIC);
    }
    // foreign wins over incomplete: neither could be re-submitted, but the topic is the first reason
    assertThat(s.judge(reject("X", "s", "elsewhere", new byte[10], 4, T0)).outcome())
        .isEqualTo(Outcome.FOREIGN_TOPIC);
  }

  @Test
  void notSelectedWinsOverEverything() {
    RejectSelection s = select(List.of("X"), List.of(), List.of(), null, null);
    assertThat(s.judge(reject("Y", "s", "elsewhere", new byte[10], 4, T0)).outcome()).isEqualTo(Outcome.NOT_SELECTED);
  }

  @Test
  void emptySelectionSelectsEverything() {
    RejectSelection s = select(List.of(), List.of(), List.of(), null, null);
    assertThat(s.selects(reject("ANY", "any", "anywhere"))).isTrue();
  }

  @Test
  void defaultGroupIsUnderThePrefixAndDiffersPerSelection() {
    RejectSelection a = select(List.of("EMBEDDING_FAILED"), List.of(), List.of(), null, null);
    RejectSelection sameOtherOrder = select(List.of("embedding_failed"), List.of(), List.of(), null, null);
    RejectSelection b = select(List.of("EMBEDDING_FAILED"), List.of("embedder-worker"), List.of(), null, null);
    RejectSelection c = select(List.of("OUTPUT_FAILED", "EMBEDDING_FAILED"), List.of(), List.of(), null, null);
    assertThat(a.defaultGroup(TOPICS)).startsWith("t.rejects-redrive-EMBEDDING_FAILED-")
        .isEqualTo(sameOtherOrder.defaultGroup(TOPICS)).isNotEqualTo(b.defaultGroup(TOPICS));
    assertThat(c.defaultGroup(TOPICS)).startsWith("t.rejects-redrive-EMBEDDING_FAILED+OUTPUT_FAILED-");
  }

  @Test
  void timesAreEpochMillisOrIso8601() {
    assertThat(RejectSelection.parseTime("1700000000000")).isEqualTo(1_700_000_000_000L);
    assertThat(RejectSelection.parseTime("2023-11-14T22:13:20Z")).isEqualTo(1_700_000_000_000L);
    assertThat(RejectSelection.parseTime("2023-11-14T23:13:20+01:00")).isEqualTo(1_700_000_000_000L);
    assertThat(RejectSelection.parseTime("2023-11-14T22:13:20")).isEqualTo(1_700_000_000_000L);
    assertThat(RejectSelection.parseTime("2023-11-14")).isEqualTo(1_699_920_000_000L);
    assertThatThrownBy(() -> RejectSelection.parseTime("yesterday")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ISO-8601");
  }
}
