package dev.imgmatch.ingest.pdq;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.ingest.SharedData;
import dev.imgmatch.ingest.image.DecodedImage;
import dev.imgmatch.ingest.image.ImageDecoder;
import dev.imgmatch.ingest.image.ImageLimits;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * PDQ against the reference implementation's outputs in {@code ../shared} (skipped when absent). The
 * reference decodes with ImageIO on Temurin 25 and ignores EXIF orientation, so the bit-exact comparison
 * hashes the stored pixels at full resolution.
 */
class PdqConformanceTest {

  record Row(String hex, int quality, String file) {}

  static List<Row> read(Path csv) throws Exception {
    List<Row> rows = new ArrayList<>();
    for (String line : Files.readAllLines(csv)) {
      if (line.isBlank() || line.startsWith("hash,")) {
        continue;
      }
      String[] f = line.split(",");
      rows.add(new Row(f[0], Integer.parseInt(f[1]), f[2]));
    }
    return rows;
  }

  @Test
  void sameHashAndQualityAsTheReferenceOnItsTestImages() throws Exception {
    Path dir = SharedData.require("pdq");
    List<Row> rows = read(dir.resolve("expected.csv"));
    ImageDecoder decoder = new ImageDecoder(ImageLimits.defaults().fullResolution().withMinSize(1, 1));
    PdqHasher hasher = new PdqHasher();
    List<String> mismatches = new ArrayList<>();
    for (Row r : rows) {
      DecodedImage img = decoder.decode(Files.readAllBytes(dir.resolve(r.file())));
      PdqHash h = hasher.hash(img.stored());
      if (!h.toHex().equals(r.hex()) || h.quality() != r.quality()) {
        mismatches.add(r.file() + ": got " + h + " expected " + r.hex() + "," + r.quality()
            + " (distance " + h.distance(PdqHash.fromHex(r.hex(), 0)) + ")");
      }
    }
    assertThat(mismatches).as("%d reference images", rows.size()).isEmpty();
    assertThat(rows).hasSizeGreaterThanOrEqualTo(30);
  }

  @Test
  void withinDistance10OfTheReferenceOnEveryDevImageOfQuality80OrMore() throws Exception {
    Path dev = SharedData.require("bench/dev");
    List<Row> rows = read(dev.resolve("pdq_reference.csv"));
    ImageDecoder decoder = new ImageDecoder(ImageLimits.defaults()); // production settings
    PdqHasher hasher = new PdqHasher();
    Map<Integer, Integer> histogram = new TreeMap<>();
    List<String> far = new ArrayList<>();
    int checked = 0;
    for (Row r : rows) {
      DecodedImage img = decoder.decode(Files.readAllBytes(dev.resolve(r.file())));
      PdqHash h = hasher.hash(img.oriented());
      int d = h.distance(PdqHash.fromHex(r.hex(), 0));
      if (r.quality() >= 80) {
        checked++;
        histogram.merge(d, 1, Integer::sum);
        if (d > 10) {
          far.add(r.file() + " distance " + d);
        }
      }
    }
    System.out.printf("PDQ vs reference on %d dev images with quality >= 80: distance histogram %s%n", checked,
        histogram);
    assertThat(far).isEmpty();
    assertThat(checked).isGreaterThan(800);
  }
}
