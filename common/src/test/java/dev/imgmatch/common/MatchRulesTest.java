package dev.imgmatch.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.imgmatch.testkit.RuleCases;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

class MatchRulesTest {
  @Test
  void rulesParseAndNameTheirMistakes() {
    assertThat(MatchRules.parse("uploads:protected, banned ; other:uploads").asMap())
        .isEqualTo(Map.of("uploads", Set.of("protected", "banned"), "other", Set.of("uploads")));
    assertThat(MatchRules.parse("").isEmpty()).isTrue();
    assertThat(MatchRules.parse(" ; ")).isEqualTo(MatchRules.NONE);
    assertThatThrownBy(() -> MatchRules.parse("uploads")).hasMessageContaining("'uploads'")
        .hasMessageContaining("is not 'source:target[,target...]'");
    assertThatThrownBy(() -> MatchRules.parse(":protected")).hasMessageContaining("':protected'");
    assertThatThrownBy(() -> MatchRules.parse("uploads:")).hasMessage("rule for 'uploads' names no target collection");
    assertThatThrownBy(() -> MatchRules.parse("uploads: , ")).hasMessageContaining("no target");
    assertThatThrownBy(() -> MatchRules.parse("a:b;a:c")).hasMessage("collection 'a' has two rules");
    assertThatThrownBy(() -> MatchRules.of(Map.of("a", List.of()))).hasMessageContaining("no target");
  }

  @Test
  void targetsWatchedAndAlerts() {
    MatchRules r = MatchRules.parse(MatchRules.DEFAULT);
    assertThat(r.targetsOf("uploads")).containsExactly("protected", "banned");
    assertThat(r.targetsOf("protected")).as("no rule: only indexed").isEmpty();
    assertThat(r.watched()).containsExactly("protected", "banned");
    assertThat(r.alerts("uploads", "protected")).isTrue();
    assertThat(r.alerts("uploads", "uploads")).isFalse();
    assertThat(r.alerts("protected", "banned")).isFalse();
    MatchRules two = MatchRules.parse("uploads:protected,uploads;scan:scan,protected");
    assertThat(two.watched()).as("the union of all targets, each once").containsExactly("protected", "uploads", "scan");
    assertThat(two.alerts("uploads", "uploads")).isTrue();
    assertThat(two.alerts("scan", "uploads")).isFalse();
    assertThat(MatchRules.NONE.watched()).isEmpty();
    assertThat(MatchRules.NONE.alerts("uploads", "protected")).isFalse();
  }

  @Test
  void theTextFormRoundTrips() {
    MatchRules r = MatchRules.parse(" uploads : protected , banned ; scan:scan ");
    assertThat(r).hasToString("uploads:protected,banned;scan:scan");
    assertThat(MatchRules.parse(r.toString())).isEqualTo(r).hasSameHashCodeAs(r);
    assertThat(MatchRules.of(Map.of("uploads", List.of("protected", "banned"), "scan", List.of("scan")))).isEqualTo(r);
    assertThat(MatchRules.NONE).hasToString("");
  }

  /** The table both stages' tests run through: the shared rules say what each of them does with an exact copy. */
  @Test
  void everyCaseOfTheSharedTableIsWhatTheRulesSay() {
    for (RuleCases.Case c : RuleCases.ALL) {
      MatchRules r = MatchRules.parse(c.rules());
      assertThat(r.alerts(c.upload(), c.firstSighting())).as(c.toString()).isEqualTo(c.exactAlert());
      assertThat(r.targetsOf(c.upload()).contains(c.firstSighting())).as(c.toString()).isEqualTo(c.exactAlert());
      if (c.exactAlert()) {
        assertThat(r.watched()).as("an alerting first sighting is watched (kept until its takedown): " + c)
            .contains(c.firstSighting());
      }
    }
  }

  @Test
  void theValidatorReportsTheParsersMessageOnTheSetting() {
    MatchRules.VALIDATOR.ensureValid(MatchRules.KEY, MatchRules.DEFAULT);
    assertThatThrownBy(() -> MatchRules.VALIDATOR.ensureValid(MatchRules.KEY, "nonsense"))
        .isInstanceOf(ConfigException.class).hasMessageContaining(MatchRules.KEY).hasMessageContaining("nonsense")
        .hasMessageContaining("is not 'source:target[,target...]'");
  }

  @Test
  void sourcesOfATargetAreTheOtherCollectionsMatchedAgainstIt() {
    MatchRules r = MatchRules.parse("uploads:protected,banned,uploads;partner:protected");
    assertThat(r.sourcesOf("protected")).containsExactly("uploads", "partner");
    assertThat(r.sourcesOf("uploads")).as("a collection matched against itself is not its own source").isEmpty();
    assertThat(r.sourcesOf("nothing")).isEmpty();
  }
}
