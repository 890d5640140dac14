package dev.imgmatch.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher started from another directory whose path holds a space, by its absolute path, on the classes this
 * build packaged (the first build from elsewhere is what CI's stranger step checks, on a fresh copy).
 */
class LauncherIT {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  @TempDir
  Path tmp;

  @Test
  void runsACommandFromAnotherDirectoryWithASpaceInItsPath() throws Exception {
    Path elsewhere = Files.createDirectories(tmp.resolve("some where"));
    BufferedImage img = new BufferedImage(64, 48, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 48; y++) {
      for (int x = 0; x < 64; x++) {
        img.setRGB(x, y, (x * 4) << 16 | (y * 5) << 8 | ((x + y) * 2));
      }
    }
    ImageIO.write(img, "png", elsewhere.resolve("a picture.png").toFile());
    ProcessBuilder pb = new ProcessBuilder(ROOT.resolve("imgmatch").toString(), "hash", "a picture.png")
        .directory(elsewhere.toFile()).redirectErrorStream(true);
    pb.environment().put("IMGMATCH_SKIP_BUILD", "1");
    pb.environment().put("IMGMATCH_JAVA_OPTS", "-Xmx256m");
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).contains("file,sha256,pdq,quality,md5").containsPattern("a picture\\.png,[0-9a-f]{64},[0-9a-f]{64},\\d+,[0-9a-f]{32}");
  }
}
