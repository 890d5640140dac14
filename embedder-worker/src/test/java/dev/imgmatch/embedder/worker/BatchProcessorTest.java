package dev.imgmatch.embedder.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.ImageEmbedding;
import dev.imgmatch.avro.PixelEncoding;
import dev.imgmatch.avro.PreparedImage;
import dev.imgmatch.avro.Purpose;
import dev.imgmatch.avro.Reject;
import dev.imgmatch.embedder.Embedder;
import dev.imgmatch.embedder.Fixtures;
import dev.imgmatch.embedder.PictureEmbedder;
import dev.imgmatch.embedder.model.RgbImage;
import dev.imgmatch.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/** The batch policy with a scripted embedder (pure logic: no model, no broker). */
class BatchProcessorTest {
  final Topics topics = new Topics("t.");

  /** Embeds a picture as its mean red value; fails on pictures whose first pixel is pure red, and N first calls. */
  static final class ScriptedEmbedder implements PictureEmbedder {
    int failFirstCalls;
    int calls;

    @Override
    public String modelId() {
      return "fake";
    }

    @Override
    public String modelVersion() {
      return "v1";
    }

    @Override
    public int dim() {
      return 1;
    }

    @Override
    public List<Embedder.Embedding> embed(List<RgbImage> images) {
      calls++;
      if (calls <= failFirstCalls) {
        throw new IllegalStateException("transient failure " + calls);
      }
      List<Embedder.Embedding> out = new ArrayList<>();
      for (RgbImage img : images) {
        byte[] p = img.rgb();
        if ((p[0] & 255) == 255 && p[1] == 0 && p[2] == 0) {
          throw new IllegalStateException("model cannot handle this picture");
        }
        out.add(new Embedder.Embedding(new float[] {1f}, Map.of("nsfw", 0.1f)));
      }
      return out;
    }

    @Override
    public void close() {}
  }

  private ConsumerRecord<byte[], byte[]> rec(int offset, PreparedImage p) {
    return new ConsumerRecord<>("t.prepared", 1, offset, p.getId().getBytes(StandardCharsets.UTF_8),
        topics.prepared().serializeValue(p));
  }

  private static RgbImage red() {
    byte[] px = new byte[8 * 8 * 3];
    for (int i = 0; i < px.length; i += 3) {
      px[i] = (byte) 255;
    }
    return new RgbImage(8, 8, px);
  }

  private static List<String> topicsOf(List<ProducerRecord<byte[], byte[]>> out, String id) {
    return out.stream().filter(r -> new String(r.key(), StandardCharsets.UTF_8).equals(id)).map(ProducerRecord::topic)
        .toList();
  }

  @Test
  void aPreparedRecordOverTheFieldBoundsIsRejectedNotEmbeddedAndItsNeighboursAre() throws Exception {
    // any producer can write to `prepared`: 1.2 MB of attributes once made an embedding larger than its topic,
    // failed the transaction three times and stopped the worker
    ScriptedEmbedder e = new ScriptedEmbedder();
    BatchProcessor bp = new BatchProcessor(topics, e, 3, 0, 1024, () -> 42L);
    RgbImage pic = Fixtures.picture(1, 16, 16);
    PreparedImage big = PreparedImage.newBuilder(Fixtures.prepared("big", Purpose.INDEX,
        List.of(Fixtures.view("full", pic, PixelEncoding.RGB8)))).setAttributes(Map.of("note", "x".repeat(1_200_000)))
        .build();
    BatchProcessor.Outcome out = bp.process(List.of(rec(1, big),
        rec(2, Fixtures.prepared("ok", Purpose.INDEX, List.of(Fixtures.view("full", pic, PixelEncoding.RGB8))))));
    assertThat(topicsOf(out.records(), "big")).containsExactly("t.rejects");
    assertThat(topicsOf(out.records(), "ok")).containsExactly("t.embeddings", "t.probes");
    Reject r = topics.rejects().deserializeValue(out.records().stream().filter(x -> x.topic().equals("t.rejects"))
        .findFirst().orElseThrow().value());
    assertThat(r.getReasonCode()).isEqualTo(dev.imgmatch.schemas.Limits.FIELD_TOO_LARGE);
    assertThat(r.getMessage()).contains("attributes take");
    assertThat(out.rejectsByReason()).containsEntry(dev.imgmatch.schemas.Limits.FIELD_TOO_LARGE, 1);
    assertThat(out.offsets().get(new TopicPartition("t.prepared", 1)).offset()).isEqualTo(3);

    BatchProcessor.Outcome alone = bp.rejectOnly(rec(7, big), BatchProcessor.OUTPUT_FAILED, "refused");
    assertThat(alone.records()).singleElement().satisfies(x -> assertThat(x.topic()).isEqualTo("t.rejects"));
    assertThat(alone.offsets().get(new TopicPartition("t.prepared", 1)).offset()).isEqualTo(8);
    assertThat(alone.rejectsByReason()).containsEntry(BatchProcessor.OUTPUT_FAILED, 1);
  }

  @Test
  void uploadsGoToEmbeddingsAndProbesQueriesOnlyToProbes() throws Exception {
    ScriptedEmbedder e = new ScriptedEmbedder();
    BatchProcessor bp = new BatchProcessor(topics, e, 3, 0, 1024, () -> 42L);
    RgbImage pic = Fixtures.picture(1, 16, 16);
    BatchProcessor.Outcome out = bp.process(List.of(
        rec(10, Fixtures.prepared("u1", Purpose.INDEX, List.of(Fixtures.view("full", pic, PixelEncoding.RGB8)))),
        rec(11, Fixtures.prepared("q1", Purpose.QUERY, List.of(Fixtures.view("full", pic, PixelEncoding.PNG),
            Fixtures.view("hflip", pic, PixelEncoding.RGB8))))));
    assertThat(topicsOf(out.records(), "u1")).containsExactly("t.embeddings", "t.probes");
    assertThat(topicsOf(out.records(), "q1")).containsExactly("t.probes");
    assertThat(out.embedded()).isEqualTo(2);
    assertThat(out.pictures()).isEqualTo(3);
    assertThat(out.offsets().get(new TopicPartition("t.prepared", 1)).offset()).isEqualTo(12);
    ImageEmbedding q = topics.probes().deserializeValue(out.records().get(2).value());
    assertThat(q.getExtraViews()).hasSize(1);
    assertThat(q.getEmbeddedAtMs()).isEqualTo(42L);
    assertThat(q.getModelVersion()).isEqualTo("v1");
  }

  @Test
  void uploadViewsGoToTheProbeWhileTheIndexKeepsTheFullVector() throws Exception {
    ScriptedEmbedder e = new ScriptedEmbedder();
    BatchProcessor bp = new BatchProcessor(topics, e, 3, 0, 1024, () -> 7L);
    RgbImage pic = Fixtures.picture(2, 16, 16);
    BatchProcessor.Outcome out = bp.process(List.of(
        rec(0, Fixtures.prepared("u2", Purpose.INDEX, List.of(Fixtures.view("full", pic, PixelEncoding.RGB8),
            Fixtures.view("trim", Fixtures.picture(3, 12, 12), PixelEncoding.PNG)))),
        rec(1, Fixtures.prepared("q2", Purpose.QUERY, List.of(Fixtures.view("full", pic, PixelEncoding.PNG),
            Fixtures.view("trim", pic, PixelEncoding.RGB8), Fixtures.view("hflip", pic, PixelEncoding.RGB8))))));
    assertThat(topicsOf(out.records(), "u2")).containsExactly("t.embeddings", "t.probes");
    ImageEmbedding indexed = topics.embeddings().deserializeValue(out.records().get(0).value());
    ImageEmbedding uploadProbe = topics.probes().deserializeValue(out.records().get(1).value());
    ImageEmbedding queryProbe = topics.probes().deserializeValue(out.records().get(2).value());
    // uploads are matched from `embeddings`: the record keeps its extra views for that (only `vector` is indexed)
    assertThat(indexed.getExtraViews()).extracting(v -> v.getView().toString()).containsExactly("trim");
    assertThat(indexed.getVector()).containsExactly(1f);
    assertThat(uploadProbe.getExtraViews()).extracting(v -> v.getView().toString()).containsExactly("trim");
    assertThat(uploadProbe.getVector()).containsExactly(1f); // the scripted embedder's vector, not a model's
    assertThat(queryProbe.getExtraViews()).extracting(v -> v.getView().toString()).containsExactly("trim", "hflip");
    assertThat(out.pictures()).isEqualTo(5);
  }

  @Test
  void transientModelFailuresAreRetried() throws Exception {
    ScriptedEmbedder e = new ScriptedEmbedder();
    e.failFirstCalls = 2;
    BatchProcessor bp = new BatchProcessor(topics, e, 3, 0, 1024, () -> 1L);
    BatchProcessor.Outcome out = bp.process(List.of(rec(0, Fixtures.prepared("u1", Purpose.INDEX,
        List.of(Fixtures.view("full", Fixtures.picture(2, 8, 8), PixelEncoding.RGB8))))));
    assertThat(out.embedded()).isEqualTo(1);
    assertThat(out.rejected()).isZero();
    assertThat(e.calls).isEqualTo(3);
  }

  @Test
  void aRecordTheModelCannotEmbedIsRejectedWhileItsNeighboursProceed() throws Exception {
    ScriptedEmbedder e = new ScriptedEmbedder();
    BatchProcessor bp = new BatchProcessor(topics, e, 2, 0, 4, () -> 1L);
    BatchProcessor.Outcome out = bp.process(List.of(
        rec(0, Fixtures.prepared("ok1", Purpose.INDEX, List.of(Fixtures.view("full", Fixtures.picture(3, 8, 8),
            PixelEncoding.RGB8)))),
        rec(1, Fixtures.prepared("bad", Purpose.INDEX, List.of(Fixtures.view("full", red(), PixelEncoding.RGB8)))),
        rec(2, Fixtures.prepared("ok2", Purpose.INDEX, List.of(Fixtures.view("full", Fixtures.picture(4, 8, 8),
            PixelEncoding.RGB8))))));
    assertThat(out.embedded()).isEqualTo(2);
    assertThat(out.rejected()).isEqualTo(1);
    assertThat(topicsOf(out.records(), "ok1")).containsExactly("t.embeddings", "t.probes");
    assertThat(topicsOf(out.records(), "ok2")).containsExactly("t.embeddings", "t.probes");
    ProducerRecord<byte[], byte[]> rej = out.records().stream().filter(r -> r.topic().equals("t.rejects")).findFirst()
        .orElseThrow();
    Reject r = topics.rejects().deserializeValue(rej.value());
    assertThat(r.getReasonCode()).isEqualTo("EMBEDDING_FAILED");
    assertThat(r.getSourceOffset()).isEqualTo(1);
    assertThat(r.getOriginalValue().remaining()).isEqualTo(4); // cut to max.reject.payload.bytes
    assertThat(r.getException()).contains("model cannot handle this picture");
    assertThat(out.offsets().get(new TopicPartition("t.prepared", 1)).offset()).isEqualTo(3);
  }

  @Test
  void undecodableRecordsAndPicturesAreRejectedWithTheirReason() throws Exception {
    ScriptedEmbedder e = new ScriptedEmbedder();
    BatchProcessor bp = new BatchProcessor(topics, e, 1, 0, 1024, () -> 1L);
    PreparedImage wrongSize = Fixtures.prepared("short", Purpose.INDEX, List.of(
        dev.imgmatch.avro.ImageView.newBuilder().setName("full").setWidth(10).setHeight(10)
            .setEncoding(PixelEncoding.RGB8).setPixels(java.nio.ByteBuffer.wrap(new byte[7])).build()));
    BatchProcessor.Outcome out = bp.process(List.of(
        new ConsumerRecord<>("t.prepared", 0, 5, "x".getBytes(StandardCharsets.UTF_8), new byte[] {9, 9}),
        new ConsumerRecord<>("t.prepared", 0, 6, "y".getBytes(StandardCharsets.UTF_8), null),
        rec(7, wrongSize)));
    List<String> reasons = out.records().stream().map(r -> topics.rejects().deserializeValue(r.value()).getReasonCode())
        .toList();
    assertThat(reasons).containsExactly("MALFORMED_RECORD", "EMPTY_RECORD", "CORRUPT_IMAGE");
    assertThat(out.embedded()).isZero();
    assertThat(e.calls).isZero();
  }
}
