package dev.imgmatch.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BackoffTest {
  @Test
  void theFirstFailureRetriesAtOnceRepeatedOnesWaitLongerUpToTheMaximumAndOldOnesAreForgotten() {
    Backoff b = new Backoff(1_000, 60_000, 600_000);
    assertThat(b.next(0)).isZero();
    assertThat(b.next(10)).isEqualTo(1_000);
    assertThat(b.next(20)).isEqualTo(2_000);
    assertThat(b.next(30)).isEqualTo(4_000);
    for (int i = 0; i < 20; i++) {
      b.next(40 + i);
    }
    assertThat(b.next(100)).isEqualTo(60_000);
    assertThat(b.recent()).isEqualTo(25);
    assertThat(b.next(10_000_000)).as("the window has passed").isZero();
    assertThat(b.recent()).isEqualTo(1);
  }
}
