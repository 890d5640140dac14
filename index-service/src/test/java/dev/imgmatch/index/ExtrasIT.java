package dev.imgmatch.index;

import static dev.imgmatch.index.ItSupport.await;
import static dev.imgmatch.index.ItSupport.embedding;
import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.ImageEmbedding;
import dev.imgmatch.avro.ImageExtras;
import dev.imgmatch.avro.ImagePreview;
import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.schemas.Topic;
import dev.imgmatch.schemas.Topics;
import dev.imgmatch.testkit.KafkaBroker;
import dev.imgmatch.testkit.KafkaBrokerExtension;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Uploads whose local features and preview the embedder wrote beside them on {@code embedding-extras}
 * ({@code extrasAside}), on the real broker and a real Lucene index: the owner finds them — written just before, or
 * many records earlier and out of order, or before a restart — and uses them (the alerted upload's preview is the
 * one from the extras topic); an upload whose extras are not there is matched and indexed without them, counted, and
 * the stage goes on.
 */
@ExtendWith(KafkaBrokerExtension.class)
class ExtrasIT {
  static final Duration WAIT = Duration.ofSeconds(60);
  static final int PARTITIONS = 3;

  @TempDir
  Path dir;

  @Test
  void anOwnerFindsEachUploadsExtrasUsesThemAndGoesOnWithoutMissingOnes(KafkaBroker broker) throws Exception {
    long seed = ShardIndexTest.seed();
    Synthetic syn = new Synthetic(seed, 64, 8);
    Random rnd = new Random(seed);
    Topics topics = new Topics(broker.uniqueName("extras") + ".");
    Map<String, String> settings = ItSupport.settings(broker, topics.prefix(), dir);
    settings.put(IndexServiceConfig.EXTRAS_WAIT_MS, "1000");
    IndexServiceConfig cfg = new IndexServiceConfig(settings);
    long now = System.currentTimeMillis();
    float[] refVector = syn.gaussianUnit();
    byte[] refPdq = syn.hash();
    byte[] refJpeg = PreviewsIT.jpeg(rnd, 320, 240);
    byte[] copyJpeg = PreviewsIT.jpeg(rnd, 300, 320);
    try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(broker.producerProps())) {
      try (IndexService service = new IndexService(cfg).start()) {
        assertThat(service.awaitReady(WAIT)).isTrue();
        // a reference: its preview aside (its features, a kept collection's, would stay in its record)
        sendAside(p, topics, embedding("ref", "t1", "protected", refVector, refPdq, syn.sha(), now), refJpeg);
        assertThat(await(WAIT, () -> service.counters().get("indexed") == 1)).isTrue();
        // a copy of it: alerted, and the preview published with the alert is the one on the extras topic
        sendAside(p, topics, embedding("copy", "t1", "uploads", syn.near(refVector, 0.02), syn.flip(refPdq, 6),
            syn.sha(), now + 1), copyJpeg);
        // an upload whose extras never came (a topic emptied by hand, retention passed): matched without them
        ImageEmbedding lost = embedding("lost", "t1", "uploads", syn.gaussianUnit(), syn.hash(), syn.sha(), now + 2);
        lost.setExtrasAside(true);
        ItSupport.send(p, topics.embeddings(), "lost", lost);
        // twelve uploads whose extras were all written first, their records after in reverse order
        List<ImageEmbedding> late = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
          ImageEmbedding u = embedding("u" + i, "t1", "uploads", syn.gaussianUnit(), syn.hash(), syn.sha(), now + 3);
          late.add(u);
          p.send(extrasOf(topics, u, PreviewsIT.jpeg(rnd, 40 + i, 40))).get();
        }
        for (int i = late.size() - 1; i >= 0; i--) {
          p.send(recordOf(topics, late.get(i))).get();
        }
        assertThat(await(WAIT, () -> service.counters().get("indexed") == 15)).isTrue();
        assertThat(service.counters()).containsEntry("extras.found", 14L).containsEntry("extras.missing", 1L)
            .containsEntry("rejected", 0L);
        assertThat(ItSupport.readUntil(broker, topics.matchAlerts(), l -> !l.isEmpty(), WAIT))
            .extracting(MatchAlert::getImageId).containsExactly("copy");
        assertThat(previews(broker, topics.referencePreviews(), 1)).containsEntry("ref",
            ByteBuffer.wrap(refJpeg));
        assertThat(previews(broker, topics.previews(), 1)).containsOnlyKeys("copy")
            .containsEntry("copy", ByteBuffer.wrap(copyJpeg));
      }
      // written while no instance runs: a new one reads the partition afresh from before the record's time
      byte[] againJpeg = PreviewsIT.jpeg(rnd, 200, 100);
      sendAside(p, topics, embedding("again", "t1", "uploads", syn.near(refVector, 0.02), syn.flip(refPdq, 4),
          syn.sha(), System.currentTimeMillis()), againJpeg);
      // and more read ahead than the buffer holds (1 MiB here; 45 of ~40 KB in one partition), asked for in
      // reverse: the dropped ones are read again
      settings.put(IndexServiceConfig.EXTRAS_BUFFER_BYTES, String.valueOf(1 << 20));
      List<ImageEmbedding> many = new ArrayList<>();
      long t = System.currentTimeMillis();
      for (int i = 0; many.size() < 45; i++) {
        if (partition("m" + i) != 0) {
          continue;
        }
        ImageEmbedding u = embedding("m" + i, "t1", "uploads", syn.gaussianUnit(), syn.hash(), syn.sha(), t);
        many.add(u);
        p.send(extrasOf(topics, u, noiseJpeg(rnd))).get();
      }
      for (int i = many.size() - 1; i >= 0; i--) {
        p.send(recordOf(topics, many.get(i))).get();
      }
      try (IndexService service = new IndexService(new IndexServiceConfig(settings)).start()) {
        assertThat(service.awaitReady(WAIT)).isTrue();
        assertThat(await(WAIT, () -> service.counters().get("indexed") >= 46)).isTrue();
        assertThat(service.counters()).containsEntry("extras.found", 46L).containsEntry("extras.missing", 0L);
        assertThat(previews(broker, topics.previews(), 2)).containsEntry("again",
            ByteBuffer.wrap(againJpeg));
      }
    }
  }

  /** A JPEG of noise: ~40 KB at 250 x 250. */
  private static byte[] noiseJpeg(Random rnd) throws Exception {
    java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(250, 250,
        java.awt.image.BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 250; y++) {
      for (int x = 0; x < 250; x++) {
        img.setRGB(x, y, rnd.nextInt(0x1000000));
      }
    }
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    javax.imageio.ImageIO.write(img, "jpg", out);
    assertThat(out.size()).as("a preview within its bound").isBetween(20_000, 65_536);
    return out.toByteArray();
  }

  /** The upload's preview on the extras topic, then its record saying so, both in its key's partition. */
  private static void sendAside(KafkaProducer<byte[], byte[]> p, Topics topics, ImageEmbedding e, byte[] jpeg)
      throws Exception {
    p.send(extrasOf(topics, e, jpeg)).get();
    p.send(recordOf(topics, e)).get();
  }

  private static int partition(String id) {
    return Utils.toPositive(Utils.murmur2(id.getBytes(StandardCharsets.UTF_8))) % PARTITIONS;
  }

  private static ProducerRecord<byte[], byte[]> extrasOf(Topics topics, ImageEmbedding e, byte[] jpeg) {
    ImageExtras x = ImageExtras.newBuilder().setId(e.getId()).setTenant(e.getTenant())
        .setEmbeddedAtMs(e.getEmbeddedAtMs()).setPreview(ByteBuffer.wrap(jpeg)).build();
    return new ProducerRecord<>(topics.embeddingExtras().name(), partition(e.getId()),
        topics.embeddingExtras().serializeKey(e.getId()), topics.embeddingExtras().serializeValue(x));
  }

  private static ProducerRecord<byte[], byte[]> recordOf(Topics topics, ImageEmbedding e) {
    e.setExtrasAside(true);
    return new ProducerRecord<>(topics.embeddings().name(), partition(e.getId()),
        topics.embeddings().serializeKey(e.getId()), topics.embeddings().serializeValue(e));
  }

  /** Image id to JPEG of the committed preview records of {@code topic}, once there are at least {@code n}. */
  private static Map<String, ByteBuffer> previews(KafkaBroker broker, Topic<String, ImagePreview> topic, int n)
      throws Exception {
    Map<String, ByteBuffer> out = new java.util.TreeMap<>();
    for (ConsumerRecord<byte[], byte[]> r : PreviewsIT.awaitRecords(broker, topic, n)) {
      ImagePreview v = topic.deserializeValue(r.value());
      out.put(v.getImageId(), v.getJpeg());
    }
    return out;
  }

}
