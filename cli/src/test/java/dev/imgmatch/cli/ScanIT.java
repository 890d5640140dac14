package dev.imgmatch.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.cli.samples.SampleImages;
import dev.imgmatch.cli.scan.DuplicateGroups;
import dev.imgmatch.testkit.KafkaBroker;
import dev.imgmatch.testkit.KafkaBrokerExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** scan on a folder with known duplicates reports exactly those groups (real pipeline, test broker). */
@ExtendWith(KafkaBrokerExtension.class)
class ScanIT {
  @Test
  void reportsExactlyTheKnownDuplicateGroups(KafkaBroker broker, @TempDir Path dir) throws Exception {
    Path folder = Files.createDirectories(dir.resolve("photos/sub"));
    var a = SampleImages.original(101, 640, 480);
    var b = SampleImages.original(202, 640, 480);
    byte[] aJpeg = SampleImages.jpeg(a, 0.9f);
    Files.write(folder.resolve("../a.jpg"), aJpeg);
    Files.write(folder.resolve("a-copy.jpg"), aJpeg); // byte-identical
    Files.write(folder.resolve("../a-small.jpg"), SampleImages.jpeg(SampleImages.scale(a, 0.5), 0.7f)); // near
    Files.write(folder.resolve("../b.png"), SampleImages.png(b));
    Files.write(folder.resolve("b-color.jpg"), SampleImages.jpeg(SampleImages.edit(b, SampleImages.Edit.COLOR, 5), 0.8f));
    byte[] cJpeg = SampleImages.jpeg(SampleImages.original(404, 500, 500), 0.9f);
    Files.write(folder.resolve("../c.jpg"), cJpeg);
    Files.write(folder.resolve("c-dup.jpg"), cJpeg); // a byte-identical pair and nothing else: exact group
    for (int i = 0; i < 4; i++) { // singletons
      Files.write(folder.resolve("../other" + i + ".jpg"), SampleImages.jpeg(SampleImages.original(300 + i, 600, 400), 0.85f));
    }
    Files.write(folder.resolve("broken.jpg"), new byte[] {(byte) 0xFF, (byte) 0xD8, 1, 2, 3}); // unreadable: skipped

    ScanCommand scan = new ScanCommand();
    Path report = dir.resolve("report.html");
    int status = new CommandLine(scan).execute("--bootstrap", broker.bootstrapServers(), "--report", report.toString(),
        "--data-dir", dir.resolve("data").toString(), dir.resolve("photos").toString());
    assertThat(status).isZero();
    List<List<String>> groups = scan.lastGroups.stream().map(DuplicateGroups.Group::members).toList();
    assertThat(groups).containsExactlyInAnyOrder(
        List.of("a-small.jpg", "a.jpg", "sub/a-copy.jpg"),
        List.of("b.png", "sub/b-color.jpg"),
        List.of("c.jpg", "sub/c-dup.jpg"));
    assertThat(scan.lastGroups.stream().filter(g -> g.members().contains("c.jpg")).findFirst().orElseThrow().exact())
        .as("the byte-identical pair is an exact group").isTrue();
    assertThat(Files.readString(report)).contains("a-small.jpg", "sub/b-color.jpg", "data:image/png;base64,");
  }
}
