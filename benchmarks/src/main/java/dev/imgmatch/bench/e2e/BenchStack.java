package dev.imgmatch.bench.e2e;

import dev.imgmatch.cli.stack.LocalStack;
import dev.imgmatch.client.ImageFiles;
import dev.imgmatch.client.Uploader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** What the end-to-end harnesses share: a split's images by id, references indexed on a stack, their arguments. */
final class BenchStack {
  private BenchStack() {}

  /** The split's images by id (the eval's naming: file name without extension). */
  static Map<String, Path> files(Path dir) throws IOException {
    Map<String, Path> m = new HashMap<>();
    for (Path p : ImageFiles.images(dir)) {
      m.putIfAbsent(ImageFiles.idOf(p), p);
    }
    return m;
  }

  /**
   * Uploads {@code ids} into {@code protected} (tenant and source "bench") and waits until every index instance
   * has indexed them, or fails when a stage stops or {@code max} passes.
   */
  static void indexReferences(LocalStack stack, Uploader up, List<String> ids, Map<String, Path> files,
      Duration max) throws IOException, InterruptedException {
    long before = stack.indexedMin();
    for (String r : ids) {
      Path f = files.get(r);
      up.send(r, "bench", "protected", "bench", Files.readAllBytes(f), f.getFileName().toString(), Map.of());
    }
    up.flush();
    long deadline = System.nanoTime() + max.toNanos();
    while (stack.indexedMin() - before < ids.size()) {
      if (stack.problem() != null) {
        throw new IllegalStateException(stack.problem());
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("references not indexed in " + max);
      }
      Thread.sleep(50);
    }
  }
}
