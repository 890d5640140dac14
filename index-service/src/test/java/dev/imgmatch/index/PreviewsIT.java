package dev.imgmatch.index;

import static dev.imgmatch.index.ItSupport.await;
import static dev.imgmatch.index.ItSupport.embedding;
import static dev.imgmatch.index.ItSupport.send;
import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.ImageEmbedding;
import dev.imgmatch.avro.ImagePreview;
import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.schemas.Topic;
import dev.imgmatch.schemas.Topics;
import dev.imgmatch.testkit.CommittedRecords;
import dev.imgmatch.testkit.KafkaBroker;
import dev.imgmatch.testkit.KafkaBrokerExtension;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Colour previews on the real broker and a real Lucene index: a reference's preview lands on reference-previews and
 * an alerted upload's on previews, exactly once each, in the alerts transaction (a read_committed reader sees them);
 * an upload that matches nothing leaves nothing; a takedown is one tombstone on each topic.
 */
@ExtendWith(KafkaBrokerExtension.class)
class PreviewsIT {
  static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir
  Path dir;

  @Test
  void referencesAndAlertedUploadsGetOnePreviewEachAndATakedownATombstone(KafkaBroker broker) throws Exception {
    long seed = ShardIndexTest.seed();
    Synthetic syn = new Synthetic(seed, 64, 8);
    Random rnd = new Random(seed);
    Topics topics = new Topics(broker.uniqueName("previews") + ".");
    IndexServiceConfig cfg = new IndexServiceConfig(ItSupport.settings(broker, topics.prefix(), dir));
    long now = System.currentTimeMillis();
    float[] refVector = syn.gaussianUnit();
    byte[] refPdq = syn.hash();
    byte[] refJpeg = jpeg(rnd, 320, 240);
    byte[] copyJpeg = jpeg(rnd, 300, 320);
    try (IndexService service = new IndexService(cfg).start();
        KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(broker.producerProps())) {
      assertThat(service.awaitReady(WAIT)).isTrue();
      send(p, topics.embeddings(), "ref", withPreview(embedding("ref", "t1", "protected", refVector, refPdq,
          syn.sha(), now), refJpeg));
      send(p, topics.embeddings(), "ref-bare", embedding("ref-bare", "t1", "protected", syn.gaussianUnit(),
          syn.hash(), syn.sha(), now));
      assertThat(await(WAIT, () -> service.counters().get("indexed") == 2)).isTrue();
      send(p, topics.embeddings(), "copy", withPreview(embedding("copy", "t1", "uploads", syn.near(refVector, 0.02),
          syn.flip(refPdq, 6), syn.sha(), now), copyJpeg));
      send(p, topics.embeddings(), "other", withPreview(embedding("other", "t1", "uploads", syn.gaussianUnit(),
          syn.hash(), syn.sha(), now), jpeg(rnd, 200, 200)));
      assertThat(await(WAIT, () -> service.counters().get("indexed") == 4)).isTrue();
      assertThat(ItSupport.readUntil(broker, topics.matchAlerts(), l -> !l.isEmpty(), WAIT))
          .extracting(MatchAlert::getImageId).containsExactly("copy");

      List<ConsumerRecord<byte[], byte[]>> refs = awaitRecords(broker, topics.referencePreviews(), 1);
      assertThat(refs).as("one reference preview: none for a reference without one").singleElement()
          .satisfies(r -> assertThat(key(topics.referencePreviews(), r)).isEqualTo(Topics.previewKey("t1", "ref")));
      ImagePreview rp = topics.referencePreviews().deserializeValue(refs.getFirst().value());
      assertThat(rp.getImageId()).isEqualTo("ref");
      assertThat(rp.getTenant()).isEqualTo("t1");
      assertThat(rp.getCollection()).isEqualTo("protected");
      assertThat(bytes(rp.getJpeg())).isEqualTo(refJpeg);
      assertThat(rp.getWidth()).isEqualTo(320);
      assertThat(rp.getHeight()).isEqualTo(240);
      assertThat(rp.getCreatedAtMs()).isBetween(now, System.currentTimeMillis());

      List<ConsumerRecord<byte[], byte[]>> ups = awaitRecords(broker, topics.previews(), 1);
      assertThat(ups).as("the alerted upload's preview only: nothing of the upload that matched nothing")
          .singleElement().satisfies(r -> assertThat(key(topics.previews(), r)).isEqualTo(Topics.previewKey("t1", "copy")));
      ImagePreview up = topics.previews().deserializeValue(ups.getFirst().value());
      assertThat(bytes(up.getJpeg())).isEqualTo(copyJpeg);
      assertThat(up.getWidth()).isEqualTo(300);
      assertThat(up.getHeight()).isEqualTo(320);
      assertThat(up.getCollection()).isEqualTo("uploads");

      send(p, topics.deletions(), "ref", ItSupport.deletion("t1", "ref"));
      List<ConsumerRecord<byte[], byte[]>> refsAfter = awaitRecords(broker, topics.referencePreviews(), 2);
      assertThat(refsAfter).hasSize(2);
      assertThat(refsAfter.get(1).value()).as("a tombstone").isNull();
      assertThat(key(topics.referencePreviews(), refsAfter.get(1))).isEqualTo(Topics.previewKey("t1", "ref"));
      List<ConsumerRecord<byte[], byte[]>> upsAfter = awaitRecords(broker, topics.previews(), 2);
      assertThat(upsAfter).as("the takedown's tombstone on previews too (harmless: no preview of ref there)")
          .hasSize(2);
      assertThat(upsAfter).filteredOn(r -> r.value() == null).singleElement()
          .satisfies(r -> assertThat(key(topics.previews(), r)).isEqualTo(Topics.previewKey("t1", "ref")));
      Thread.sleep(1000); // and nothing more comes: each once
      assertThat(CommittedRecords.readAll(broker.bootstrapServers(), topics.referencePreviews().name(), WAIT))
          .hasSize(2);
      assertThat(CommittedRecords.readAll(broker.bootstrapServers(), topics.previews().name(), WAIT)).hasSize(2);
    }
  }

  /** The committed records of {@code topic} once there are at least {@code n}, in offset order per partition. */
  static List<ConsumerRecord<byte[], byte[]>> awaitRecords(KafkaBroker broker, Topic<String, ImagePreview> topic,
      int n) throws Exception {
    List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
    await(WAIT, () -> {
      out.clear();
      out.addAll(CommittedRecords.readAll(broker.bootstrapServers(), topic.name(), WAIT));
      return out.size() >= n;
    });
    out.sort((a, b) -> a.partition() != b.partition() ? Integer.compare(a.partition(), b.partition())
        : Long.compare(a.offset(), b.offset()));
    return out;
  }

  private static String key(Topic<String, ImagePreview> t, ConsumerRecord<byte[], byte[]> r) {
    return t.deserializeKey(r.key());
  }

  private static ImageEmbedding withPreview(ImageEmbedding e, byte[] jpeg) {
    e.setPreview(ByteBuffer.wrap(jpeg));
    return e;
  }

  static byte[] jpeg(Random rnd, int w, int h) throws Exception {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    int c = rnd.nextInt(0x1000000);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.setRGB(x, y, (c + x * 0x010203 + y * 0x030201) & 0xFFFFFF);
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(img, "jpeg", out);
    byte[] b = out.toByteArray();
    assertThat(ImageIO.read(new ByteArrayInputStream(b)).getWidth()).isEqualTo(w);
    return b;
  }

  private static byte[] bytes(ByteBuffer b) {
    byte[] out = new byte[b.remaining()];
    b.duplicate().get(out);
    return out;
  }
}
