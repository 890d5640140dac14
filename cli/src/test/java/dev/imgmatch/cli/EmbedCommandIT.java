package dev.imgmatch.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.cli.samples.SampleImages;
import dev.imgmatch.embedder.Embedder;
import dev.imgmatch.embedder.EmbedderOptions;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code ./imgmatch embed} with the real model: the CSV carries the vectors the embedder computes. */
class EmbedCommandIT {
  @Test
  void printsCsvWithTheWorkersVectors(@TempDir Path dir) throws Exception {
    byte[] a = SampleImages.png(SampleImages.original(20, 300, 200));
    Path png = Files.write(dir.resolve("a.png"), a);
    Path jpg = Files.write(dir.resolve("b,c.jpg"), SampleImages.jpeg(SampleImages.original(21, 200, 200), 0.9f));
    Path broken = dir.resolve("broken.png");
    Files.writeString(broken, "nope");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    EmbedCommand cmd = new EmbedCommand();
    cmd.out = new PrintStream(out, true, StandardCharsets.UTF_8);
    cmd.err = new PrintStream(err, true, StandardCharsets.UTF_8);
    int rc = new CommandLine(cmd).execute(png.toString(), jpg.toString(), broken.toString());
    assertThat(rc).as("one file failed: status 1").isEqualTo(1);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("broken.png");
    List<String> lines = out.toString(StandardCharsets.UTF_8).lines().toList();
    try (Embedder e = Embedder.open(EmbedderOptions.defaults(), m -> System.err.println("[model] " + m))) {
      assertThat(lines).hasSize(3);
      assertThat(lines.get(0)).startsWith("file,model,dim,v1,v2,").endsWith(",v" + e.dim());
      String[] row = lines.get(1).split(",");
      assertThat(row[0]).isEqualTo(png.toString());
      assertThat(row[1]).isEqualTo(e.modelId() + "@" + e.modelVersion());
      assertThat(row[2]).isEqualTo(String.valueOf(e.dim()));
      assertThat(row).hasSize(3 + e.dim());
      float[] direct = e.embed(List.of(Embedder.decode(a))).get(0).vector(); // PNG: the very pixels
      for (int i = 0; i < direct.length; i++) {
        assertThat(Float.parseFloat(row[3 + i])).isCloseTo(direct[i], org.assertj.core.api.Assertions.within(1e-5f));
      }
      assertThat(lines.get(2)).startsWith("\"" + jpg + "\",");
    }
  }
}
