package dev.imgmatch.cli.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.imgmatch.testkit.Seeds;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScoringTest {
  private static final Path SCORE_PY = Path.of("..", "..", "shared", "bench", "score.py").toAbsolutePath().normalize();

  /** A split's truth from hand-written {@code ground_truth.csv} and {@code queries.csv} contents, written to {@code dir}. */
  static Scoring.Truth truth(Path dir, String groundTruthCsv, String queriesCsv) throws java.io.IOException {
    Files.writeString(dir.resolve("ground_truth.csv"), groundTruthCsv);
    Files.writeString(dir.resolve("queries.csv"), queriesCsv);
    return Scoring.readTruth(dir.resolve("ground_truth.csv"), dir.resolve("queries.csv"), Set.of());
  }

  @Test
  void handComputedExample(@TempDir Path dir) throws Exception {
    var truth = truth(dir, "query,ref\nq1,r1\nq2,r2\n",
        "query,transform,kind\nq1,crop,positive\nq2,gray,positive\nq3,hflip,negative\n");
    var res = Scoring.score(List.of(
        new Scoring.Row("q1", "r1", 0.9, true),   // rank 1, true
        new Scoring.Row("q3", "r5", 0.8, true),   // rank 2, false alarm on a negative
        new Scoring.Row("q2", "r9", 0.7, false),  // rank 3, wrong
        new Scoring.Row("q2", "r2", 0.6, false)), // rank 4, true but not alerted
        truth);
    assertThat(res.uAP()).isEqualTo(Scoring.round4((1.0 / 1 + 2.0 / 4) / 2));
    assertThat(res.recallAt1()).isEqualTo(0.5);
    assertThat(res.recallAt10()).isEqualTo(1.0);
    assertThat(res.decisionPrecision()).isEqualTo(0.5);
    assertThat(res.decisionRecall()).isEqualTo(0.5);
    assertThat(res.negativeQueryFpRate()).isEqualTo(1.0);
    // NDCG@10 over q1 and q2 (q3 has no relevant ref): (1 + 1/log2(3)) / 2 = 0.81546
    assertThat(res.ndcgAt10()).isEqualTo(0.8155);
  }

  @Test
  void ndcgAt10OfOneQueryByHand() {
    double log2of3 = Math.log(3) / Math.log(2);
    assertThat(Scoring.ndcgAt10(List.of("r1", "x"), Set.of("r1"))).isEqualTo(1.0);
    assertThat(Scoring.ndcgAt10(List.of("x", "r1"), Set.of("r1"))).isCloseTo(1 / log2of3, within(1e-12));
    // relevant at ranks 1 and 3 of two relevant: (1 + 1/log2(4)) / (1 + 1/log2(3)) = 1.5 / 1.6309 = 0.9197
    assertThat(Scoring.ndcgAt10(List.of("a", "x", "b"), Set.of("a", "b"))).isCloseTo(1.5 / (1 + 1 / log2of3),
        within(1e-12)).isCloseTo(0.9197, within(1e-4));
    // a relevant ref ranked 11th does not count
    List<String> eleventh = new ArrayList<>(Collections.nCopies(10, "x"));
    eleventh.add("r1");
    assertThat(Scoring.ndcgAt10(eleventh, Set.of("r1"))).isZero();
    assertThat(Scoring.ndcgAt10(List.of(), Set.of("r1"))).isZero();
    // more than 10 relevant refs: the ideal ranking has 10 of them, so the first 10 relevant give 1
    Set<String> twelve = new java.util.HashSet<>();
    List<String> all = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      twelve.add("r" + i);
      all.add("r" + i);
    }
    assertThat(Scoring.ndcgAt10(all, twelve)).isCloseTo(1.0, within(1e-12));
    assertThatThrownBy(() -> Scoring.ndcgAt10(List.of("x"), Set.of())).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void ndcgAt10AveragesOverQueriesWithARelevantRefAndLeavesNegativesOut(@TempDir Path dir) throws Exception {
    var truth = truth(dir, "query,ref\nq1,r1\nq2,r2\nq3,r3a\nq3,r3b\nq5,r5\n",
        "query,transform,kind\nq1,crop,positive\nq2,gray,positive\n"
        + "q3,hflip,positive\nq4,gray,negative\nq5,color,positive\n");
    var res = Scoring.score(List.of(
        new Scoring.Row("q1", "r1", 0.9, true),     // q1: relevant first: 1
        new Scoring.Row("q1", "r1", 0.2, true),     // the same pair again: its best score counts
        new Scoring.Row("q2", "r9", 0.8, false),    // q2: relevant second: 1/log2(3) = 0.6309
        new Scoring.Row("q2", "r2", 0.6, false),
        new Scoring.Row("q3", "r3a", 0.7, true),    // q3: relevant first and third of two: 0.9197
        new Scoring.Row("q3", "rx", 0.65, false),
        new Scoring.Row("q3", "r3b", 0.5, false),
        new Scoring.Row("q4", "r5", 0.95, true)),   // q4: a negative, left out of the average
        truth);                                     // q5: relevant ref, no prediction: 0
    // (1 + 0.6309 + 0.9197 + 0) / 4 = 0.63766
    assertThat(res.ndcgAt10()).isEqualTo(0.6377);
    assertThat(res.asMap()).containsEntry("ndcg_at_10", "0.6377");
    assertThat(new ArrayList<>(res.asMap().keySet()).subList(0, 4))
        .containsExactly("uAP", "recall_at_1", "recall_at_10", "ndcg_at_10");
  }

  @Test
  void tiedScoresAreRankedByRefDescendingAsForRecall(@TempDir Path dir) throws Exception {
    var truth = truth(dir, "query,ref\nq1,ra\n", "query,transform,kind\nq1,crop,positive\n");
    // score.py ranks sorted((score, ref), reverse=True): rb before ra at equal scores
    var res = Scoring.score(List.of(new Scoring.Row("q1", "ra", 0.5, null), new Scoring.Row("q1", "rb", 0.5, null)),
        truth);
    assertThat(res.recallAt1()).isZero();
    assertThat(res.ndcgAt10()).isEqualTo(Scoring.round4(Math.log(2) / Math.log(3)));
  }

  /**
   * Random splits and predictions (with duplicate rows and tied scores): every number score.py prints is equal to
   * ours, and we print only NDCG@10 besides.
   */
  @RepeatedTest(5)
  void agreesWithTheBenchmarkScorer(@TempDir Path dir, RepetitionInfo rep) throws Exception {
    assumeTrue(Files.exists(SCORE_PY), "benchmark check skipped: no " + SCORE_PY + " (the benchmark's shared/ folder "
        + "beside the clone); Scoring's own tests still ran");
    assumeTrue(canRun("python3"), "python3 is not installed; skipping the cross-check");
    long seed = Seeds.of("ScoringTest", 20261201L) + rep.getCurrentRepetition(); // five different splits
    Random rnd = new Random(seed);
    int nq = 20 + rnd.nextInt(40);
    int nr = 10 + rnd.nextInt(30);
    StringBuilder gt = new StringBuilder("query,ref\n");
    StringBuilder qs = new StringBuilder("query,transform,kind\n");
    for (int q = 0; q < nq; q++) {
      boolean pos = rnd.nextDouble() < 0.8;
      qs.append("q").append(q).append(",t,").append(pos ? "positive" : "negative").append('\n');
      if (pos) {
        gt.append("q").append(q).append(",r").append(rnd.nextInt(nr)).append('\n');
      }
    }
    Files.writeString(dir.resolve("ground_truth.csv"), gt);
    Files.writeString(dir.resolve("queries.csv"), qs);
    StringBuilder pred = new StringBuilder("query,ref,score,match\n");
    for (int i = 0; i < nq * 6; i++) {
      double score = rnd.nextInt(40) / 8.0; // coarse: many ties
      pred.append("q").append(rnd.nextInt(nq)).append(",r").append(rnd.nextInt(nr)).append(',')
          .append(String.format(Locale.ROOT, "%.3f", score)).append(',').append(rnd.nextDouble() < 0.3).append('\n');
    }
    Files.writeString(dir.resolve("pred.csv"), pred);

    Process p = new ProcessBuilder("python3", SCORE_PY.toString(), dir.toString(), dir.resolve("pred.csv").toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(out).isZero();
    Map<String, String> py = new LinkedHashMap<>();
    out.lines().forEach(l -> {
      int c = l.indexOf(": ");
      py.put(l.substring(0, c), l.substring(c + 2));
    });

    var truth = Scoring.readTruth(dir.resolve("ground_truth.csv"), dir.resolve("queries.csv"), Set.of());
    var ours = Scoring.score(Scoring.readPredictions(dir.resolve("pred.csv")), truth).asMap();
    List<String> diffs = new ArrayList<>();
    py.forEach((k, theirs) -> {
      String v = ours.get(k);
      boolean same = v != null && (theirs.equals(v) || (isNumber(theirs) && isNumber(v)
          && Math.abs(Double.parseDouble(theirs) - Double.parseDouble(v)) < 1e-9));
      if (!same) {
        diffs.add(k + ": ours " + v + ", score.py " + theirs);
      }
    });
    assertThat(diffs).as("seed %d", seed).isEmpty();
    Set<String> extras = new java.util.HashSet<>(ours.keySet());
    extras.removeAll(py.keySet());
    assertThat(extras).as("seed %d: what we print beyond score.py", seed).isEqualTo(Scoring.SCORE_PY_EXTRAS);
  }

  private static boolean isNumber(String s) {
    try {
      Double.parseDouble(s);
      return true;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  private static boolean canRun(String exe) {
    try {
      return new ProcessBuilder(exe, "--version").start().waitFor() == 0;
    } catch (Exception e) {
      return false;
    }
  }
}
