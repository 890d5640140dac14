package dev.imgmatch.console;

import dev.imgmatch.avro.Decision;
import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.avro.MatchedImage;
import java.util.List;

/** Alerts for tests. */
final class Alerts {
  private Alerts() {}

  static MatchedImage match(String id, String collection, float score, Integer pdq, Float cosine) {
    return MatchedImage.newBuilder().setImageId(id).setTenant("t").setCollection(collection).setScore(score)
        .setExact(false).setPdqDistance(pdq).setCosine(cosine).build();
  }

  static MatchAlert alert(String id, String tenant, String collection, Decision d, long alertedAtMs,
      MatchedImage... matches) {
    return MatchAlert.newBuilder().setImageId(id).setTenant(tenant).setCollection(collection).setDecision(d)
        .setScore(matches.length == 0 ? 0.5f : matches[0].getScore()).setDetector("index")
        .setMatches(List.of(matches)).setSubmittedAtMs(alertedAtMs - 700).setAlertedAtMs(alertedAtMs).build();
  }

  static MatchAlert alert(String id, long alertedAtMs) {
    return alert(id, "t", "uploads", Decision.MATCH, alertedAtMs, match("orig-" + id, "protected", 0.9f, 12, 0.93f));
  }
}
