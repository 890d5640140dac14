package dev.imgmatch.schemas;

import dev.imgmatch.avro.BankEntry;
import dev.imgmatch.avro.CollectionSettings;
import dev.imgmatch.avro.Deletion;
import dev.imgmatch.avro.ImageEmbedding;
import dev.imgmatch.avro.ImageExtras;
import dev.imgmatch.avro.ImagePreview;
import dev.imgmatch.avro.ImageSubmission;
import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.avro.ModelServing;
import dev.imgmatch.avro.PreparedImage;
import dev.imgmatch.avro.QueryReply;
import dev.imgmatch.avro.QueryRequest;
import dev.imgmatch.avro.ReviewDecision;
import dev.imgmatch.avro.Reject;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.Serdes;

/**
 * Every topic imgmatch uses, under one configurable prefix (default {@value #DEFAULT_PREFIX}).
 * docs/ARCHITECTURE.md describes who writes and reads each.
 *
 * <p>Keys are UTF-8 strings (image id or query id) everywhere except {@link #rejects()}, whose key is
 * the rejected record's key bytes unchanged.
 */
public record Topics(String prefix) {
  public static final String DEFAULT_PREFIX = "imgmatch.";

  /** Inline images up to {@link Limits#MAX_IMAGE_BYTES} (20 MiB) plus envelope. */
  public static final int MAX_MESSAGE_BYTES = 21 * 1024 * 1024;
  /**
   * Records without images (descriptors, alerts, replies, takedowns): 1 MiB, Kafka's own default. Every field that
   * reaches them is bounded ({@link Limits}), so a valid record stays far below it.
   */
  public static final int SMALL_MESSAGE_BYTES = 1024 * 1024;

  private static Map<String, String> size(int bytes) {
    return Map.of("max.message.bytes", String.valueOf(bytes));
  }

  private static final int PARTITIONS = 6;

  public Topics {
    if (prefix == null || !prefix.matches("[a-zA-Z0-9._-]{0,200}")) {
      throw new IllegalArgumentException("invalid topic prefix '" + prefix + "': use letters, digits, '.', '_' or '-'");
    }
  }

  public static Topics defaults() {
    return new Topics(DEFAULT_PREFIX);
  }

  public Topic<String, ImageSubmission> uploads() {
    return new Topic<>(prefix + "uploads", Serdes.String(), AvroSerde.of(ImageSubmission.class), ImageSubmission.class,
        PARTITIONS, Map.of("max.message.bytes", String.valueOf(MAX_MESSAGE_BYTES)),
        "uploaded images from platforms and the CLI");
  }

  public Topic<String, QueryRequest> queries() {
    return new Topic<>(prefix + "queries", Serdes.String(), AvroSerde.of(QueryRequest.class), QueryRequest.class,
        PARTITIONS, Map.of("max.message.bytes", String.valueOf(MAX_MESSAGE_BYTES)),
        "query requests by image, image id or vector");
  }

  public Topic<String, PreparedImage> prepared() {
    return new Topic<>(prefix + "prepared", Serdes.String(), AvroSerde.of(PreparedImage.class), PreparedImage.class,
        PARTITIONS, Map.of("max.message.bytes", String.valueOf(MAX_MESSAGE_BYTES)),
        "validated, decoded, hashed images ready for the model");
  }

  public Topic<String, ImageEmbedding> embeddings() {
    return new Topic<>(prefix + "embeddings", Serdes.String(), AvroSerde.of(ImageEmbedding.class), ImageEmbedding.class,
        PARTITIONS, Map.of("max.message.bytes", String.valueOf(SMALL_MESSAGE_BYTES), "retention.ms", "-1"),
        "descriptors and hashes of uploads to index (partition = index shard); kept forever: the index's rebuild "
            + "source");
  }

  /** How long {@link #embeddingExtras()} keeps a record when imgmatch creates it: 7 days. */
  public static final long EXTRAS_RETENTION_MS = 7L * 24 * 3600 * 1000;

  /**
   * The parts of an upload's embeddings record used once, when index-service first reads it (its local features
   * unless its collection's are kept in the index, its preview), written beside it (same key, same partition, same
   * transaction) so that {@link #embeddings()}, kept for ever, does not keep them: 7 days.
   */
  public Topic<String, ImageExtras> embeddingExtras() {
    return new Topic<>(prefix + "embedding-extras", Serdes.String(), AvroSerde.of(ImageExtras.class),
        ImageExtras.class, PARTITIONS, Map.of("max.message.bytes", String.valueOf(SMALL_MESSAGE_BYTES),
            "retention.ms", String.valueOf(EXTRAS_RETENTION_MS)),
        "what matching an upload needs once (local features, preview), beside embeddings; kept 7 days");
  }

  public Topic<String, ImageEmbedding> probes() {
    return new Topic<>(prefix + "probes", Serdes.String(), AvroSerde.of(ImageEmbedding.class), ImageEmbedding.class,
        PARTITIONS, size(SMALL_MESSAGE_BYTES),
        "descriptors and hashes of image queries to look up (uploads are matched from embeddings)");
  }

  public Topic<String, MatchAlert> matchAlerts() {
    return new Topic<>(prefix + "match-alerts", Serdes.String(), AvroSerde.of(MatchAlert.class), MatchAlert.class,
        PARTITIONS, size(SMALL_MESSAGE_BYTES), "copies detected");
  }

  public Topic<String, QueryReply> queryReplies() {
    return new Topic<>(prefix + "query-replies", Serdes.String(), AvroSerde.of(QueryReply.class), QueryReply.class,
        PARTITIONS, size(SMALL_MESSAGE_BYTES), "default topic for query replies");
  }

  public Topic<String, Deletion> deletions() {
    return new Topic<>(prefix + "deletions", Serdes.String(), AvroSerde.of(Deletion.class), Deletion.class,
        PARTITIONS, size(SMALL_MESSAGE_BYTES), "takedowns: remove an image from the index");
  }

  public Topic<byte[], Reject> rejects() {
    return new Topic<>(prefix + "rejects", Serdes.ByteArray(), AvroSerde.of(Reject.class), Reject.class,
        PARTITIONS, Map.of("max.message.bytes", String.valueOf(MAX_MESSAGE_BYTES), "retention.ms", String.valueOf(30L * 24 * 3600 * 1000)),
        "dead letters: records a stage could not process, with the reason");
  }

  /**
   * The original bytes of every accepted image of a reference collection ({@code originals.collections}, default
   * {@code protected}, {@code banned}), as an inline {@code ImageSubmission}, key = {@link #originalKey}: compacted
   * and kept forever, so that a new model version can re-embed the references ({@code ./imgmatch reindex}). A
   * takedown writes a tombstone.
   */
  public Topic<String, ImageSubmission> originals() {
    return new Topic<>(prefix + "originals", Serdes.String(), AvroSerde.of(ImageSubmission.class),
        ImageSubmission.class, PARTITIONS, Map.of("max.message.bytes", String.valueOf(MAX_MESSAGE_BYTES),
            "cleanup.policy", "compact", "retention.ms", "-1"),
        "original bytes of reference images, for re-embedding with a new model version (compacted)");
  }

  /** The key of an image on {@link #originals()}: tenant and id (ids are unique within a tenant only). */
  public static String originalKey(String tenant, String imageId) {
    return tenant + '\u001f' + imageId;
  }

  /** Key of the one record of {@link #modelServing()}. */
  public static final String SERVING_KEY = "serving";

  /** The model version embedder-workers serve ({@code ./imgmatch reindex} switches it): compacted, one partition. */
  public Topic<String, ModelServing> modelServing() {
    return new Topic<>(prefix + "model-serving", Serdes.String(), AvroSerde.of(ModelServing.class),
        ModelServing.class, 1, Map.of("max.message.bytes", String.valueOf(SMALL_MESSAGE_BYTES),
            "cleanup.policy", "compact", "retention.ms", "-1"),
        "the model version embedder-workers use for new images (written by reindex)");
  }

  /**
   * Entries of hash-list banks ({@code ./imgmatch bank import}), key = {@link #bankEntryKey}: compacted and kept
   * forever; a tombstone removes an entry. Every index-service instance reads all of it.
   */
  public Topic<String, BankEntry> bankEntries() {
    return new Topic<>(prefix + "bank-entries", Serdes.String(), AvroSerde.of(BankEntry.class), BankEntry.class,
        PARTITIONS, Map.of("max.message.bytes", String.valueOf(SMALL_MESSAGE_BYTES), "cleanup.policy", "compact",
            "retention.ms", "-1"),
        "entries of hash-list banks: PDQ, MD5, SHA-256 without images (compacted)");
  }

  /**
   * Run-time settings of hash-list banks (enabled, PDQ distance), key = {@link #settingsKey}: compacted, kept
   * forever, read whole by every index-service instance.
   */
  public Topic<String, CollectionSettings> collectionSettings() {
    return new Topic<>(prefix + "collection-settings", Serdes.String(), AvroSerde.of(CollectionSettings.class),
        CollectionSettings.class, 1, Map.of("max.message.bytes", String.valueOf(SMALL_MESSAGE_BYTES),
            "cleanup.policy", "compact", "retention.ms", "-1"),
        "run-time settings of banks (enabled, PDQ distance), compacted");
  }

  /**
   * Moderators' verdicts on alerts (the review console), key = {@link #reviewKey}: the audit trail, kept forever and
   * never compacted; every index-service instance reads all of it (dismissed pairs never alert again).
   */
  public Topic<String, ReviewDecision> reviewDecisions() {
    return new Topic<>(prefix + "review-decisions", Serdes.String(), AvroSerde.of(ReviewDecision.class),
        ReviewDecision.class, PARTITIONS, Map.of("max.message.bytes", String.valueOf(SMALL_MESSAGE_BYTES),
            "cleanup.policy", "delete", "retention.ms", "-1"),
        "moderators' confirm/dismiss decisions on alerts (audit trail; dismissed pairs never alert again)");
  }

  /** The key of a review decision: the upload's tenant and image id. */
  public static String reviewKey(String tenant, String imageId) {
    return tenant + '\u001f' + imageId;
  }

  /** Default {@code retention.ms} of {@link #previews()}: 30 days (index-service's {@code preview.retention.ms}). */
  public static final long DEFAULT_PREVIEW_RETENTION_MS = 30L * 24 * 3600 * 1000;

  /**
   * Colour previews of uploads that raised an alert, for the review console, key = {@link #previewKey}: written by
   * index-service in the transaction of the alert; compacted and deleted after {@value #DEFAULT_PREVIEW_RETENTION_MS}
   * ms (index-service creates it with its {@code preview.retention.ms}); a takedown writes a tombstone. Nothing is
   * written for an upload that matches nothing.
   */
  public Topic<String, ImagePreview> previews() {
    return new Topic<>(prefix + "previews", Serdes.String(), AvroSerde.of(ImagePreview.class), ImagePreview.class,
        PARTITIONS, Map.of("max.message.bytes", String.valueOf(SMALL_MESSAGE_BYTES), "cleanup.policy",
            "compact,delete", "retention.ms", String.valueOf(DEFAULT_PREVIEW_RETENTION_MS)),
        "colour previews of alerted uploads for the review console (compacted, expire)");
  }

  /**
   * Colour previews of reference images (those of a collection a match rule targets), key = {@link #previewKey}:
   * compacted and kept as long as the image is (the {@code originals} topic keeps its full bytes for ever anyway); a
   * takedown writes a tombstone.
   */
  public Topic<String, ImagePreview> referencePreviews() {
    return new Topic<>(prefix + "reference-previews", Serdes.String(), AvroSerde.of(ImagePreview.class),
        ImagePreview.class, PARTITIONS, Map.of("max.message.bytes", String.valueOf(SMALL_MESSAGE_BYTES),
            "cleanup.policy", "compact", "retention.ms", "-1"),
        "colour previews of reference images for the review console (compacted, kept while indexed)");
  }

  /** The key of an image on {@link #previews()} and {@link #referencePreviews()}: tenant and id. */
  public static String previewKey(String tenant, String imageId) {
    return tenant + '\u001f' + imageId;
  }

  /** The key of a settings record: kind, tenant and name. */
  public static String settingsKey(String kind, String tenant, String name) {
    return kind + '\u001f' + tenant + '\u001f' + name;
  }

  /** A {@link #settingsKey} taken apart. */
  public record SettingsKey(String kind, String tenant, String name) {}

  /** The parts of a raw settings key of {@code topic}, or null when it is none (absent, undecodable, not three parts). */
  public static SettingsKey parseSettingsKey(Topic<String, ?> topic, byte[] raw) {
    String key;
    try {
      key = raw == null ? null : topic.deserializeKey(raw);
    } catch (RuntimeException e) {
      return null;
    }
    String[] parts = key == null ? new String[0] : key.split("\u001f", 3);
    return parts.length == 3 ? new SettingsKey(parts[0], parts[1], parts[2]) : null;
  }

  /** The key of a bank entry on {@link #bankEntries()}: tenant, bank and entry id. */
  public static String bankEntryKey(String tenant, String bank, String entryId) {
    return tenant + '\u001f' + bank + '\u001f' + entryId;
  }

  /**
   * The {@code max.request.size} of a producer writing to these topics: the largest record any of them takes, so
   * that a producer never refuses what its topic accepts (and the topic refuses what it must not carry).
   */
  public static int maxRequestSize(Topic<?, ?>... written) {
    int max = SMALL_MESSAGE_BYTES;
    for (Topic<?, ?> t : written) {
      max = Math.max(max, t.maxMessageBytes());
    }
    return max;
  }

  /** Every topic, in pipeline order. */
  public List<Topic<?, ?>> all() {
    return List.of(uploads(), queries(), prepared(), embeddings(), embeddingExtras(), probes(), matchAlerts(),
        queryReplies(), deletions(), rejects(), originals(), modelServing(), bankEntries(), collectionSettings(),
        reviewDecisions(), previews(), referencePreviews());
  }
}
