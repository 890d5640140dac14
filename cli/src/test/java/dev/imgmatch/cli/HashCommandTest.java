package dev.imgmatch.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.cli.samples.SampleImages;
import dev.imgmatch.ingest.ImagePreparer;
import dev.imgmatch.ingest.IngestConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code ./imgmatch hash}: ingest-stream's fingerprints as CSV. Their bit-exactness with the reference PDQ is
 * ingest-stream's test ({@code PdqOracleTest}, through the same {@link ImagePreparer} at full resolution).
 */
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

  private static String line(Path f, ImagePreparer.Fingerprint fp) {
    return f + "," + HexFormat.of().formatHex(fp.sha256()) + "," + fp.pdq().hash().toHex() + ","
        + fp.pdq().hash().quality() + "," + HexFormat.of().formatHex(fp.md5());
  }

  @Test
  void printsOneCsvLinePerImageWithTheStreamsFingerprints() throws Exception {
    byte[] jpeg = SampleImages.jpeg(SampleImages.original(3, 300, 200), 0.9f);
    Path a = Files.write(tmp.resolve("a.jpg"), jpeg);
    Path b = Files.write(tmp.resolve("b,c.png"), SampleImages.png(SampleImages.original(4, 100, 80)));
    Run r = run(a.toString(), b.toString());
    assertThat(r.exit()).isZero();
    assertThat(r.err()).isEmpty();
    List<String> lines = r.out().lines().toList();
    assertThat(lines).hasSize(3);
    assertThat(lines.getFirst()).isEqualTo("file,sha256,pdq,quality,md5");
    ImagePreparer.Fingerprint f = ImagePreparer.of(new IngestConfig(Map.of())).fingerprint(jpeg);
    assertThat(HexFormat.of().formatHex(f.sha256())).isEqualTo(HexFormat.of().formatHex(ImagePreparer.sha256(jpeg)));
    assertThat(f.md5()).isEqualTo(java.security.MessageDigest.getInstance("MD5").digest(jpeg));
    assertThat(lines.get(1)).isEqualTo(line(a, f));
    assertThat(lines.get(2)).startsWith("\"" + b + "\",").matches(".*,[0-9a-f]{64},[0-9a-f]{64},\\d+,[0-9a-f]{32}$");
  }

  @Test
  void unreadableFilesGetAOneLineReasonAndANonZeroExit() throws Exception {
    byte[] jpeg = SampleImages.jpeg(SampleImages.original(1, 200, 200), 0.9f);
    Path good = Files.write(tmp.resolve("good.jpg"), SampleImages.jpeg(SampleImages.original(1, 100, 100), 0.9f));
    Path truncated = Files.write(tmp.resolve("t.jpg"), Arrays.copyOf(jpeg, jpeg.length / 2));
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
  void fullResolutionDecodesWithoutSubsamplingAsIngestStreamWouldWithThatSetting() throws Exception {
    // shorter side 2200: decoded at 1/2 by default (ingest.decode.subsample.min.side=1024), whole with the flag
    byte[] big = SampleImages.png(SampleImages.original(7, 2400, 2200));
    Path f = Files.write(tmp.resolve("big.png"), big);
    ImagePreparer.Fingerprint full = ImagePreparer.of(new IngestConfig(Map.of(IngestConfig.SUBSAMPLE_MIN_SIDE, "0")))
        .fingerprint(big);
    ImagePreparer.Fingerprint sub = ImagePreparer.of(new IngestConfig(Map.of())).fingerprint(big);
    assertThat(full.decoded().subsampling()).as("decoded whole").isEqualTo(1);
    assertThat(sub.decoded().subsampling()).as("decoded at 1/2 by default").isEqualTo(2);
    Run r = run("--full-resolution", f.toString());
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out().lines().skip(1)).containsExactly(line(f, full));
    assertThat(run(f.toString()).out().lines().skip(1)).containsExactly(line(f, sub));
  }
}
