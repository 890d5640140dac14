package dev.imgmatch.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.MatchAlert;
import java.util.List;

/** What the end-to-end matching tests check and print of the alerts they received. */
final class Alerts {
  private Alerts() {}

  /** Each alert on stderr, prefixed by {@code label}: image, decision, score, its best match and that match's cosine. */
  static void print(String label, List<MatchAlert> alerts) {
    alerts.forEach(a -> System.err.println(label + ": " + a.getImageId() + " " + a.getDecision() + " " + a.getScore()
        + " ~ " + a.getMatches().getFirst().getImageId() + " cos " + a.getMatches().getFirst().getCosine()));
  }

  /** {@code imageId} has exactly one alert among {@code got}, and it names exactly {@code works}, in that order. */
  static void assertAlertedAgainst(List<MatchAlert> got, String imageId, String... works) {
    assertThat(got).filteredOn(a -> a.getImageId().equals(imageId)).as("alerts of " + imageId).singleElement()
        .satisfies(a -> assertThat(a.getMatches()).extracting(m -> m.getImageId().toString())
            .containsExactly(works));
  }
}
