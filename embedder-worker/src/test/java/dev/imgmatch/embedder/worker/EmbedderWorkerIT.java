package dev.imgmatch.embedder.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.ImageEmbedding;
import dev.imgmatch.avro.PixelEncoding;
import dev.imgmatch.avro.PreparedImage;
import dev.imgmatch.avro.Purpose;
import dev.imgmatch.avro.Reject;
import dev.imgmatch.embedder.Embedder;
import dev.imgmatch.embedder.Fixtures;
import dev.imgmatch.embedder.SharedEmbedder;
import dev.imgmatch.embedder.model.RgbImage;
import dev.imgmatch.testkit.KafkaBroker;
import dev.imgmatch.testkit.KafkaBrokerExtension;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** The worker with the real model on the real broker. */
@ExtendWith({KafkaBrokerExtension.class, SharedEmbedder.Warm.class})
class EmbedderWorkerIT {
  private static ProducerRecord<byte[], byte[]> rec(WorkerHarness h, PreparedImage p) {
    return h.topics.prepared().record(p.getId(), p);
  }

  @Test
  @Timeout(300)
  void uploadsBecomeEmbeddingsQueriesBecomeProbesAndAPoisonRecordIsRejected(KafkaBroker broker) throws Exception {
    WorkerHarness h = new WorkerHarness(broker, "e2e");
    Embedder embedder = SharedEmbedder.get();
    RgbImage a = Fixtures.picture(10, 300, 200);
    RgbImage b = Fixtures.picture(11, 224, 224);
    RgbImage c = Fixtures.picture(12, 180, 260);
    PreparedImage corrupt = Fixtures.prepared("poison-png", Purpose.INDEX, List.of(
        dev.imgmatch.avro.ImageView.newBuilder().setName("full").setWidth(10).setHeight(10)
            .setEncoding(PixelEncoding.PNG).setPixels(ByteBuffer.wrap("not a png at all".getBytes())).build()));
    List<ProducerRecord<byte[], byte[]>> in = new ArrayList<>();
    in.add(rec(h, Fixtures.prepared("img-rgb8", Purpose.INDEX, List.of(Fixtures.view("full", a, PixelEncoding.RGB8)))));
    in.add(rec(h, corrupt));
    in.add(rec(h, Fixtures.prepared("img-png", Purpose.INDEX, List.of(Fixtures.view("full", b, PixelEncoding.PNG)))));
    in.add(new ProducerRecord<>(h.topics.prepared().name(), "garbage".getBytes(StandardCharsets.UTF_8),
        new byte[] {1, 2, 3, 4, 5}));
    PreparedImage withExtras = Fixtures.prepared("img-jpeg", Purpose.INDEX,
        List.of(Fixtures.view("full", c, PixelEncoding.JPEG)));
    byte[] features = {1, 0, 10, 0, 10, 0, 0}; // a valid encoding of no keypoint in a 10 x 10 picture
    byte[] preview = {(byte) 0xFF, (byte) 0xD8, 7, 7, 7};
    withExtras.setLocalFeatures(ByteBuffer.wrap(features));
    withExtras.setPreview(ByteBuffer.wrap(preview));
    in.add(rec(h, withExtras));
    in.add(rec(h, Fixtures.prepared("query-1", Purpose.QUERY, List.of(Fixtures.view("full", a, PixelEncoding.RGB8),
        Fixtures.view("hflip", Fixtures.hflip(a), PixelEncoding.RGB8)))));
    h.produce(in);

    EmbedderWorkerConfig cfg = new EmbedderWorkerConfig(h.settings());
    try (EmbedderWorker worker = new EmbedderWorker(cfg, embedder, null).start()) {
      List<ConsumerRecord<byte[], byte[]>> embeddings = h.readUntil(h.topics.embeddings().name(),
          l -> l.size() >= 3);
      List<ConsumerRecord<byte[], byte[]>> probes = h.readUntil(h.topics.probes().name(), l -> l.size() >= 1);
      List<ConsumerRecord<byte[], byte[]>> rejects = h.readUntil(h.topics.rejects().name(), l -> l.size() >= 2);

      // uploads on `embeddings` only, the query on `probes` only (index-service matches uploads from `embeddings`)
      assertThat(h.readAll(h.topics.embeddings().name()).stream().map(WorkerHarness::key))
          .containsExactlyInAnyOrder("img-rgb8", "img-png", "img-jpeg");
      assertThat(h.readAll(h.topics.probes().name()).stream().map(WorkerHarness::key))
          .containsExactly("query-1");
      Map<String, ImageEmbedding> byId = new TreeMap<>();
      embeddings.forEach(r -> byId.put(WorkerHarness.key(r), h.embedding(r)));
      probes.forEach(r -> byId.put(WorkerHarness.key(r), h.topics.probes().deserializeValue(r.value())));
      assertThat(byId).hasSize(4);
      for (String upload : List.of("img-rgb8", "img-png", "img-jpeg")) {
        assertThat(byId.get(upload).getPurpose()).isEqualTo(Purpose.INDEX);
      }
      for (ImageEmbedding e : byId.values()) {
        assertThat(e.getVector()).hasSize(embedder.dim());
        assertThat(e.getModelId()).isEqualTo(embedder.modelId());
        assertThat(e.getModelVersion()).isEqualTo(embedder.modelVersion());
        assertThat(e.getClassScores()).containsKey("nsfw");
        assertThat(e.getTenant()).isEqualTo("t1");
        assertThat(e.getEmbeddedAtMs()).isPositive();
      }
      // the worker's vector is the Embedder's (same code path as the CLI), up to float rounding: inference results
      // depend on the batch the picture was in and on the CPU's kernels, so descriptors are compared by cosine
      float[] direct = embedder.embed(List.of(a)).get(0).vector();
      List<Float> viaWorker = byId.get("img-rgb8").getVector();
      assertThat(viaWorker).hasSize(direct.length);
      assertThat(Fixtures.cosine(direct, viaWorker)).isGreaterThanOrEqualTo(0.99999);
      ImageEmbedding q = byId.get("query-1");
      assertThat(q.getPurpose()).isEqualTo(Purpose.QUERY);
      assertThat(q.getExtraViews()).hasSize(1);
      assertThat(q.getExtraViews().get(0).getView()).isEqualTo("hflip");
      assertThat(Fixtures.cosine(q.getVector(), byId.get("img-rgb8").getVector())).isGreaterThanOrEqualTo(0.99999);

      // every record carries its background cosine: the best cosine of its views to the embedder's background set
      var background = embedder.useBackground(m -> { });
      assertThat(background.size()).as("the pinned packages' pictures").isGreaterThan(1000);
      for (ImageEmbedding e : byId.values()) {
        assertThat(e.getBackgroundCosine()).isNotNull().isBetween(-1f, 1.0001f);
      }
      assertThat((double) byId.get("img-rgb8").getBackgroundCosine())
          .isCloseTo(background.maxCosine(direct), org.assertj.core.api.Assertions.within(1e-4));
      assertThat(q.getBackgroundCosine()).as("the query's best view: at least its full view's")
          .isGreaterThanOrEqualTo(byId.get("img-rgb8").getBackgroundCosine() - 1e-4f);

      // the upload's parts used once went beside it, in its partition, just before it in the same transaction
      ImageEmbedding jpegUpload = byId.get("img-jpeg");
      assertThat(jpegUpload.getExtrasAside()).isTrue();
      assertThat(jpegUpload.getLocalFeatures()).isNull();
      assertThat(jpegUpload.getPreview()).isNull();
      assertThat(byId.get("img-png").getExtrasAside()).as("nothing to put aside").isFalse();
      List<ConsumerRecord<byte[], byte[]>> extras = h.readUntil(h.topics.embeddingExtras().name(),
          l -> !l.isEmpty());
      assertThat(extras).singleElement().satisfies(x -> {
        assertThat(WorkerHarness.key(x)).isEqualTo("img-jpeg");
        assertThat(x.partition()).isEqualTo(embeddings.stream().filter(r -> WorkerHarness.key(r).equals("img-jpeg"))
            .findFirst().orElseThrow().partition());
        dev.imgmatch.avro.ImageExtras v = h.topics.embeddingExtras().deserializeValue(x.value());
        assertThat(v.getLocalFeatures()).isEqualTo(ByteBuffer.wrap(features));
        assertThat(v.getPreview()).isEqualTo(ByteBuffer.wrap(preview));
        assertThat(v.getEmbeddedAtMs()).isEqualTo(jpegUpload.getEmbeddedAtMs());
      });

      Map<String, Reject> rej = rejects.stream().collect(Collectors.toMap(WorkerHarness::key, h::reject));
      assertThat(rej.get("poison-png").getReasonCode()).isEqualTo("CORRUPT_IMAGE");
      assertThat(rej.get("poison-png").getStage()).isEqualTo("embedder-worker");
      assertThat(rej.get("poison-png").getSourceTopic()).isEqualTo(h.topics.prepared().name());
      assertThat(rej.get("garbage").getReasonCode()).isEqualTo("MALFORMED_RECORD");
      assertThat(rej.get("garbage").getOriginalValueSize()).isEqualTo(5);
      assertThat(worker.failure()).isNull();
      assertThat(worker.isRunning()).isTrue();
    }
  }
}
