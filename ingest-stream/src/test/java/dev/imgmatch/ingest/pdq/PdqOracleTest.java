package dev.imgmatch.ingest.pdq;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.ingest.ImagePreparer;
import dev.imgmatch.ingest.IngestConfig;
import dev.imgmatch.ingest.image.RgbImage;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * imgmatch's PDQ against the reference implementation, bit for bit, on pictures generated in code
 * ({@link OracleImages}) whose reference hashes are recorded in the repository ({@code pdq/reference-hashes.csv},
 * see the README beside it). Needs nothing outside the repository.
 */
public class PdqOracleTest {
  /** One recorded row: the picture's hash, quality and the eight dihedral hashes in {@link Dihedral} order. */
  public record Expected(String hash, int quality, List<String> dihedral) {}

  public static Map<String, Expected> recorded() throws IOException {
    Map<String, Expected> m = new LinkedHashMap<>();
    try (InputStream in = PdqOracleTest.class.getResourceAsStream("/pdq/reference-hashes.csv")) {
      assertThat(in).as("pdq/reference-hashes.csv on the test class path").isNotNull();
      List<String> lines = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
      assertThat(lines.get(0)).isEqualTo(
          "name,hash,quality,rotate90,rotate180,rotate270,flipx,flipy,flipplus1,flipminus1");
      for (String line : lines.subList(1, lines.size())) {
        String[] f = line.split(",");
        // the reference's order: original, rot90, rot180, rot270, flipX, flipY, flipPlus1, flipMinus1 = Dihedral's
        m.put(f[0], new Expected(f[1], Integer.parseInt(f[2]),
            List.of(f[1], f[3], f[4], f[5], f[6], f[7], f[8], f[9])));
      }
    }
    return m;
  }

  static RgbImage rgb(BufferedImage img) {
    int[] px = img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    for (int i = 0; i < px.length; i++) {
      px[i] &= 0xFFFFFF;
    }
    return new RgbImage(img.getWidth(), img.getHeight(), px);
  }

  @Test
  void sameHashQualityAndDihedralHashesAsTheReference() throws IOException {
    Map<String, Expected> expected = recorded();
    List<OracleImages.Named> images = OracleImages.all();
    assertThat(expected.keySet()).as("a recorded row for every oracle picture")
        .containsExactlyElementsOf(images.stream().map(OracleImages.Named::name).toList());
    PdqHasher hasher = new PdqHasher();
    List<String> mismatches = new ArrayList<>();
    int exact = 0;
    for (OracleImages.Named n : images) {
      Expected e = expected.get(n.name());
      PdqHasher.Result r = hasher.compute(rgb(n.image()));
      if (OracleImages.DEGENERATE.contains(n.name())) {
        // bits decided by rounding (OracleImages.DEGENERATE): the quality must agree, the distance is reported
        assertThat(r.hash().quality()).as(n.name()).isEqualTo(e.quality());
        System.out.printf("PdqOracleTest: degenerate %s: distance %d to the reference%n", n.name(),
            r.hash().distance(PdqHash.fromHex(e.hash(), 0)));
        continue;
      }
      if (!r.hash().toHex().equals(e.hash()) || r.hash().quality() != e.quality()) {
        mismatches.add(n.name() + ": got " + r.hash().toHex() + "," + r.hash().quality() + " expected " + e.hash()
            + "," + e.quality());
        continue;
      }
      List<PdqHash> dihedral = r.dihedral();
      for (Dihedral d : Dihedral.values()) {
        String got = dihedral.get(d.ordinal()).toHex();
        if (!got.equals(e.dihedral().get(d.ordinal()))) {
          mismatches.add(n.name() + " " + d + ": got " + got + " expected " + e.dihedral().get(d.ordinal()));
        }
      }
      exact++;
    }
    assertThat(exact).as("pictures compared bit for bit").isGreaterThanOrEqualTo(25);
    assertThat(mismatches).as("%d oracle pictures", images.size()).isEmpty();
  }

  /**
   * The whole ingest path (PNG file bytes, decode, {@link ImagePreparer}) at full resolution, as {@code ./imgmatch hash
   * --full-resolution} runs it: the reference's hash and quality on every oracle picture the product accepts.
   */
  @Test
  void theIngestPathAtFullResolutionMatchesTheReferenceOnPngFiles() throws Exception {
    Map<String, Expected> expected = recorded();
    ImagePreparer preparer = ImagePreparer.of(new IngestConfig(Map.of(IngestConfig.SUBSAMPLE_MIN_SIDE, "0")));
    List<String> mismatches = new ArrayList<>();
    int compared = 0;
    for (OracleImages.Named n : OracleImages.all()) {
      BufferedImage img = n.image(); // the product refuses pictures under 32 px a side (ingest.min.width/height)
      if (OracleImages.DEGENERATE.contains(n.name()) || Math.min(img.getWidth(), img.getHeight()) < 32
          || img.getWidth() * img.getHeight() >= 400_000) {
        continue;
      }
      java.io.ByteArrayOutputStream png = new java.io.ByteArrayOutputStream();
      javax.imageio.ImageIO.write(img, "png", png); // lossless: the decoded pixels are the generated ones
      PdqHash got = preparer.fingerprint(png.toByteArray()).pdq().hash();
      Expected e = expected.get(n.name());
      if (!got.toHex().equals(e.hash()) || got.quality() != e.quality()) {
        mismatches.add(n.name() + ": got " + got.toHex() + "," + got.quality() + " expected " + e.hash() + ","
            + e.quality());
      }
      compared++;
    }
    assertThat(compared).isGreaterThanOrEqualTo(15);
    assertThat(mismatches).isEmpty();
  }
}
