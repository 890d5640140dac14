package dev.imgmatch.ingest;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The project's shared data (PDQ reference vectors, benchmark images) lives beside the repository, not in
 * it: {@code <repo>/../shared}. {@code -Dimgmatch.shared=DIR} or {@code IMGMATCH_SHARED=DIR} points
 * elsewhere. Tests that need it are skipped, with the path they looked at, when it is absent.
 */
public final class SharedData {
  private SharedData() {}

  /** The repository root: the nearest ancestor of the working directory holding {@code mvnw}. */
  public static Path repoRoot() {
    Path p = Path.of("").toAbsolutePath();
    for (Path q = p; q != null; q = q.getParent()) {
      if (Files.isRegularFile(q.resolve("mvnw")) && Files.isDirectory(q.resolve("ingest-stream"))) {
        return q;
      }
    }
    return p.getParent() == null ? p : p.getParent(); // module directory's parent
  }

  public static Path sharedDir() {
    String explicit = System.getProperty("imgmatch.shared", System.getenv("IMGMATCH_SHARED"));
    return explicit != null && !explicit.isBlank() ? Path.of(explicit) : repoRoot().resolve("../shared").normalize();
  }

  /** {@code sharedDir()/relative}, or skips the calling test (JUnit assumption) saying what is missing. */
  public static Path require(String relative) {
    Path p = sharedDir().resolve(relative);
    assumeTrue(Files.exists(p), () -> "skipped: shared test data " + p + " is absent (clone the project's shared/ "
        + "directory beside the repository, or set -Dimgmatch.shared=DIR / IMGMATCH_SHARED)");
    return p;
  }
}
