package dev.imgmatch.embedder.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The back-off of a model outage, as pure arithmetic on times the test chooses (nothing waits). */
class RetryPolicyTest {
  @Test
  void delaysDoubleFromTheFirstUpToTheCap() {
    RetryPolicy p = new RetryPolicy(1_000, 60_000, 600_000);
    List<Long> d = new ArrayList<>();
    for (int r = 1; r <= 9; r++) {
      d.add(p.delay(r));
    }
    assertThat(d).containsExactly(1_000L, 2_000L, 4_000L, 8_000L, 16_000L, 32_000L, 60_000L, 60_000L, 60_000L);
    assertThat(p.delay(Integer.MAX_VALUE)).as("no overflow however long the outage").isEqualTo(60_000L);
    assertThatThrownBy(() -> p.delay(0)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void anOutageIsRetriedUntilItsBudgetAndTheLastAttemptFallsOnTheBudgetsEnd() {
    RetryPolicy p = new RetryPolicy(1_000, 60_000, 600_000);
    long now = 5_000_000; // any monotonic origin
    RetryPolicy.Outage o = p.begin(now);
    List<Long> attemptsAt = new ArrayList<>();
    for (long d; (d = o.next(now)) >= 0; ) {
      now += d; // the attempt after the back-off fails again at once
      attemptsAt.add((now - o.startMs()) / 1000);
    }
    assertThat(attemptsAt).containsExactly(1L, 3L, 7L, 15L, 31L, 63L, 123L, 183L, 243L, 303L, 363L, 423L, 483L, 543L,
        600L);
    assertThat(o.retries()).isEqualTo(15);
    assertThat(o.elapsedMs(now)).isEqualTo(600_000);
    assertThat(o.next(now + 1)).as("spent stays spent").isEqualTo(-1);
  }

  @Test
  void slowAttemptsCountAgainstTheBudget() {
    RetryPolicy.Outage o = new RetryPolicy(1_000, 60_000, 10_000).begin(0);
    assertThat(o.next(0)).isEqualTo(1_000);
    assertThat(o.next(8_500)).as("an attempt that took 7.5 s: only what is left").isEqualTo(1_500);
    assertThat(o.next(10_000)).isEqualTo(-1);
  }

  @Test
  void aZeroBudgetMeansNoRetry() {
    assertThat(new RetryPolicy(1_000, 60_000, 0).begin(42).next(42)).isEqualTo(-1);
  }

  @Test
  void invalidPoliciesAreRefused() {
    assertThatThrownBy(() -> new RetryPolicy(2_000, 1_000, 10)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new RetryPolicy(-1, 1_000, 10)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new RetryPolicy(1, 1_000, -10)).isInstanceOf(IllegalArgumentException.class);
  }
}
