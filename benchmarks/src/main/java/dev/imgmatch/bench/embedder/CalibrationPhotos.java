package dev.imgmatch.bench.embedder;

import dev.imgmatch.embedder.EmbedderOptions;
import dev.imgmatch.embedder.model.DebianPackage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Writes the photos the shipped thresholds are calibrated on into a folder, from pinned Debian packages that neither
 * the benchmarks nor the default head's photos come from: 41 underwater photographs of Krank's level backgrounds
 * (krank 0.7+dfsg2-4, the photos CC-BY-SA) and 6 photographs of labelme's examples (labelme-examples 5.1.1-1:
 * three PASCAL VOC scenes, a cat, a dog, a shelf; GPL-3 package). Reproduces {@code ./imgmatch calibrate --images}:
 *
 * <pre>
 *   java -cp "benchmarks/target/classes:$(cat benchmarks/target/classpath.txt)" \
 *     dev.imgmatch.bench.embedder.CalibrationPhotos --out cal-photos/
 *   ./imgmatch calibrate --images cal-photos/ --corpus ../shared/bench/dev/refs --out cal/
 * </pre>
 */
public final class CalibrationPhotos {
  /** A pinned package, the prefix of the files wanted in it, and the file-name prefix they get. */
  record Source(DebianPackage.Spec pkg, Predicate<String> wanted, String prefix) {}

  static final List<Source> SOURCES = List.of(
      new Source(new DebianPackage.Spec("krank", "0.7+dfsg2-4", "pool/main/k/krank/krank_0.7+dfsg2-4_all.deb",
          58_065_456L, "9a3d16fe30cef98d18a4ed9049f879339d8840f8cc729136ce2e0c7dbee33042"),
          p -> p.startsWith("usr/share/games/krank/levels/unera-backgrounds/") && p.endsWith(".jpg"), "krank-"),
      new Source(new DebianPackage.Spec("labelme-examples", "5.1.1-1",
          "pool/main/l/labelme/labelme-examples_5.1.1-1_all.deb", 9_713_360L,
          "acf0f5be435c8899098397eb9f0e46b4c1be080e0c1202f128609d6391179e23"),
          p -> p.matches("usr/share/doc/labelme-examples/examples/(bbox_detection|classification)/data_annotated/"
              + "[^/]+\\.jpg|usr/share/doc/labelme-examples/examples/tutorial/apc2016_obj3\\.jpg"), "labelme-"));

  private CalibrationPhotos() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 2 || !args[0].equals("--out")) {
      throw new IllegalArgumentException("usage: CalibrationPhotos --out DIR");
    }
    Path out = Files.createDirectories(Path.of(args[1]));
    int n = 0;
    for (Source s : SOURCES) {
      Path deb = DebianPackage.obtain(s.pkg(), EmbedderOptions.defaultCacheDir(), System.err::println);
      Map<String, byte[]> files = DebianPackage.readData(deb, s.wanted());
      for (var e : files.entrySet()) {
        String rel = e.getKey().replaceAll(".*/examples/", "").replaceAll(".*/unera-backgrounds/", "");
        Files.write(out.resolve(s.prefix() + rel.replace('/', '-')), e.getValue());
        n++;
      }
      System.err.println(files.size() + " photos from " + s.pkg());
    }
    System.err.println(n + " calibration photos in " + out.toAbsolutePath());
  }
}
