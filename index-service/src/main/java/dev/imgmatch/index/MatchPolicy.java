package dev.imgmatch.index;

import dev.imgmatch.avro.Decision;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which collections a new image is matched against, and how the signals become one score and one decision.
 *
 * <h2>Score fusion</h2>
 * For one candidate, with {@code c} the best descriptor cosine over the probe's views (full view and extra views:
 * flip, centre crop, trimmed border...) and {@code d} the smallest PDQ Hamming distance over the probe's hashes
 * (the dihedral variants for queries), usable only when both PDQ qualities reach the minimum:
 * <pre>
 *   score = max( min(1, c + beta * clip(1 - d/128, 0, 1)),   descriptor, nudged by PDQ similarity
 *                pdqMap(d),                                   a close PDQ alone is decisive
 *                exact ? 1 : 0 )                              byte-identical
 *   pdqMap(d) = 1 - 0.2 * d / D  when d &le; D, else 0
 * </pre>
 * with beta = {@code match.fusion.pdq.weight} (0.1) and D = {@code match.pdq.max.distance} (31). Without usable
 * PDQ the PDQ terms are 0; without a vector of the probe's model version c is 0. The score is clamped to [0, 1].
 *
 * <p>Why (dev split, score.py, measured offline on per-pair signals): cosine alone gives µAP 0.938 and decision
 * recall 0.736 at precision &ge; 0.995 with no negative alert; adding half the PDQ similarity lifts µAP to 0.971
 * but lowers that decision recall to 0.680; this blend keeps µAP 0.970 / recall@1 0.974 and lifts decision recall
 * to 0.856, while the old "best signal on a 0.8/0.6 scale" had 0.927 / 0.967 / 0.626.
 *
 * <h2>Decision</h2>
 * MATCH when score &ge; {@code match.threshold}, REVIEW when score &ge; {@code match.review.threshold}, else
 * none. Both thresholds are to be calibrated on held-out data (the embedder's {@code train} output), never on
 * the queries one evaluates with.
 *
 * @param rules source collection -&gt; the collections its new images are matched against
 * @param sharedCollections collections visible to every tenant
 * @param fusionPdqWeight beta above
 * @param matchThreshold fused score at or above which the decision is MATCH
 * @param reviewThreshold fused score at or above which the decision is REVIEW (at most {@code matchThreshold})
 * @param exactFastPathCollections collections whose byte-identical copies ingest-stream already alerts on when
 *     the upload is in another collection (ingest-stream's {@code ingest.exact.alert.collections}); index-service
 *     leaves exactly those (upload, first sighting) pairs out of its alerts
 */
public record MatchPolicy(Map<String, Set<String>> rules, Set<String> sharedCollections, int pdqMaxDistance,
    int pdqMinQuality, double fusionPdqWeight, double matchThreshold, double reviewThreshold,
    Decision alertMinDecision, int knnK, int maxAlertMatches, Set<String> exactFastPathCollections) {
  /** PDQ hashes have 256 bits; d/128 = 1 is as far as two unrelated hashes are on average. */
  public static final int PDQ_SIMILARITY_SCALE = 128;
  public static final double DEFAULT_FUSION_PDQ_WEIGHT = 0.1;
  /**
   * Conservative default for the fallback descriptor head ({@code pca-whiten}, fitted without the corpus), whose
   * unrelated pictures can reach cosine 0.7: a PDQ match within the max distance (score >= 0.8) or a cosine of
   * about 0.8. With a head from {@code ./imgmatch train} use the threshold calibrated on its held-out data
   * ({@link #CALIBRATED_TRAINED_HEAD_THRESHOLD} for the recommended recipe).
   */
  public static final double DEFAULT_MATCH_THRESHOLD = 0.80;
  /** Alerts only when {@code match.alert.min.decision=REVIEW}. */
  public static final double DEFAULT_REVIEW_THRESHOLD = 0.70;
  /**
   * Calibrated on held-out data only for the recommended trained head ({@code ./imgmatch train --dims 384
   * --corpus-views 8}): best negative cosine over 576 held-out train views against the corpus 0.588, + 0.05
   * (docs/benchmarks/embedder-worker.md). Re-derive it from {@code train}'s output for another head.
   */
  public static final double CALIBRATED_TRAINED_HEAD_THRESHOLD = 0.64;

  public MatchPolicy {
    rules = Map.copyOf(rules);
    sharedCollections = Set.copyOf(sharedCollections);
    exactFastPathCollections = Set.copyOf(exactFastPathCollections);
    if (!(reviewThreshold <= matchThreshold)) {
      throw new IllegalArgumentException("review threshold " + reviewThreshold + " exceeds the match threshold "
          + matchThreshold);
    }
    if (!(fusionPdqWeight >= 0 && fusionPdqWeight <= 1)) {
      throw new IllegalArgumentException("fusion PDQ weight must be 0-1, got " + fusionPdqWeight);
    }
  }

  /**
   * Default fusion weight, no exact fast path (benchmarks, tools).
   *
   * @param matchThreshold MATCH threshold on the fused score
   * @param reviewThreshold REVIEW threshold on the fused score
   */
  public MatchPolicy(Map<String, Set<String>> rules, Set<String> sharedCollections, int pdqMaxDistance,
      int pdqMinQuality, double matchThreshold, double reviewThreshold, Decision alertMinDecision, int knnK,
      int maxAlertMatches) {
    this(rules, sharedCollections, pdqMaxDistance, pdqMinQuality, DEFAULT_FUSION_PDQ_WEIGHT, matchThreshold,
        reviewThreshold, alertMinDecision, knnK, maxAlertMatches, Set.of());
  }

  static MatchPolicy from(IndexServiceConfig c) {
    return new MatchPolicy(parseRules(c.getString(IndexServiceConfig.MATCH_RULES)),
        new LinkedHashSet<>(c.getList(IndexServiceConfig.SHARED_COLLECTIONS)),
        c.getInt(IndexServiceConfig.PDQ_MAX_DISTANCE), c.getInt(IndexServiceConfig.PDQ_MIN_QUALITY),
        c.getDouble(IndexServiceConfig.FUSION_PDQ_WEIGHT), c.getDouble(IndexServiceConfig.MATCH_THRESHOLD),
        c.getDouble(IndexServiceConfig.REVIEW_THRESHOLD),
        Decision.valueOf(c.getString(IndexServiceConfig.ALERT_MIN_DECISION)), c.getInt(IndexServiceConfig.MATCH_K),
        c.getInt(IndexServiceConfig.MAX_ALERT_MATCHES),
        new LinkedHashSet<>(c.getList(IndexServiceConfig.EXACT_FAST_PATH_COLLECTIONS)));
  }

  /** Parses {@code uploads:protected,banned;other:protected}; empty = match nothing. */
  public static Map<String, Set<String>> parseRules(String spec) {
    Map<String, Set<String>> m = new LinkedHashMap<>();
    for (String rule : spec.split(";")) {
      if (rule.isBlank()) {
        continue;
      }
      int colon = rule.indexOf(':');
      if (colon <= 0) {
        throw new IllegalArgumentException("rule '" + rule.strip() + "' is not 'source:target[,target...]'");
      }
      String source = rule.substring(0, colon).strip();
      Set<String> targets = new LinkedHashSet<>();
      for (String t : rule.substring(colon + 1).split(",")) {
        if (!t.isBlank()) {
          targets.add(t.strip());
        }
      }
      if (targets.isEmpty()) {
        throw new IllegalArgumentException("rule for '" + source + "' names no target collection");
      }
      if (m.put(source, targets) != null) {
        throw new IllegalArgumentException("collection '" + source + "' has two rules");
      }
    }
    return m;
  }

  /** The collections a new image of {@code collection} is matched against; empty = it is only indexed. */
  public Set<String> targetsOf(String collection) {
    return rules.getOrDefault(collection, Set.of());
  }

  /**
   * True when ingest-stream has already raised its exact alert for (upload in {@code uploadCollection}, first
   * sighting in {@code matchedCollection}): the first sighting's collection is on the fast path and differs from
   * the upload's.
   */
  public boolean exactAlertedByIngest(String uploadCollection, String matchedCollection) {
    return exactFastPathCollections.contains(matchedCollection) && !matchedCollection.equals(uploadCollection);
  }

  /**
   * The fused score of one candidate (class comment).
   *
   * @param exact equal SHA-256
   * @param pdqDistance smallest PDQ distance, or null when either hash is below the minimum quality (or absent)
   * @param cosine best cosine over the probe's views, or null when the candidate has no comparable vector
   */
  public double score(boolean exact, Integer pdqDistance, Float cosine) {
    double c = cosine == null ? 0 : cosine;
    double pdqSim = 0;
    double pdqMap = 0;
    if (pdqDistance != null) {
      pdqSim = clip(1.0 - pdqDistance / (double) PDQ_SIMILARITY_SCALE);
      pdqMap = pdqDistance <= pdqMaxDistance ? 1.0 - 0.2 * pdqDistance / Math.max(1, pdqMaxDistance) : 0;
    }
    double s = Math.min(1.0, c + fusionPdqWeight * pdqSim);
    s = Math.max(s, pdqMap);
    if (exact) {
      s = 1.0;
    }
    return clip(s);
  }

  private static double clip(double x) {
    return Math.max(0, Math.min(1, x));
  }

  /** MATCH, REVIEW or null (no decision) for a fused score. */
  public Decision decide(double score) {
    if (score >= matchThreshold - 1e-9) {
      return Decision.MATCH;
    }
    if (score >= reviewThreshold - 1e-9) {
      return Decision.REVIEW;
    }
    return null;
  }

  /** True when a decision is strong enough to raise an alert. */
  public boolean alerts(Decision d) {
    return d == Decision.MATCH || (d == Decision.REVIEW && alertMinDecision == Decision.REVIEW);
  }

  /** The PDQ hash is usable when its quality reaches the minimum. */
  public boolean pdqUsable(int quality) {
    return quality >= pdqMinQuality;
  }

  /** Collections every tenant can see, as a list (for Lucene term queries). */
  public List<String> sharedList() {
    return List.copyOf(sharedCollections);
  }
}
