package dev.imgmatch.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.imgmatch.avro.Decision;
import dev.imgmatch.avro.MatchAlert;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AlertFilterTest {
  private static final long T = Instant.parse("2026-12-01T10:00:00Z").toEpochMilli();
  private final MatchAlert copy = Alerts.alert("copy", "acme", "uploads", Decision.REVIEW, T,
      Alerts.match("orig", "banned", 0.7f, 40, 0.8f));

  @Test
  void everyCriterionMustHold() {
    assertThat(AlertFilter.parse(Map.of()).test(copy)).isTrue();
    assertThat(AlertFilter.parse(Map.of("decision", "review")).test(copy)).isTrue();
    assertThat(AlertFilter.parse(Map.of("decision", "MATCH")).test(copy)).isFalse();
    assertThat(AlertFilter.parse(Map.of("decision", "MATCH,REVIEW")).test(copy)).isTrue();
    assertThat(AlertFilter.parse(Map.of("collection", "uploads", "tenant", "acme")).test(copy)).isTrue();
    assertThat(AlertFilter.parse(Map.of("collection", "uploads", "tenant", "other")).test(copy)).isFalse();
    assertThat(AlertFilter.parse(Map.of("matched", "banned")).test(copy)).isTrue();
    assertThat(AlertFilter.parse(Map.of("matched", "protected")).test(copy)).isFalse();
  }

  @Test
  void timesAreIsoInstantsOrEpochMillisSinceInclusiveUntilExclusive() {
    assertThat(AlertFilter.parse(Map.of("since", "2026-12-01T10:00:00Z")).test(copy)).isTrue();
    assertThat(AlertFilter.parse(Map.of("since", String.valueOf(T + 1))).test(copy)).isFalse();
    assertThat(AlertFilter.parse(Map.of("until", String.valueOf(T))).test(copy)).isFalse();
    assertThat(AlertFilter.parse(Map.of("until", "2026-12-01T10:00:00.001Z")).test(copy)).isTrue();
  }

  @Test
  void aValueThatCannotBeReadIsA400NamingIt() {
    assertBad(Map.of("decision", "MAYBE"), "decision must be MATCH or REVIEW");
    assertBad(Map.of("since", "yesterday"), "since must be an ISO-8601 instant");
    assertBad(Map.of("limit", "0"), "limit must be 1-1000");
    assertBad(Map.of("limit", "lots"), "limit must be 1-1000");
    assertBad(Map.of("since", "2000", "until", "1000"), "must be before until");
    assertBad(Map.of("colection", "uploads"), "unknown parameter 'colection'");
  }

  @Test
  void theStreamsResumePointIsAllowedWhereTheCallerReadsIt() {
    assertBad(Map.of("after", "3"), "unknown parameter 'after'");
    assertThat(AlertFilter.parse(Map.of("after", "3"), "after").limit()).isEqualTo(AlertFilter.DEFAULT_LIMIT);
  }

  private static void assertBad(Map<String, String> q, String reason) {
    assertThatThrownBy(() -> AlertFilter.parse(q)).isInstanceOf(ApiException.class).hasMessageContaining(reason)
        .satisfies(e -> assertThat(((ApiException) e).status()).isEqualTo(400));
  }
}
