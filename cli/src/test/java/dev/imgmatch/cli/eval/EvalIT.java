package dev.imgmatch.cli.eval;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.cli.samples.SampleImages;
import dev.imgmatch.testkit.KafkaBroker;
import dev.imgmatch.testkit.KafkaBrokerExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** eval on a small generated split, through the real pipeline; its metrics equal score.py's on the same files. */
@ExtendWith(KafkaBrokerExtension.class)
class EvalIT {
  private static final Path SCORE_PY = Path.of("..", "..", "shared", "bench", "score.py").toAbsolutePath().normalize();

  @Test
  void evalWritesPredictionsAndScoresThemLikeTheBenchmark(KafkaBroker broker, @TempDir Path dir) throws Exception {
    Path refs = Files.createDirectories(dir.resolve("split/refs"));
    Path queries = Files.createDirectories(dir.resolve("split/queries"));
    StringBuilder gt = new StringBuilder("query,ref\n");
    StringBuilder qs = new StringBuilder("query,transform,kind\n");
    SampleImages.Edit[] edits = {SampleImages.Edit.RESCALE_JPEG, SampleImages.Edit.CAPTION, SampleImages.Edit.COLOR,
        SampleImages.Edit.GRAY};
    for (int i = 0; i < 6; i++) {
      var img = SampleImages.original(900 + i, 640, 480);
      Files.write(refs.resolve("r" + i + ".jpg"), SampleImages.jpeg(img, 0.9f));
      if (i < edits.length) {
        Files.write(queries.resolve("q" + i + ".jpg"), SampleImages.jpeg(SampleImages.edit(img, edits[i], i), 0.7f));
        gt.append("q").append(i).append(",r").append(i).append('\n');
        qs.append("q").append(i).append(',').append(edits[i].name().toLowerCase()).append(",positive\n");
      }
    }
    for (int j = 0; j < 2; j++) { // negatives: pictures that are not indexed
      Files.write(queries.resolve("n" + j + ".jpg"), SampleImages.jpeg(SampleImages.original(990 + j, 600, 400), 0.8f));
      qs.append("n").append(j).append(",rescale_jpeg,negative\n");
    }
    Files.writeString(dir.resolve("split/ground_truth.csv"), gt);
    Files.writeString(dir.resolve("split/queries.csv"), qs);

    EvalCommand eval = new EvalCommand();
    Path pred = dir.resolve("PRED.csv");
    int status = new CommandLine(eval).execute("--bootstrap", broker.bootstrapServers(), "--refs", refs.toString(),
        "--queries", queries.toString(), "--ground-truth", dir.resolve("split/ground_truth.csv").toString(), "--out",
        pred.toString(), "--report", dir.resolve("report").toString(), "--data-dir", dir.resolve("data").toString());
    assertThat(status).isZero();

    List<String> lines = Files.readAllLines(pred);
    assertThat(lines.getFirst()).isEqualTo("query,ref,score,match");
    Map<String, Integer> perQuery = new HashMap<>();
    lines.stream().skip(1).forEach(l -> perQuery.merge(l.split(",")[0], 1, Integer::sum));
    assertThat(perQuery.keySet()).containsExactlyInAnyOrder("q0", "q1", "q2", "q3", "n0", "n1");
    assertThat(perQuery.values()).allSatisfy(n -> assertThat(n).isBetween(1, 6));

    Scoring.Result r = eval.lastResult();
    assertThat(r.recallAt1()).isEqualTo(1.0);
    assertThat(r.ndcgAt10()).as("one relevant ref per positive query, ranked first").isEqualTo(1.0);
    assertThat(r.negativeQueryFpRate()).isEqualTo(0.0);
    assertThat(r.decisionPrecision()).isEqualTo(1.0);
    assertThat(Files.readString(dir.resolve("report/index.html"))).contains("Recall per transform family", "<svg");

    if (Files.exists(SCORE_PY)) {
      Process p = new ProcessBuilder("python3", SCORE_PY.toString(), dir.resolve("split").toString(), pred.toString())
          .redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor()).as(out).isZero();
      assertThat(out).contains("uAP: " + trim(r.asMap().get("uAP"))).contains("recall_at_1: 1.0");
    }
  }

  /** score.py prints round(x, 4) with Python's shortest repr (0.9167, 1.0). */
  private static String trim(String fixed) {
    String s = fixed.replaceAll("0+$", "");
    return s.endsWith(".") ? s + "0" : s;
  }
}
