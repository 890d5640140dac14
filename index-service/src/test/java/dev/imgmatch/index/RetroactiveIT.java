package dev.imgmatch.index;

import static dev.imgmatch.index.ItSupport.await;
import static dev.imgmatch.index.ItSupport.embedding;
import static dev.imgmatch.index.ItSupport.send;
import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.avro.MatchedImage;
import dev.imgmatch.schemas.Topics;
import dev.imgmatch.testkit.KafkaBroker;
import dev.imgmatch.testkit.KafkaBrokerExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retroactive matching on the real broker and index: a protected image added after its copy was uploaded raises one
 * alert for that copy, marked retroactive and naming the new reference; an upload older than the window, an
 * unrelated one and another tenant's copy raise nothing; re-adding the reference and restarting raise nothing again.
 */
@ExtendWith(KafkaBrokerExtension.class)
class RetroactiveIT {
  static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir
  Path dir;

  @Test
  void aReferenceAddedAfterItsCopyAlertsTheCopyOnce(KafkaBroker broker) throws Exception {
    long seed = ShardIndexTest.seed();
    Synthetic syn = new Synthetic(seed, 64, 8);
    Topics topics = new Topics(broker.uniqueName("retro") + ".");
    IndexServiceConfig cfg = new IndexServiceConfig(ItSupport.settings(broker, topics.prefix(), dir));
    float[] v = syn.clustered();
    byte[] pdq = syn.hash();
    long now = System.currentTimeMillis();
    long old = now - 40L * 86_400_000L; // outside the 30-day window
    try (IndexService service = new IndexService(cfg).start();
        KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(broker.producerProps())) {
      assertThat(service.awaitReady(WAIT)).isTrue();
      // uploads first: copies of a picture nobody protects yet, an unrelated one, an old copy, another tenant's copy
      send(p, topics.embeddings(), "copy", embedding("copy", "t1", "uploads", syn.near(v, 0.02), syn.flip(pdq, 12),
          syn.sha(), now - 3_600_000L));
      send(p, topics.embeddings(), "other", embedding("other", "t1", "uploads", syn.gaussianUnit(), syn.hash(),
          syn.sha(), now));
      send(p, topics.embeddings(), "old-copy", embedding("old-copy", "t1", "uploads", syn.near(v, 0.02),
          syn.flip(pdq, 10), syn.sha(), old));
      send(p, topics.embeddings(), "t2-copy", embedding("t2-copy", "t2", "uploads", syn.near(v, 0.02),
          syn.flip(pdq, 9), syn.sha(), now));
      assertThat(await(WAIT, () -> service.counters().get("indexed") == 4)).isTrue();
      assertThat(ItSupport.readUntil(broker, topics.matchAlerts(), l -> false, Duration.ofSeconds(1))).isEmpty();

      // the reference arrives
      send(p, topics.embeddings(), "work", embedding("work", "t1", "protected", v, pdq, syn.sha(), now));
      List<MatchAlert> alerts = ItSupport.readUntil(broker, topics.matchAlerts(), l -> !l.isEmpty(), WAIT);
      assertThat(await(WAIT, () -> service.counters().get("indexed") == 5)).isTrue();
      // the same reference again (same id), then a copy uploaded after it: forward matching as usual
      send(p, topics.embeddings(), "work", embedding("work", "t1", "protected", v, pdq, syn.sha(), now));
      send(p, topics.embeddings(), "late-copy", embedding("late-copy", "t1", "uploads", syn.near(v, 0.02),
          syn.flip(pdq, 11), syn.sha(), now));
      assertThat(await(WAIT, () -> service.counters().get("indexed") == 7)).isTrue();
      alerts = ItSupport.readUntil(broker, topics.matchAlerts(), l -> l.size() >= 2, WAIT);
      alerts = ItSupport.readUntil(broker, topics.matchAlerts(), l -> false, Duration.ofSeconds(2));
      assertThat(alerts).extracting(a -> a.getImageId() + (a.getRetroactive() ? " (retroactive)" : ""))
          .containsExactlyInAnyOrder("copy (retroactive)", "late-copy");
      MatchAlert retro = alerts.stream().filter(MatchAlert::getRetroactive).findFirst().orElseThrow();
      assertThat(retro.getMatches()).extracting(MatchedImage::getImageId).containsExactly("work");
      assertThat(retro.getCollection()).isEqualTo("uploads");
      assertThat(retro.getSubmittedAtMs()).as("the upload's own time").isEqualTo(now - 3_600_000L);
      assertThat(retro.getMatches().getFirst().getPdqDistance()).isEqualTo(12);
    }
    // a restart replays the shard without matching: no alert twice
    try (IndexService again = new IndexService(cfg).start()) {
      assertThat(again.awaitReady(WAIT)).isTrue();
      assertThat(await(WAIT, () -> again.notReadyReason() == null)).isTrue();
      Thread.sleep(2000); // whatever the restart replays is read by now
      assertThat(ItSupport.readUntil(broker, topics.matchAlerts(), l -> false, Duration.ofSeconds(2))).hasSize(2);
    }
  }
}
