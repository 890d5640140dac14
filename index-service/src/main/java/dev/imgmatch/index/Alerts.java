package dev.imgmatch.index;

import dev.imgmatch.avro.Decision;
import dev.imgmatch.avro.ImageEmbedding;
import dev.imgmatch.avro.MatchAlert;
import java.util.List;
import java.util.Optional;

/** Turns an upload's hits into at most one alert (pure logic). */
public final class Alerts {
  public static final String DETECTOR = "index";

  private Alerts() {}

  /**
   * The alert for an upload, or empty when no hit reaches the policy's alert decision.
   *
   * <p>The pair (upload, {@code exactDuplicateOf}) is left out only when ingest-stream has already raised its own
   * "exact" alert for it: {@code match.rules}, which both stages read, match the upload's collection against the
   * first sighting's ({@link MatchPolicy#exactAlertedByIngest}). Otherwise index-service reports the pair itself
   * (with rules both stages share, it never finds such a pair: it only searches the collections the rules match the
   * upload against). Other matches of the same upload are always reported.
   *
   * @param hits sorted best first
   */
  public static Optional<MatchAlert> alertFor(ImageEmbedding upload, List<Hit> hits, MatchPolicy policy, long nowMs) {
    return alertFor(upload, hits, policy, h -> policy.decide(h.score()), nowMs);
  }

  /**
   * The same with each hit's decision given by {@code decide} (null: none), e.g. {@link Feedback#decide}: the
   * collections' own thresholds, disabled collections and dismissed pairs.
   */
  public static Optional<MatchAlert> alertFor(ImageEmbedding upload, List<Hit> hits, MatchPolicy policy,
      java.util.function.Function<Hit, Decision> decide, long nowMs) {
    String dup = upload.getExactDuplicateOf();
    List<Hit> kept = hits.stream()
        .filter(h -> policy.alerts(decide.apply(h)))
        .filter(h -> !(dup != null && h.imageId().equals(dup) && h.tenant().equals(upload.getTenant())
            && policy.exactAlertedByIngest(upload.getCollection(), h.collection())))
        .limit(policy.maxAlertMatches())
        .toList();
    if (kept.isEmpty()) {
      return Optional.empty();
    }
    Hit best = kept.get(0);
    Decision decision = decide.apply(best);
    return Optional.of(MatchAlert.newBuilder()
        .setImageId(upload.getId())
        .setTenant(upload.getTenant())
        .setCollection(upload.getCollection())
        .setSource(upload.getSource())
        .setAttributes(upload.getAttributes())
        .setDecision(decision)
        .setScore((float) best.score())
        .setDetector(DETECTOR)
        .setMatches(kept.stream().map(Hit::toAvro).toList())
        .setModelVersion(upload.getModelVersion())
        .setSubmittedAtMs(upload.getSubmittedAtMs())
        .setAlertedAtMs(nowMs)
        .setSha256(upload.getSha256())
        .setMd5(upload.getMd5())
        .setPdq(upload.getPdq())
        .build());
  }
}
