package dev.imgmatch.index;

import static dev.imgmatch.index.ItSupport.await;
import static dev.imgmatch.index.ItSupport.embedding;
import static dev.imgmatch.index.ItSupport.send;
import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.CollectionSettings;
import dev.imgmatch.avro.ImageEmbedding;
import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.avro.MatchedImage;
import dev.imgmatch.avro.ReviewAction;
import dev.imgmatch.avro.ReviewDecision;
import dev.imgmatch.avro.ReviewedMatch;
import dev.imgmatch.avro.SettingsKind;
import dev.imgmatch.schemas.Topics;
import dev.imgmatch.testkit.KafkaBroker;
import dev.imgmatch.testkit.KafkaBrokerExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16, item 2, on the real broker and index: a dismissed pair never alerts again (the same file re-uploaded
 * under another id, or a re-encoded copy of it), while another copy of the same work still does; a disabled
 * collection raises nothing; a collection's own threshold replaces the global one; a later confirmation lifts a
 * dismissal; all of it survives a restart.
 */
@ExtendWith(KafkaBrokerExtension.class)
class FeedbackIT {
  static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir
  Path dir;

  @Test
  void dismissedPairsAndCollectionSettingsChangeWhatAlerts(KafkaBroker broker) throws Exception {
    long seed = ShardIndexTest.seed();
    Synthetic syn = new Synthetic(seed, 64, 8);
    Topics topics = new Topics(broker.uniqueName("feedback") + ".");
    IndexServiceConfig cfg = new IndexServiceConfig(ItSupport.settings(broker, topics.prefix(), dir));
    float[] v = syn.clustered();
    byte[] pdq = syn.hash();
    long now = System.currentTimeMillis();
    try (IndexService service = new IndexService(cfg).start();
        KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(broker.producerProps())) {
      assertThat(service.awaitReady(WAIT)).isTrue();
      send(p, topics.embeddings(), "work", embedding("work", "t1", "protected", v, pdq, syn.sha(), now));
      send(p, topics.embeddings(), "t2-work", embedding("t2-work", "t2", "protected", v, pdq, syn.sha(), now));
      assertThat(await(WAIT, () -> service.counters().get("indexed") == 2)).isTrue();
      byte[] copySha = syn.sha();
      byte[] copyPdq = syn.flip(pdq, 10);
      ImageEmbedding copy = embedding("copy", "t1", "uploads", syn.near(v, 0.02), copyPdq, copySha, now);
      send(p, topics.embeddings(), "copy", copy);
      List<MatchAlert> alerts = ItSupport.readUntil(broker, topics.matchAlerts(), l -> !l.isEmpty(), WAIT);
      assertThat(alerts).extracting(MatchAlert::getImageId).containsExactly("copy");
      MatchAlert a = alerts.getFirst();

      // a moderator: not a copy
      send(p, topics.reviewDecisions(), Topics.reviewKey("t1", "copy"), dismissal(a));
      assertThat(await(WAIT, () -> service.feedback().dismissals() == 1)).isTrue();
      // the same file again under another id, a re-encoded one (PDQ 4 bits off it), another tenant's same file,
      // and a different copy of the work (its own picture): the last two alert (a dismissal is the tenant's)
      send(p, topics.embeddings(), "again", embedding("again", "t1", "uploads", syn.near(v, 0.02), copyPdq,
          copySha, now));
      send(p, topics.embeddings(), "reencoded", embedding("reencoded", "t1", "uploads", syn.near(v, 0.02),
          syn.flip(copyPdq, 4), syn.sha(), now));
      send(p, topics.embeddings(), "t2-same", embedding("t2-same", "t2", "uploads", syn.near(v, 0.02), copyPdq,
          copySha, now));
      send(p, topics.embeddings(), "other-copy", embedding("other-copy", "t1", "uploads", syn.near(v, 0.02),
          syn.flip(pdq, 60), syn.sha(), now));
      assertThat(await(WAIT, () -> service.counters().get("indexed") == 7)).isTrue();
      alerts = ItSupport.readUntil(broker, topics.matchAlerts(), l -> l.size() >= 3, WAIT);
      alerts = ItSupport.readUntil(broker, topics.matchAlerts(), l -> false, Duration.ofSeconds(2));
      assertThat(alerts).extracting(MatchAlert::getImageId).containsExactlyInAnyOrder("copy", "t2-same",
          "other-copy");

      // the collection disabled for t1: nothing; then enabled with a threshold no copy reaches
      send(p, topics.collectionSettings(), Topics.settingsKey("COLLECTION", "t1", "protected"),
          settings("t1", "protected", false, null));
      assertThat(await(WAIT, () -> service.feedback().collectionSettings("t1", "protected") != null)).isTrue();
      send(p, topics.embeddings(), "while-off", embedding("while-off", "t1", "uploads", syn.near(v, 0.02),
          syn.flip(pdq, 50), syn.sha(), now));
      assertThat(await(WAIT, () -> service.counters().get("indexed") == 8)).isTrue();
      send(p, topics.collectionSettings(), Topics.settingsKey("COLLECTION", "t1", "protected"),
          settings("t1", "protected", true, 0.9999f));
      assertThat(await(WAIT, () -> service.feedback().collectionSettings("t1", "protected").getEnabled())).isTrue();
      send(p, topics.embeddings(), "below-own", embedding("below-own", "t1", "uploads", syn.near(v, 0.05),
          syn.flip(pdq, 70), syn.sha(), now));
      assertThat(await(WAIT, () -> service.counters().get("indexed") == 9)).isTrue();
      // back to the defaults (a tombstone): a copy alerts again
      p.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topics.collectionSettings().name(),
          topics.collectionSettings().serializeKey(Topics.settingsKey("COLLECTION", "t1", "protected")), null)).get();
      assertThat(await(WAIT, () -> service.feedback().collectionSettings("t1", "protected") == null)).isTrue();
      send(p, topics.embeddings(), "after", embedding("after", "t1", "uploads", syn.near(v, 0.02),
          syn.flip(pdq, 40), syn.sha(), now));
      alerts = ItSupport.readUntil(broker, topics.matchAlerts(), l -> l.size() >= 4, WAIT);
      alerts = ItSupport.readUntil(broker, topics.matchAlerts(), l -> false, Duration.ofSeconds(2));
      assertThat(alerts).extracting(MatchAlert::getImageId).containsExactlyInAnyOrder("copy", "t2-same",
          "other-copy", "after");

      // a moderator confirms the pair after all: the latest decision wins, the same file alerts again
      ReviewDecision confirm = dismissal(a);
      confirm.setDecisionId(UUID.randomUUID().toString());
      confirm.setAction(ReviewAction.CONFIRM);
      send(p, topics.reviewDecisions(), Topics.reviewKey("t1", "copy"), confirm);
      assertThat(await(WAIT, () -> service.feedback().dismissals() == 0)).isTrue();
      send(p, topics.embeddings(), "confirmed-again", embedding("confirmed-again", "t1", "uploads",
          syn.near(v, 0.02), copyPdq, copySha, now));
      alerts = ItSupport.readUntil(broker, topics.matchAlerts(), l -> l.size() >= 5, WAIT);
      assertThat(alerts).extracting(MatchAlert::getImageId).contains("confirmed-again");
      // dismissed again (the last word), for the restart below
      ReviewDecision again = dismissal(a);
      send(p, topics.reviewDecisions(), Topics.reviewKey("t1", "copy"), again);
      assertThat(await(WAIT, () -> service.feedback().dismissals() == 1)).isTrue();
    }

    // a restart reads the decisions again: the dismissed file still raises nothing
    try (IndexService again = new IndexService(cfg).start();
        KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(broker.producerProps())) {
      assertThat(again.awaitReady(WAIT)).isTrue();
      assertThat(again.feedback().dismissals()).isEqualTo(1);
      ImageEmbedding e = embedding("after-restart", "t1", "uploads", syn.near(v, 0.02), syn.hash(), new byte[32],
          now);
      e.setSha256(new dev.imgmatch.avro.Sha256(alertsSha(broker, topics)));
      send(p, topics.embeddings(), "after-restart", e);
      assertThat(await(WAIT, () -> again.counters().get("indexed") >= 1)).isTrue();
      Thread.sleep(1000);
      assertThat(ItSupport.readUntil(broker, topics.matchAlerts(), l -> false, Duration.ofSeconds(2)))
          .extracting(MatchAlert::getImageId).doesNotContain("after-restart");
    }
  }

  /** The dismissed copy's SHA-256, as its alert carries it. */
  private static byte[] alertsSha(KafkaBroker broker, Topics topics) {
    return ItSupport.readUntil(broker, topics.matchAlerts(), l -> !l.isEmpty(), WAIT).stream()
        .filter(a -> a.getImageId().equals("copy")).findFirst().orElseThrow().getSha256().bytes();
  }

  static ReviewDecision dismissal(MatchAlert a) {
    return ReviewDecision.newBuilder().setDecisionId(UUID.randomUUID().toString()).setTenant(a.getTenant())
        .setImageId(a.getImageId()).setAction(ReviewAction.DISMISS)
        .setMatches(a.getMatches().stream().map(FeedbackIT::reviewed).toList())
        .setSha256(a.getSha256()).setPdq(a.getPdq()).setAddToCollection(null).setModerator("it")
        .setNote("not a copy").setDecidedAtMs(System.currentTimeMillis()).build();
  }

  private static ReviewedMatch reviewed(MatchedImage m) {
    return ReviewedMatch.newBuilder().setImageId(m.getImageId()).setTenant(m.getTenant())
        .setCollection(m.getCollection()).setBank(m.getBank()).build();
  }

  private static CollectionSettings settings(String tenant, String collection, boolean enabled, Float match) {
    return CollectionSettings.newBuilder().setKind(SettingsKind.COLLECTION).setTenant(tenant).setName(collection)
        .setEnabled(enabled).setPdqMaxDistance(null).setMatchThreshold(match).setReviewThreshold(match)
        .setUpdatedBy("it").setUpdatedAtMs(System.currentTimeMillis()).build();
  }
}
