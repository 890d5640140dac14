package dev.imgmatch.cli;

import dev.imgmatch.avro.Deletion;
import dev.imgmatch.avro.ImageEmbedding;
import dev.imgmatch.avro.ImageIdTarget;
import dev.imgmatch.avro.ImageReference;
import dev.imgmatch.avro.ImageSubmission;
import dev.imgmatch.avro.InlineImage;
import dev.imgmatch.avro.QueryParams;
import dev.imgmatch.avro.QueryRequest;
import dev.imgmatch.avro.VectorTarget;
import dev.imgmatch.cli.samples.SampleImages;
import dev.imgmatch.schemas.Topic;
import dev.imgmatch.schemas.Topics;
import dev.imgmatch.testkit.ImageBytes;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The fault-injection corpus: bad records of every kind the stack's input topics can receive, each with the
 * outcome it must have — one reject per consuming stage with a named reason, or (for hostile but valid input) one
 * embedding like any good upload. Keys are {@code bad-<name>} so that rejects can be told apart.
 */
final class HostileInputs {
  /** What a case must end in: reason per stage ({@code ingest-stream}, {@code embedder-worker}, {@code index-service}), or accepted. */
  record Case(String name, String topic, ProducerRecord<byte[], byte[]> record, Map<String, String> rejects,
      boolean accepted) {
    String key() {
      return "bad-" + name;
    }
  }

  private final Topics topics;
  private final Random rnd;
  private final ImageEmbedding sampleEmbedding;
  private final List<Case> cases = new ArrayList<>();

  /** @param sampleEmbedding a real embedding of this stack, to derive subtly wrong ones from */
  HostileInputs(Topics topics, long seed, ImageEmbedding sampleEmbedding) {
    this.topics = topics;
    this.rnd = new Random(seed);
    this.sampleEmbedding = sampleEmbedding;
    build();
  }

  List<Case> cases() {
    return cases;
  }

  private static final String INGEST = "ingest-stream";
  private static final String EMBEDDER = "embedder-worker";
  private static final String INDEX = "index-service";

  private void build() {
    byte[] jpeg = SampleImages.jpeg(SampleImages.original(rnd.nextLong(), 320, 240), 0.85f);
    byte[] png = SampleImages.png(SampleImages.original(rnd.nextLong(), 200, 150));
    // ---- uploads (ingest-stream): images
    upload("empty-image", new byte[0], "EMPTY_IMAGE");
    upload("random-bytes", random(5000), "UNSUPPORTED_FORMAT");
    upload("pdf", "%PDF-1.4 not an image".getBytes(StandardCharsets.US_ASCII), "UNSUPPORTED_FORMAT");
    upload("truncated-jpeg", Arrays.copyOf(jpeg, jpeg.length * 6 / 10), "CORRUPT_IMAGE");
    upload("png-bad-crc", ImageBytes.withBadIdatCrc(png), "CORRUPT_IMAGE");
    upload("png-dimension-bomb", ImageBytes.pngHeaderOnly(30000, 30000), "TOO_MANY_PIXELS");
    upload("jpeg-dimension-bomb", ImageBytes.jpegDeclaring(jpeg, 60000, 60000), "TOO_MANY_PIXELS");
    upload("png-one-pixel", SampleImages.png(new java.awt.image.BufferedImage(1, 1, java.awt.image.BufferedImage.TYPE_INT_RGB)),
        "IMAGE_TOO_SMALL");
    upload("progressive-scan-bomb", ImageBytes.withEmptyScans(jpeg, 150), "TOO_MANY_SCANS");
    upload("oversized-image", withJpegMagic(random(20 * 1024 * 1024 + 10)), "IMAGE_TOO_LARGE");
    acceptedUpload("png-text-bomb", ImageBytes.withPngChunk(png, "zTXt", ImageBytes.zTxtBomb(256)));
    // ---- uploads: fields and records
    submission("attributes-1.2MB", "t", "uploads", jpeg, Map.of("blob", "x".repeat(1_200_000)), "FIELD_TOO_LARGE");
    raw(topics.uploads(), "image-id-600B", topics.uploads().serializeValue(submissionOf("i".repeat(600), "t", "uploads",
        jpeg, Map.of())), Map.of(INGEST, "FIELD_TOO_LARGE"));
    submission("tenant-300", "t".repeat(300), "uploads", jpeg, Map.of(), "FIELD_TOO_LARGE");
    raw(topics.uploads(), "empty-image-id", topics.uploads().serializeValue(submissionOf("", "t", "uploads", jpeg,
        Map.of())), Map.of(INGEST, "INVALID_RECORD"));
    submission("empty-tenant", "", "uploads", jpeg, Map.of(), "INVALID_RECORD");
    ImageSubmission file = submissionOf(key("reference-file-uri"), "t", "uploads", jpeg, Map.of());
    file.setImage(new ImageReference("file:///etc/passwd"));
    raw(topics.uploads(), "reference-file-uri", topics.uploads().serializeValue(file),
        Map.of(INGEST, "REFERENCE_NOT_ALLOWED"));
    raw(topics.uploads(), "malformed-avro", random(3000), Map.of(INGEST, "MALFORMED_RECORD"));
    raw(topics.uploads(), "avro-length-bomb", lengthBomb(topics.uploads().serializeValue(
        submissionOf(key("avro-length-bomb"), "t", "uploads", jpeg, Map.of()))), Map.of(INGEST, "MALFORMED_RECORD"));
    raw(topics.uploads(), "unknown-schema", unknownSchema(), Map.of(INGEST, "UNKNOWN_SCHEMA"));
    raw(topics.uploads(), "empty-record", new byte[0], Map.of(INGEST, "EMPTY_RECORD"));
    raw(topics.uploads(), "null-record", null, Map.of(INGEST, "EMPTY_RECORD"));
    byte[] hugeKey = ("bad-huge-key-" + "k".repeat(100_000)).getBytes(StandardCharsets.UTF_8);
    // the key of an upload is informational (the image id travels in the value): accepted, never copied downstream
    cases.add(new Case("huge-key", topics.uploads().name(), new ProducerRecord<>(topics.uploads().name(), hugeKey,
        topics.uploads().serializeValue(submissionOf("bad-huge-key", "t", "uploads", jpeg, Map.of()))),
        Map.of(), true));
    // ---- queries (ingest-stream reads image queries, index-service id and vector queries)
    raw(topics.queries(), "query-2MB-random", random(2 * 1024 * 1024),
        Map.of(INGEST, "MALFORMED_RECORD", INDEX, "MALFORMED_RECORD"));
    query("query-k-million", new ImageIdTarget("prot-0"), 1_000_000, null, "INVALID_QUERY");
    query("query-foreign-reply-topic", new ImageIdTarget("prot-0"), 5, "someone-elses-topic", "INVALID_QUERY");
    List<Float> nan = new ArrayList<>(sampleEmbedding.getVector());
    nan.set(0, Float.NaN);
    query("query-nan-vector", new VectorTarget(sampleEmbedding.getModelVersion(), nan), 5, null, "INVALID_QUERY");
    query("query-unknown-model", new VectorTarget("no-such-model", sampleEmbedding.getVector()), 5, null,
        "INVALID_QUERY");
    query("query-unknown-image", new ImageIdTarget("never-uploaded"), 5, null, "INVALID_QUERY");
    // ---- deletions (index-service)
    raw(topics.deletions(), "deletion-malformed", random(500), Map.of(INDEX, "MALFORMED_RECORD"));
    raw(topics.deletions(), "deletion-without-tenant", topics.deletions().serializeValue(Deletion.newBuilder()
        .setImageId("prot-0").setTenant("").setRequestedAtMs(System.currentTimeMillis()).build()),
        Map.of(INDEX, "INVALID_DELETION"));
    // ---- prepared (embedder-worker)
    raw(topics.prepared(), "prepared-malformed", random(4000), Map.of(EMBEDDER, "MALFORMED_RECORD"));
    raw(topics.prepared(), "prepared-unknown-schema", unknownSchema(), Map.of(EMBEDDER, "UNKNOWN_SCHEMA"));
    // ---- embeddings (index-service)
    raw(topics.embeddings(), "embedding-malformed", random(4000), Map.of(INDEX, "MALFORMED_RECORD"));
    ImageEmbedding nanEmb = ImageEmbedding.newBuilder(sampleEmbedding).setId(key("embedding-nan")).setVector(nan).setExtraViews(List.of())
        .build();
    raw(topics.embeddings(), "embedding-nan", topics.embeddings().serializeValue(nanEmb),
        Map.of(INDEX, "INVALID_EMBEDDING"));
    List<Float> shortVec = new ArrayList<>(sampleEmbedding.getVector().subList(0, 17));
    ImageEmbedding wrongDim = ImageEmbedding.newBuilder(sampleEmbedding).setId(key("embedding-wrong-dimension"))
        .setVector(shortVec).setExtraViews(List.of()).build();
    raw(topics.embeddings(), "embedding-wrong-dimension", topics.embeddings().serializeValue(wrongDim),
        Map.of(INDEX, "INVALID_EMBEDDING"));
  }

  private static String key(String name) {
    return "bad-" + name;
  }

  private void upload(String name, byte[] image, String reason) {
    submission(name, "t", "uploads", image, Map.of(), reason);
  }

  private void acceptedUpload(String name, byte[] image) {
    ImageSubmission s = submissionOf(key(name), "t", "uploads", image, Map.of());
    cases.add(new Case(name, topics.uploads().name(), topics.uploads().record(key(name), s), Map.of(), true));
  }

  private void submission(String name, String tenant, String collection, byte[] image, Map<String, String> attrs,
      String reason) {
    ImageSubmission s = submissionOf(key(name), tenant, collection, image, attrs);
    cases.add(new Case(name, topics.uploads().name(), topics.uploads().record(key(name), s), Map.of(INGEST, reason),
        false));
  }

  static ImageSubmission submissionOf(String id, String tenant, String collection, byte[] image,
      Map<String, String> attrs) {
    return ImageSubmission.newBuilder().setImageId(id).setTenant(tenant).setCollection(collection)
        .setImage(new InlineImage(ByteBuffer.wrap(image), null)).setAttributes(new HashMap<>(attrs))
        .setSubmittedAtMs(System.currentTimeMillis()).build();
  }

  private void query(String name, Object target, int k, String replyTopic, String reason) {
    QueryParams p = QueryParams.newBuilder().setK(k).setRequestedAtMs(System.currentTimeMillis())
        .setTimeoutMs(600_000).setReplyTopic(replyTopic).build();
    QueryRequest q = QueryRequest.newBuilder().setQueryId(key(name)).setTenant("t").setTarget(target).setParams(p)
        .build();
    cases.add(new Case(name, topics.queries().name(), topics.queries().record(key(name), q), Map.of(INDEX, reason),
        false));
  }

  private void raw(Topic<?, ?> topic, String name, byte[] value, Map<String, String> rejects) {
    cases.add(new Case(name, topic.name(), new ProducerRecord<>(topic.name(),
        key(name).getBytes(StandardCharsets.UTF_8), value), rejects, false));
  }

  private byte[] random(int n) {
    byte[] b = new byte[n];
    rnd.nextBytes(b);
    return b;
  }

  /** Avro single-object header with a fingerprint no schema has. */
  private byte[] unknownSchema() {
    byte[] b = random(64);
    b[0] = (byte) 0xC3;
    b[1] = 0x01;
    return b;
  }

  /** The record cut to 20 bytes, its first string declaring 1.5 GB. */
  private static byte[] lengthBomb(byte[] good) {
    byte[] bomb = Arrays.copyOf(good, 20);
    int i = 10;
    long z = 1_500_000_000L << 1; // zig-zag varint of the first field's length
    while ((z & ~0x7FL) != 0) {
      bomb[i++] = (byte) ((z & 0x7F) | 0x80);
      z >>>= 7;
    }
    bomb[i] = (byte) z;
    return bomb;
  }

  private static byte[] withJpegMagic(byte[] b) {
    b[0] = (byte) 0xFF;
    b[1] = (byte) 0xD8;
    b[2] = (byte) 0xFF;
    return b;
  }
}
