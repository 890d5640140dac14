package dev.imgmatch.cli.eval;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Copy-detection metrics with exactly the definitions of the benchmark's {@code score.py}:
 * <ul>
 *   <li>µAP: micro average precision over every distinct (query, ref) row, its best score, pooled across queries
 *       and ranked by score (ties keep first-seen order), recall denominator = all ground-truth pairs (DISC21);
 *   <li>recall@1 and recall@10 over positive queries;
 *   <li>from the match column: decision precision (alerted pairs that are true), decision recall (true pairs
 *       alerted / all ground-truth pairs), and the share of negative queries with any alert.
 * </ul>
 * and one metric {@code score.py} does not have, printed beside them ({@link #SCORE_PY_EXTRAS}):
 * <ul>
 *   <li>NDCG@10 with binary relevance ({@link #ndcgAt10}): per query with at least one ground-truth ref,
 *       DCG = Σ rel_i / log2(i + 1) over its 10 best refs, divided by the DCG of a perfect ranking of its relevant
 *       refs, then averaged over those queries. Queries without any relevant ref (the negatives) are left out of the
 *       average — their NDCG is undefined (0 / 0); what they cost is in µAP and the negative alert share.
 * </ul>
 */
public final class Scoring {
  private Scoring() {}

  /** One prediction row. */
  public record Row(String query, String ref, double score, Boolean match) {}

  /** The split's truth: positive (query, ref) pairs and each query's kind (positive / negative) and transform. */
  public record Truth(Set<List<String>> pairs, Map<String, String> kinds, Map<String, String> transforms) {
    public Set<String> refsOf(String query) {
      Set<String> s = new HashSet<>();
      for (List<String> p : pairs) {
        if (p.get(0).equals(query)) {
          s.add(p.get(1));
        }
      }
      return s;
    }
  }

  /** The metrics {@link #score} prints that {@code score.py} does not (its own are identical to score.py's). */
  public static final Set<String> SCORE_PY_EXTRAS = Set.of("ndcg_at_10");

  /**
   * The metrics; decision fields are null when no row had a match value.
   *
   * @param ndcgAt10 NDCG@10 over the queries with at least one ground-truth ref ({@link #ndcgAt10}); 0 when none has
   */
  public record Result(double uAP, double recallAt1, double recallAt10, double ndcgAt10, int queries,
      int positiveQueries, int predictionRows, Double decisionPrecision, Double decisionRecall,
      Double negativeQueryFpRate) {

    /** The metrics by score.py's names, in its order, with {@link #SCORE_PY_EXTRAS} after recall@10. */
    public Map<String, String> asMap() {
      Map<String, String> m = new LinkedHashMap<>();
      m.put("uAP", fmt(uAP));
      m.put("recall_at_1", fmt(recallAt1));
      m.put("recall_at_10", fmt(recallAt10));
      m.put("ndcg_at_10", fmt(ndcgAt10));
      m.put("queries", String.valueOf(queries));
      m.put("positive_queries", String.valueOf(positiveQueries));
      m.put("prediction_rows", String.valueOf(predictionRows));
      if (decisionRecall != null) {
        m.put("decision_precision", decisionPrecision == null ? "None" : fmt(decisionPrecision));
        m.put("decision_recall", fmt(decisionRecall));
        m.put("negative_query_fp_rate", negativeQueryFpRate == null ? "None" : fmt(negativeQueryFpRate));
      }
      return m;
    }

    private static String fmt(double v) {
      return String.format(Locale.ROOT, "%.4f", v);
    }
  }

  /**
   * Reads a split: {@code ground_truth.csv} (query,ref) and, when present, {@code queries.csv}
   * (query,transform,kind). Without queries.csv, queries in the ground truth are positive and {@code allQueries}
   * not in it are negative.
   */
  public static Truth readTruth(Path groundTruth, Path queriesCsv, Set<String> allQueries) throws IOException {
    Set<List<String>> pairs = new HashSet<>();
    for (Map<String, String> r : Csv.read(groundTruth)) {
      pairs.add(List.of(r.get("query"), r.get("ref")));
    }
    Map<String, String> kinds = new LinkedHashMap<>();
    Map<String, String> transforms = new HashMap<>();
    if (queriesCsv != null && Files.exists(queriesCsv)) {
      for (Map<String, String> r : Csv.read(queriesCsv)) {
        kinds.put(r.get("query"), r.getOrDefault("kind", "positive"));
        transforms.put(r.get("query"), r.getOrDefault("transform", ""));
      }
    } else {
      Set<String> pos = new HashSet<>();
      pairs.forEach(p -> pos.add(p.get(0)));
      for (String q : allQueries) {
        kinds.put(q, pos.contains(q) ? "positive" : "negative");
      }
      for (String q : pos) {
        kinds.putIfAbsent(q, "positive");
      }
    }
    return new Truth(pairs, kinds, transforms);
  }

  public static Result score(List<Row> rows, Truth truth) {
    // best score per (query, ref), in first-seen order (Python dict order)
    LinkedHashMap<List<String>, Double> best = new LinkedHashMap<>();
    Map<List<String>, Boolean> decided = new HashMap<>();
    for (Row r : rows) {
      List<String> key = List.of(r.query(), r.ref());
      Double old = best.get(key);
      if (old == null || r.score() > old) {
        best.put(key, r.score()); // put on an existing key keeps its position, like Python
      }
      if (r.match() != null) {
        decided.merge(key, r.match(), Boolean::logicalOr);
      }
    }
    for (List<String> key : best.keySet()) {
      if (!truth.kinds().containsKey(key.get(0))) {
        throw new IllegalArgumentException("predictions name query '" + key.get(0) + "' that the split does not have");
      }
    }
    List<Map.Entry<List<String>, Double>> ranked = new ArrayList<>(best.entrySet());
    ranked.sort(Comparator.comparingDouble((Map.Entry<List<String>, Double> e) -> -e.getValue())); // stable
    int tp = 0;
    double ap = 0;
    for (int i = 0; i < ranked.size(); i++) {
      if (truth.pairs().contains(ranked.get(i).getKey())) {
        tp++;
        ap += tp / (double) (i + 1);
      }
    }
    double uap = truth.pairs().isEmpty() ? 0 : ap / truth.pairs().size();

    Map<String, List<Map.Entry<List<String>, Double>>> perQuery = new HashMap<>();
    for (var e : best.entrySet()) {
      perQuery.computeIfAbsent(e.getKey().get(0), k -> new ArrayList<>()).add(e);
    }
    List<String> positives = truth.kinds().entrySet().stream().filter(e -> e.getValue().equals("positive"))
        .map(Map.Entry::getKey).toList();
    Map<String, Set<String>> truthByQuery = new HashMap<>();
    truth.pairs().forEach(p -> truthByQuery.computeIfAbsent(p.get(0), k -> new HashSet<>()).add(p.get(1)));
    int hit1 = 0;
    int hit10 = 0;
    for (String q : positives) {
      List<Map.Entry<List<String>, Double>> cands = ranked(perQuery.getOrDefault(q, List.of()));
      Set<String> want = truthByQuery.getOrDefault(q, Set.of());
      for (int i = 0; i < Math.min(10, cands.size()); i++) {
        if (want.contains(cands.get(i).getKey().get(1))) {
          if (i == 0) {
            hit1++;
          }
          hit10++;
          break;
        }
      }
    }
    double r1 = positives.isEmpty() ? 0 : round4(hit1 / (double) positives.size());
    double r10 = positives.isEmpty() ? 0 : round4(hit10 / (double) positives.size());
    double ndcg = 0;
    for (var e : truthByQuery.entrySet()) {
      List<String> refs = ranked(perQuery.getOrDefault(e.getKey(), List.of())).stream().map(x -> x.getKey().get(1))
          .toList();
      ndcg += ndcgAt10(refs, e.getValue());
    }
    ndcg = truthByQuery.isEmpty() ? 0 : round4(ndcg / truthByQuery.size());

    Double precision = null;
    Double recall = null;
    Double negRate = null;
    if (!decided.isEmpty()) {
      List<List<String>> alerts = decided.entrySet().stream().filter(Map.Entry::getValue).map(Map.Entry::getKey).toList();
      long good = alerts.stream().filter(truth.pairs()::contains).count();
      List<String> negatives = truth.kinds().entrySet().stream().filter(e -> e.getValue().equals("negative"))
          .map(Map.Entry::getKey).toList();
      Set<String> negAlerted = new HashSet<>();
      for (List<String> a : alerts) {
        if ("negative".equals(truth.kinds().get(a.get(0)))) {
          negAlerted.add(a.get(0));
        }
      }
      precision = alerts.isEmpty() ? null : round4(good / (double) alerts.size());
      recall = truth.pairs().isEmpty() ? 0.0 : round4(good / (double) truth.pairs().size());
      negRate = negatives.isEmpty() ? null : round4(negAlerted.size() / (double) negatives.size());
    }
    return new Result(round4(uap), r1, r10, ndcg, truth.kinds().size(), positives.size(), best.size(), precision,
        recall, negRate);
  }

  /**
   * One query's refs best first, as score.py ranks them for recall@k: {@code sorted((score, ref), reverse=True)},
   * i.e. by score, ties by ref, both descending.
   */
  private static List<Map.Entry<List<String>, Double>> ranked(List<Map.Entry<List<String>, Double>> refs) {
    List<Map.Entry<List<String>, Double>> out = new ArrayList<>(refs);
    out.sort(Comparator.comparingDouble((Map.Entry<List<String>, Double> e) -> e.getValue())
        .thenComparing(e -> e.getKey().get(1)).reversed());
    return out;
  }

  /**
   * NDCG@10 of one query with binary relevance: DCG = Σ_{i=1..10} rel_i / log2(i + 1) over {@code ranked} (rel_i = 1
   * when the i-th ref is in {@code relevant}), divided by the ideal DCG, Σ_{i=1..min(10, |relevant|)} 1 / log2(i + 1).
   *
   * @param ranked the query's distinct refs, best first (only the first 10 count)
   * @param relevant its ground-truth refs; not empty
   * @throws IllegalArgumentException when {@code relevant} is empty (NDCG is undefined: 0 / 0)
   */
  public static double ndcgAt10(List<String> ranked, Set<String> relevant) {
    if (relevant.isEmpty()) {
      throw new IllegalArgumentException("NDCG needs at least one relevant ref");
    }
    double dcg = 0;
    for (int i = 0; i < Math.min(10, ranked.size()); i++) {
      if (relevant.contains(ranked.get(i))) {
        dcg += 1 / log2(i + 2);
      }
    }
    double ideal = 0;
    for (int i = 0; i < Math.min(10, relevant.size()); i++) {
      ideal += 1 / log2(i + 2);
    }
    return dcg / ideal;
  }

  private static double log2(int x) {
    return Math.log(x) / Math.log(2);
  }

  /** Python's round(x, 4) for the values we print (half-even on the binary value). */
  static double round4(double v) {
    return new java.math.BigDecimal(v).setScale(4, java.math.RoundingMode.HALF_EVEN).doubleValue();
  }

  /** Reads a PRED.csv (query,ref,score[,match]). */
  public static List<Row> readPredictions(Path csv) throws IOException {
    List<Row> rows = new ArrayList<>();
    for (Map<String, String> r : Csv.read(csv)) {
      String m = r.get("match");
      Boolean match = m == null || m.isBlank() ? null : Set.of("true", "1", "yes").contains(m.strip().toLowerCase(Locale.ROOT));
      rows.add(new Row(r.get("query"), r.get("ref"), Double.parseDouble(r.get("score")), match));
    }
    return rows;
  }

  /** Minimal CSV with a header (no quoted commas: ids and numbers only). */
  static final class Csv {
    private Csv() {}

    static List<Map<String, String>> read(Path p) throws IOException {
      List<Map<String, String>> out = new ArrayList<>();
      try (Reader r = Files.newBufferedReader(p)) {
        List<String> lines = new java.io.BufferedReader(r).lines().filter(l -> !l.isBlank()).toList();
        if (lines.isEmpty()) {
          return out;
        }
        String[] header = lines.getFirst().strip().split(",", -1);
        for (String line : lines.subList(1, lines.size())) {
          String[] f = line.strip().split(",", -1);
          Map<String, String> m = new HashMap<>();
          for (int i = 0; i < header.length && i < f.length; i++) {
            m.put(header[i].strip(), f[i].strip());
          }
          out.add(m);
        }
      }
      return out;
    }
  }
}
