package dev.imgmatch.cli.eval;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvalReportTest {
  @Test
  void familiesCountChainsForEachMemberAndTheReportShowsMissesAndFalseAlarms(@TempDir Path dir) throws Exception {
    var truth = ScoringTest.truth(dir, "query,ref\nq1,r1\nq2,r2\nq3,r3\n",
        "query,transform,kind\nq1,crop,positive\nq2,crop+gray,positive\nq3,hflip,positive\nq4,gray,negative\n");
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

  @Test
  void singleEditsAndChainsAreCountedApartAndPrintedAsCommentLines(@TempDir Path dir) throws Exception {
    var truth = ScoringTest.truth(dir, "query,ref\nq1,r1\nq2,r2\nq3,r3\nq5,r5\nq6,r6\n",
        "query,transform,kind\nq1,crop,positive\nq2,crop+gray,positive\n"
        + "q3,hflip,positive\nq4,gray,negative\nq5,gray+crop+gray,positive\nq6,,positive\n");
    List<Scoring.Row> rows = List.of(
        new Scoring.Row("q1", "r1", 0.95, true),
        new Scoring.Row("q2", "r2", 0.30, false), // ranked first, not alerted
        new Scoring.Row("q3", "r9", 0.70, false),
        new Scoring.Row("q3", "r3", 0.50, false),
        new Scoring.Row("q4", "r7", 0.82, true), // a negative query: in no family
        new Scoring.Row("q5", "r8", 0.60, false),
        new Scoring.Row("q5", "r5", 0.58, true), // alerted, not first
        new Scoring.Row("q6", "r6", 0.90, true)); // no transform known: in no family
    var fam = EvalReport.perFamilyAloneAndInChains(rows, truth);
    assertThat(fam).extracting(EvalReport.FamilySplit::family).containsExactly("crop", "gray", "hflip");
    var crop = fam.get(0);
    assertThat(crop.alone()).isEqualTo(new EvalReport.FamilySplit.Part(1, 1, 1));
    assertThat(crop.chains()).as("q2 and q5").isEqualTo(new EvalReport.FamilySplit.Part(2, 1, 1));
    var gray = fam.get(1);
    assertThat(gray.alone().queries()).as("the negative q4 is not counted").isZero();
    assertThat(gray.chains()).as("gray twice in q5 counts once").isEqualTo(new EvalReport.FamilySplit.Part(2, 1, 1));
    assertThat(gray.chains().recallAt1()).isEqualTo(0.5);
    assertThat(fam.get(2).alone()).isEqualTo(new EvalReport.FamilySplit.Part(1, 0, 0));
    assertThat(fam.get(2).chains().decisionRecall()).isNaN();

    List<String> lines = EvalReport.familyTable(fam);
    assertThat(lines).hasSize(4).allMatch(l -> l.startsWith("# "));
    assertThat(lines.get(1)).contains("crop", "1, 1.00, 1.00", "2, 0.50, 0.50");
    assertThat(lines.get(3)).contains("hflip", "1, 0.00, 0.00").endsWith("-");
    assertThat(EvalReport.familyTable(List.of())).isEmpty();

    EvalReport.write(dir.resolve("report"), Scoring.score(rows, truth), rows, truth, q -> dir.resolve(q + ".jpg"),
        r -> dir.resolve(r + ".jpg"), Map.of());
    assertThat(Files.readString(dir.resolve("report/index.html"))).contains("Single edits and chains",
        "<tr><td>crop</td><td>1</td><td>1.000</td><td>1.000</td><td>2</td><td>0.500</td><td>0.500</td></tr>");
  }
}
