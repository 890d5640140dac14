package dev.imgmatch.bench.index;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Learned binary codes against the sign bits a 1-bit quantizer keeps, on Hamming distance (issue 18, item 5):
 * recall@1/10/100 of the references ranked by the Hamming distance of their codes to each positive query's code,
 * beside the float descriptors' cosine. The codes are fitted on the references only. Input: descriptors as
 * {@code ./imgmatch embed} prints them (file,model,dim,v1,...; the id is the file name without its extension):
 *
 * <pre>
 *   ./imgmatch embed ../shared/bench/dev/refs/*.jpg > refs.csv
 *   ./imgmatch embed ../shared/bench/dev/queries/*.jpg > queries.csv
 *   java -cp "benchmarks/target/classes:$(cat benchmarks/target/classpath.txt)" \
 *     dev.imgmatch.bench.index.BinaryCodesBench refs.csv queries.csv ../shared/bench/dev/ground_truth.csv [seed]
 * </pre>
 *
 * Ties of Hamming distance are ranked in reference order (a search would break them arbitrarily too).
 */
public final class BinaryCodesBench {
  private BinaryCodesBench() {}

  /** Descriptors by image id (the file name without its extension). */
  public record Descriptors(List<String> ids, float[][] vectors) {}

  /** Reads what {@code ./imgmatch embed} prints. */
  public static Descriptors read(Path csv) throws IOException {
    List<String> ids = new ArrayList<>();
    List<float[]> vs = new ArrayList<>();
    for (String line : Files.readAllLines(csv)) {
      if (line.startsWith("file,") || line.isBlank()) {
        continue;
      }
      String[] f = line.split(",");
      int dim = Integer.parseInt(f[2]);
      float[] v = new float[dim];
      for (int i = 0; i < dim; i++) {
        v[i] = Float.parseFloat(f[3 + i]);
      }
      String name = Path.of(f[0]).getFileName().toString();
      ids.add(name.contains(".") ? name.substring(0, name.lastIndexOf('.')) : name);
      vs.add(v);
    }
    return new Descriptors(ids, vs.toArray(new float[0][]));
  }

  /** A ground truth CSV (query,ref; a header line), as query id -> its relevant reference ids. */
  public static Map<String, Set<String>> readTruth(Path csv) throws IOException {
    Map<String, Set<String>> truth = new HashMap<>();
    for (String line : Files.readAllLines(csv)) {
      String[] f = line.split(",");
      if (f.length == 2 && !f[0].equals("query")) {
        truth.computeIfAbsent(f[0].strip(), k -> new HashSet<>()).add(f[1].strip());
      }
    }
    return truth;
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 3) {
      throw new IllegalArgumentException("usage: BinaryCodesBench refs.csv queries.csv ground_truth.csv [seed]");
    }
    Descriptors refs = read(Path.of(args[0]));
    Descriptors queries = read(Path.of(args[1]));
    long seed = args.length > 3 ? Long.parseLong(args[3]) : 20261204L;
    System.out.println("seed " + seed + " (fourth argument overrides)");
    Map<String, Set<String>> truth = readTruth(Path.of(args[2]));
    int d = refs.vectors()[0].length;
    Map<String, BinaryCodes> codes = new LinkedHashMap<>();
    codes.put("sign of the centred descriptor (" + d + " bits; what 1-bit quantization keeps)",
        BinaryCodes.sign(refs.vectors()));
    for (int k : new int[] {d, 128, 64, 32}) {
      if (k <= d) {
        codes.put("sign of the top " + k + " principal components", BinaryCodes.pcaSign(refs.vectors(), k));
        long t0 = System.nanoTime();
        codes.put("ITQ, " + k + " bits", BinaryCodes.itq(refs.vectors(), k, 50, seed));
        System.out.printf(Locale.ROOT, "ITQ %d bits fitted in %.1f s%n", k, (System.nanoTime() - t0) / 1e9);
      }
    }
    System.out.println("| code | recall@1 | recall@10 | recall@100 |");
    System.out.println("|---|---|---|---|");
    double[] f = recall(refs, queries, truth, null);
    System.out.printf(Locale.ROOT, "| float descriptors, cosine (%d × 32 bits) | %.4f | %.4f | %.4f |%n", d, f[0], f[1],
        f[2]);
    for (var e : codes.entrySet()) {
      double[] r = recall(refs, queries, truth, e.getValue());
      System.out.printf(Locale.ROOT, "| %s | %.4f | %.4f | %.4f |%n", e.getKey(), r[0], r[1], r[2]);
    }
  }

  /** Recall at 1, 10 and 100 over the positive queries; {@code code} null = float cosine. */
  static double[] recall(Descriptors refs, Descriptors queries, Map<String, Set<String>> truth, BinaryCodes code) {
    int n = refs.ids().size();
    long[][] refCodes = new long[n][];
    if (code != null) {
      for (int i = 0; i < n; i++) {
        refCodes[i] = code.encode(refs.vectors()[i]);
      }
    }
    int positives = 0;
    int[] hits = new int[3];
    int[] ks = {1, 10, 100};
    for (int q = 0; q < queries.ids().size(); q++) {
      Set<String> relevant = truth.get(queries.ids().get(q));
      if (relevant == null) {
        continue;
      }
      positives++;
      double[] dist = new double[n];
      long[] qc = code == null ? null : code.encode(queries.vectors()[q]);
      for (int i = 0; i < n; i++) {
        if (code == null) {
          double s = 0;
          for (int c = 0; c < refs.vectors()[i].length; c++) {
            s += refs.vectors()[i][c] * queries.vectors()[q][c];
          }
          dist[i] = -s;
        } else {
          dist[i] = BinaryCodes.hamming(qc, refCodes[i]);
        }
      }
      // rank of the best relevant reference (ties: reference order)
      int best = Integer.MAX_VALUE;
      for (int i = 0; i < n; i++) {
        if (!relevant.contains(refs.ids().get(i))) {
          continue;
        }
        int rank = 0;
        for (int j = 0; j < n; j++) {
          if (dist[j] < dist[i] || (dist[j] == dist[i] && j < i)) {
            rank++;
          }
        }
        best = Math.min(best, rank);
      }
      for (int t = 0; t < ks.length; t++) {
        if (best < ks[t]) {
          hits[t]++;
        }
      }
    }
    return new double[] {hits[0] / (double) positives, hits[1] / (double) positives, hits[2] / (double) positives};
  }
}
