package dev.imgmatch.console;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.Decision;
import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.avro.MatchedImage;
import org.junit.jupiter.api.Test;

class EvidenceTest {
  @Test
  void describesEverySignalTheMatchCarriesInWords() {
    MatchedImage m = MatchedImage.newBuilder(Alerts.match("orig", "protected", 0.953f, 12, 0.914f)).setExact(true)
        .build();
    assertThat(Evidence.of(m)).containsExactly(
        "identical file (SHA-256)",
        "perceptual hash 12 bits apart of 256 (PDQ; 0 = looks the same, about 128 = unrelated)",
        "descriptor similarity 0.91 (cosine of the picture descriptors; 1 = same picture)",
        "combined score 0.953 (0-1, what the ranking uses)");
  }

  @Test
  void saysNothingOfASignalThatIsAbsent() {
    MatchedImage m = Alerts.match("orig", "protected", 0.6f, null, 0.7f);
    assertThat(Evidence.of(m)).noneMatch(l -> l.contains("PDQ") || l.contains("identical"));
    assertThat(Evidence.of(Alerts.match("o", "p", 0.99f, 0, null))).contains(
        "perceptual hash identical (PDQ, 0 of 256 bits differ)");
  }

  @Test
  void aLocalPlacementGivesItsMatchesAndNamesTheNearDuplicatesPlacedOnItsSpot() {
    MatchedImage m = MatchedImage.newBuilder(Alerts.match("orig", "protected", 0.5f, null, 0.2f)).setLocalInliers(40)
        .setNearDuplicates(java.util.List.of("orig-v2", "orig-v3")).build();
    assertThat(Evidence.of(m)).contains(
        "found inside the picture: 40 keypoint matches fit one placement (local verification; 12 or more count as"
            + " evidence)",
        "placed on the same spot, with fewer matches: orig-v2, orig-v3 (near-duplicates of this image, not reported"
            + " as matches of their own)");
    assertThat(Evidence.of(Alerts.match("o", "p", 0.9f, 3, 0.9f))).noneMatch(l -> l.contains("keypoint"));
  }

  @Test
  void namesTheBankOfAHashListEntry() {
    MatchedImage m = MatchedImage.newBuilder(Alerts.match("entry-1", "ncmec", 1f, 3, null)).setBank("ncmec")
        .setExact(true).build();
    assertThat(Evidence.of(m)).first().asString().contains("hash-list bank 'ncmec'");
    assertThat(Evidence.of(m)).contains("identical file (same SHA-256 or MD5 as the listed entry)");
  }

  @Test
  void theAlertSaysItsDecisionAndHowItWasFound() {
    MatchAlert a = MatchAlert.newBuilder(Alerts.alert("copy", 1000)).setDecision(Decision.REVIEW).setDetector("exact")
        .setRetroactive(true).build();
    assertThat(Evidence.of(a)).containsExactly("REVIEW: similar enough that a person should look",
        "found by the byte-identical fast path (ingest-stream)",
        "retroactive: the matched image was added after this upload");
  }
}
