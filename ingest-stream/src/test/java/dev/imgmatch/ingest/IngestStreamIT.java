package dev.imgmatch.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.ImageReference;
import dev.imgmatch.avro.ImageSubmission;
import dev.imgmatch.avro.InlineImage;
import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.avro.PreparedImage;
import dev.imgmatch.avro.Purpose;
import dev.imgmatch.avro.QueryParams;
import dev.imgmatch.avro.QueryRequest;
import dev.imgmatch.avro.Reject;
import dev.imgmatch.avro.VectorTarget;
import dev.imgmatch.schemas.Topics;
import dev.imgmatch.testkit.KafkaBroker;
import dev.imgmatch.testkit.KafkaBrokerExtension;
import dev.imgmatch.testkit.Seeds;
import java.awt.image.BufferedImage;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * ingest-stream on a real broker, started the way production starts it ({@link IngestStreamApp}: settings,
 * topic creation, exactly-once v2), fed a corpus of broken inputs mixed with good images of every format.
 */
@ExtendWith(KafkaBrokerExtension.class)
class IngestStreamIT {
  private static final int MAX_IMAGE_BYTES = 300_000;

  @TempDir
  Path tmp;

  private IngestStreamApp startApp(KafkaBroker broker, Topics topics, Path root) {
    return startApp(broker, topics, root, broker.uniqueName("ingest-it"), tmp.resolve("state"));
  }

  private IngestStreamApp startApp(KafkaBroker broker, Topics topics, Path root, String appId, Path stateDir) {
    Map<String, String> s = new HashMap<>();
    s.put(IngestConfig.BOOTSTRAP, broker.bootstrapServers());
    s.put(IngestConfig.TOPIC_PREFIX, topics.prefix());
    s.put(IngestConfig.APPLICATION_ID, appId);
    s.put(IngestConfig.STATE_DIR, stateDir.toString());
    s.put(IngestConfig.STREAM_THREADS, "1");
    s.put(IngestConfig.TOPIC_PARTITIONS, "2");
    s.put(IngestConfig.MAX_IMAGE_BYTES, String.valueOf(MAX_IMAGE_BYTES));
    s.put(IngestConfig.MIN_WIDTH, "16");
    s.put(IngestConfig.MIN_HEIGHT, "16");
    s.put(IngestConfig.REFERENCE_ROOTS, root.toString());
    s.put(IngestConfig.COUNTERS_LOG_INTERVAL_MS, "0");
    s.put("kafka.commit.interval.ms", "100");
    s.put(IngestConfig.HTTP_HOST, "127.0.0.1");
    s.put(IngestConfig.HTTP_PORT, "0");
    IngestStreamApp app = new IngestStreamApp(IngestConfig.load(null, Map.of(), s));
    assertThat(app.config().getString(IngestConfig.PROCESSING_GUARANTEE)).isEqualTo("exactly_once_v2");
    assertThat(app.endpoint()).as("the constructor binds no port").isNull();
    app.startEndpoint();
    assertThat(http(app, "/ready")).as("not ready before Streams runs").startsWith("503 ");
    app.start();
    return app;
  }

  private static ImageSubmission inline(String id, byte[] image) {
    return submission(id, "acme", "uploads", new InlineImage(ByteBuffer.wrap(image), null));
  }

  private static ImageSubmission submission(String id, String tenant, String collection, Object image) {
    return ImageSubmission.newBuilder().setImageId(id).setTenant(tenant).setCollection(collection).setImage(image)
        .setSubmittedAtMs(System.currentTimeMillis()).build();
  }

  @Test
  void everyKindOfBadInputIsRejectedWithItsReasonWhileGoodImagesComeOut(KafkaBroker broker) throws Exception {
    Topics topics = new Topics(broker.uniqueName("ingest") + ".");
    Path root = Files.createDirectories(tmp.resolve("images"));
    Path outside = Files.createDirectories(tmp.resolve("elsewhere"));
    byte[] jpeg = TestImages.jpeg(400, 300, 1);
    Files.write(root.resolve("ok.jpg"), TestImages.jpeg(300, 300, 2));
    Files.write(outside.resolve("secret.jpg"), jpeg);
    Files.createSymbolicLink(root.resolve("escape.jpg"), outside.resolve("secret.jpg"));
    long seed = Seeds.of("IngestStreamIT random bytes", 20261203L);

    // key -> value bytes for the uploads topic, and the reason each bad one must get
    Map<String, byte[]> uploads = new LinkedHashMap<>();
    Map<String, String> expectedReason = new LinkedHashMap<>();
    java.util.function.BiConsumer<ImageSubmission, String> add = (s, reason) -> {
      uploads.put(s.getImageId(), topics.uploads().serializeValue(s));
      if (reason != null) {
        expectedReason.put(s.getImageId(), reason);
      }
    };
    add.accept(inline("bad-zero-bytes", new byte[0]), "EMPTY_IMAGE");
    add.accept(inline("bad-random-bytes", TestImages.random(4096, seed)), "UNSUPPORTED_FORMAT");
    add.accept(inline("bad-pdf", "%PDF-1.7\n1 0 obj <<>> endobj".getBytes(StandardCharsets.US_ASCII)),
        "UNSUPPORTED_FORMAT");
    add.accept(inline("bad-truncated-jpeg", TestImages.truncated(jpeg, 0.5)), "CORRUPT_IMAGE");
    byte[] garbage = TestImages.random(2048, seed + 1);
    garbage[0] = (byte) 0xFF;
    garbage[1] = (byte) 0xD8;
    garbage[2] = (byte) 0xFF;
    add.accept(inline("bad-jpeg-signature-then-garbage", garbage), "CORRUPT_IMAGE");
    add.accept(inline("bad-png-crc", TestImages.pngWithBadCrc(120, 80, 3)), "CORRUPT_IMAGE");
    add.accept(inline("bad-truncated-png", TestImages.truncated(TestImages.png(120, 80, 4), 0.6)), "CORRUPT_IMAGE");
    add.accept(inline("bad-truncated-gif",
        TestImages.truncated(TestImages.encode(TestImages.picture(120, 80, 5), "gif"), 0.3)), "CORRUPT_IMAGE");
    add.accept(inline("bad-png-30000x30000", TestImages.pngHeaderOnly(30000, 30000)), "TOO_MANY_PIXELS");
    add.accept(inline("bad-jpeg-30000x30000", TestImages.jpegHeaderDeclaring(30000, 30000)), "TOO_MANY_PIXELS");
    add.accept(inline("bad-1x1", TestImages.png(1, 1, 6)), "IMAGE_TOO_SMALL");
    add.accept(inline("bad-oversize", noisePng(400, 300)), "IMAGE_TOO_LARGE");
    add.accept(submission("bad-ref-outside", "acme", "uploads",
        new ImageReference(outside.resolve("secret.jpg").toString())), "REFERENCE_NOT_ALLOWED");
    add.accept(submission("bad-ref-dotdot", "acme", "uploads",
        new ImageReference(root + "/../elsewhere/secret.jpg")), "REFERENCE_NOT_ALLOWED");
    add.accept(submission("bad-ref-symlink", "acme", "uploads",
        new ImageReference(root.resolve("escape.jpg").toString())), "REFERENCE_NOT_ALLOWED");
    add.accept(submission("bad-ref-http", "acme", "uploads", new ImageReference("https://example.com/a.jpg")),
        "REFERENCE_NOT_ALLOWED");
    add.accept(submission("bad-ref-missing", "acme", "uploads",
        new ImageReference(root.resolve("missing.jpg").toString())), "REFERENCE_UNREADABLE");
    add.accept(submission("bad-blank-tenant", " ", "uploads", new InlineImage(ByteBuffer.wrap(jpeg), null)),
        "INVALID_RECORD");
    uploads.put("bad-malformed-avro", TestImages.random(300, seed + 2));
    expectedReason.put("bad-malformed-avro", "MALFORMED_RECORD");
    byte[] unknown = topics.uploads().serializeValue(inline("x", jpeg));
    unknown[5] ^= 0x5A; // the writer-schema fingerprint no longer matches any released schema
    uploads.put("bad-unknown-schema", unknown);
    expectedReason.put("bad-unknown-schema", "UNKNOWN_SCHEMA");
    uploads.put("bad-tombstone", null);
    expectedReason.put("bad-tombstone", "EMPTY_RECORD");

    // good images of every format, interleaved with the bad ones
    BufferedImage pic = TestImages.picture(200, 150, 7);
    BufferedImage argb = TestImages.picture(200, 150, 8, BufferedImage.TYPE_INT_ARGB);
    Map<String, ImageSubmission> good = new LinkedHashMap<>();
    good.put("good-jpeg", inline("good-jpeg", jpeg));
    good.put("good-png-alpha", inline("good-png-alpha", TestImages.encode(argb, "png")));
    good.put("good-gif", inline("good-gif", TestImages.encode(pic, "gif")));
    good.put("good-bmp", inline("good-bmp", TestImages.encode(pic, "bmp")));
    good.put("good-tiff", inline("good-tiff", TestImages.encode(pic, "tiff")));
    good.put("good-webp", inline("good-webp", TestImages.fixture("python-16x16.webp")));
    good.put("good-cmyk-jpeg", inline("good-cmyk-jpeg", TestImages.cmykJpeg(120, 90)));
    good.put("good-exif-rotated", inline("good-exif-rotated", TestImages.withExifOrientation(jpeg, 6)));
    good.put("good-reference", submission("good-reference", "acme", "uploads",
        new ImageReference(root.resolve("ok.jpg").toUri().toString())));

    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    List<String> goodIds = new ArrayList<>(good.keySet());
    int g = 0;
    for (Map.Entry<String, byte[]> e : uploads.entrySet()) {
      records.add(new ProducerRecord<>(topics.uploads().name(), e.getKey().getBytes(StandardCharsets.UTF_8),
          e.getValue()));
      if (g < goodIds.size()) {
        ImageSubmission s = good.get(goodIds.get(g++));
        records.add(topics.uploads().record(s.getImageId(), s));
      }
    }
    // queries: an image query is prepared, a broken one rejected, a vector query left to index-service
    QueryParams params = QueryParams.newBuilder().setRequestedAtMs(System.currentTimeMillis()).build();
    for (QueryRequest q : List.of(
        QueryRequest.newBuilder().setQueryId("good-query").setTenant("acme")
            .setTarget(new InlineImage(ByteBuffer.wrap(jpeg), null)).setParams(params).build(),
        QueryRequest.newBuilder().setQueryId("bad-query-corrupt").setTenant("acme")
            .setTarget(new InlineImage(ByteBuffer.wrap(TestImages.truncated(jpeg, 0.4)), null)).setParams(params)
            .build(),
        QueryRequest.newBuilder().setQueryId("vector-query").setTenant("acme")
            .setTarget(new VectorTarget("v1", List.of(1f, 0f))).setParams(params).build())) {
      records.add(topics.queries().record(q.getQueryId(), q));
    }
    expectedReason.put("bad-query-corrupt", "CORRUPT_IMAGE");

    try (IngestStreamApp app = startApp(broker, topics, root);
        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(broker.producerProps())) {
      for (ProducerRecord<byte[], byte[]> r : records) {
        producer.send(r).get();
      }
      Map<String, Reject> rejects = new HashMap<>();
      Map<String, PreparedImage> prepared = new HashMap<>();
      int wantPrepared = good.size() + 1;
      try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(broker.consumerProps(broker.uniqueName("g")))) {
        consumer.subscribe(List.of(topics.rejects().name(), topics.prepared().name()));
        poll(consumer, rec -> {
          if (rec.topic().equals(topics.rejects().name())) {
            rejects.put(new String(rec.key(), StandardCharsets.UTF_8), topics.rejects().deserializeValue(rec.value()));
          } else {
            prepared.put(topics.prepared().deserializeKey(rec.key()), topics.prepared().deserializeValue(rec.value()));
          }
          return rejects.size() >= expectedReason.size() && prepared.size() >= wantPrepared;
        });
      }
      assertThat(app.state()).isEqualTo(KafkaStreams.State.RUNNING);

      Map<String, String> gotReason = new LinkedHashMap<>();
      rejects.forEach((k, r) -> gotReason.put(k, r.getReasonCode()));
      assertThat(gotReason).containsExactlyInAnyOrderEntriesOf(expectedReason);
      assertThat(expectedReason.size()).isGreaterThanOrEqualTo(15);
      assertThat(prepared.keySet()).containsExactlyInAnyOrderElementsOf(
          concat(goodIds, List.of("good-query")));
      rejects.values().forEach(r -> {
        assertThat(r.getStage()).isEqualTo("ingest-stream");
        assertThat(r.getSourceOffset()).isGreaterThanOrEqualTo(0);
        assertThat(r.getMessage()).isNotBlank();
      });
      assertThat(rejects.get("bad-malformed-avro").getSourceTopic()).isEqualTo(topics.uploads().name());
      assertThat(rejects.get("bad-query-corrupt").getSourceTopic()).isEqualTo(topics.queries().name());
      assertThat(prepared.get("good-query").getPurpose()).isEqualTo(Purpose.QUERY);
      assertThat(prepared.get("good-query").getPdqDihedral()).hasSize(8);
      assertThat(prepared.get("good-exif-rotated").getWidth()).isEqualTo(300); // 400x300 stored, rotated
      assertThat(prepared.get("good-exif-rotated").getHeight()).isEqualTo(400);
      assertThat(prepared.get("good-jpeg").getExactDuplicateOf()).isNull();
      assertThat(prepared.values()).allSatisfy(p -> assertThat(p.getViews().getFirst().getPixels().remaining())
          .isEqualTo(224 * 224 * 3));
      assertThat(app.counters().get("query.skipped")).isEqualTo(1);
      assertThat(app.counters().get("rejected.CORRUPT_IMAGE")).isEqualTo(6);
    }
  }

  @Test
  void aByteIdenticalCopyOfAProtectedImageRaisesAnExactAlertAtOnce(KafkaBroker broker) throws Exception {
    Topics topics = new Topics(broker.uniqueName("exact") + ".");
    byte[] work = TestImages.jpeg(500, 400, 77);
    try (IngestStreamApp app = startApp(broker, topics, tmp);
        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(broker.producerProps());
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(broker.consumerProps(broker.uniqueName("g")))) {
      consumer.subscribe(List.of(topics.prepared().name(), topics.matchAlerts().name()));
      Map<String, PreparedImage> prepared = new HashMap<>();
      List<MatchAlert> alerts = new ArrayList<>();
      Predicate<ConsumerRecord<byte[], byte[]>> collect = rec -> {
        if (rec.topic().equals(topics.prepared().name())) {
          PreparedImage p = topics.prepared().deserializeValue(rec.value());
          prepared.put(p.getId(), p);
        } else {
          alerts.add(topics.matchAlerts().deserializeValue(rec.value()));
        }
        return false;
      };
      ImageSubmission original = submission("work-1", "acme", "protected", new InlineImage(ByteBuffer.wrap(work), null));
      producer.send(topics.uploads().record("work-1", original)).get();
      poll(consumer, rec -> collect.test(rec) || prepared.containsKey("work-1"));
      ImageSubmission copy = submission("upload-9", "acme", "uploads", new InlineImage(ByteBuffer.wrap(work), null));
      producer.send(topics.uploads().record("upload-9", copy)).get();
      poll(consumer, rec -> collect.test(rec) || (prepared.containsKey("upload-9") && !alerts.isEmpty()));

      assertThat(prepared.get("upload-9").getExactDuplicateOf()).isEqualTo("work-1");
      if (app.state() == KafkaStreams.State.RUNNING) { // records came through: running unless a rebalance began
        assertThat(http(app, "/ready")).startsWith("200 ");
      }
      assertThat(http(app, "/health")).startsWith("200 ");
      assertThat(http(app, "/metrics"))
          .contains("imgmatch_ingest_exact_alerts_total{service=\"ingest-stream\"} 1.0")
          .contains("imgmatch_ingest_exact_duplicates_total{service=\"ingest-stream\"} 1.0")
          .contains("imgmatch_ingest_prepare_seconds_count{input=\"uploads\",service=\"ingest-stream\"} 2")
          .contains("kafka_consumer_fetch_manager_records_lag_max");
      assertThat(alerts).singleElement().satisfies(a -> {
        assertThat(a.getImageId()).isEqualTo("upload-9");
        assertThat(a.getDetector()).isEqualTo("exact");
        assertThat(a.getMatches().getFirst().getImageId()).isEqualTo("work-1");
      });
      assertThat(app.counters().get("exact.alert")).isEqualTo(1);
    }
  }

  @Test
  void aRestartOnAnEmptyDiskRestoresTheExactCopyStoreAndWritesEveryOutputOnce(KafkaBroker broker) throws Exception {
    Topics topics = new Topics(broker.uniqueName("restart") + ".");
    String appId = broker.uniqueName("ingest-restart");
    byte[] work = TestImages.jpeg(320, 240, 5);
    List<String> prepared = new ArrayList<>();
    List<MatchAlert> alerts = new ArrayList<>();
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(broker.producerProps());
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(broker.consumerProps(broker.uniqueName("g")))) {
      consumer.subscribe(List.of(topics.prepared().name(), topics.matchAlerts().name()));
      Predicate<ConsumerRecord<byte[], byte[]>> collect = rec -> {
        if (rec.topic().equals(topics.prepared().name())) {
          prepared.add(topics.prepared().deserializeKey(rec.key()));
        } else {
          alerts.add(topics.matchAlerts().deserializeValue(rec.value()));
        }
        return false;
      };
      try (IngestStreamApp first = startApp(broker, topics, tmp, appId, tmp.resolve("state-1"))) {
        producer.send(topics.uploads().record("work-1",
            submission("work-1", "acme", "banned", new InlineImage(ByteBuffer.wrap(work), null)))).get();
        for (int i = 0; i < 8; i++) {
          byte[] other = TestImages.jpeg(160, 120, 100 + i);
          producer.send(topics.uploads().record("u" + i,
              submission("u" + i, "acme", "uploads", new InlineImage(ByteBuffer.wrap(other), null)))).get();
        }
        poll(consumer, rec -> collect.test(rec) || prepared.size() == 9);
      }
      // a second instance with the same application id and an empty state directory: the store comes back
      // from its changelog, and the consumed offsets from the group, so nothing is processed twice
      try (IngestStreamApp second = startApp(broker, topics, tmp, appId, tmp.resolve("state-2"))) {
        producer.send(topics.uploads().record("copy-1",
            submission("copy-1", "acme", "uploads", new InlineImage(ByteBuffer.wrap(work), null)))).get();
        poll(consumer, rec -> collect.test(rec) || (prepared.contains("copy-1") && !alerts.isEmpty()));
        // give a duplicate (if any) time to show up: read for two more seconds
        long until = System.currentTimeMillis() + 2_000;
        while (System.currentTimeMillis() < until) {
          consumer.poll(Duration.ofMillis(200)).forEach(collect::test);
        }
      }
    }
    assertThat(prepared).hasSize(10).doesNotHaveDuplicates();
    assertThat(alerts).singleElement().satisfies(a -> {
      assertThat(a.getImageId()).isEqualTo("copy-1");
      assertThat(a.getMatches().getFirst().getImageId()).isEqualTo("work-1");
      assertThat(a.getMatches().getFirst().getCollection()).isEqualTo("banned");
    });
  }

  /** Polls until {@code done} answers true for a record, or fails after 90 s. */
  /** "STATUS BODY" of a GET on the app's endpoint. */
  private static String http(IngestStreamApp app, String path) {
    try {
      java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
          java.net.http.HttpRequest.newBuilder(java.net.URI.create(app.endpoint().url(path))).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString());
      return r.statusCode() + " " + r.body();
    } catch (java.io.IOException | InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  private static void poll(KafkaConsumer<byte[], byte[]> consumer, Predicate<ConsumerRecord<byte[], byte[]>> done) {
    long deadline = System.currentTimeMillis() + 90_000;
    while (System.currentTimeMillis() < deadline) {
      for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
        if (done.test(r)) {
          return;
        }
      }
    }
    throw new AssertionError("timed out waiting for ingest-stream's output");
  }

  private static byte[] noisePng(int w, int h) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Random r = new Random(1);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.setRGB(x, y, r.nextInt(0xFFFFFF));
      }
    }
    byte[] png = TestImages.encode(img, "png");
    assertThat(png.length).isGreaterThan(MAX_IMAGE_BYTES);
    return png;
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }
}
