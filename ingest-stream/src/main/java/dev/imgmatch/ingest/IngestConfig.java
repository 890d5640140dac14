package dev.imgmatch.ingest;

import dev.imgmatch.common.KafkaResources;
import dev.imgmatch.common.MatchRules;
import dev.imgmatch.common.Settings;
import dev.imgmatch.ingest.image.BorderTrim;
import dev.imgmatch.ingest.image.FrameLimits;
import dev.imgmatch.ingest.image.ImageLimits;
import dev.imgmatch.schemas.Topics;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.ValidString;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.streams.StreamsConfig;

/**
 * Every setting of ingest-stream: one {@link ConfigDef} with a doc, a default and a validator per key,
 * cross-field checks in the constructor (failing at start with the offending values), and a masked
 * rendering for the start-up log.
 *
 * <p>Kafka client and Kafka Streams settings pass through under {@code kafka.} (e.g.
 * {@code kafka.security.protocol}, {@code kafka.num.stream.threads}); they override what this class derives.
 */
public final class IngestConfig extends AbstractConfig {
  public static final String KAFKA_PREFIX = "kafka.";

  public static final String BOOTSTRAP = "kafka.bootstrap.servers";
  public static final String APPLICATION_ID = "application.id";
  public static final String PROCESSING_GUARANTEE = "processing.guarantee";
  public static final String STREAM_THREADS = "stream.threads";
  public static final String STATE_DIR = "state.dir";
  public static final String TOPIC_PREFIX = "topic.prefix";
  public static final String TOPIC_CREATE = "topic.create";
  public static final String TOPIC_PARTITIONS = "topic.partitions";
  public static final String TOPIC_REPLICATION = "topic.replication";
  public static final String MAX_IMAGE_BYTES = "ingest.max.image.bytes";
  public static final String MAX_PIXELS = "ingest.max.pixels";
  public static final String MAX_SIDE = "ingest.max.side";
  public static final String MIN_WIDTH = "ingest.min.width";
  public static final String MIN_HEIGHT = "ingest.min.height";
  public static final String DECODE_TIMEOUT_MS = "ingest.decode.timeout.ms";
  public static final String SUBSAMPLE_MIN_SIDE = "ingest.decode.subsample.min.side";
  public static final String BACKGROUND = "ingest.background";
  public static final String VIEW_WIDTH = "ingest.view.width";
  public static final String VIEW_HEIGHT = "ingest.view.height";
  public static final String VIEW_ENCODING = "ingest.view.encoding";
  public static final String VIEW_JPEG_QUALITY = "ingest.view.jpeg.quality";
  public static final String UPLOAD_VIEWS = "ingest.upload.views";
  public static final String QUERY_VIEWS = "ingest.query.views";
  public static final String SMALL_VIEW_COLLECTIONS = "ingest.small.view.collections";
  public static final String SMALL_VIEW_SIDE = "ingest.small.view.side";
  public static final String ORIGINALS_COLLECTIONS = "originals.collections";
  public static final String THUMBNAIL_SIZE = "ingest.thumbnail.size";
  public static final String PREVIEW_SIZE = "ingest.preview.size";
  public static final String PREVIEW_QUALITY = "ingest.preview.quality";
  public static final String LOCAL_FEATURES = "ingest.local.features";
  public static final String LOCAL_REFERENCE_SIDE = "ingest.local.reference.side";
  public static final String LOCAL_REFERENCE_KEYPOINTS = "ingest.local.reference.keypoints";
  public static final String LOCAL_QUERY_SIDE = "ingest.local.query.side";
  public static final String LOCAL_QUERY_KEYPOINTS = "ingest.local.query.keypoints";
  public static final String LOCAL_QUERY_ENLARGE_SIDE = "ingest.local.query.enlarge.side";
  public static final String LOCAL_INSET = "ingest.local.inset";
  public static final String FRAMES_MAX = "ingest.frames.max";
  public static final String FRAMES_MAX_PIXELS = "ingest.frames.max.pixels";
  /** Longer side of the greyscale thumbnail index-service verifies candidates with. */
  public static final int DEFAULT_THUMBNAIL_SIZE = 64;
  public static final String TRIM_TOLERANCE = "ingest.trim.tolerance";
  public static final String TRIM_MAX_FRACTION = "ingest.trim.max.fraction";
  public static final String TRIM_MIN_FRACTION = "ingest.trim.min.fraction";
  public static final String REFERENCE_ROOTS = "ingest.reference.roots";
  /**
   * Which collections alert against which: the one rule set index-service reads too ({@link MatchRules}). An exact
   * copy uploaded into S whose first sighting is in T alerts here when the rules match S against T.
   */
  public static final String MATCH_RULES = MatchRules.KEY;
  public static final String EXACT_RETENTION_MS = "ingest.exact.retention.ms";
  public static final String EXACT_PRUNE_INTERVAL_MS = "ingest.exact.prune.interval.ms";
  public static final String MAX_REJECT_PAYLOAD = "reject.max.payload.bytes";
  public static final String COUNTERS_LOG_INTERVAL_MS = "counters.log.interval.ms";
  public static final String HTTP_HOST = "http.host";
  public static final String HTTP_PORT = "http.port";
  public static final String LOG_FORMAT = "log.format";
  /** Settings that no longer exist, refused at start with what to set instead. */
  static final Map<String, String> REMOVED = Map.of(
      "ingest.exact.alert.collections", "ingest-stream and index-service read one rule set; set " + MATCH_RULES
          + " (the same value for both): an exact copy uploaded into S whose first sighting is in T alerts when the"
          + " rules match S against T, e.g. the default " + MatchRules.DEFAULT
          + " (docs/modules/ingest-stream.md#exact-copy-store)");

  public static final ConfigDef DEF = dev.imgmatch.common.HangingTransactions.define(new ConfigDef())
      .define(BOOTSTRAP, Type.STRING, "localhost:9092", new ConfigDef.NonEmptyString(), Importance.HIGH,
          "Kafka bootstrap servers (every other kafka.* key goes to Kafka Streams and its clients unchanged).")
      .define(APPLICATION_ID, Type.STRING, "", Importance.HIGH,
          "Kafka Streams application id: consumer group, transactional id and internal topic prefix. Empty ="
              + " <topic.prefix>" + KafkaResources.INGEST_APPLICATION + " (e.g. imgmatch.ingest), inside the topic"
              + " prefix like every Kafka resource of a deployment (docs/SECURITY.md).")
      .define(PROCESSING_GUARANTEE, Type.STRING, StreamsConfig.EXACTLY_ONCE_V2,
          ValidString.in(StreamsConfig.EXACTLY_ONCE_V2, StreamsConfig.AT_LEAST_ONCE), Importance.HIGH,
          "exactly_once_v2 (default: every output and the exact-copy store commit atomically with the input"
              + " offsets) or at_least_once.")
      .define(STREAM_THREADS, Type.INT, Runtime.getRuntime().availableProcessors(), Range.between(1, 256),
          Importance.MEDIUM, "Stream threads (decoding is CPU-bound: one per core). Default: the core count.")
      .define(STATE_DIR, Type.STRING, ".imgmatch/ingest-state", new ConfigDef.NonEmptyString(), Importance.MEDIUM,
          "Directory of the RocksDB exact-copy store (rebuilt from its changelog topic when lost).")
      .define(TOPIC_PREFIX, Type.STRING, Topics.DEFAULT_PREFIX, IngestConfig::validatePrefix, Importance.HIGH,
          "Prefix of every imgmatch topic name.")
      .define(TOPIC_CREATE, Type.BOOLEAN, true, Importance.LOW,
          "Create missing imgmatch topics (and the by-sha256 repartition topic) at start.")
      .define(TOPIC_PARTITIONS, Type.INT, 0, Range.atLeast(0), Importance.LOW,
          "Partitions for topics this service creates; 0 = each topic's default (6).")
      .define(TOPIC_REPLICATION, Type.SHORT, (short) 1, Range.atLeast(1), Importance.LOW,
          "Replication factor for topics this service creates.")
      .define(MAX_IMAGE_BYTES, Type.INT, ImageLimits.DEFAULT_MAX_BYTES, Range.between(1, Topics.MAX_MESSAGE_BYTES),
          Importance.HIGH, "Largest encoded image accepted (inline or referenced); larger ones: IMAGE_TOO_LARGE.")
      .define(MAX_PIXELS, Type.LONG, ImageLimits.DEFAULT_MAX_PIXELS, Range.atLeast(1), Importance.HIGH,
          "Largest width x height accepted, read from the header before decoding (bomb guard): TOO_MANY_PIXELS.")
      .define(MAX_SIDE, Type.INT, ImageLimits.DEFAULT_MAX_SIDE, Range.atLeast(1), Importance.MEDIUM,
          "Largest width or height accepted (header): TOO_MANY_PIXELS.")
      .define(MIN_WIDTH, Type.INT, ImageLimits.DEFAULT_MIN_SIDE, Range.atLeast(1), Importance.MEDIUM,
          "Smallest width accepted: IMAGE_TOO_SMALL (tiny images make meaningless hashes and descriptors).")
      .define(MIN_HEIGHT, Type.INT, ImageLimits.DEFAULT_MIN_SIDE, Range.atLeast(1), Importance.MEDIUM,
          "Smallest height accepted: IMAGE_TOO_SMALL.")
      .define(DECODE_TIMEOUT_MS, Type.LONG, ImageLimits.DEFAULT_DECODE_TIMEOUT_MS, Range.between(1, 600_000),
          Importance.MEDIUM, "A decode running longer is aborted: DECODE_TIMEOUT.")
      .define(SUBSAMPLE_MIN_SIDE, Type.INT, ImageLimits.DEFAULT_SUBSAMPLE_MIN_SIDE, Range.atLeast(0),
          Importance.LOW, "Large images are decoded at 1/s resolution (integer s) while the shorter side stays at"
              + " least this long: less memory and time, PDQ within a few bits. 0 = always full resolution"
              + " (bit-exact with the reference PDQ).")
      .define(BACKGROUND, Type.STRING, "#FFFFFF", (name, v) -> parseColour(name, (String) v), Importance.LOW,
          "Colour (#RRGGBB) transparent pixels are composited on, for hashing and views.")
      .define(VIEW_WIDTH, Type.INT, 224, Range.between(8, 4096), Importance.HIGH,
          "Width of the model-ready view (the model's input width; the whole image is resized, aspect not kept).")
      .define(VIEW_HEIGHT, Type.INT, 224, Range.between(8, 4096), Importance.HIGH, "Height of the model-ready view.")
      .define(VIEW_ENCODING, Type.STRING, "RGB8", ValidString.in("RGB8", "PNG", "JPEG"), Importance.MEDIUM,
          "How view pixels travel: RGB8 raw bytes (default; see docs/modules/ingest-stream.md for the"
              + " measurements), PNG (lossless, smaller, slower) or JPEG (smallest, lossy).")
      .define(VIEW_JPEG_QUALITY, Type.INT, 90, Range.between(1, 100), Importance.LOW,
          "JPEG quality when " + "ingest.view.encoding=JPEG.")
      .define(UPLOAD_VIEWS, Type.LIST, List.of("full", "trim", "inset", "depixel"), IngestConfig::validateViews,
          Importance.MEDIUM,
          "Views of every upload, 'full' first: full (the whole image), hflip (full mirrored left-right), center80"
              + " (the central 80% of each side), trim (inside uniform margins: borders, letterbox; emitted only"
              + " when a margin is found), inset (a picture pasted into the image, found as a compact region of"
              + " detail on a flatter canvas; emitted only when one is found, never for the reference collections"
              + " of " + SMALL_VIEW_COLLECTIONS + "; index-service verifies the references nearest to it by local"
              + " features), depixel (a pixelated picture's blocks, one pixel each, resized like a tiny picture;"
              + " emitted only when the image is a mosaic, never for the reference collections). Each extra view"
              + " costs the embedder one more inference.")
      .define(SMALL_VIEW_COLLECTIONS, Type.LIST, List.of("protected", "banned"), Importance.MEDIUM,
          "Collections whose uploads also get the 'small' view (the image shrunk to " + SMALL_VIEW_SIDE + " px,"
              + " then embedded): index-service stores that descriptor beside the full one, so tiny, pixelated and"
              + " pasted-small copies meet their original at their own resolution. One more model run per image of"
              + " these collections (the references copies are matched against); empty = none.")
      .define(ORIGINALS_COLLECTIONS, Type.LIST, List.of("protected", "banned"), Importance.MEDIUM,
          "Collections whose accepted uploads are also kept, bytes and all, on the compacted 'originals' topic (key"
              + " tenant and id; a takedown leaves a tombstone), so that './imgmatch reindex' can re-embed them with a"
              + " new model version. Images of other collections keep the descriptors of the version they were"
              + " indexed with. Empty = none (a model upgrade then strands the index).")
      .define(SMALL_VIEW_SIDE, Type.INT, ViewEncoder.DEFAULT_SMALL_SIDE, Range.between(8, 512), Importance.LOW,
          "Longer side in pixels the 'small' view shrinks the image to before the model's resize.")
      .define(QUERY_VIEWS, Type.LIST, List.of("full", "hflip", "center80", "trim", "inset", "depixel"),
          IngestConfig::validateViews,
          Importance.MEDIUM, "Views of every image query, 'full' first (names as for " + UPLOAD_VIEWS + "); the"
              + " index takes the best similarity over them.")
      .define(THUMBNAIL_SIZE, Type.INT, DEFAULT_THUMBNAIL_SIZE, Range.between(0, 255), Importance.MEDIUM,
          "Longer side in pixels of the greyscale thumbnail sent with every upload and image query (about 4 KB at"
              + " 64), which index-service stores and verifies the best candidates with (geometric verification);"
              + " 0 = none (no verification: matching by descriptor and PDQ only).")
      .define(PREVIEW_SIZE, Type.INT, 320, Range.between(0, ColourPreviews.MAX_SIDE), Importance.MEDIUM,
          "Longer side in pixels of the colour JPEG preview sent with every upload (never with a query) for the"
              + " review console: index-service publishes it for references and for uploads that raise an alert"
              + " (10-40 KB at 320; one larger than 64 KiB is left out, the record goes on without it). It rides on"
              + " 'prepared' and 'embeddings' (kept for ever) for every upload. 0 = no previews.")
      .define(PREVIEW_QUALITY, Type.DOUBLE, 0.8, Range.between(0.1, 1.0), Importance.LOW,
          "JPEG quality of the colour previews (" + PREVIEW_SIZE + "), 0.1-1.0.")
      .define(LOCAL_FEATURES, Type.BOOLEAN, true, Importance.MEDIUM,
          "Send SIFT keypoints and descriptors (module local-features) with every upload and image query, for"
              + " index-service's local verification: it finds a reference inside a larger picture (pasted small,"
              + " a meme template, a heavy crop) where the descriptor cannot. About 35 ms of one core per image and"
              + " 30-110 KB per record on 'prepared' and 'embeddings'; false = descriptor and PDQ matching only"
              + " (docs/BENCHMARKS.md, \"Local verification in the pipeline\").")
      .define(LOCAL_REFERENCE_SIDE, Type.INT, 512, Range.between(64, 2048), Importance.LOW,
          "Longer side in pixels images of the reference collections (" + SMALL_VIEW_COLLECTIONS + ") are scaled to"
              + " before their local features are taken.")
      .define(LOCAL_REFERENCE_KEYPOINTS, Type.INT, 500, Range.between(16, 4096), Importance.LOW,
          "Most keypoints kept per reference image (the strongest; 132 bytes each in the index).")
      .define(LOCAL_QUERY_SIDE, Type.INT, 512, Range.between(64, 2048), Importance.LOW,
          "Longer side in pixels every other upload and every query image is scaled to before its local features"
              + " are taken.")
      .define(LOCAL_QUERY_KEYPOINTS, Type.INT, 800, Range.between(16, 4096), Importance.LOW,
          "Most keypoints kept per upload or query image (more find smaller pasted copies, at more cost).")
      .define(LOCAL_QUERY_ENLARGE_SIDE, Type.INT, 512, Range.between(0, 4096), Importance.LOW,
          "An upload or query image whose longer side is smaller is enlarged to this longer side (bilinear) before"
              + " its local features are taken: a copy pasted small into a small picture, a thumbnail or a tiny"
              + " copy gives SIFT three to five times the keypoints and passes verification where it did not"
              + " (docs/BENCHMARKS.md, \"Small probes enlarged\"). 0 = never enlarged; a value above "
              + LOCAL_QUERY_SIDE + " means that side.")
      .define(LOCAL_INSET, Type.STRING, "edged", IngestConfig::validateLocalInset, Importance.LOW,
          "Which upload or query images that hold a picture pasted into them (a compact region of detail on a"
              + " flatter canvas: a meme template's photo, a copy pasted small) also get that region's local"
              + " features, cut out and enlarged like a small image's and placed beside the whole's: none, edged"
              + " (those whose pasted picture's four straight edges were found: its box is then the picture, and few"
              + " photos that paste nothing have one) or all (true and false mean all and none). One more SIFT"
              + " extraction per such image. Edged decides pasted copies the 'inset' view's nominations alone miss"
              + " (docs/BENCHMARKS.md, \"Pasted copies: the inset's edges\").")
      .define(FRAMES_MAX, Type.INT, FrameLimits.DEFAULT_MAX_FRAMES, Range.between(1, FrameLimits.MAX_MAX_FRAMES),
          Importance.MEDIUM, "Most frames of a multi-frame image (animated GIF, APNG, animated WebP, multi-page TIFF)"
              + " looked at per upload or image query, the first included: each further frame that shows something"
              + " the others do not becomes a view 'frame<i>' (i = its 0-based index in the file), one more model run"
              + " each; 1 = the first frame only.")
      .define(FRAMES_MAX_PIXELS, Type.LONG, FrameLimits.DEFAULT_MAX_PIXELS, Range.atLeast(0), Importance.LOW,
          "Most pixels decoded and composed for the further frames of one image, all together (each frame's"
              + " rectangle plus the picture it shows), checked against the sizes the file declares before decoding:"
              + " longer files are sampled. 0 = the first frame only.")
      .define(TRIM_TOLERANCE, Type.INT, BorderTrim.DEFAULT.tolerance(), Range.between(0, 255), Importance.LOW,
          "Border detection: largest per-channel difference from a margin line's colour (JPEG noise).")
      .define(TRIM_MAX_FRACTION, Type.DOUBLE, BorderTrim.DEFAULT.maxFraction(), Range.between(0.01, 0.49),
          Importance.LOW, "Border detection: largest share of a side one margin may take (an image dark at one"
              + " edge loses at most this).")
      .define(TRIM_MIN_FRACTION, Type.DOUBLE, BorderTrim.DEFAULT.minFraction(), Range.between(0.0, 0.49),
          Importance.LOW, "Border detection: margins thinner than this share of the side (and 2 px) are ignored.")
      .define(REFERENCE_ROOTS, Type.LIST, List.of(), Importance.HIGH,
          "Directories under which ImageReference files may be read (after resolving links); empty = references"
              + " are refused (REFERENCE_NOT_ALLOWED).")
      .define(EXACT_RETENTION_MS, Type.LONG, 30L * 24 * 3600 * 1000, Range.atLeast(0), Importance.MEDIUM,
          "How long the exact-copy store remembers the first sighting of bytes seen only in collections that no rule"
              + " of " + MATCH_RULES + " names as a target (plain uploads, by default): older ones are pruned, bounding"
              + " the store to a period of uploads (an exact copy of an older upload then gets no exactDuplicateOf;"
              + " descriptors and PDQ still match it). First sightings in watched collections (the targets) stay until"
              + " their takedown. 0 = never prune.")
      .define(EXACT_PRUNE_INTERVAL_MS, Type.LONG, 3_600_000L, Range.atLeast(1000), Importance.LOW,
          "How often the exact-copy store is scanned for first sightings past ingest.exact.retention.ms.")
      .define(MATCH_RULES, Type.STRING, MatchRules.DEFAULT, MatchRules.VALIDATOR, Importance.HIGH, MatchRules.DOC)
      .define(MAX_REJECT_PAYLOAD, Type.INT, 1024 * 1024, Range.atLeast(0), Importance.LOW,
          "Original values are cut to this many bytes in reject records (0 = left out; the size is kept).")
      .define(COUNTERS_LOG_INTERVAL_MS, Type.LONG, 60_000L, Range.atLeast(0), Importance.LOW,
          "How often the per-reason counters are logged (0 = only at shutdown).")
      .define(HTTP_HOST, Type.STRING, "0.0.0.0", new ConfigDef.NonEmptyString(), Importance.MEDIUM,
          "Address the operational HTTP endpoint (/health, /ready, /metrics) binds to when run alone.")
      .define(HTTP_PORT, Type.INT, 8080, Range.between(-1, 65535), Importance.MEDIUM,
          "Port of the operational HTTP endpoint when run alone; 0 = any free port, -1 = no endpoint.")
      .define(LOG_FORMAT, Type.STRING, "json", ValidString.in("json", "text"), Importance.LOW,
          "Log lines of IngestStreamApp run alone: json (one JSON object per line, logback's JsonEncoder) or text."
              + " Level of our loggers: environment variable IMGMATCH_LOG_LEVEL (default INFO).");

  public IngestConfig(Map<String, ?> props) {
    super(DEF, KafkaResources.withDerivedName(props, APPLICATION_ID, KafkaResources.INGEST_APPLICATION, TOPIC_PREFIX,
        Topics.DEFAULT_PREFIX), false);
    Settings.refuseRemoved(originals(), REMOVED);
    for (String key : List.of(MIN_WIDTH, MIN_HEIGHT)) {
      if (getInt(key) > getInt(MAX_SIDE)) {
        throw new ConfigException(key, getInt(key), "must not exceed " + MAX_SIDE + " (" + getInt(MAX_SIDE) + ")");
      }
    }
    if ((long) getInt(MIN_WIDTH) * getInt(MIN_HEIGHT) > getLong(MAX_PIXELS)) {
      throw new ConfigException(MAX_PIXELS, getLong(MAX_PIXELS), "is smaller than the minimum image "
          + getInt(MIN_WIDTH) + "x" + getInt(MIN_HEIGHT) + ": no image could pass");
    }
    int sub = getInt(SUBSAMPLE_MIN_SIDE);
    int view = Math.max(getInt(VIEW_WIDTH), getInt(VIEW_HEIGHT));
    if (sub != 0 && sub < Math.max(view, 128)) {
      throw new ConfigException(SUBSAMPLE_MIN_SIDE, sub, "must be 0 or at least max(128, the view size " + view
          + "): PDQ filters at 1/128 of the side and the view must not be upsampled from a subsampled decode");
    }
    int maxRecord = Topics.MAX_MESSAGE_BYTES;
    if (getInt(MAX_REJECT_PAYLOAD) > maxRecord - 64 * 1024) {
      throw new ConfigException(MAX_REJECT_PAYLOAD, getInt(MAX_REJECT_PAYLOAD),
          "leaves no room in a " + maxRecord + "-byte rejects record");
    }
    if (getDouble(TRIM_MIN_FRACTION) > getDouble(TRIM_MAX_FRACTION)) {
      throw new ConfigException(TRIM_MIN_FRACTION, getDouble(TRIM_MIN_FRACTION),
          "must not exceed " + TRIM_MAX_FRACTION + " (" + getDouble(TRIM_MAX_FRACTION) + ")");
    }
    // the largest prepared record: every configured view plus small plus every further frame, raw RGB8 (PNG can be a
    // little larger than raw on noise, JPEG is smaller), must fit the prepared topic with room for the rest
    long viewBytes = 3L * getInt(VIEW_WIDTH) * getInt(VIEW_HEIGHT);
    int mostViews = Math.max(getList(UPLOAD_VIEWS).size() + 1, getList(QUERY_VIEWS).size()) + getInt(FRAMES_MAX) - 1;
    if (mostViews * viewBytes * 101 / 100 > maxRecord - 1024 * 1024) {
      throw new ConfigException(FRAMES_MAX, getInt(FRAMES_MAX), "with " + mostViews + " views of "
          + getInt(VIEW_WIDTH) + "x" + getInt(VIEW_HEIGHT) + " a prepared record would not fit the " + maxRecord
          + "-byte topic: fewer frames or a smaller view");
    }
    for (String root : getList(REFERENCE_ROOTS)) {
      if (!Path.of(root).isAbsolute()) {
        throw new ConfigException(REFERENCE_ROOTS, root, "reference roots must be absolute paths");
      }
    }
  }

  /** Loads defaults &lt; file &lt; environment &lt; overrides (see {@link Settings}). */
  public static IngestConfig load(Path file, Map<String, String> env, Map<String, String> overrides) {
    return new IngestConfig(Settings.load(file, env, overrides));
  }

  public Topics topics() {
    return new Topics(getString(TOPIC_PREFIX));
  }

  public ImageLimits imageLimits() {
    return new ImageLimits(getInt(MAX_IMAGE_BYTES), getLong(MAX_PIXELS), getInt(MAX_SIDE), getInt(MIN_WIDTH),
        getInt(MIN_HEIGHT), getLong(DECODE_TIMEOUT_MS), getInt(SUBSAMPLE_MIN_SIDE),
        parseColour(BACKGROUND, getString(BACKGROUND)));
  }

  public ViewSpec viewSpec() {
    return new ViewSpec(getInt(VIEW_WIDTH), getInt(VIEW_HEIGHT),
        dev.imgmatch.avro.PixelEncoding.valueOf(getString(VIEW_ENCODING)), getInt(VIEW_JPEG_QUALITY));
  }

  public FrameLimits frameLimits() {
    return new FrameLimits(getInt(FRAMES_MAX), getLong(FRAMES_MAX_PIXELS));
  }

  /** Local-feature extraction, or null when {@link #LOCAL_FEATURES} is off. */
  public LocalFeaturePrep localFeatures() {
    return !getBoolean(LOCAL_FEATURES) ? null
        : new LocalFeaturePrep(getInt(LOCAL_REFERENCE_SIDE), getInt(LOCAL_REFERENCE_KEYPOINTS), getInt(LOCAL_QUERY_SIDE),
            getInt(LOCAL_QUERY_KEYPOINTS), Math.min(getInt(LOCAL_QUERY_SIDE), getInt(LOCAL_QUERY_ENLARGE_SIDE)),
            LocalFeaturePrep.InsetFeatures.of(getString(LOCAL_INSET)));
  }

  /** How uploads' colour previews are made; null when they are off ({@value #PREVIEW_SIZE} = 0). */
  public ColourPreviews previews() {
    int size = getInt(PREVIEW_SIZE);
    return size == 0 ? null
        : new ColourPreviews(size, getDouble(PREVIEW_QUALITY), dev.imgmatch.schemas.Limits.MAX_PREVIEW_BYTES);
  }

  /** Longer side of the verification thumbnail, 0 = none. */
  public int thumbnailSize() {
    return getInt(THUMBNAIL_SIZE);
  }

  public BorderTrim borderTrim() {
    return new BorderTrim(getInt(TRIM_TOLERANCE), getDouble(TRIM_MAX_FRACTION), getDouble(TRIM_MIN_FRACTION));
  }

  public List<String> uploadViews() {
    return List.copyOf(getList(UPLOAD_VIEWS));
  }

  public Set<String> originalsCollections() {
    return Set.copyOf(getList(ORIGINALS_COLLECTIONS));
  }

  public Set<String> smallViewCollections() {
    return Set.copyOf(getList(SMALL_VIEW_COLLECTIONS));
  }

  public List<String> queryViews() {
    return List.copyOf(getList(QUERY_VIEWS));
  }

  public List<Path> referenceRoots() {
    return getList(REFERENCE_ROOTS).stream().map(Path::of).toList();
  }

  /** The rule set: which exact copies alert, and which first sightings are kept until their takedown. */
  public MatchRules matchRules() {
    return MatchRules.parse(getString(MATCH_RULES));
  }

  /** How the exact-copy store forgets: retention of unwatched first sightings, and how often it is pruned. */
  public ExactCopyProcessor.Pruning exactPruning() {
    return new ExactCopyProcessor.Pruning(getLong(EXACT_RETENTION_MS), getLong(EXACT_PRUNE_INTERVAL_MS));
  }

  public int maxRejectPayloadBytes() {
    return getInt(MAX_REJECT_PAYLOAD);
  }

  /** Kafka Streams properties: derived settings first, then every {@code kafka.*} pass-through on top. */
  public Map<String, Object> streamsProps() {
    Map<String, Object> m = new HashMap<>();
    m.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, getString(BOOTSTRAP)); // the default applies when unset
    m.put(StreamsConfig.APPLICATION_ID_CONFIG, getString(APPLICATION_ID));
    m.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, getString(PROCESSING_GUARANTEE));
    m.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, getInt(STREAM_THREADS));
    m.put(StreamsConfig.STATE_DIR_CONFIG, getString(STATE_DIR));
    // prepared records and inline images are large: let the producer and consumer carry them
    m.put(StreamsConfig.producerPrefix("max.request.size"), Topics.MAX_MESSAGE_BYTES);
    m.put(StreamsConfig.producerPrefix("compression.type"), "lz4");
    m.put(StreamsConfig.consumerPrefix("max.partition.fetch.bytes"), Topics.MAX_MESSAGE_BYTES);
    // at most 20 x the 10 s decode deadline stays under max.poll.interval.ms (300 s) even for hostile batches
    m.put(StreamsConfig.consumerPrefix("max.poll.records"), 20);
    // Streams' EOS default (10 s) could expire while a transaction waits on a few slow decodes: allow a minute
    m.put(StreamsConfig.producerPrefix("transaction.timeout.ms"), 60_000);
    // an output refused because of itself becomes a reject of its input; the stream goes on
    m.put(StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, OutputFailureHandler.class.getName());
    m.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, OutputFailureHandler.class.getName());
    m.put(OutputFailureHandler.REJECTS_TOPIC, topics().rejects().name());
    m.put(OutputFailureHandler.MAX_PAYLOAD, maxRejectPayloadBytes());
    m.putAll(Settings.withPrefix(originals(), KAFKA_PREFIX));
    return m;
  }

  /** Admin client properties (topic creation). */
  public Map<String, Object> adminProps() {
    Map<String, Object> m = new HashMap<>(Settings.withPrefix(originals(), KAFKA_PREFIX));
    m.keySet().retainAll(AdminClientConfig.configNames()); // drop Streams-only keys the admin client would warn about
    m.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, getString(BOOTSTRAP));
    return m;
  }

  /**
   * Every resolved setting with secrets masked, for the start-up log, then a warning for a Kafka resource named
   * outside the topic prefix.
   */
  public String describe() {
    Map<String, Object> all = new TreeMap<>(values());
    originals().forEach((k, v) -> {
      if (k.startsWith(KAFKA_PREFIX)) {
        all.put(k, v);
      }
    });
    StringBuilder sb = new StringBuilder(Settings.describe(all));
    KafkaResources.outsidePrefix(getString(TOPIC_PREFIX), Map.of(APPLICATION_ID, getString(APPLICATION_ID)))
        .forEach(w -> sb.append("  WARNING: ").append(w).append('\n'));
    return sb.toString();
  }

  /** Known view names, 'full' first, no repeats. */
  private static void validateViews(String name, Object v) {
    @SuppressWarnings("unchecked")
    List<String> names = (List<String>) v;
    if (names == null || names.isEmpty() || !names.get(0).equals(ViewEncoder.FULL)) {
      throw new ConfigException(name, v, "the first view must be 'full' (the embedder's primary vector)");
    }
    for (String n : names) {
      if (!ViewEncoder.NAMES.contains(n)) {
        throw new ConfigException(name, v, "unknown view '" + n + "'; known: " + String.join(",", ViewEncoder.NAMES));
      }
    }
    if (Set.copyOf(names).size() != names.size()) {
      throw new ConfigException(name, v, "a view is named twice");
    }
  }

  /** none, edged or all (or true / false). */
  private static void validateLocalInset(String name, Object v) {
    try {
      LocalFeaturePrep.InsetFeatures.of(String.valueOf(v));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(name, v, "must be none, edged or all");
    }
  }

  private static void validatePrefix(String name, Object v) {
    try {
      new Topics((String) v);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(name, v, e.getMessage());
    }
  }

  static int parseColour(String name, String v) {
    String s = v == null ? "" : v.strip().toUpperCase(Locale.ROOT);
    if (!s.matches("#[0-9A-F]{6}")) {
      throw new ConfigException(name, v, "expected a colour as #RRGGBB");
    }
    return Integer.parseInt(s.substring(1), 16);
  }
}
