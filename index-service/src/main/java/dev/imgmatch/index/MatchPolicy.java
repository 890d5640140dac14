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
 * Each signal is mapped onto one calibrated scale where {@value #MATCH_SCORE} is "at the signal's MATCH
 * threshold" and {@value #REVIEW_SCORE} "at its REVIEW threshold"; the combined score is the best signal's:
 * <ul>
 *   <li>exact (equal SHA-256): 1.0;
 *   <li>PDQ (both qualities &ge; min quality, distance d &le; max distance D): {@code 1 - 0.2 * d / D}, so 1.0 for
 *       identical hashes and 0.8 at D; beyond D PDQ contributes nothing;
 *   <li>cosine c &ge; match threshold M: {@code 0.8 + 0.2 (c - M) / (1 - M)}; between the review threshold R and M:
 *       {@code 0.6 + 0.2 (c - R) / (M - R)}; below R: {@code 0.6 * max(c, 0) / R}.
 * </ul>
 * Decision: MATCH when the combined score is &ge; 0.8 (any one signal passes its match threshold), REVIEW when
 * &ge; 0.6, otherwise none. Signals are not added: PDQ and the descriptor are correlated, and one strong signal
 * is already decisive; a disagreement (PDQ far, cosine high) is what REVIEW is for.
 *
 * @param rules source collection -&gt; the collections its new images are matched against
 * @param sharedCollections collections visible to every tenant
 * @param exactFastPathCollections collections whose byte-identical copies ingest-stream already alerts on when
 *     the upload is in another collection (ingest-stream's {@code ingest.exact.alert.collections}); index-service
 *     leaves exactly those (upload, first sighting) pairs out of its alerts
 */
public record MatchPolicy(Map<String, Set<String>> rules, Set<String> sharedCollections, int pdqMaxDistance,
    int pdqMinQuality, double cosineMatch, double cosineReview, Decision alertMinDecision, int knnK,
    int maxAlertMatches, Set<String> exactFastPathCollections) {
  public static final double MATCH_SCORE = 0.8;
  public static final double REVIEW_SCORE = 0.6;

  public MatchPolicy {
    rules = Map.copyOf(rules);
    sharedCollections = Set.copyOf(sharedCollections);
    exactFastPathCollections = Set.copyOf(exactFastPathCollections);
  }

  /** Without an exact fast path (benchmarks, tools). */
  public MatchPolicy(Map<String, Set<String>> rules, Set<String> sharedCollections, int pdqMaxDistance,
      int pdqMinQuality, double cosineMatch, double cosineReview, Decision alertMinDecision, int knnK,
      int maxAlertMatches) {
    this(rules, sharedCollections, pdqMaxDistance, pdqMinQuality, cosineMatch, cosineReview, alertMinDecision, knnK,
        maxAlertMatches, Set.of());
  }

  /**
   * True when ingest-stream has already raised its exact alert for (upload in {@code uploadCollection}, first
   * sighting in {@code matchedCollection}): the first sighting's collection is on the fast path and differs from
   * the upload's.
   */
  public boolean exactAlertedByIngest(String uploadCollection, String matchedCollection) {
    return exactFastPathCollections.contains(matchedCollection) && !matchedCollection.equals(uploadCollection);
  }

  static MatchPolicy from(IndexServiceConfig c) {
    return new MatchPolicy(parseRules(c.getString(IndexServiceConfig.MATCH_RULES)),
        new LinkedHashSet<>(c.getList(IndexServiceConfig.SHARED_COLLECTIONS)),
        c.getInt(IndexServiceConfig.PDQ_MAX_DISTANCE), c.getInt(IndexServiceConfig.PDQ_MIN_QUALITY),
        c.getDouble(IndexServiceConfig.COSINE_MATCH), c.getDouble(IndexServiceConfig.COSINE_REVIEW),
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

  /** Per-signal scores of one candidate, already on the calibrated scale. */
  public double score(boolean exact, Integer pdqDistance, Float cosine) {
    double s = 0;
    if (exact) {
      s = 1.0;
    }
    if (pdqDistance != null && pdqDistance <= pdqMaxDistance) {
      s = Math.max(s, 1.0 - 0.2 * pdqDistance / Math.max(1, pdqMaxDistance));
    }
    if (cosine != null) {
      s = Math.max(s, cosineScore(cosine));
    }
    return Math.min(1.0, s);
  }

  double cosineScore(double c) {
    if (c >= cosineMatch) {
      return cosineMatch >= 1.0 ? 1.0 : MATCH_SCORE + 0.2 * (c - cosineMatch) / (1.0 - cosineMatch);
    }
    if (c >= cosineReview) {
      return cosineMatch == cosineReview ? REVIEW_SCORE
          : REVIEW_SCORE + 0.2 * (c - cosineReview) / (cosineMatch - cosineReview);
    }
    return cosineReview <= 0 ? 0 : REVIEW_SCORE * Math.max(c, 0) / cosineReview;
  }

  /** MATCH, REVIEW or null (no decision) for a combined score. */
  public Decision decide(double score) {
    if (score >= MATCH_SCORE - 1e-9) {
      return Decision.MATCH;
    }
    if (score >= REVIEW_SCORE - 1e-9) {
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
