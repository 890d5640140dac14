package dev.imgmatch.cli.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Pure logic: thresholds from a calibration run's scored rows. */
class CalibrateTest {
  static final Scoring.Truth TRUTH = new Scoring.Truth(
      Set.of(List.of("p1", "r1"), List.of("p2", "r2"), List.of("p3", "r3"), List.of("p4", "r4")),
      Map.of("p1", "positive", "p2", "positive", "p3", "positive", "p4", "positive", "n1", "negative", "n2",
          "negative"),
      Map.of());

  @Test
  void matchSitsAboveEveryHeldOutNegativeAndRecallCountsOnlyRightFirstPlaces() {
    List<Scoring.Row> rows = List.of(
        new Scoring.Row("p1", "r1", 0.9, null), new Scoring.Row("p1", "r9", 0.1, null),
        new Scoring.Row("p2", "r2", 0.4, null),
        new Scoring.Row("p3", "r9", 0.8, null), new Scoring.Row("p3", "r3", 0.7, null), // wrong first place
        new Scoring.Row("p4", "r4", 0.3, null),
        new Scoring.Row("n1", "r1", 0.331, null), new Scoring.Row("n1", "r2", 0.2, null),
        new Scoring.Row("n2", "r5", 0.12, null));
    CalibrateCommand.Calibration c = CalibrateCommand.calibrate(rows, TRUTH, 0.02);
    assertThat(c.negatives()).isEqualTo(2);
    assertThat(c.positives()).isEqualTo(4);
    assertThat(c.bestNegative()).isEqualTo(0.331);
    assertThat(c.matchThreshold()).as("0.331 + 0.02, rounded up to 0.01").isCloseTo(0.36, within(1e-9));
    assertThat(c.reviewThreshold()).isLessThanOrEqualTo(c.matchThreshold());
    // p1 (0.9) and p2 (0.4) reach 0.36; p3 ranks a wrong reference first; p4 is below
    assertThat(c.recallAtMatch()).isEqualTo(0.5);
  }

  @Test
  void aRunWithoutNegativesCannotCalibrate() {
    Scoring.Truth onlyPositives = new Scoring.Truth(Set.of(List.of("p1", "r1")), Map.of("p1", "positive"), Map.of());
    assertThatThrownBy(() -> CalibrateCommand.calibrate(List.of(new Scoring.Row("p1", "r1", 1, null)), onlyPositives,
        0.02)).hasMessageContaining("negative");
  }
}
