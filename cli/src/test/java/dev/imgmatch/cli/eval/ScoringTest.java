package dev.imgmatch.cli.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.imgmatch.testkit.Seeds;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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

  @Test
  void handComputedExample(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("ground_truth.csv"), "query,ref\nq1,r1\nq2,r2\n");
    Files.writeString(dir.resolve("queries.csv"), "query,transform,kind\nq1,crop,positive\nq2,gray,positive\nq3,hflip,negative\n");
    var truth = Scoring.readTruth(dir.resolve("ground_truth.csv"), dir.resolve("queries.csv"), Set.of());
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
  }

  /** Random splits and predictions (with duplicate rows and tied scores): our numbers equal score.py's. */
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
    ours.forEach((k, v) -> {
      String theirs = py.get(k);
      boolean same = theirs != null && (theirs.equals(v) || (isNumber(theirs) && isNumber(v)
          && Math.abs(Double.parseDouble(theirs) - Double.parseDouble(v)) < 1e-9));
      if (!same) {
        diffs.add(k + ": ours " + v + ", score.py " + theirs);
      }
    });
    assertThat(diffs).as("seed %d", seed).isEmpty();
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
