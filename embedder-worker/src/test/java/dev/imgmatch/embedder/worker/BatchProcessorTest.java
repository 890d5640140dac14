package dev.imgmatch.embedder.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.ImageEmbedding;
import dev.imgmatch.avro.PixelEncoding;
import dev.imgmatch.avro.PreparedImage;
import dev.imgmatch.avro.Purpose;
import dev.imgmatch.avro.Reject;
import dev.imgmatch.common.OutputFailures;
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

  /**
   * Embeds every picture as the same vector; fails on pictures whose first pixel is pure red (a record's failure),
   * and on every call, reference picture included, while the model is "down": the first {@code failFirstCalls}
   * calls. Records the pictures it embedded (besides the reference picture).
   */
  static final class ScriptedEmbedder implements PictureEmbedder {
    int failFirstCalls;
    /** Floats per vector (every one 1f). */
    int vectorLength = 1;
    int calls;
    final List<RgbImage> embedded = new ArrayList<>();

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
        float[] v = new float[vectorLength];
        java.util.Arrays.fill(v, 1f);
        out.add(new Embedder.Embedding(v, Map.of("nsfw", 0.1f)));
      }
      images.stream().filter(i -> i != BatchProcessor.PROBE).forEach(embedded::add);
      return out;
    }

    @Override
    public void close() {}
  }

  /** The back-off's time: sleeping moves it on, nothing waits. */
  static final class FakeTime implements BatchProcessor.Waiter {
    long now = 1_000_000;
    final List<Long> sleeps = new ArrayList<>();

    @Override
    public long nowMs() {
      return now;
    }

    @Override
    public void sleep(long ms) {
      sleeps.add(ms);
      now += ms;
    }
  }

  /** What the processor told about the model's health. */
  static final class Health implements BatchProcessor.ModelHealth {
    final List<String> events = new ArrayList<>();

    @Override
    public void retrying(String status) {
      events.add("retrying");
    }

    @Override
    public void gaveUp(int records, String status) {
      events.add("gaveUp " + records);
    }

    @Override
    public void recovered() {
      events.add("recovered");
    }
  }

  final FakeTime time = new FakeTime();
  final Health health = new Health();
  /** 1 s doubling to 60 s, for 10 minutes. */
  final RetryPolicy tenMinutes = new RetryPolicy(1_000, 60_000, 600_000);

  private BatchProcessor processor(PictureEmbedder e, int maxRejectPayload, long wallClock) {
    return new BatchProcessor(topics, e, tenMinutes, time, health, maxRejectPayload, () -> wallClock);
  }

  private ConsumerRecord<byte[], byte[]> upload(int offset, String id, RgbImage pic) {
    return rec(offset, Fixtures.prepared(id, Purpose.INDEX, List.of(Fixtures.view("full", pic, PixelEncoding.RGB8))));
  }

  private List<Reject> rejects(BatchProcessor.Outcome out) {
    return out.records().stream().filter(r -> r.topic().equals("t.rejects"))
        .map(r -> topics.rejects().deserializeValue(r.value())).toList();
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
    BatchProcessor bp = processor(e, 1024, 42L);
    RgbImage pic = Fixtures.picture(1, 16, 16);
    PreparedImage big = PreparedImage.newBuilder(Fixtures.prepared("big", Purpose.INDEX,
        List.of(Fixtures.view("full", pic, PixelEncoding.RGB8)))).setAttributes(Map.of("note", "x".repeat(1_200_000)))
        .build();
    BatchProcessor.Outcome out = bp.process(List.of(rec(1, big),
        rec(2, Fixtures.prepared("ok", Purpose.INDEX, List.of(Fixtures.view("full", pic, PixelEncoding.RGB8))))));
    assertThat(topicsOf(out.records(), "big")).containsExactly("t.rejects");
    assertThat(topicsOf(out.records(), "ok")).containsExactly("t.embeddings");
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
  void anEmbeddingLargerThanItsTopicIsRejectedAndItsNeighboursProceed() throws Exception {
    // each record is checked against its own topic's max.message.bytes (embeddings for an upload, probes for a query)
    ScriptedEmbedder e = new ScriptedEmbedder();
    e.vectorLength = Topics.SMALL_MESSAGE_BYTES / 4; // 1 MiB of floats: over both topics' limit with the framing
    BatchProcessor bp = processor(e, 1024, 1L);
    BatchProcessor.Outcome big = bp.process(List.of(upload(0, "u-big", Fixtures.picture(1, 8, 8)),
        rec(1, Fixtures.prepared("q-big", Purpose.QUERY, List.of(Fixtures.view("full", Fixtures.picture(2, 8, 8),
            PixelEncoding.RGB8))))));
    assertThat(big.embedded()).isZero();
    assertThat(big.records()).extracting(ProducerRecord::topic).containsExactly("t.rejects", "t.rejects");
    assertThat(rejects(big)).extracting(Reject::getReasonCode).containsOnly(OutputFailures.RECORD_TOO_LARGE);
    assertThat(rejects(big)).extracting(Reject::getMessage).satisfiesExactly(
        m -> assertThat(m).startsWith("the t.embeddings record would take").endsWith(
            "more than the topic's " + topics.embeddings().maxMessageBytes()),
        m -> assertThat(m).startsWith("the t.probes record would take").endsWith(
            "more than the topic's " + topics.probes().maxMessageBytes()));
    assertThat(big.offsets().get(new TopicPartition("t.prepared", 1)).offset()).isEqualTo(2);

    // just under the limit (the record's framing included): both go through
    e.vectorLength = (Topics.SMALL_MESSAGE_BYTES - BatchProcessor.FRAMING) / 4 - 1024;
    BatchProcessor.Outcome fits = bp.process(List.of(upload(2, "u-fits", Fixtures.picture(1, 8, 8)),
        rec(3, Fixtures.prepared("q-fits", Purpose.QUERY, List.of(Fixtures.view("full", Fixtures.picture(2, 8, 8),
            PixelEncoding.RGB8))))));
    assertThat(fits.rejected()).isZero();
    assertThat(fits.records()).extracting(ProducerRecord::topic).containsExactly("t.embeddings", "t.probes");
  }

  @Test
  void uploadsGoOnlyToEmbeddingsAndQueriesOnlyToProbes() throws Exception {
    // index-service matches uploads when it consumes `embeddings` and drops upload probes: writing one would double
    // the bytes of every upload for nothing
    ScriptedEmbedder e = new ScriptedEmbedder();
    BatchProcessor bp = processor(e, 1024, 42L);
    RgbImage pic = Fixtures.picture(1, 16, 16);
    PreparedImage u1 = Fixtures.prepared("u1", Purpose.INDEX, List.of(Fixtures.view("full", pic, PixelEncoding.RGB8)));
    byte[] md5 = new byte[16];
    md5[0] = 42;
    u1.setMd5(new dev.imgmatch.avro.Md5(md5));
    BatchProcessor.Outcome out = bp.process(List.of(
        rec(10, u1),
        rec(11, Fixtures.prepared("q1", Purpose.QUERY, List.of(Fixtures.view("full", pic, PixelEncoding.PNG),
            Fixtures.view("hflip", pic, PixelEncoding.RGB8))))));
    assertThat(topicsOf(out.records(), "u1")).containsExactly("t.embeddings");
    assertThat(topicsOf(out.records(), "q1")).containsExactly("t.probes");
    assertThat(out.records()).hasSize(2); // one record per input, nothing else
    assertThat(out.embedded()).isEqualTo(2);
    assertThat(out.pictures()).isEqualTo(3);
    assertThat(out.offsets().get(new TopicPartition("t.prepared", 1)).offset()).isEqualTo(12);
    ImageEmbedding u = topics.embeddings().deserializeValue(out.records().get(0).value());
    assertThat(u.getPurpose()).isEqualTo(Purpose.INDEX);
    assertThat(u.getMd5().bytes()).as("the upload's MD5 travels on to the alert").isEqualTo(md5);
    ImageEmbedding q = topics.probes().deserializeValue(out.records().get(1).value());
    assertThat(q.getPurpose()).isEqualTo(Purpose.QUERY);
    assertThat(q.getExtraViews()).hasSize(1);
    assertThat(q.getEmbeddedAtMs()).isEqualTo(42L);
    assertThat(q.getModelVersion()).isEqualTo("v1");
  }

  @Test
  void anUploadsPreviewTravelsOnWithinItsBoundAndAQueryNeverCarriesOne() throws Exception {
    BatchProcessor bp = processor(new ScriptedEmbedder(), 1024, 42L);
    RgbImage pic = Fixtures.picture(1, 16, 16);
    byte[] jpeg = {(byte) 0xFF, (byte) 0xD8, 1, 2, 3};
    PreparedImage up = Fixtures.prepared("up", Purpose.INDEX, List.of(Fixtures.view("full", pic, PixelEncoding.RGB8)));
    up.setPreview(java.nio.ByteBuffer.wrap(jpeg));
    PreparedImage big = Fixtures.prepared("big", Purpose.INDEX, List.of(Fixtures.view("full", pic, PixelEncoding.RGB8)));
    big.setPreview(java.nio.ByteBuffer.wrap(new byte[dev.imgmatch.schemas.Limits.MAX_PREVIEW_BYTES + 1]));
    PreparedImage q = Fixtures.prepared("q", Purpose.QUERY, List.of(Fixtures.view("full", pic, PixelEncoding.RGB8)));
    q.setPreview(java.nio.ByteBuffer.wrap(jpeg));
    BatchProcessor.Outcome out = bp.process(List.of(rec(0, up), rec(1, big), rec(2, q)));
    assertThat(out.embedded()).as("a preview over its bound is left out, the record goes on").isEqualTo(3);
    ImageEmbedding u = topics.embeddings().deserializeValue(out.records().get(0).value());
    byte[] carried = new byte[u.getPreview().remaining()];
    u.getPreview().duplicate().get(carried);
    assertThat(carried).isEqualTo(jpeg);
    assertThat(topics.embeddings().deserializeValue(out.records().get(1).value()).getPreview()).isNull();
    assertThat(topics.probes().deserializeValue(out.records().get(2).value()).getPreview()).isNull();
  }

  @Test
  void localFeaturesTravelOnForUploadsAndQueriesWithinTheLargestValidEncoding() throws Exception {
    BatchProcessor bp = processor(new ScriptedEmbedder(), 1024, 42L);
    RgbImage pic = Fixtures.picture(1, 16, 16);
    byte[] features = {1, 0, 10, 0, 10, 0, 0}; // a valid encoding of no keypoint in a 10 x 10 picture
    PreparedImage up = Fixtures.prepared("up", Purpose.INDEX, List.of(Fixtures.view("full", pic, PixelEncoding.RGB8)));
    up.setLocalFeatures(java.nio.ByteBuffer.wrap(features));
    PreparedImage q = Fixtures.prepared("q", Purpose.QUERY, List.of(Fixtures.view("full", pic, PixelEncoding.RGB8)));
    q.setLocalFeatures(java.nio.ByteBuffer.wrap(features));
    PreparedImage big = Fixtures.prepared("big", Purpose.INDEX, List.of(Fixtures.view("full", pic, PixelEncoding.RGB8)));
    big.setLocalFeatures(java.nio.ByteBuffer.wrap(new byte[RecordEmbedding.MAX_LOCAL_FEATURES_BYTES + 1]));
    BatchProcessor.Outcome out = bp.process(List.of(rec(0, up), rec(1, q), rec(2, big)));
    assertThat(out.embedded()).isEqualTo(3);
    ImageEmbedding u = topics.embeddings().deserializeValue(out.records().get(0).value());
    ImageEmbedding p = topics.probes().deserializeValue(out.records().get(1).value());
    for (ImageEmbedding e : List.of(u, p)) {
      byte[] carried = new byte[e.getLocalFeatures().remaining()];
      e.getLocalFeatures().duplicate().get(carried);
      assertThat(carried).as(e.getId().toString()).isEqualTo(features);
    }
    assertThat(topics.embeddings().deserializeValue(out.records().get(2).value()).getLocalFeatures())
        .as("larger than any valid encoding: left out, the record goes on").isNull();
  }

  @Test
  void anUploadsPartsUsedOnceGoBesideItOnTheExtrasTopicInItsPartitionJustBeforeIt() throws Exception {
    Map<String, Integer> partitions = new java.util.HashMap<>(Map.of("t.embeddings", 6, "t.embedding-extras", 6));
    BatchProcessor bp = processor(new ScriptedEmbedder(), 1024, 42L)
        .extrasAside(new ExtrasAside(topics, java.util.Set.of("protected"), partitions::get));
    RgbImage pic = Fixtures.picture(1, 16, 16);
    byte[] features = {1, 0, 10, 0, 10, 0, 0}; // a valid encoding of no keypoint in a 10 x 10 picture
    byte[] jpeg = {(byte) 0xFF, (byte) 0xD8, 1, 2, 3};
    PreparedImage up = Fixtures.prepared("up", Purpose.INDEX, List.of(Fixtures.view("full", pic, PixelEncoding.RGB8)));
    up.setLocalFeatures(java.nio.ByteBuffer.wrap(features));
    up.setPreview(java.nio.ByteBuffer.wrap(jpeg));
    PreparedImage ref = PreparedImage.newBuilder(up).setId("ref").setCollection("protected").build();
    PreparedImage plain = Fixtures.prepared("plain", Purpose.INDEX,
        List.of(Fixtures.view("full", pic, PixelEncoding.RGB8)));
    PreparedImage q = PreparedImage.newBuilder(up).setId("q").setPurpose(Purpose.QUERY).build();
    BatchProcessor.Outcome out = bp.process(List.of(rec(0, up), rec(1, ref), rec(2, plain), rec(3, q)));
    assertThat(out.embedded()).isEqualTo(4);
    assertThat(out.records()).extracting(r -> new String(r.key(), StandardCharsets.UTF_8) + " " + r.topic())
        .containsExactly("up t.embedding-extras", "up t.embeddings", "ref t.embedding-extras", "ref t.embeddings",
            "plain t.embeddings", "q t.probes");

    // an upload: its features and preview on the extras topic, the record says so; both in the key's partition
    ProducerRecord<byte[], byte[]> upExtras = out.records().get(0);
    ProducerRecord<byte[], byte[]> upRecord = out.records().get(1);
    int partition = org.apache.kafka.common.utils.Utils.toPositive(
        org.apache.kafka.common.utils.Utils.murmur2("up".getBytes(StandardCharsets.UTF_8))) % 6;
    assertThat(upExtras.partition()).isEqualTo(partition);
    assertThat(upRecord.partition()).isEqualTo(partition);
    dev.imgmatch.avro.ImageExtras x = topics.embeddingExtras().deserializeValue(upExtras.value());
    ImageEmbedding u = topics.embeddings().deserializeValue(upRecord.value());
    assertThat(bytes(x.getLocalFeatures())).isEqualTo(features);
    assertThat(bytes(x.getPreview())).isEqualTo(jpeg);
    assertThat(x.getId()).isEqualTo("up");
    assertThat(x.getTenant()).isEqualTo(u.getTenant());
    assertThat(x.getEmbeddedAtMs()).isEqualTo(u.getEmbeddedAtMs()).isEqualTo(42L);
    assertThat(u.getExtrasAside()).isTrue();
    assertThat(u.getLocalFeatures()).isNull();
    assertThat(u.getPreview()).isNull();
    assertThat(u.getVector()).isNotEmpty();

    // a reference of a kept collection keeps its features (a rebuilt shard stores them); its preview goes aside
    dev.imgmatch.avro.ImageExtras rx = topics.embeddingExtras().deserializeValue(out.records().get(2).value());
    ImageEmbedding r = topics.embeddings().deserializeValue(out.records().get(3).value());
    assertThat(rx.getLocalFeatures()).isNull();
    assertThat(bytes(rx.getPreview())).isEqualTo(jpeg);
    assertThat(bytes(r.getLocalFeatures())).isEqualTo(features);
    assertThat(r.getExtrasAside()).isTrue();

    // nothing to put aside, and queries: one whole record, left to the default partitioner
    ImageEmbedding pl = topics.embeddings().deserializeValue(out.records().get(4).value());
    assertThat(pl.getExtrasAside()).isFalse();
    assertThat(out.records().get(4).partition()).isNull();
    ImageEmbedding qe = topics.probes().deserializeValue(out.records().get(5).value());
    assertThat(qe.getExtrasAside()).isFalse();
    assertThat(bytes(qe.getLocalFeatures())).isEqualTo(features);

    // an extras topic with too few partitions for the key's: the record stays whole
    partitions.put("t.embedding-extras", partition);
    BatchProcessor.Outcome whole = bp.process(List.of(rec(4, up)));
    assertThat(whole.records()).extracting(ProducerRecord::topic).containsExactly("t.embeddings");
    ImageEmbedding w = topics.embeddings().deserializeValue(whole.records().get(0).value());
    assertThat(w.getExtrasAside()).isFalse();
    assertThat(bytes(w.getLocalFeatures())).isEqualTo(features);
    assertThat(bytes(w.getPreview())).isEqualTo(jpeg);
  }

  private static byte[] bytes(java.nio.ByteBuffer b) {
    byte[] out = new byte[b.remaining()];
    b.duplicate().get(out);
    return out;
  }

  @Test
  void uploadViewsTravelOnEmbeddingsForMatchingWhileTheIndexKeepsTheFullVector() throws Exception {
    ScriptedEmbedder e = new ScriptedEmbedder();
    BatchProcessor bp = processor(e, 1024, 7L);
    RgbImage pic = Fixtures.picture(2, 16, 16);
    BatchProcessor.Outcome out = bp.process(List.of(
        rec(0, Fixtures.prepared("u2", Purpose.INDEX, List.of(Fixtures.view("full", pic, PixelEncoding.RGB8),
            Fixtures.view("trim", Fixtures.picture(3, 12, 12), PixelEncoding.PNG)))),
        rec(1, Fixtures.prepared("q2", Purpose.QUERY, List.of(Fixtures.view("full", pic, PixelEncoding.PNG),
            Fixtures.view("trim", pic, PixelEncoding.RGB8), Fixtures.view("hflip", pic, PixelEncoding.RGB8))))));
    assertThat(topicsOf(out.records(), "u2")).containsExactly("t.embeddings");
    assertThat(topicsOf(out.records(), "q2")).containsExactly("t.probes");
    ImageEmbedding indexed = topics.embeddings().deserializeValue(out.records().get(0).value());
    ImageEmbedding queryProbe = topics.probes().deserializeValue(out.records().get(1).value());
    // uploads are matched from `embeddings`: the record keeps its extra views for that (only `vector` is indexed)
    assertThat(indexed.getExtraViews()).extracting(v -> v.getView().toString()).containsExactly("trim");
    assertThat(indexed.getVector()).containsExactly(1f); // the scripted embedder's vector, not a model's
    assertThat(queryProbe.getExtraViews()).extracting(v -> v.getView().toString()).containsExactly("trim", "hflip");
    assertThat(out.pictures()).isEqualTo(5);
  }

  @Test
  void transientModelFailuresAreRetried() throws Exception {
    ScriptedEmbedder e = new ScriptedEmbedder();
    e.failFirstCalls = 2; // the batch, then the reference picture
    BatchProcessor bp = processor(e, 1024, 1L);
    BatchProcessor.Outcome out = bp.process(List.of(rec(0, Fixtures.prepared("u1", Purpose.INDEX,
        List.of(Fixtures.view("full", Fixtures.picture(2, 8, 8), PixelEncoding.RGB8))))));
    assertThat(out.embedded()).isEqualTo(1);
    assertThat(out.rejected()).isZero();
    assertThat(e.calls).isEqualTo(3);
    assertThat(time.sleeps).containsExactly(1_000L);
    assertThat(health.events).containsExactly("retrying", "recovered");
  }

  @Test
  void aModelDownForMinutesIsWaitedOutAndEveryRecordIsEmbeddedOnceWhenItRecovers() throws Exception {
    ScriptedEmbedder e = new ScriptedEmbedder();
    e.failFirstCalls = 17; // batch, reference, batch, reference, ...: down for 8 back-offs, back on the reference
    BatchProcessor bp = processor(e, 1024, 1L);
    List<RgbImage> pics = List.of(Fixtures.picture(1, 8, 8), Fixtures.picture(2, 8, 8), Fixtures.picture(3, 8, 8));
    BatchProcessor.Outcome out = bp.process(List.of(upload(0, "a", pics.get(0)), upload(1, "b", pics.get(1)),
        rec(2, Fixtures.prepared("q", Purpose.QUERY, List.of(Fixtures.view("full", pics.get(2), PixelEncoding.PNG))))));
    assertThat(out.rejected()).isZero();
    assertThat(out.embedded()).isEqualTo(3);
    assertThat(topicsOf(out.records(), "a")).containsExactly("t.embeddings");
    assertThat(topicsOf(out.records(), "b")).containsExactly("t.embeddings");
    assertThat(topicsOf(out.records(), "q")).containsExactly("t.probes");
    assertThat(time.sleeps).containsExactly(1_000L, 2_000L, 4_000L, 8_000L, 16_000L, 32_000L, 60_000L, 60_000L);
    assertThat(health.events).containsExactly("retrying", "retrying", "retrying", "retrying", "retrying", "retrying",
        "retrying", "retrying", "recovered");
    // the model came back on the reference picture, so the records were tried alone: each embedded exactly once
    assertThat(e.embedded).hasSize(3);
    for (int i = 0; i < 3; i++) {
      assertThat(e.embedded.get(i).rgb()).isEqualTo(pics.get(i).rgb());
    }
    assertThat(out.offsets().get(new TopicPartition("t.prepared", 1)).offset()).isEqualTo(3);
  }

  @Test
  void aModelThatComesBackOnTheBatchEmbedsItInOneCall() throws Exception {
    ScriptedEmbedder e = new ScriptedEmbedder();
    e.failFirstCalls = 6; // three rounds of batch + reference
    BatchProcessor bp = processor(e, 1024, 1L);
    BatchProcessor.Outcome out = bp.process(List.of(upload(0, "a", Fixtures.picture(1, 8, 8)),
        upload(1, "b", Fixtures.picture(2, 8, 8))));
    assertThat(out.embedded()).isEqualTo(2);
    assertThat(e.calls).isEqualTo(7);
    assertThat(e.embedded).hasSize(2);
    assertThat(time.sleeps).containsExactly(1_000L, 2_000L, 4_000L);
  }

  @Test
  void aModelDownPastTheBudgetTurnsEveryRecordIntoOneEmbeddingFailedDeadLetter() throws Exception {
    ScriptedEmbedder e = new ScriptedEmbedder();
    e.failFirstCalls = Integer.MAX_VALUE;
    BatchProcessor bp = processor(e, 1024, 1L);
    long start = time.now;
    BatchProcessor.Outcome out = bp.process(List.of(upload(0, "a", Fixtures.picture(1, 8, 8)),
        upload(1, "b", Fixtures.picture(2, 8, 8)), upload(2, "c", Fixtures.picture(3, 8, 8))));
    assertThat(out.embedded()).isZero();
    assertThat(out.rejected()).isEqualTo(3);
    List<Reject> rejects = rejects(out);
    assertThat(rejects).extracting(r -> r.getSourceOffset()).containsExactly(0L, 1L, 2L);
    assertThat(rejects).allSatisfy(r -> {
      assertThat(r.getReasonCode()).isEqualTo(BatchProcessor.EMBEDDING_FAILED);
      assertThat(r.getMessage()).contains("600 s").contains("--redrive --reason EMBEDDING_FAILED");
      assertThat(r.getException()).contains("transient failure");
    });
    assertThat(out.records()).hasSize(3); // one reject per record, nothing else
    assertThat(out.rejectsByReason()).containsExactly(Map.entry(BatchProcessor.EMBEDDING_FAILED, 3));
    assertThat(time.now - start).as("waited exactly the budget").isEqualTo(600_000);
    assertThat(time.sleeps).hasSize(15);
    assertThat(health.events).hasSize(16).endsWith("gaveUp 3");
    assertThat(out.offsets().get(new TopicPartition("t.prepared", 1)).offset()).isEqualTo(3);

    // the next batch finds the model back: the worker is told it recovered
    e.failFirstCalls = 0;
    assertThat(bp.process(List.of(upload(3, "d", Fixtures.picture(4, 8, 8)))).embedded()).isEqualTo(1);
    assertThat(health.events).last().isEqualTo("recovered");
  }

  @Test
  void aZeroBudgetRejectsAtTheFirstFailureOfTheModel() throws Exception {
    ScriptedEmbedder e = new ScriptedEmbedder();
    e.failFirstCalls = Integer.MAX_VALUE;
    BatchProcessor bp = new BatchProcessor(topics, e, new RetryPolicy(1_000, 60_000, 0), time, health, 1024, () -> 1L);
    BatchProcessor.Outcome out = bp.process(List.of(upload(0, "a", Fixtures.picture(1, 8, 8))));
    assertThat(rejects(out)).extracting(Reject::getReasonCode).containsExactly(BatchProcessor.EMBEDDING_FAILED);
    assertThat(time.sleeps).isEmpty();
    assertThat(e.calls).isEqualTo(2);
  }

  @Test
  void aBackOffCutShortByTheWorkerAbandonsTheBatchWithoutOutput() {
    ScriptedEmbedder e = new ScriptedEmbedder();
    e.failFirstCalls = Integer.MAX_VALUE;
    BatchProcessor.Waiter stopping = new BatchProcessor.Waiter() {
      @Override
      public long nowMs() {
        return 0;
      }

      @Override
      public void sleep(long ms) throws BatchProcessor.Abandoned {
        throw new BatchProcessor.Abandoned("partitions are being revoked");
      }
    };
    BatchProcessor bp = new BatchProcessor(topics, e, tenMinutes, stopping, health, 1024, () -> 1L);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> bp.process(List.of(upload(0, "a",
        Fixtures.picture(1, 8, 8))))).isInstanceOf(BatchProcessor.Abandoned.class);
    assertThat(health.events).containsExactly("retrying");
  }

  @Test
  void aRecordThatFailsWhileTheModelIsAlsoDownIsRefusedOnlyOnceTheModelIsBack() throws Exception {
    ScriptedEmbedder e = new ScriptedEmbedder();
    e.failFirstCalls = 3; // batch, reference, batch: down; then the reference passes
    BatchProcessor bp = processor(e, 1024, 1L);
    BatchProcessor.Outcome out = bp.process(List.of(upload(0, "ok1", Fixtures.picture(3, 8, 8)),
        upload(1, "bad", red()), upload(2, "ok2", Fixtures.picture(4, 8, 8))));
    assertThat(out.embedded()).isEqualTo(2);
    assertThat(rejects(out)).singleElement().satisfies(r -> {
      assertThat(r.getReasonCode()).isEqualTo(BatchProcessor.IMAGE_NOT_EMBEDDABLE);
      assertThat(r.getSourceOffset()).isEqualTo(1);
    });
    assertThat(time.sleeps).containsExactly(1_000L);
    assertThat(e.embedded).hasSize(2);
  }

  @Test
  void aRecordTheModelCannotEmbedIsRejectedWhileItsNeighboursProceed() throws Exception {
    ScriptedEmbedder e = new ScriptedEmbedder();
    BatchProcessor bp = processor(e, 4, 1L);
    BatchProcessor.Outcome out = bp.process(List.of(
        rec(0, Fixtures.prepared("ok1", Purpose.INDEX, List.of(Fixtures.view("full", Fixtures.picture(3, 8, 8),
            PixelEncoding.RGB8)))),
        rec(1, Fixtures.prepared("bad", Purpose.INDEX, List.of(Fixtures.view("full", red(), PixelEncoding.RGB8)))),
        rec(2, Fixtures.prepared("ok2", Purpose.INDEX, List.of(Fixtures.view("full", Fixtures.picture(4, 8, 8),
            PixelEncoding.RGB8))))));
    assertThat(out.embedded()).isEqualTo(2);
    assertThat(out.rejected()).isEqualTo(1);
    assertThat(topicsOf(out.records(), "ok1")).containsExactly("t.embeddings");
    assertThat(topicsOf(out.records(), "ok2")).containsExactly("t.embeddings");
    ProducerRecord<byte[], byte[]> rej = out.records().stream().filter(r -> r.topic().equals("t.rejects")).findFirst()
        .orElseThrow();
    Reject r = topics.rejects().deserializeValue(rej.value());
    assertThat(r.getReasonCode()).isEqualTo(BatchProcessor.IMAGE_NOT_EMBEDDABLE);
    assertThat(r.getMessage()).contains("bad (views: full 8x8 RGB8)").contains("reference picture");
    assertThat(r.getSourceOffset()).isEqualTo(1);
    assertThat(r.getOriginalValue().remaining()).isEqualTo(4); // cut to max.reject.payload.bytes
    assertThat(r.getException()).contains("model cannot handle this picture");
    assertThat(out.offsets().get(new TopicPartition("t.prepared", 1)).offset()).isEqualTo(3);
    // deterministic: rejected at once, no back-off, the model never reported failing
    assertThat(time.sleeps).isEmpty();
    assertThat(health.events).isEmpty();
    assertThat(e.embedded).hasSize(2); // each good neighbour embedded once (alone)
  }

  @Test
  void aLoneRecordTheModelCannotEmbedIsRefusedAtOnce() throws Exception {
    ScriptedEmbedder e = new ScriptedEmbedder();
    BatchProcessor bp = processor(e, 1024, 1L);
    BatchProcessor.Outcome out = bp.process(List.of(upload(5, "bad", red())));
    assertThat(rejects(out)).extracting(Reject::getReasonCode).containsExactly(BatchProcessor.IMAGE_NOT_EMBEDDABLE);
    assertThat(time.sleeps).isEmpty();
  }

  @Test
  void undecodableRecordsAndPicturesAreRejectedWithTheirReason() throws Exception {
    ScriptedEmbedder e = new ScriptedEmbedder();
    BatchProcessor bp = processor(e, 1024, 1L);
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
