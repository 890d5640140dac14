package dev.imgmatch.ingest;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * For <em>benchmark checks</em> only: extra conformance checks against the benchmark's data (the PDQ reference
 * implementation's outputs on its own test photos, the dev split's reference hashes), which live beside the
 * repository in {@code <repo>/../shared}, never in it. {@code -Dimgmatch.shared=DIR} or {@code IMGMATCH_SHARED=DIR}
 * points elsewhere. Without it they are skipped, saying so; the tests proper have their oracles inside the
 * repository (e.g. {@code PdqOracleTest}). The product itself never reads this folder.
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
    assumeTrue(Files.exists(p), () -> "benchmark check skipped: its data " + p + " is absent (the benchmark's shared/ "
        + "folder beside the repository, or -Dimgmatch.shared=DIR / IMGMATCH_SHARED); the in-repository tests still ran");
    return p;
  }
}
