package dev.imgmatch.embedder.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.common.CliCommand;
import dev.imgmatch.embedder.Embedder;
import dev.imgmatch.embedder.Fixtures;
import dev.imgmatch.embedder.SharedEmbedder;
import dev.imgmatch.embedder.model.RgbImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class EmbedCommandIT {
  @Test
  void isDiscoveredByTheCliThroughTheServiceLoader() {
    assertThat(ServiceLoader.load(CliCommand.class).stream().map(p -> p.type().getName()))
        .contains(EmbedCommand.class.getName());
  }

  @Test
  void printsCsvWithTheWorkersVectors(@TempDir Path dir) throws Exception {
    RgbImage a = Fixtures.picture(20, 300, 200);
    Path png = dir.resolve("a.png");
    Files.write(png, Fixtures.encode(a, "png"));
    Path jpg = dir.resolve("b,c.jpg");
    Files.write(jpg, Fixtures.encode(Fixtures.picture(21, 200, 200), "jpeg"));
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
    Embedder e = SharedEmbedder.get();
    assertThat(lines).hasSize(3);
    assertThat(lines.get(0)).startsWith("file,model,dim,v1,v2,").endsWith(",v" + e.dim());
    String[] row = lines.get(1).split(",");
    assertThat(row[0]).isEqualTo(png.toString());
    assertThat(row[1]).isEqualTo(e.modelId() + "@" + e.modelVersion());
    assertThat(row[2]).isEqualTo(String.valueOf(e.dim()));
    assertThat(row).hasSize(3 + e.dim());
    float[] direct = e.embed(List.of(a)).get(0).vector();
    for (int i = 0; i < direct.length; i++) {
      assertThat(Float.parseFloat(row[3 + i])).isCloseTo(direct[i], org.assertj.core.api.Assertions.within(1e-5f));
    }
    assertThat(lines.get(2)).startsWith("\"" + jpg + "\",");
  }
}
