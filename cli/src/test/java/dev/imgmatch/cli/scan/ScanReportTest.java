package dev.imgmatch.cli.scan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.imgmatch.cli.samples.SampleImages;
import java.awt.image.BufferedImage;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The scan report is one self-contained page whose thumbnails render in a real headless Chromium. */
class ScanReportTest {

  private static Path writeReport(Path dir) throws Exception {
    for (int i = 0; i < 3; i++) {
      Files.write(dir.resolve("img" + i + ".jpg"), SampleImages.jpeg(SampleImages.original(i, 320, 240), 0.9f));
    }
    DuplicateGroups g = new DuplicateGroups();
    g.add(new DuplicateGroups.Pair("img0.jpg", "img1.jpg", 0.93, false, 14, 0.88f));
    g.add(new DuplicateGroups.Pair("img2.jpg", "img2-copy.jpg", 1.0, true, 0, 1f)); // file missing: placeholder
    Path html = dir.resolve("report.html");
    ScanReport.write(html, g.groups(), dir::resolve, "imgmatch scan <test>", Map.of("images", "4", "groups", "2"));
    return html;
  }

  @Test
  void reportIsSelfContainedWithEveryMemberAndScore(@TempDir Path dir) throws Exception {
    String html = Files.readString(writeReport(dir));
    assertThat(html).contains("imgmatch scan &lt;test&gt;").contains("near duplicates").contains("exact copies")
        .contains("0.930").contains(">14<").doesNotContain("src=\"file:");
    assertThat(Pattern.compile("src=\"data:image/png;base64,").matcher(html).results().count()).isEqualTo(4);
  }

  @Test
  void thumbnailsRenderInHeadlessChromium(@TempDir Path dir) throws Exception {
    String chromium = find("chromium", "chromium-browser", "google-chrome");
    assumeTrue(chromium != null, "no Chromium on PATH (.ci/run installs Debian's chromium); skipping the render check");
    Path html = writeReport(dir);
    List<String> common = List.of(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--user-data-dir=" + dir.resolve("profile"), "--window-size=1100,900");

    var dump = new java.util.ArrayList<>(common);
    dump.addAll(List.of("--dump-dom", html.toUri().toString()));
    String dom = run(dump);
    Matcher loaded = Pattern.compile("data-thumbnails-loaded=\"(\\d+)\"").matcher(dom);
    Matcher total = Pattern.compile("data-thumbnails-total=\"(\\d+)\"").matcher(dom);
    assertThat(loaded.find() && total.find()).as("the page's script ran: %s", dom.length() > 300 ? dom.substring(0, 300) : dom).isTrue();
    assertThat(total.group(1)).isEqualTo("4");
    assertThat(loaded.group(1)).isEqualTo("4");

    Path png = dir.resolve("report.png");
    var shot = new java.util.ArrayList<>(common);
    shot.addAll(List.of("--screenshot=" + png, html.toUri().toString()));
    run(shot);
    BufferedImage img = ImageIO.read(png.toFile());
    assertThat(img.getWidth()).isEqualTo(1100);
    // the thumbnails put many distinct colours on the page; a page of text on a plain background has few
    assertThat(distinctColours(img)).isGreaterThan(2000);
    Files.copy(png, Path.of("target", "scan-report-screenshot.png"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }

  private static long distinctColours(BufferedImage img) {
    return java.util.stream.IntStream.range(0, img.getHeight()).boxed()
        .flatMap(y -> java.util.stream.IntStream.range(0, img.getWidth()).mapToObj(x -> img.getRGB(x, y) & 0xF8F8F8))
        .distinct().count();
  }

  private static String run(List<String> cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(90, TimeUnit.SECONDS)).isTrue();
    return new String(out, StandardCharsets.UTF_8);
  }

  private static String find(String... names) {
    for (String n : names) {
      for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
        Path p = Path.of(dir, n);
        if (Files.isExecutable(p)) {
          return p.toString();
        }
      }
    }
    return null;
  }
}
