package dev.imgmatch.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** .mvn/find-jdk.sh, sourced by ./mvnw, ./imgmatch and .ci/run, picks the newest JDK 21+ or fails clearly. */
class FindJdkTest {
  private static final Path SCRIPT = Path.of("..", ".mvn", "find-jdk.sh").toAbsolutePath().normalize();

  private record Result(int status, String out, String err) {}

  private static Result find(Path searchDir, String javaHome) throws Exception {
    ProcessBuilder pb = new ProcessBuilder("sh", "-c", ". \"$1\" && echo \"$JAVA_HOME\"", "sh", SCRIPT.toString());
    pb.environment().put("IMGMATCH_JDK_SEARCH_PATH", searchDir + "/*");
    pb.environment().remove("IMGMATCH_JAVA_HOME");
    if (javaHome == null) {
      pb.environment().remove("JAVA_HOME");
    } else {
      pb.environment().put("JAVA_HOME", javaHome);
    }
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    return new Result(p.waitFor(), out, err);
  }

  private static Path fakeJdk(Path root, String name, String version) throws IOException {
    Path home = root.resolve(name);
    Files.createDirectories(home.resolve("bin"));
    for (String tool : new String[] {"java", "javac"}) {
      Path f = Files.writeString(home.resolve("bin").resolve(tool), "#!/bin/sh\nexit 0\n");
      Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    Files.writeString(home.resolve("release"), "JAVA_VERSION=\"" + version + "\"\n");
    return home;
  }

  @Test
  void picksTheNewestJdkOfAtLeast21(@TempDir Path dir) throws Exception {
    fakeJdk(dir, "jdk-17", "17.0.15");
    fakeJdk(dir, "jdk-21", "21.0.8");
    Path newest = fakeJdk(dir, "jdk-25", "25.0.3");
    Result r = find(dir, null);
    assertThat(r.status()).isZero();
    assertThat(r.out()).isEqualTo(newest.toString());
  }

  @Test
  void keepsAGoodJavaHome(@TempDir Path dir) throws Exception {
    Path jdk21 = fakeJdk(dir, "a-jdk-21", "21.0.8");
    fakeJdk(dir, "jdk-25", "25.0.3");
    assertThat(find(dir, jdk21.toString()).out()).isEqualTo(jdk21.toString());
  }

  @Test
  void replacesATooOldJavaHome(@TempDir Path dir) throws Exception {
    Path old = fakeJdk(dir, "jdk-17", "17.0.15");
    Path jdk25 = fakeJdk(dir, "jdk-25", "25.0.3");
    assertThat(find(dir, old.toString()).out()).isEqualTo(jdk25.toString());
  }

  @Test
  void failsWithAMessageNamingTheJdkItNeeds(@TempDir Path dir) throws Exception {
    fakeJdk(dir, "jdk-17", "17.0.15");
    Result r = find(dir, dir.resolve("jdk-17").toString());
    assertThat(r.status()).isEqualTo(1);
    assertThat(r.err()).contains("no JDK 21 or newer found").contains("Temurin 21 or 25");
  }
}
