package dev.imgmatch.index;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.imgmatch.avro.Decision;
import dev.imgmatch.avro.ImageEmbedding;
import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.common.GrayThumb;
import dev.imgmatch.common.MatchRules;
import dev.imgmatch.testkit.RuleCases;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

/** Pure logic: rules, score fusion, decisions, alerts, settings cross-checks. */
class PolicyTest {
  static final MatchPolicy P = new MatchPolicy(MatchRules.parse("uploads:protected,banned;scan:scan"),
      Set.of(), 31, 50, 0.1, 0.75, 0.25, 0.9, 0.6, 0.5, Decision.REVIEW, 10, 10);

  @Test
  void rulesComeFromTheSharedSettingAndNameTheirMistakes() {
    assertThat(P.targetsOf("uploads")).containsExactly("protected", "banned");
    assertThat(P.targetsOf("protected")).isEmpty();
    assertThat(new IndexServiceConfig(Map.of()).policy().rules()).isEqualTo(MatchRules.parse(MatchRules.DEFAULT));
    assertThat(new IndexServiceConfig(Map.of(IndexServiceConfig.MATCH_RULES, " uploads:protected, banned ; other:uploads"))
        .policy().rules().asMap()).isEqualTo(Map.of("uploads", Set.of("protected", "banned"), "other", Set.of("uploads")));
    for (String bad : List.of("uploads", "uploads:", "a:b;a:c")) {
      assertThatThrownBy(() -> new IndexServiceConfig(Map.of(IndexServiceConfig.MATCH_RULES, bad)))
          .isInstanceOf(ConfigException.class).hasMessageContaining(IndexServiceConfig.MATCH_RULES)
          .hasMessageContaining(org.assertj.core.api.Assertions.catchThrowable(() -> MatchRules.parse(bad)).getMessage());
    }
  }

  @Test
  void theFusedScoreIsTheCosinePlusAPdqNudgeOrAClosePdqOrExact() {
    org.assertj.core.data.Offset<Double> e = org.assertj.core.data.Offset.offset(1e-6);
    // exact wins outright
    assertThat(P.score(true, null, null)).isEqualTo(1.0);
    assertThat(P.score(true, 100, 0.1f)).isEqualTo(1.0);
    // PDQ alone: pdq_map = 1 - 0.2 d / 31 within D (plus beta * (1 - d/128) with no cosine, smaller here)
    assertThat(P.score(false, 0, null)).isCloseTo(1.0, e);
    assertThat(P.score(false, 31, null)).isCloseTo(0.8, e);
    assertThat(P.score(false, 32, null)).as("beyond D only the nudge: 0.1 * (1 - 32/128)").isCloseTo(0.075, e);
    assertThat(P.score(false, 200, null)).isZero();
    // cosine plus beta * clip(1 - d/128, 0, 1)
    assertThat(P.score(false, null, 0.5f)).isCloseTo(0.5, e);
    assertThat(P.score(false, 64, 0.5f)).isCloseTo(0.55, e);
    assertThat(P.score(false, 128, 0.5f)).isCloseTo(0.5, e);
    assertThat(P.score(false, 160, 0.5f)).as("clipped at 0").isCloseTo(0.5, e);
    assertThat(P.score(false, 0, 0.97f)).as("capped at 1").isCloseTo(1.0, e);
    // a close PDQ beats a weak cosine: max(0.3 + 0.1 * (1 - 10/128), 1 - 0.2 * 10/31)
    assertThat(P.score(false, 10, 0.3f)).isCloseTo(1 - 0.2 * 10 / 31.0, e);
    assertThat(P.score(false, null, -0.5f)).isZero();
    // the weight is a setting
    MatchPolicy beta0 = new MatchPolicy(P.rules(), Set.of(), 31, 50, 0.0, 0.75, 0.25, 0.9, 0.6, 0.5, Decision.MATCH,
        10, 10);
    assertThat(beta0.score(false, 64, 0.5f)).isCloseTo(0.5, e);
    // decisions on the fused score: MATCH >= 0.6, REVIEW >= 0.5
    assertThat(P.decide(0.6)).isEqualTo(Decision.MATCH);
    assertThat(P.decide(0.5999)).isEqualTo(Decision.REVIEW);
    assertThat(P.decide(0.5)).isEqualTo(Decision.REVIEW);
    assertThat(P.decide(0.4999)).isNull();
    assertThat(P.decide(P.score(false, 20, 0.1f))).isEqualTo(Decision.MATCH);
    assertThat(P.decide(P.score(false, 60, 0.5f))).isEqualTo(Decision.REVIEW);
    assertThat(P.decide(P.score(false, 100, 0.3f))).isNull();
    assertThat(P.alerts(Decision.REVIEW)).isTrue();
    assertThat(beta0.alerts(Decision.REVIEW)).isFalse();
    assertThat(beta0.alerts(Decision.MATCH)).isTrue();
    assertThatThrownBy(() -> new MatchPolicy(P.rules(), Set.of(), 31, 50, 0.1, 0.75, 0.25, 0.9, 0.5, 0.6, Decision.MATCH, 10, 10))
        .hasMessageContaining("review threshold");
  }

  @Test
  void theAlertSkipsThePairIngestAlreadyReportedAsExact() {
    ImageEmbedding up = ItSupport.embedding("u", "t", "uploads", new float[] {1, 0}, new byte[32], new byte[32], 5);
    up.setExactDuplicateOf("orig");
    Hit exact = hit("orig", true, 0, 1f);
    Hit near = hit("other", false, 10, 0.95f);
    MatchAlert a = Alerts.alertFor(up, List.of(exact, near), P, 9).orElseThrow();
    assertThat(a.getMatches()).extracting(m -> m.getImageId()).containsExactly("other");
    assertThat(a.getDetector()).isEqualTo("index");
    assertThat(a.getDecision()).isEqualTo(Decision.MATCH);
    assertThat(Alerts.alertFor(up, List.of(exact), P, 9)).isEmpty();
    up.setExactDuplicateOf(null);
    assertThat(Alerts.alertFor(up, List.of(exact), P, 9)).isPresent();
    assertThat(Alerts.alertFor(up, List.of(hit("x", false, 100, 0.1f)), P, 9)).isEmpty();
  }

  @Test
  void theAlertCarriesTheUploadsDigestsAndPdqForReportsToHashLists() {
    byte[] sha = new byte[32];
    byte[] pdq = new byte[32];
    byte[] md5 = new byte[16];
    for (int i = 0; i < 16; i++) {
      sha[i] = (byte) i;
      pdq[i] = (byte) (3 * i);
      md5[i] = (byte) (7 * i);
    }
    ImageEmbedding up = ItSupport.embedding("u", "t", "uploads", new float[] {1, 0}, pdq, sha, 5);
    up.setMd5(new dev.imgmatch.avro.Md5(md5));
    MatchAlert a = Alerts.alertFor(up, List.of(hit("orig", false, 10, 0.95f)), P, 9).orElseThrow();
    assertThat(a.getSha256().bytes()).isEqualTo(sha);
    assertThat(a.getMd5().bytes()).isEqualTo(md5);
    assertThat(a.getPdq().getHash().bytes()).isEqualTo(pdq);
    assertThat(a.getPdq().getQuality()).isEqualTo(up.getPdq().getQuality());
    // an embedding from a build before ImageEmbedding v5 has no MD5: the alert says so with null, never zeros
    up.setMd5(null);
    assertThat(Alerts.alertFor(up, List.of(hit("orig", false, 10, 0.95f)), P, 9).orElseThrow().getMd5()).isNull();
  }

  @Test
  void identicalUploadsInOneCollectionAreAlertedByTheStageTheRulesSay() {
    // uploads has no rule against uploads: ingest-stream did not alert the pair, index-service does (were it found)
    ImageEmbedding up = ItSupport.embedding("b", "t", "uploads", new float[] {1, 0}, new byte[32], new byte[32], 5);
    up.setExactDuplicateOf("a");
    MatchAlert a = Alerts.alertFor(up, List.of(hit("a", "uploads", true, 0, 1f)), P, 9).orElseThrow();
    assertThat(a.getMatches()).extracting(m -> m.getImageId()).containsExactly("a");
    assertThat(a.getMatches().get(0).getExact()).isTrue();
    assertThat(a.getDecision()).isEqualTo(Decision.MATCH);
    // scan:scan matches scan against itself: ingest-stream alerted the exact pair, index-service leaves it out
    ImageEmbedding scan = ItSupport.embedding("b", "t", "scan", new float[] {1, 0}, new byte[32], new byte[32], 5);
    scan.setExactDuplicateOf("a");
    assertThat(Alerts.alertFor(scan, List.of(hit("a", "scan", true, 0, 1f)), P, 9)).isEmpty();
    // a protected image re-uploaded into protected: no rule for protected, ingest did not alert, so index-service
    // would (it never searches for it: protected is only indexed)
    ImageEmbedding again = ItSupport.embedding("p2", "t", "protected", new float[] {1, 0}, new byte[32], new byte[32], 5);
    again.setExactDuplicateOf("p1");
    assertThat(Alerts.alertFor(again, List.of(hit("p1", "protected", true, 0, 1f)), P, 9)).isPresent();
    // a banned image's copy in protected: ingest no longer alerts it either (no rule), so index-service does not
    // leave it out
    again.setExactDuplicateOf("b1");
    assertThat(Alerts.alertFor(again, List.of(hit("b1", "banned", true, 0, 1f)), P, 9)).isPresent();
    // no rules: every exact pair is index-service's to report
    MatchPolicy none = new MatchPolicy(MatchRules.NONE, Set.of(), 31, 50, 0.1, 0.75, 0.25, 0.9, 0.6, 0.5,
        Decision.REVIEW, 10, 10);
    ImageEmbedding u = ItSupport.embedding("u", "t", "uploads", new float[] {1, 0}, new byte[32], new byte[32], 5);
    u.setExactDuplicateOf("orig");
    assertThat(Alerts.alertFor(u, List.of(hit("orig", true, 0, 1f)), none, 9)).isPresent();
  }

  /**
   * The table ingest-stream's IngestTopologyTest runs too: index-service leaves out exactly the exact pairs
   * ingest-stream alerts, and searches the first sighting's collection for the upload exactly then — so an exact
   * pair the rules match is reported once, by ingest-stream, and one they do not match by neither.
   */
  @Test
  void indexServiceLeavesOutExactlyTheExactPairsIngestStreamAlerts() {
    for (RuleCases.Case c : RuleCases.ALL) {
      MatchPolicy policy = new IndexServiceConfig(Map.of(IndexServiceConfig.MATCH_RULES, c.rules())).policy();
      ImageEmbedding copy = ItSupport.embedding("copy", "t", c.upload(), new float[] {1, 0}, new byte[32], new byte[32],
          5);
      copy.setExactDuplicateOf("first");
      Hit first = hit("first", c.firstSighting(), true, 0, 1f);
      assertThat(Alerts.alertFor(copy, List.of(first), policy, 9).isEmpty()).as(c.toString()).isEqualTo(c.exactAlert());
      assertThat(policy.exactAlertedByIngest(c.upload(), c.firstSighting())).as(c.toString()).isEqualTo(c.exactAlert());
      assertThat(policy.targetsOf(c.upload()).contains(c.firstSighting())).as(c.toString()).isEqualTo(c.exactAlert());
      // another exact copy in a matched collection, not the first sighting: always index-service's to report
      Hit other = hit("other", c.firstSighting(), true, 0, 1f);
      assertThat(Alerts.alertFor(copy, List.of(first, other), policy, 9).orElseThrow().getMatches())
          .extracting(m -> m.getImageId().toString())
          .isEqualTo(c.exactAlert() ? List.of("other") : List.of("first", "other"));
    }
  }

  @Test
  void theDecisionScoreIsTheMarginOverTheBestCompetingWork() {
    org.assertj.core.data.Offset<Double> e = org.assertj.core.data.Offset.offset(1e-6);
    float[] a = unit(1, 0, 0);
    float[] b = unit(0, 1, 0);
    float[] c = unit(0, 0, 1);
    // one work stands out: 0.9 - 0.75 * 0.5; the runner-up is judged against the best: 0.5 - 0.75 * 0.9 -> 0
    List<Hit> ranked = P.rank(List.of(work("second", 0.5, b, 2), work("best", 0.9, a, 1), work("third", 0.3, c, 3)));
    assertThat(ranked).extracting(Hit::imageId).containsExactly("best", "second", "third");
    assertThat(ranked.get(0).score()).isCloseTo(0.9 - 0.75 * 0.5, e);
    assertThat(ranked.get(0).similarity()).isCloseTo(0.9, e);
    assertThat(ranked.get(1).score()).isZero();
    // two works about as similar: neither stands out (the ambiguity a decision must not resolve by a coin toss)
    List<Hit> tie = P.rank(List.of(work("x", 0.8, a, 1), work("y", 0.78, b, 2)));
    assertThat(tie.get(0).score()).isCloseTo(0.8 - 0.75 * 0.78, e);
    assertThat(P.decide(tie.get(0).score())).isNull();
    // two copies of one work in the index do not compete: by descriptor, by PDQ, by bytes
    float[] nearA = unit(1, 0.2f, 0);
    List<Hit> dup = P.rank(List.of(work("v1", 0.9, a, 1), work("v2", 0.88, nearA, 2), work("other", 0.4, b, 3)));
    assertThat(dup).extracting(Hit::imageId).containsExactly("v1", "v2", "other");
    assertThat(dup.get(0).score()).isCloseTo(0.9 - 0.75 * 0.4, e);
    assertThat(dup.get(1).score()).isCloseTo(0.88 - 0.75 * 0.4, e);
    assertThat(P.decide(dup.get(1).score())).as("a copy of either version alerts").isNotNull();
    byte[] h = new byte[32];
    byte[] hNear = h.clone();
    hNear[0] = 0b111; // 3 bits away
    byte[] sha = new byte[32];
    Hit p1 = withHashes(work("p1", 0.9, a, 1), null, h);
    Hit p2 = withHashes(work("p2", 0.85, b, 2), null, hNear);
    Hit s1 = withHashes(work("s1", 0.9, a, 1), sha, null);
    Hit s2 = withHashes(work("s2", 0.85, c, 2), sha.clone(), null);
    assertThat(P.sameWork(p1, p2)).isTrue();
    assertThat(P.sameWork(s1, s2)).isTrue();
    assertThat(P.sameWork(work("u", 0.5, a, 1), work("w", 0.5, b, 1))).isFalse();
    // alone in the index: judged against the floor (0.25), not against nothing
    assertThat(P.rank(List.of(work("only", 0.6, a, 1))).get(0).score()).isCloseTo(0.6 - 0.75 * 0.25, e);
    // weight 0: the similarity decides
    assertThat(beta(0).rank(List.of(work("x", 0.8, a, 1), work("y", 0.78, b, 2))).get(0).score()).isCloseTo(0.8, e);
    assertThatThrownBy(() -> beta(1.5)).hasMessageContaining("margin");
  }

  @Test
  void theProbesBackgroundCompetesLikeAnotherWork() {
    var e = org.assertj.core.api.Assertions.within(1e-6); // the background cosine is a float
    float[] a = unit(1, 0, 0);
    float[] b = unit(0, 1, 0);
    Hit only = work("only", 0.9, a, 1);
    // a dialog about as similar to an unrelated dialog of the background set (0.8) as to the candidate: it must stand
    // out from that, as from a second indexed work
    assertThat(P.competitorFloor(0.8f)).isCloseTo(0.8, e);
    assertThat(P.rank(List.of(only), null, 0.8f).get(0).score()).isCloseTo(0.9 - 0.75 * 0.8, e);
    // under the floor (most photos), or none at all: the floor, as before
    assertThat(P.competitorFloor(0.1f)).isCloseTo(0.25, e);
    assertThat(P.competitorFloor(null)).isCloseTo(0.25, e);
    assertThat(P.competitorFloor(Float.NaN)).isCloseTo(0.25, e);
    assertThat(P.rank(List.of(only), null, null).get(0).score()).isCloseTo(0.9 - 0.75 * 0.25, e);
    assertThat(P.rank(List.of(only), null).get(0).score()).isEqualTo(P.rank(List.of(only), null, null).get(0).score());
    // a closer competing work still counts when it is higher than the background
    List<Hit> two = P.rank(List.of(only, work("other", 0.85, b, 2)), null, 0.5f);
    assertThat(two.get(0).score()).isCloseTo(0.9 - 0.75 * 0.85, e);
    // a hash match stands on its own whatever the background
    Hit byPdq = new Hit(IndexedImage.uid("t", "pdq"), "pdq", "t", "protected", null, Map.of(), 1, false, 4, null,
        0.5, 0.5, 0, null, null, a);
    assertThat(P.rank(List.of(byPdq), null, 0.99f).get(0).score()).isCloseTo(P.hashScore(false, 4), e);
    // weight 0 turns it off; the weight scales it
    MatchPolicy off = withBackgroundWeight(0);
    assertThat(off.competitorFloor(0.8f)).isCloseTo(0.25, e);
    assertThat(withBackgroundWeight(0.5).competitorFloor(0.8f)).isCloseTo(0.4, e);
    assertThatThrownBy(() -> withBackgroundWeight(1.5)).hasMessageContaining("background weight");
    assertThat(new IndexServiceConfig(Map.of()).policy().backgroundWeight())
        .isEqualTo(MatchPolicy.DEFAULT_BACKGROUND_WEIGHT);
    assertThat(new IndexServiceConfig(Map.of(IndexServiceConfig.BACKGROUND_WEIGHT, "0")).policy()
        .competitorFloor(0.9f)).isEqualTo(MatchPolicy.DEFAULT_MARGIN_FLOOR);
  }

  private static MatchPolicy withBackgroundWeight(double w) {
    return new MatchPolicy(P.rules(), P.sharedCollections(), P.pdqMaxDistance(), P.pdqMinQuality(),
        P.fusionPdqWeight(), P.marginWeight(), P.marginFloor(), P.duplicateCosine(), P.matchThreshold(),
        P.reviewThreshold(), P.alertMinDecision(), P.knnK(), P.maxAlertMatches(), P.verification(), P.local(), w);
  }

  @Test
  void aHashMatchIsNotMadeAmbiguousByALookAlikeWork() {
    org.assertj.core.data.Offset<Double> e = org.assertj.core.data.Offset.offset(1e-9);
    float[] a = unit(1, 0, 0);
    float[] b = unit(0.83f, (float) Math.sqrt(1 - 0.83 * 0.83), 0); // another work, cosine 0.83 to a
    Hit sibling = work("sibling", 0.83, b, 2);
    // a near-exact copy of a: PDQ 8 bits away, cosine 0.99
    Hit byPdq = new Hit(IndexedImage.uid("t", "a"), "a", "t", "protected", null, Map.of(), 1, false, 8, 0.99f,
        P.score(false, 8, 0.99f), P.score(false, 8, 0.99f), 0, null, null, a);
    List<Hit> ranked = P.rank(List.of(sibling, byPdq));
    assertThat(ranked.get(0).imageId()).isEqualTo("a");
    assertThat(P.hashScore(false, 8)).isCloseTo(1 - 0.2 * 8 / 31, e);
    assertThat(ranked.get(0).score()).as("the hash match keeps what its hash says").isCloseTo(P.hashScore(false, 8), e);
    assertThat(P.decide(ranked.get(0).score())).isEqualTo(Decision.MATCH);
    assertThat(ranked.get(1).score()).as("the look-alike still faces the margin")
        .isCloseTo(0.83 - 0.75 * ranked.get(0).similarity(), e);
    assertThat(P.decide(ranked.get(1).score())).isNull();
    // equal bytes: 1
    Hit bytes = new Hit(IndexedImage.uid("t", "a"), "a", "t", "protected", null, Map.of(), 1, true, null, 0.99f, 1.0,
        1.0, 0, null, null, a);
    assertThat(P.rank(List.of(sibling, bytes)).get(0).score()).isEqualTo(1.0);
    // the descriptor alone (PDQ far or unusable): the margin decides, and this pair is ambiguous
    Hit byDescriptor = work("a", 0.99, a, 1);
    assertThat(P.rank(List.of(sibling, byDescriptor)).get(0).score()).isCloseTo(0.99 - 0.75 * 0.83, e);
    Hit farPdq = new Hit(IndexedImage.uid("t", "a"), "a", "t", "protected", null, Map.of(), 1, false, 40, 0.99f,
        P.score(false, 40, 0.99f), P.score(false, 40, 0.99f), 0, null, null, a);
    assertThat(P.hashScore(false, 40)).isZero();
    assertThat(P.rank(List.of(sibling, farPdq)).get(0).score())
        .isCloseTo(P.score(false, 40, 0.99f) - 0.75 * 0.83, e);
  }

  @Test
  void verificationRaisesACandidateThatLinesUpAndLowersOneThatDoesNot() {
    org.assertj.core.data.Offset<Double> e = org.assertj.core.data.Offset.offset(1e-9);
    MatchPolicy v = new MatchPolicy(P.rules(), Set.of(), 31, 50, 0.1, 0.75, 0.25, 0.9, 0.6, 0.5, Decision.MATCH, 10,
        10, MatchPolicy.Verification.DEFAULT);
    float[] pic = VerifierTest.picture(11);
    GrayThumb probe = VerifierTest.thumb(pic, 20, 10, 200, 160); // a crop of the copied picture
    Hit copy = withThumb(work("copy", 0.70, unit(1, 0, 0), 1), VerifierTest.thumb(pic));
    Hit lookAlike = withThumb(work("look-alike", 0.72, unit(0, 1, 0), 2), VerifierTest.thumb(VerifierTest.picture(12)));
    List<Hit> plain = v.rank(List.of(copy, lookAlike));
    assertThat(plain.get(0).imageId()).as("by the descriptor alone").isEqualTo("look-alike");
    List<Hit> verified = v.rank(List.of(copy, lookAlike), probe);
    assertThat(verified.get(0).imageId()).isEqualTo("copy");
    double before = plain.get(1).score();
    double w = MatchPolicy.Verification.DEFAULT.weight();
    double e0 = MatchPolicy.Verification.DEFAULT.neutral();
    double vCopy = Verifier.align(probe, copy.thumbnail()).evidence();
    assertThat(verified.get(0).score()).isCloseTo(before + w * (vCopy - e0), e).isGreaterThan(before + 0.15);
    double vOther = Verifier.align(probe, lookAlike.thumbnail()).evidence();
    assertThat(verified.get(1).score()).isCloseTo(Math.max(0, plain.get(0).score() + w * (vOther - e0)), e);
    assertThat(vOther).isLessThan(vCopy - 0.2);
    // no probe thumbnail, verification off, or an exact copy: the scores stay
    assertThat(v.rank(List.of(copy, lookAlike), null)).extracting(Hit::score)
        .containsExactlyElementsOf(plain.stream().map(Hit::score).toList());
    assertThat(P.rank(List.of(copy, lookAlike), probe).get(0).imageId()).isEqualTo("look-alike");
    Hit exact = new Hit(IndexedImage.uid("t", "x"), "x", "t", "protected", null, Map.of(), 1, true, null, null, 1.0,
        1.0, 0, null, null, null, VerifierTest.thumb(VerifierTest.picture(13)));
    assertThat(v.rank(List.of(exact), probe).get(0).score()).isEqualTo(v.rank(List.of(exact)).get(0).score());
    assertThatThrownBy(() -> new MatchPolicy.Verification(-1, 0.3, 0.3)).hasMessageContaining("candidates");
  }

  @Test
  void rankingAgainReusesTheAlignmentsAlreadyMeasuredForTheProbe() {
    MatchPolicy v = new MatchPolicy(P.rules(), Set.of(), 31, 50, 0.1, 0.75, 0.25, 0.9, 0.6, 0.5, Decision.MATCH, 10,
        10, MatchPolicy.Verification.DEFAULT);
    float[] pic = VerifierTest.picture(11);
    GrayThumb probe = VerifierTest.thumb(pic, 20, 10, 200, 160);
    Hit copy = withThumb(work("copy", 0.70, unit(1, 0, 0), 1), VerifierTest.thumb(pic));
    Hit lookAlike = withThumb(work("look-alike", 0.72, unit(0, 1, 0), 2), VerifierTest.thumb(VerifierTest.picture(12)));
    Map<String, Double> evidence = new java.util.HashMap<>();
    List<Hit> first = v.rank(List.of(copy, lookAlike), probe, null, evidence);
    assertThat(evidence).as("both verified, both recorded").containsOnlyKeys(copy.uid(), lookAlike.uid());
    assertThat(evidence.get(copy.uid())).isEqualTo(Verifier.align(probe, copy.thumbnail()).evidence());
    assertThat(first).extracting(Hit::score)
        .containsExactlyElementsOf(v.rank(List.of(copy, lookAlike), probe).stream().map(Hit::score).toList());
    // ranked again: the recorded alignments are used, not measured again (a changed record shows it)
    evidence.put(copy.uid(), MatchPolicy.Verification.DEFAULT.neutral());
    evidence.put(lookAlike.uid(), 1.0);
    List<Hit> again = v.rank(List.of(copy, lookAlike), probe, null, evidence);
    assertThat(again.get(0).imageId()).isEqualTo("look-alike");
    assertThat(again.get(1).score()).as("the copy gains nothing at the neutral evidence")
        .isCloseTo(v.rank(List.of(copy, lookAlike)).get(1).score(), org.assertj.core.data.Offset.offset(1e-9));
  }

  @Test
  void aVariantLiningUpNoBetterThanAMoreSimilarCandidateGainsNothing() {
    MatchPolicy v = new MatchPolicy(P.rules(), Set.of(), 31, 50, 0.1, 0.75, 0.25, 0.9, 0.6, 0.5, Decision.MATCH, 10,
        10, MatchPolicy.Verification.DEFAULT);
    float[] pic = VerifierTest.picture(21);
    GrayThumb probe = VerifierTest.thumb(pic, 20, 10, 200, 160); // a crop of the drawing
    // the original and a recoloured variant of it (same structure, another work) both line up with the copy
    Hit original = withThumb(work("original", 0.90, unit(1, 0, 0), 1), VerifierTest.thumb(pic));
    Hit variant = withThumb(work("variant", 0.75, unit(0.8f, 0.6f, 0), 2), VerifierTest.thumb(pic));
    List<Hit> plain = v.rank(List.of(original, variant));
    List<Hit> verified = v.rank(List.of(original, variant), probe);
    assertThat(verified.get(0).imageId()).isEqualTo("original");
    assertThat(verified.get(0).score()).as("the original gains").isGreaterThan(plain.get(0).score() + 0.15);
    assertThat(verified.get(1).imageId()).isEqualTo("variant");
    assertThat(verified.get(1).score()).as("the variant does not").isLessThanOrEqualTo(plain.get(1).score());
    assertThat(v.decide(verified.get(1).score())).isNull();

    // the same when the original is matched by its PDQ hash (not verified: it lines up by definition)
    byte[] h = new byte[32];
    Hit byHash = new Hit(IndexedImage.uid("t", "original"), "original", "t", "protected", null, Map.of(), 1, false, 4,
        0.9f, 0.9, 0.9, 0, null, h, unit(1, 0, 0), VerifierTest.thumb(pic));
    List<Hit> withHash = v.rank(List.of(byHash, variant), probe);
    assertThat(withHash.get(1).imageId()).isEqualTo("variant");
    assertThat(withHash.get(1).score()).isLessThanOrEqualTo(v.rank(List.of(byHash, variant)).get(1).score());

    // a less similar candidate that lines up clearly better is not a variant: it gains (the copy behind a look-alike)
    Hit lookAlike = withThumb(work("look-alike", 0.80, unit(0, 1, 0), 3), VerifierTest.thumb(VerifierTest.picture(22)));
    Hit copy = withThumb(work("copy", 0.70, unit(1, 0, 0), 4), VerifierTest.thumb(pic));
    List<Hit> r = v.rank(List.of(lookAlike, copy), probe);
    assertThat(r.get(0).imageId()).isEqualTo("copy");
  }

  private static Hit withThumb(Hit h, GrayThumb t) {
    return new Hit(h.uid(), h.imageId(), h.tenant(), h.collection(), h.source(), h.attributes(), h.submittedAtMs(),
        h.exact(), h.pdqDistance(), h.cosine(), h.similarity(), h.score(), 0, h.sha256(), h.pdq(), h.vector(), t);
  }

  private static MatchPolicy beta(double m) {
    return new MatchPolicy(P.rules(), Set.of(), 31, 50, 0.1, m, 0.25, 0.9, 0.6, 0.5, Decision.MATCH, 10, 10);
  }

  private static float[] unit(float... v) {
    float n = (float) Math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
    return new float[] {v[0] / n, v[1] / n, v[2] / n};
  }

  private static Hit work(String id, double similarity, float[] vector, long at) {
    return new Hit(IndexedImage.uid("t", id), id, "t", "protected", null, Map.of(), at, false, null, null,
        similarity, similarity, 0, null, null, vector);
  }

  private static Hit withHashes(Hit h, byte[] sha, byte[] pdq) {
    return new Hit(h.uid(), h.imageId(), h.tenant(), h.collection(), h.source(), h.attributes(), h.submittedAtMs(),
        false, null, null, h.similarity(), h.score(), 0, sha, pdq, h.vector());
  }

  private static Hit hit(String id, boolean exact, Integer pdq, Float cos) {
    return hit(id, "protected", exact, pdq, cos);
  }

  private static Hit hit(String id, String collection, boolean exact, Integer pdq, Float cos) {
    return new Hit(IndexedImage.uid("t", id), id, "t", collection, null, Map.of(), 1, exact, pdq, cos,
        P.score(exact, pdq, cos), P.score(exact, pdq, cos), 0, null, null, null);
  }

  @Test
  void settingsCheckRelationshipsAndMaskSecrets() {
    assertThatThrownBy(() -> new IndexServiceConfig(Map.of(IndexServiceConfig.REVIEW_THRESHOLD, "0.95")))
        .isInstanceOf(ConfigException.class).hasMessageContaining(IndexServiceConfig.MATCH_THRESHOLD);
    assertThatThrownBy(() -> new IndexServiceConfig(Map.of("match.cosine.match.threshold", "0.9")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("match.threshold");
    assertThatThrownBy(() -> new IndexServiceConfig(Map.of("match.exact.fast.path.collections", "protected,banned")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("match.exact.fast.path.collections")
        .hasMessageContaining("no longer exists").hasMessageContaining("set match.rules");
    assertThatThrownBy(() -> new IndexServiceConfig(Map.of(IndexServiceConfig.TOPIC_PREFIX, "bad prefix/")))
        .isInstanceOf(ConfigException.class).hasMessageContaining(IndexServiceConfig.TOPIC_PREFIX);
    IndexServiceConfig d = new IndexServiceConfig(Map.of());
    assertThat(d.policy().matchThreshold()).isEqualTo(MatchPolicy.DEFAULT_MATCH_THRESHOLD);
    assertThat(d.policy().reviewThreshold()).isEqualTo(MatchPolicy.DEFAULT_REVIEW_THRESHOLD);
    assertThat(d.policy().fusionPdqWeight()).isEqualTo(0.1);
    assertThat(d.policy().alertMinDecision()).as("alerts at match.threshold by default").isEqualTo(Decision.MATCH);
    assertThatThrownBy(() -> new IndexServiceConfig(Map.of(IndexServiceConfig.KNN_CANDIDATES, "5")))
        .hasMessageContaining(IndexServiceConfig.MATCH_K);
    assertThatThrownBy(() -> new IndexServiceConfig(Map.of(IndexServiceConfig.VECTOR_FORMAT, "int3")))
        .hasMessageContaining("int3");
    assertThatThrownBy(() -> new IndexServiceConfig(Map.of(IndexServiceConfig.MATCH_RULES, "nonsense")))
        .hasMessageContaining("nonsense");
    IndexServiceConfig c = new IndexServiceConfig(Map.of("kafka.sasl.jaas.config", "secret-stuff",
        "kafka.security.protocol", "SASL_SSL"));
    assertThat(c.kafkaProps()).containsEntry("security.protocol", "SASL_SSL")
        .containsEntry("bootstrap.servers", "localhost:9092");
    assertThat(c.describe()).doesNotContain("secret-stuff").contains("kafka.security.protocol = SASL_SSL")
        .contains("group.id = imgmatch.index-service").doesNotContain("WARNING");
    assertThat(new IndexServiceConfig(Map.of(IndexServiceConfig.TOPIC_PREFIX, "tenant-a."))
        .getString(IndexServiceConfig.GROUP_ID)).as("groups lie inside the topic prefix").isEqualTo("tenant-a.index-service");
    assertThat(new IndexServiceConfig(Map.of(IndexServiceConfig.TOPIC_PREFIX, "a.", IndexServiceConfig.GROUP_ID, "g",
        IndexServiceConfig.QUERY_GROUP_ID, "a.q")).describe())
        .contains("WARNING: group.id = g does not start with topic.prefix 'a.'").doesNotContain("WARNING: query.group.id");
    for (String key : IndexServiceConfig.DEF.names()) {
      assertThat(dev.imgmatch.common.Settings.isSecret(key)).as(key + " is not a secret").isFalse();
    }
    assertThat(c.policy().targetsOf("uploads")).containsExactlyInAnyOrder("protected", "banned");
  }

  @Test
  void multiIndexHashingTermsCoverTheRadius() {
    byte[] h = new byte[32];
    assertThat(Pdq.probeTerms(h, 31)).hasSize(16 * 17);
    assertThat(Pdq.probeTerms(h, 15)).hasSize(16);
    assertThat(Pdq.probeTerms(h, 47)).hasSize(16 * (1 + 16 + 120));
    assertThatThrownBy(() -> Pdq.probeTerms(h, 64)).hasMessageContaining("64");
  }
}
