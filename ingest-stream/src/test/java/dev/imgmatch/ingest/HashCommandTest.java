package dev.imgmatch.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.common.CliCommand;
import dev.imgmatch.ingest.pdq.OracleImages;
import dev.imgmatch.ingest.pdq.PdqOracleTest;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class HashCommandTest {
  @TempDir
  Path tmp;

  private record Run(int exit, String out, String err) {}

  private Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = new CommandLine(new HashCommand());
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int exit = cl.execute(args);
    return new Run(exit, out.toString(), err.toString());
  }

  @Test
  void printsOneCsvLinePerImageWithTheStreamsFingerprints() throws Exception {
    byte[] jpeg = TestImages.jpeg(300, 200, 3);
    Path a = Files.write(tmp.resolve("a.jpg"), jpeg);
    Path b = Files.write(tmp.resolve("b,c.png"), TestImages.png(100, 80, 4));
    Run r = run(a.toString(), b.toString());
    assertThat(r.exit()).isZero();
    assertThat(r.err()).isEmpty();
    List<String> lines = r.out().lines().toList();
    assertThat(lines).hasSize(3);
    assertThat(lines.getFirst()).isEqualTo("file,sha256,pdq,quality");
    ImagePreparer.Fingerprint f = ImagePreparer.of(new IngestConfig(java.util.Map.of())).fingerprint(jpeg);
    assertThat(lines.get(1)).isEqualTo(a + "," + HexFormat.of().formatHex(ImagePreparer.sha256(jpeg)) + ","
        + f.pdq().hash().toHex() + "," + f.pdq().hash().quality());
    assertThat(lines.get(2)).startsWith("\"" + b + "\",").matches(".*,[0-9a-f]{64},[0-9a-f]{64},\\d+$");
  }

  @Test
  void unreadableFilesGetAOneLineReasonAndANonZeroExit() throws Exception {
    Path good = Files.write(tmp.resolve("good.jpg"), TestImages.jpeg(100, 100, 1));
    Path truncated = Files.write(tmp.resolve("t.jpg"), TestImages.truncated(TestImages.jpeg(200, 200, 1), 0.5));
    Path text = Files.writeString(tmp.resolve("notes.txt"), "hello");
    Run r = run(good.toString(), truncated.toString(), text.toString(), tmp.resolve("missing.png").toString());
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.out().lines()).hasSize(2); // header + the good file
    List<String> err = r.err().lines().toList();
    assertThat(err).hasSize(3);
    assertThat(err.get(0)).startsWith(truncated + ": CORRUPT_IMAGE: ");
    assertThat(err.get(1)).startsWith(text + ": UNSUPPORTED_FORMAT: ");
    assertThat(err.get(2)).startsWith(tmp.resolve("missing.png") + ": cannot read: no such file");
    assertThat(r.err()).doesNotContain("\tat ");
  }

  @Test
  void isDiscoveredByTheCliThroughServiceLoader() {
    assertThat(ServiceLoader.load(CliCommand.class).stream().map(p -> p.type().getName()))
        .contains(HashCommand.class.getName());
  }

  @Test
  void matchesTheReferenceImplementationOnTheOraclePicturesInFullResolutionMode() throws Exception {
    // PNG files of the in-repository oracle pictures (lossless: the decoded pixels are the generated ones)
    Map<String, PdqOracleTest.Expected> expected = PdqOracleTest.recorded();
    List<String> args = new java.util.ArrayList<>(List.of("--full-resolution"));
    for (OracleImages.Named n : OracleImages.all()) {
      BufferedImage img = n.image(); // the product refuses pictures under 32 px a side (ingest.min.width/height)
      if (!OracleImages.DEGENERATE.contains(n.name()) && Math.min(img.getWidth(), img.getHeight()) >= 32
          && img.getWidth() * img.getHeight() < 400_000) {
        Path f = tmp.resolve(n.name() + ".png");
        javax.imageio.ImageIO.write(n.image(), "png", f.toFile());
        args.add(f.toString());
      }
    }
    Run r = run(args.toArray(String[]::new));
    assertThat(r.exit()).as(r.err()).isZero();
    List<String> lines = r.out().lines().skip(1).toList();
    assertThat(lines).hasSize(args.size() - 1).hasSizeGreaterThanOrEqualTo(15);
    for (String line : lines) {
      String[] f = line.split(",");
      String name = Path.of(f[0]).getFileName().toString().replace(".png", "");
      assertThat(f[2] + "," + f[3]).as(name).isEqualTo(expected.get(name).hash() + "," + expected.get(name).quality());
    }
  }
}
