package dev.imgmatch.ingest.bench;

import dev.imgmatch.ingest.ImagePreparer;
import dev.imgmatch.ingest.IngestConfig;
import dev.imgmatch.ingest.image.BorderTrim;
import dev.imgmatch.ingest.image.RgbImage;
import dev.imgmatch.ingest.pdq.PdqHash;
import dev.imgmatch.ingest.pdq.PdqHasher;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How much trimming restores a bordered copy, model-free: for each dev query whose transform chain contains
 * {@code border}, the PDQ distance to its ground-truth ref for the whole query and for the trimmed query
 * (ref trimmed too, as uploads are; the trimmed query's 8 dihedral variants, as queries carry). {@code java -cp <test classpath> dev.imgmatch.ingest.bench.TrimGain DEV_DIR}
 * with DEV_DIR holding refs/, queries/, queries.csv and ground_truth.csv.
 */
public final class TrimGain {
  private TrimGain() {}

  public static void main(String[] args) throws Exception {
    Path dev = Path.of(args[0]);
    Map<String, String> transform = new HashMap<>();
    for (String line : Files.readAllLines(dev.resolve("queries.csv")).subList(1, Files.readAllLines(dev.resolve("queries.csv")).size())) {
      String[] f = line.split(",");
      transform.put(f[0], f[1]);
    }
    IngestConfig cfg = new IngestConfig(Map.of());
    ImagePreparer preparer = ImagePreparer.of(cfg);
    BorderTrim trim = cfg.borderTrim();
    PdqHasher pdq = new PdqHasher();
    List<int[]> rows = new ArrayList<>();
    int trimmed = 0;
    for (String line : Files.readAllLines(dev.resolve("ground_truth.csv")).subList(1, Files.readAllLines(dev.resolve("ground_truth.csv")).size())) {
      String[] f = line.split(",");
      if (!transform.getOrDefault(f[0], "").contains("border")) {
        continue;
      }
      RgbImage q = preparer.fingerprint(Files.readAllBytes(find(dev.resolve("queries"), f[0]))).oriented();
      RgbImage r = preparer.fingerprint(Files.readAllBytes(find(dev.resolve("refs"), f[1]))).oriented();
      PdqHash rh = pdq.hash(r);
      PdqHash rt = pdq.hash(BorderTrim.crop(r, trim.find(r)));
      BorderTrim.Region qr = trim.find(q);
      int whole = pdq.hash(q).distance(rh);
      int best = whole;
      if (!qr.isWhole(q)) {
        trimmed++;
        for (PdqHash qt : pdq.compute(BorderTrim.crop(q, qr)).dihedral()) { // identity first, then flips/turns
          best = Math.min(best, Math.min(qt.distance(rh), qt.distance(rt)));
        }
      }
      rows.add(new int[] {whole, best});
      System.out.printf("%s %-28s whole %3d  best with trim %3d%n", f[0], transform.get(f[0]), whole, best);
    }
    int n = rows.size();
    long within31Whole = rows.stream().filter(x -> x[0] <= 31).count();
    long within31Best = rows.stream().filter(x -> x[1] <= 31).count();
    double meanWhole = rows.stream().mapToInt(x -> x[0]).average().orElse(0);
    double meanBest = rows.stream().mapToInt(x -> x[1]).average().orElse(0);
    System.out.printf("%d positive border queries, %d trimmed; mean PDQ distance whole %.1f -> with trim %.1f;"
        + " within 31: %d -> %d%n", n, trimmed, meanWhole, meanBest, within31Whole, within31Best);
  }

  private static Path find(Path dir, String id) throws java.io.IOException {
    try (var s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().startsWith(id + ".")).findFirst().orElseThrow();
    }
  }
}
