package dev.imgmatch.index;

import dev.imgmatch.common.GrayThumb;

/**
 * Field names of a shard's Lucene documents (docs/modules/index-service.md lists them with their types).
 */
public final class Fields {
  private Fields() {}

  /** tenant + U+001F + image id: the upsert / delete key (StringField, stored). */
  public static final String UID = "uid";
  /** "image" or "tombstone" (StringField). */
  public static final String KIND = "kind";
  public static final String KIND_IMAGE = "image";
  public static final String KIND_TOMBSTONE = "tombstone";
  /**
   * A model version's descriptors that arrived (reindex's ADD_VECTORS) before the upload they belong to was indexed:
   * kept, keyed by {@link #PENDING_UID}, until that upload arrives ({@link ShardVersions}).
   */
  public static final String KIND_PENDING = "pending";
  public static final String PENDING_UID = "pending_uid";
  /** Pending descriptors, stored only (never searched): version, the upload's submission time, float32 vectors. */
  public static final String PENDING_VERSION = "pending_version";
  public static final String PENDING_SUBMITTED_MS = "pending_submitted_ms";
  public static final String PENDING_VECTOR = "pending_vector";
  public static final String PENDING_SMALL = "pending_small";
  public static final String IMAGE_ID = "image_id";
  public static final String TENANT = "tenant";
  public static final String COLLECTION = "collection";
  public static final String SOURCE = "source";
  /** Submission time, epoch ms (LongPoint + stored). */
  public static final String SUBMITTED_MS = "submitted_ms";
  /** Tombstones: the deletion's request time, epoch ms (stored). */
  public static final String DELETED_MS = "deleted_ms";
  public static final String MODEL_VERSION = "model_version";
  /**
   * The further model versions an image has descriptors of (stored, multi-valued): added by {@code reindex}
   * ({@code IndexOp} ADD_VECTORS) beside the version it was indexed with, until the older ones are retired.
   */
  public static final String MODEL_VERSION_EXTRA = "model_version_extra";
  /** SHA-256, 32 raw bytes (StringField over the bytes, stored). */
  public static final String SHA256 = "sha256";
  /** MD5 of the submitted file, 16 raw bytes (StringField over the bytes, stored; hash-list banks' MD5 entries). */
  public static final String MD5 = "md5";
  /** PDQ hash, 32 bytes (BinaryDocValues: exact verification and brute-force scans). */
  public static final String PDQ = "pdq";
  /** The embedding's background cosine of the indexed model version (stored float; absent when null). */
  public static final String BACKGROUND = "background";
  /** PDQ quality 0-100 (NumericDocValues). */
  public static final String PDQ_QUALITY = "pdq_quality";
  /** The 16 MIH chunk terms of the PDQ hash (StringField over 3 bytes, multi-valued). */
  public static final String PDQ_CHUNKS = "pdq_chunk";
  /**
   * Local features of a reference (module local-features' encoding, stored) as shards written before the seventeenth
   * session hold them; still read ({@link #LOCAL_FEATURES_DEFLATED} is written now).
   */
  public static final String LOCAL_FEATURES = "local";
  /** Local features of a reference: the encoding deflated (raw DEFLATE, level 1; stored), about a quarter smaller. */
  public static final String LOCAL_FEATURES_DEFLATED = "localz";
  /** Its visual words ({@code VisualWords}), one 4-byte big-endian term per distinct word (indexed, no norms). */
  public static final String LOCAL_WORDS = "localw";
  /** How many distinct words it has (numeric doc value): the length its word score is normalised by. */
  public static final String LOCAL_WORD_COUNT = "localwn";

  /** Greyscale thumbnail for verification, {@link GrayThumb#encode} (stored). */
  public static final String THUMBNAIL = "thumbnail";
  /**
   * The thumbnail's coarse layout ({@link Layout#indexed}: 8 x 8 cells, centred, unit length; a vector field, dot
   * product): how a pixelated probe finds its original. Absent for a flat thumbnail or none; images indexed before it
   * existed have none until re-indexed.
   */
  public static final String LAYOUT = "layout";
  /**
   * Layouts of windows of the thumbnail ({@link Layout#indexedWindows}: {@link Layout#INDEXED_WINDOW_SIDE} of each
   * side, at the corners and the centre), each a vector field of its own ({@link #layoutWindow}): how a pixelated probe
   * cropped before or after the pixelating finds its original when the whole layouts differ too much. Only on images
   * that keep their local features (the references of {@code index.local.collections}); absent where the window is
   * flat, and on images indexed before they existed until re-indexed.
   */
  public static final int LAYOUT_WINDOWS = Layout.INDEXED_WINDOW_AT.length;

  /** The vector field of the {@code i}-th indexed window layout ({@link #LAYOUT_WINDOWS}). */
  public static String layoutWindow(int i) {
    return "layoutw" + i;
  }
  /**
   * Present ({@value #MOSAIC_YES}, indexed and stored) on an image in which ingest-stream found a mosaic grid: a
   * pixelated upload, which a reference arriving later looks for by its layout ({@link Retroactive}).
   */
  public static final String MOSAIC = "mosaic";
  public static final String MOSAIC_YES = "1";
  /** Attributes, encoded key NUL value NUL ... (stored). */
  public static final String ATTRIBUTES = "attributes";

  /** The HNSW vector field of a model version: one field per version, so versions are never compared. */
  public static String vector(String modelVersion) {
    return "vec:" + modelVersion;
  }

  /** The HNSW field of a model version's small-view descriptors (ingest's {@code small} view; few documents have one). */
  public static String smallVector(String modelVersion) {
    return "vecsmall:" + modelVersion;
  }

  public static boolean isSmallVector(String field) {
    return field.startsWith("vecsmall:");
  }

  public static boolean isVector(String field) {
    return field.startsWith("vec:");
  }
}
