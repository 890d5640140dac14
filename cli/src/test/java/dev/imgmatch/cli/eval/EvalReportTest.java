package dev.imgmatch.cli.eval;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvalReportTest {
  @Test
  void familiesCountChainsForEachMemberAndTheReportShowsMissesAndFalseAlarms(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("gt.csv"), "query,ref\nq1,r1\nq2,r2\nq3,r3\n");
    Files.writeString(dir.resolve("queries.csv"),
        "query,transform,kind\nq1,crop,positive\nq2,crop+gray,positive\nq3,hflip,positive\nq4,gray,negative\n");
    var truth = Scoring.readTruth(dir.resolve("gt.csv"), dir.resolve("queries.csv"), Set.of());
    List<Scoring.Row> rows = List.of(
        new Scoring.Row("q1", "r1", 0.95, true),
        new Scoring.Row("q2", "r2", 0.85, true),
        new Scoring.Row("q3", "r9", 0.70, false), // miss: true ref not first
        new Scoring.Row("q3", "r3", 0.50, false),
        new Scoring.Row("q4", "r7", 0.82, true)); // false alarm on a negative query
    var fam = EvalReport.perFamily(rows, truth);
    assertThat(fam).extracting(EvalReport.FamilyRecall::family)
        .containsExactly("chain of 2 edits", "crop", "gray", "hflip");
    assertThat(fam.stream().filter(f -> f.family().equals("crop")).findFirst().orElseThrow().queries()).isEqualTo(2);
    assertThat(fam.stream().filter(f -> f.family().equals("hflip")).findFirst().orElseThrow().recallAt1()).isZero();
    assertThat(fam.stream().filter(f -> f.family().equals("hflip")).findFirst().orElseThrow().recallAt10()).isEqualTo(1.0);
    assertThat(fam.stream().filter(f -> f.family().equals("crop")).findFirst().orElseThrow().decisionRecall())
        .isEqualTo(1.0);
    assertThat(fam.stream().filter(f -> f.family().equals("hflip")).findFirst().orElseThrow().decisionRecall())
        .as("ranked but not alerted").isZero();

    var pr = EvalReport.prCurve(rows, truth);
    assertThat(pr).hasSize(5);
    assertThat(pr.getLast()[0]).isEqualTo(1.0); // every true pair found by the end

    EvalReport.write(dir.resolve("report"), Scoring.score(rows, truth), rows, truth, q -> dir.resolve(q + ".jpg"),
        r -> dir.resolve(r + ".jpg"), Map.of("query images/s", "12.3"));
    String html = Files.readString(dir.resolve("report/index.html"));
    assertThat(html).contains("<svg", "polyline", "Worst misses", "query q3 (hflip)", "ranked first r9", "False alarms",
        "alerted ref r7", "query images/s", "decision recall", "ndcg_at_10");
  }
}
