package dev.imgmatch.ingest.bench;

import dev.imgmatch.ingest.ColourPreviews;
import dev.imgmatch.ingest.ImagePreparer;
import dev.imgmatch.ingest.IngestConfig;
import dev.imgmatch.ingest.TestImages;
import dev.imgmatch.testkit.Seeds;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What the colour preview costs ingest per upload, beside what ingest already spends on the same image: a plain
 * harness (not a test), one thread. {@code java -cp <test classpath> dev.imgmatch.ingest.bench.PreviewCost
 * [DIR] [--images N] [--passes P] [--width W --height H] [key=value...]} (settings as the service's): the first N files
 * of DIR, or N seeded synthetic JPEGs (default 4 of 4000x3000, 12 MP); then per pass and image: decode + SHA-256 + PDQ
 * ({@code fingerprint}), the model views and thumbnail ({@code render}), and the preview ({@code ingest.preview.size},
 * {@code ingest.preview.quality}); prints the means after a warm-up pass and the preview's mean size.
 */
public final class PreviewCost {
  private PreviewCost() {}

  public static void main(String[] args) {
    int images = 4;
    int passes = 3;
    int width = 4000;
    int height = 3000;
    java.nio.file.Path dir = null;
    Map<String, String> settings = new java.util.HashMap<>();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--images" -> images = Integer.parseInt(args[++i]);
        case "--passes" -> passes = Integer.parseInt(args[++i]);
        case "--width" -> width = Integer.parseInt(args[++i]);
        case "--height" -> height = Integer.parseInt(args[++i]);
        default -> {
          if (args[i].contains("=")) {
            settings.put(args[i].substring(0, args[i].indexOf('=')), args[i].substring(args[i].indexOf('=') + 1));
          } else {
            dir = java.nio.file.Path.of(args[i]);
          }
        }
      }
    }
    IngestConfig cfg = new IngestConfig(settings);
    ImagePreparer preparer = ImagePreparer.of(cfg);
    long seed = Seeds.of("PreviewCost", 320L);
    List<byte[]> files = new ArrayList<>();
    if (dir != null) {
      try (java.util.stream.Stream<java.nio.file.Path> s = java.nio.file.Files.list(dir)) {
        for (java.nio.file.Path f : s.filter(java.nio.file.Files::isRegularFile).sorted().limit(images).toList()) {
          files.add(java.nio.file.Files.readAllBytes(f));
        }
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    } else {
      for (int i = 0; i < images; i++) {
        files.add(TestImages.jpeg(width, height, seed + i));
      }
    }
    List<String> views = cfg.uploadViews();
    double fp = 0;
    double render = 0;
    double preview = 0;
    long bytes = 0;
    for (int pass = 0; pass <= passes; pass++) {
      for (byte[] f : files) {
        try {
          long t0 = System.nanoTime();
          ImagePreparer.Fingerprint print = preparer.fingerprint(f, true);
          long t1 = System.nanoTime();
          preparer.render(print, views);
          long t2 = System.nanoTime();
          ColourPreviews.Preview p = preparer.preview(print);
          long t3 = System.nanoTime();
          if (pass > 0) { // pass 0 warms the JIT
            fp += (t1 - t0) / 1e6;
            render += (t2 - t1) / 1e6;
            preview += (t3 - t2) / 1e6;
            bytes += p == null ? 0 : p.bytes();
          }
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }
    }
    int n = passes * files.size();
    System.out.printf("%d images %s, %d passes, views %s, preview %s px q %s%n", files.size(),
        dir != null ? "from " + dir : "of " + width + "x" + height,
        passes, views, cfg.getInt(IngestConfig.PREVIEW_SIZE), cfg.getDouble(IngestConfig.PREVIEW_QUALITY));
    System.out.printf("per image: decode+SHA-256+PDQ %.1f ms, views+thumbnail %.1f ms, preview %.1f ms (%.1f%% of the"
        + " two before), preview size %.1f KB%n", fp / n, render / n, preview / n, 100 * preview / (fp + render),
        bytes / 1024.0 / n);
  }
}
