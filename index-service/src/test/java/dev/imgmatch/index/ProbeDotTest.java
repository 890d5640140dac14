package dev.imgmatch.index;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Scores are taken on Probe.dot: the same bits on every call, before and after the JIT compiles it. */
class ProbeDotTest {
  @Test
  void theDotProductGivesTheSameBitsOnEveryCall() {
    long seed = ShardIndexTest.seed();
    Synthetic syn = new Synthetic(seed, 256, 4);
    float[] a = syn.gaussianUnit();
    float[] b = syn.near(a, 0.3);
    float first = Probe.dot(a, b);
    double exact = 0;
    for (int i = 0; i < a.length; i++) {
      exact += (double) a[i] * b[i];
    }
    assertThat((double) first).as("seed %d", seed).isCloseTo(exact, org.assertj.core.data.Offset.offset(1e-6));
    for (int i = 0; i < 60_000; i++) { // past the JIT's compilation thresholds
      float again = Probe.dot(a, b);
      if (Float.floatToRawIntBits(again) != Float.floatToRawIntBits(first)) {
        assertThat(again).as("call %d (seed %d)", i, seed).isEqualTo(first);
      }
    }
  }
}
