package dev.imgmatch.cli.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LocalStackOptionsTest {
  private static final LocalStack.Options BASE = LocalStack.Options.defaults(Path.of("unused"));

  /** ingest-stream and index-service run with one match.rules, whichever service it was set for. */
  @Test
  void theMatchRulesSetForEitherServiceApplyToBoth() {
    assertThat(BASE.matchRules()).as("neither: both take the default").isNull();
    assertThat(BASE.with(Map.of(), Map.of(), Map.of("match.rules", "scan:scan")).matchRules()).isEqualTo("scan:scan");
    assertThat(BASE.with(Map.of("match.rules", "scan:scan"), Map.of(), Map.of()).matchRules()).isEqualTo("scan:scan");
    assertThat(BASE.with(Map.of("match.rules", "a:b, c"), Map.of(), Map.of("match.rules", "a: b,c")).matchRules())
        .as("the same rules written differently").isEqualTo("a: b,c");
    assertThatThrownBy(() -> BASE.with(Map.of("match.rules", "a:b"), Map.of(), Map.of("match.rules", "a:c"))
        .matchRules()).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("one rule set");
  }
}
