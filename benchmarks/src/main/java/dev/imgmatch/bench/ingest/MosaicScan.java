package dev.imgmatch.bench.ingest;

import dev.imgmatch.ingest.image.MosaicFinder;
import dev.imgmatch.ingest.image.RgbImage;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * Which pictures of folders {@link MosaicFinder} takes for mosaics (pixelated pictures), and what it costs: runs
 * {@code MosaicFinder.DEFAULT.find} on every image file under each folder (one thread; decoding not timed) and prints
 * the mosaics found with their block grids, then per folder how many were found and the mean and largest time per
 * picture; for a calibration split's {@code queries/} (with {@code queries.csv} beside it), also how many of its
 * pixelated copies were found. docs/BENCHMARKS.md, "Pixelated copies: the depixel view" and "found by their layout":
 *
 * <pre>
 *   java -cp "benchmarks/target/classes:$(cat benchmarks/target/classpath.txt)" \
 *     dev.imgmatch.bench.ingest.MosaicScan cal/queries ../shared/bench/dev/queries ../shared/bench/dev/refs
 * </pre>
 */
public final class MosaicScan {
  private MosaicScan() {}

  public static void main(String[] args) throws IOException {
    if (args.length == 0) {
      throw new IllegalArgumentException("usage: MosaicScan DIR...");
    }
    for (String arg : args) {
      scan(Path.of(arg));
    }
  }

  private static void scan(Path dir) throws IOException {
    List<Path> files = new ArrayList<>();
    try (Stream<Path> s = Files.walk(dir)) {
      s.filter(Files::isRegularFile).forEach(files::add);
    }
    Collections.sort(files);
    // a calibration split's probes (queries/ beside queries.csv): which are pixelated copies of an indexed photo
    java.util.Set<String> pixelatedCopies = new java.util.HashSet<>();
    Path csv = dir.resolveSibling("queries.csv");
    if (dir.getFileName() != null && dir.getFileName().toString().equals("queries") && Files.isRegularFile(csv)) {
      for (String line : Files.readAllLines(csv)) {
        String[] f = line.split(",");
        if (f.length >= 3 && f[1].contains("pixelate") && f[2].equals("positive")) {
          pixelatedCopies.add(f[0]);
        }
      }
    }
    int copiesFound = 0;
    int pictures = 0;
    int found = 0;
    long sumNs = 0;
    long maxNs = 0;
    String slowest = "";
    for (Path f : files) {
      BufferedImage b;
      try {
        b = ImageIO.read(f.toFile());
      } catch (IOException | RuntimeException e) {
        continue; // not an image ImageIO reads
      }
      if (b == null) {
        continue;
      }
      pictures++;
      int w = b.getWidth();
      int h = b.getHeight();
      RgbImage img = new RgbImage(w, h, b.getRGB(0, 0, w, h, null, 0, w));
      long t0 = System.nanoTime();
      RgbImage blocks = MosaicFinder.DEFAULT.find(img);
      long ns = System.nanoTime() - t0;
      sumNs += ns;
      if (ns > maxNs) {
        maxNs = ns;
        slowest = dir.relativize(f) + " " + w + "x" + h;
      }
      String id = f.getFileName().toString().replaceAll("\\.[^.]+$", "");
      if (blocks != null) {
        found++;
        copiesFound += pixelatedCopies.contains(id) ? 1 : 0;
        System.out.printf("mosaic %s %dx%d: %dx%d blocks%n", dir.relativize(f), w, h, blocks.width(), blocks.height());
      }
    }
    System.out.printf(Locale.ROOT, "%s: %d of %d pictures are mosaics; %.2f ms per picture, at most %.2f (%s)%n", dir,
        found, pictures, pictures == 0 ? 0 : sumNs / 1e6 / pictures, maxNs / 1e6, slowest);
    if (!pixelatedCopies.isEmpty()) {
      System.out.printf(Locale.ROOT, "%s: %d of its %d pixelated copies (queries.csv: pixelate in the edits, positive)"
          + " found%n", dir, copiesFound, pixelatedCopies.size());
    }
  }
}
