package dev.imgmatch.embedder.worker;

import dev.imgmatch.common.KafkaResources;
import dev.imgmatch.common.Settings;
import dev.imgmatch.embedder.EmbedderOptions;
import dev.imgmatch.embedder.model.DefaultModel;
import dev.imgmatch.embedder.model.ModelSpec;
import dev.imgmatch.schemas.Rejects;
import dev.imgmatch.schemas.Topics;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;

/**
 * The embedder-worker's settings: one {@link ConfigDef} with a doc, a type, a default and a validator per key, plus
 * cross-field checks at start-up. Loaded with {@link Settings} (defaults &lt; {@code --config} file &lt;
 * {@code IMGMATCH_*} environment &lt; command line). Kafka client settings pass through under {@code kafka.}
 * (e.g. {@code kafka.bootstrap.servers}, {@code kafka.security.protocol}).
 */
public final class EmbedderWorkerConfig extends AbstractConfig {
  public static final String KAFKA_PREFIX = "kafka.";

  public static final String TOPIC_PREFIX = "topic.prefix";
  public static final String GROUP_ID = "group.id";
  public static final String TRANSACTIONAL_ID = "transactional.id";
  public static final String BATCH_MAX_RECORDS = "batch.max.records";
  public static final String BATCH_MAX_LATENCY_MS = "batch.max.latency.ms";
  public static final String QUEUE_CAPACITY = "queue.capacity";
  public static final String INFERENCE_BATCH_SIZE = "inference.batch.size";
  public static final String RETRY_MAX_ATTEMPTS = "retry.max.attempts";
  public static final String RETRY_BACKOFF_MS = "retry.backoff.ms";
  public static final String EMBED_RETRY_MAX_MS = "embed.retry.max.ms";
  public static final String EMBED_RETRY_BACKOFF_MS = "embed.retry.backoff.ms";
  public static final String EMBED_RETRY_BACKOFF_MAX_MS = "embed.retry.backoff.max.ms";
  public static final String MAX_REJECT_PAYLOAD_BYTES = "max.reject.payload.bytes";
  public static final String TOPIC_CREATE = "topic.create";
  public static final String TOPIC_PARTITIONS = "topic.partitions";
  public static final String TOPIC_REPLICATION = "topic.replication";
  /** Deprecated spellings still accepted (with a warning): {@code topics.create/partitions/replication}. */
  public static final Map<String, String> DEPRECATED_ALIASES = Map.of("topics.create", TOPIC_CREATE,
      "topics.partitions", TOPIC_PARTITIONS, "topics.replication", TOPIC_REPLICATION);
  public static final String HTTP_HOST = "http.host";
  public static final String HTTP_PORT = "http.port";
  public static final String LOG_FORMAT = "log.format";
  public static final String CACHE_DIR = "cache.dir";
  public static final String EXTRAS_ASIDE = "extras.aside";
  public static final String LOCAL_KEPT_COLLECTIONS = "local.kept.collections";
  public static final String MODEL_PATH = "model.path";
  public static final String MODEL_ID = "model.id";
  public static final String MODEL_SIGNATURE = "model.signature";
  public static final String MODEL_INPUT = "model.input";
  public static final String MODEL_OUTPUT_FEATURES = "model.output.features";
  public static final String MODEL_OUTPUT_SCORES = "model.output.scores";
  public static final String MODEL_CLASSES = "model.classes";
  public static final String MODEL_INPUT_WIDTH = "model.input.width";
  public static final String MODEL_INPUT_HEIGHT = "model.input.height";
  public static final String MODEL_PIXEL_MEAN = "model.pixel.mean";
  public static final String MODEL_PIXEL_STD = "model.pixel.std";
  public static final String DESCRIPTOR_HEAD = "descriptor.head";
  public static final String DESCRIPTOR_DIMS = "descriptor.dims";
  public static final String DESCRIPTOR_BACKGROUND = "descriptor.background";
  public static final String DESCRIPTOR_NEXT_HEAD = "descriptor.next.head";
  public static final String DESCRIPTOR_NEXT_DIMS = "descriptor.next.dims";
  public static final String DESCRIPTOR_TRAIN_DIR = "descriptor.train.dir";
  public static final String DESCRIPTOR_FIT_VIEWS = "descriptor.fit.views";
  public static final String DESCRIPTOR_FIT_SEED = "descriptor.fit.seed";

  private static final ConfigDef.Validator POSITIVE_FLOATS = (name, value) -> {
    @SuppressWarnings("unchecked")
    List<String> l = (List<String>) value;
    if (l.size() != 3) {
      throw new ConfigException(name, value, "needs exactly 3 values (R,G,B)");
    }
    for (String s : l) {
      try {
        Float.parseFloat(s.strip());
      } catch (NumberFormatException e) {
        throw new ConfigException(name, value, "'" + s + "' is not a number");
      }
    }
  };

  public static final ConfigDef DEF = dev.imgmatch.common.HangingTransactions.define(new ConfigDef())
      .define(KAFKA_PREFIX + "bootstrap.servers", Type.STRING, "localhost:9092", Importance.HIGH,
          "Kafka brokers (host:port,...). Every other kafka.* key is passed to the consumer, the producer and the "
          + "admin client as is.")
      .define(TOPIC_PREFIX, Type.STRING, Topics.DEFAULT_PREFIX, Importance.HIGH,
          "Prefix of every imgmatch topic (reads <prefix>prepared, writes <prefix>embeddings, <prefix>probes, "
          + "<prefix>rejects).")
      .define(GROUP_ID, Type.STRING, "", Importance.HIGH,
          "Consumer group of the workers: instances with the same group share the prepared partitions. Empty = "
          + "<topic.prefix>" + KafkaResources.EMBEDDER_GROUP + " (e.g. imgmatch.embedder), inside the topic prefix "
          + "like every Kafka resource of a deployment (docs/SECURITY.md).")
      .define(TRANSACTIONAL_ID, Type.STRING, "", Importance.HIGH,
          "Transactional id of this instance; must be unique per instance and stable across its restarts (a "
          + "restarted instance then aborts its predecessor's open transaction at once). Empty = "
          + "<group.id>-<host name>, the same for every worker on one host: give workers that share a host distinct "
          + "ids (e.g. <group.id>-<host name>-<i>), or they fence each other and all but the last one stop.")
      .define(BATCH_MAX_RECORDS, Type.INT, 16, Range.between(1, 4096), Importance.MEDIUM,
          "Most records per micro-batch (one model pass per inference.batch.size pictures, one Kafka transaction "
          + "per micro-batch).")
      .define(BATCH_MAX_LATENCY_MS, Type.LONG, 50L, Range.between(0, 60_000), Importance.MEDIUM,
          "Latency budget: how long a micro-batch waits for more records after its first one.")
      .define(QUEUE_CAPACITY, Type.INT, 64, Range.between(1, 1 << 20), Importance.MEDIUM,
          "Records buffered between the polling thread and the inference thread; when full, the poller pauses "
          + "its partitions (back-pressure). Must be >= batch.max.records.")
      .define(INFERENCE_BATCH_SIZE, Type.INT, EmbedderOptions.DEFAULT_INFERENCE_BATCH, Range.between(1, 1024),
          Importance.MEDIUM, "Most pictures per model call (a micro-batch's views are split into calls of this size).")
      .define(RETRY_MAX_ATTEMPTS, Type.INT, 3, Range.between(1, 100), Importance.LOW,
          "Attempts for a failed Kafka transaction: a batch is redone one record per transaction, and a record "
          + "refused this many times alone is rejected OUTPUT_FAILED; the worker stops when even that reject cannot "
          + "be committed. (Model failures: embed.retry.*.)")
      .define(RETRY_BACKOFF_MS, Type.LONG, 200L, Range.between(0, 60_000), Importance.LOW,
          "Back-off before redoing a failed Kafka transaction, doubled on every further consecutive failure.")
      .define(EMBED_RETRY_MAX_MS, Type.LONG, 600_000L, Range.between(0, 86_400_000), Importance.MEDIUM,
          "How long a batch waits out a model that fails on every input (a built-in reference picture too: engine, "
          + "natives, GPU memory) before its records are rejected EMBEDDING_FAILED (dead letters, for "
          + "`imgmatch rejects --redrive`). Meanwhile the batch is retried with back-off, nothing is rejected, the "
          + "consumer keeps polling with its partitions paused, /ready says why. 0 = no retry.")
      .define(EMBED_RETRY_BACKOFF_MS, Type.LONG, 1_000L, Range.between(1, 3_600_000), Importance.LOW,
          "First back-off of a model outage, doubled after every further failed retry up to "
          + "embed.retry.backoff.max.ms.")
      .define(EMBED_RETRY_BACKOFF_MAX_MS, Type.LONG, 60_000L, Range.between(1, 3_600_000), Importance.LOW,
          "Longest back-off between two retries of a model outage.")
      .define(MAX_REJECT_PAYLOAD_BYTES, Type.INT, Rejects.DEFAULT_MAX_PAYLOAD_BYTES, Range.between(0, 20 << 20),
          Importance.LOW, "Rejects keep at most this many bytes of the original value (its size is always kept).")
      .define(TOPIC_CREATE, Type.BOOLEAN, true, Importance.LOW, "Create missing imgmatch topics at start.")
      .define(TOPIC_PARTITIONS, Type.INT, 0, Range.atLeast(0), Importance.LOW,
          "Partitions of topics created at start; 0 = each topic's default.")
      .define(TOPIC_REPLICATION, Type.SHORT, (short) 1, Range.between(1, 32), Importance.LOW,
          "Replication factor of topics created at start.")
      .define(HTTP_HOST, Type.STRING, "0.0.0.0", Importance.MEDIUM,
          "Address of the HTTP endpoint (/health, /ready, /metrics).")
      .define(HTTP_PORT, Type.INT, 8080, Range.between(-1, 65535), Importance.MEDIUM,
          "Port of the HTTP endpoint; 0 = any free port, -1 = no endpoint.")
      .define(LOG_FORMAT, Type.STRING, "json", ConfigDef.ValidString.in("json", "text"), Importance.LOW,
          "Log format of EmbedderWorkerApp: json (one JSON object per line) or text.")
      .define(CACHE_DIR, Type.STRING, "", Importance.MEDIUM,
          "Cache of the built model, TensorFlow natives and fitted heads (env IMGMATCH_CACHE_DIR). Empty = "
          + "$XDG_CACHE_HOME/imgmatch or ~/.cache/imgmatch.")
      .define(MODEL_PATH, Type.STRING, "", Importance.HIGH,
          "A TensorFlow SavedModel folder to use instead of the default model (nsfwjs MobileNetV2 1.4, built from "
          + "npm on first use). The model.* keys below describe it.")
      .define(MODEL_ID, Type.STRING, DefaultModel.ID, Importance.MEDIUM,
          "Model id written into every embedding (with model.path: required, name your model).")
      .define(MODEL_SIGNATURE, Type.STRING, "serving_default", Importance.LOW, "SavedModel signature key.")
      .define(MODEL_INPUT, Type.STRING, "input", Importance.LOW,
          "Signature input name: a float [batch, height, width, 3] RGB tensor.")
      .define(MODEL_OUTPUT_FEATURES, Type.STRING, "features", Importance.LOW,
          "Signature output name of the pooled features, [batch, dim].")
      .define(MODEL_OUTPUT_SCORES, Type.STRING, "probabilities", Importance.LOW,
          "Signature output name of class probabilities [batch, classes]; empty = none.")
      .define(MODEL_CLASSES, Type.LIST, String.join(",", DefaultModel.CLASSES), Importance.LOW,
          "Class names in output order (written into ImageEmbedding.classScores).")
      .define(MODEL_INPUT_WIDTH, Type.INT, DefaultModel.INPUT_SIZE, Range.between(8, 4096), Importance.LOW,
          "Model input width in pixels.")
      .define(MODEL_INPUT_HEIGHT, Type.INT, DefaultModel.INPUT_SIZE, Range.between(8, 4096), Importance.LOW,
          "Model input height in pixels.")
      .define(MODEL_PIXEL_MEAN, Type.LIST, "0,0,0", POSITIVE_FLOATS, Importance.LOW,
          "Per-channel mean subtracted after scaling pixels to [0,1]: fed value = (p/255 - mean) / std.")
      .define(MODEL_PIXEL_STD, Type.LIST, "1,1,1", POSITIVE_FLOATS, Importance.LOW, "Per-channel divisor, > 0.")
      .define(DESCRIPTOR_HEAD, Type.STRING, EmbedderOptions.HEAD_LW, new ConfigDef.NonEmptyString(), Importance.HIGH,
          "Descriptor head: learned-whiten (default: centring + learned whitening fitted on the default photos or "
          + "descriptor.train.dir), pca-whiten (PCA-whitening, the same photos), center, none, or the path of a .head "
          + "file (e.g. a metric-learned projection from ./imgmatch train).")
      .define(DESCRIPTOR_BACKGROUND, Type.BOOLEAN, true, Importance.MEDIUM,
          "Give every embedding its backgroundCosine: the highest cosine of its views to the background set (pictures "
          + "of pinned packages unrelated to anything indexed: user-interface screenshots, icons, plots; obtained and "
          + "embedded once per model version on first use, ~60 MB, then cached). index-service's margin treats it as "
          + "a competing work (match.background), so that pictures of one style do not match each other on their "
          + "style. false = no background (records carry null).")
      .define(DESCRIPTOR_DIMS, Type.INT, EmbedderOptions.DEFAULT_DIMS, Range.between(1, 65536), Importance.MEDIUM,
          "Output dimension of the learned-whiten and pca-whiten heads (at most 1024, the index's limit).")
      .define(DESCRIPTOR_NEXT_HEAD, Type.STRING, "", Importance.MEDIUM,
          "A model upgrade's next descriptor head (same values as descriptor.head), loaded beside the main one: the"
          + " worker embeds with it once './imgmatch reindex' has switched the serving version (topic model-serving)"
          + " to its version, and with the main one before. Empty = none. See docs/OPERATIONS.md, Model upgrades.")
      .define(DESCRIPTOR_NEXT_DIMS, Type.INT, 0, Range.between(0, 65536), Importance.LOW,
          "Output dimension of a fitted next head; 0 = descriptor.dims.")
      .define(DESCRIPTOR_TRAIN_DIR, Type.STRING, "", Importance.MEDIUM,
          "A folder of training photos for fitting the head (never queries). Empty = the default photos: pinned Debian "
          + "packages downloaded once into cache.dir (docs/OPERATIONS.md); if they cannot be had, the worker refuses "
          + "to start.")
      .define(DESCRIPTOR_FIT_VIEWS, Type.INT, EmbedderOptions.DEFAULT_VIEWS, Range.between(1, 1000), Importance.LOW,
          "Augmented views per training photo when fitting.")
      .define(DESCRIPTOR_FIT_SEED, Type.LONG, EmbedderOptions.DEFAULT_SEED, Importance.LOW, "Seed of the fit.")
      .define(EXTRAS_ASIDE, Type.BOOLEAN, true, Importance.MEDIUM,
          "Write an upload's parts used once - its local features (unless its collection is one of "
          + "local.kept.collections) and its preview - on embedding-extras (kept 7 days) beside its embeddings record "
          + "(kept for ever), in the same transaction; index-service reads them from there to match the upload. "
          + "false: every record whole on embeddings, as before ImageEmbedding v11.")
      .define(LOCAL_KEPT_COLLECTIONS, Type.LIST, List.of("protected", "banned"), Importance.MEDIUM,
          "Collections whose local features stay in the embeddings record (index-service stores them, and a rebuilt "
          + "shard reads them from embeddings): keep it equal to index-service's index.local.collections.");

  private final Map<String, String> raw;

  public EmbedderWorkerConfig(Map<String, String> values) {
    this(resolveAliases(values), true);
  }

  private EmbedderWorkerConfig(Map<String, String> values, boolean resolved) {
    super(DEF, KafkaResources.withDerivedName(values, GROUP_ID, KafkaResources.EMBEDDER_GROUP, TOPIC_PREFIX,
        Topics.DEFAULT_PREFIX), false);
    this.raw = Map.copyOf(values);
    validate();
  }

  /** Maps the deprecated {@code topics.*} names to {@code topic.*} (the new name wins when both are given). */
  static Map<String, String> resolveAliases(Map<String, String> values) {
    Map<String, String> out = new java.util.LinkedHashMap<>(values);
    DEPRECATED_ALIASES.forEach((old, now) -> {
      String v = out.remove(old);
      if (v != null) {
        org.slf4j.LoggerFactory.getLogger(EmbedderWorkerConfig.class).warn("setting {} is deprecated: use {}", old,
            now);
        out.putIfAbsent(now, v);
      }
    });
    return out;
  }

  private void validate() {
    int max = getInt(BATCH_MAX_RECORDS);
    int cap = getInt(QUEUE_CAPACITY);
    if (cap < max) {
      throw new ConfigException(QUEUE_CAPACITY + " (" + cap + ") must be >= " + BATCH_MAX_RECORDS + " (" + max
          + "): otherwise a micro-batch can never fill up");
    }
    if (getLong(EMBED_RETRY_BACKOFF_MAX_MS) < getLong(EMBED_RETRY_BACKOFF_MS)) {
      throw new ConfigException(EMBED_RETRY_BACKOFF_MAX_MS + " (" + getLong(EMBED_RETRY_BACKOFF_MAX_MS) + ") must be >= "
          + EMBED_RETRY_BACKOFF_MS + " (" + getLong(EMBED_RETRY_BACKOFF_MS) + ")");
    }
    if (!getString(MODEL_PATH).isEmpty() && getString(MODEL_ID).equals(DefaultModel.ID)) {
      throw new ConfigException(MODEL_ID, DefaultModel.ID, "a custom " + MODEL_PATH + " needs its own " + MODEL_ID);
    }
  }

  /** How long a model outage is retried ({@code embed.retry.*}). */
  public RetryPolicy embedRetry() {
    return new RetryPolicy(getLong(EMBED_RETRY_BACKOFF_MS), getLong(EMBED_RETRY_BACKOFF_MAX_MS),
        getLong(EMBED_RETRY_MAX_MS));
  }

  public Topics topics() {
    return new Topics(getString(TOPIC_PREFIX));
  }

  /** Kafka client settings (the kafka.* keys without the prefix). */
  public Map<String, Object> kafka() {
    Map<String, Object> m = new TreeMap<>(Settings.withPrefix(raw, KAFKA_PREFIX));
    m.put("bootstrap.servers", getString(KAFKA_PREFIX + "bootstrap.servers"));
    return m;
  }

  public String transactionalId() {
    String id = getString(TRANSACTIONAL_ID);
    if (!id.isEmpty()) {
      return id;
    }
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (Exception e) {
      host = "localhost";
    }
    return getString(GROUP_ID) + "-" + host;
  }

  public Path cacheDir() {
    String d = getString(CACHE_DIR);
    return d.isEmpty() ? EmbedderOptions.defaultCacheDir() : Path.of(d);
  }

  /** The Embedder's options from these settings. */
  public EmbedderOptions embedderOptions() {
    ModelSpec spec = null;
    if (!getString(MODEL_PATH).isEmpty()) {
      String scores = getString(MODEL_OUTPUT_SCORES);
      spec = new ModelSpec(getString(MODEL_ID), Path.of(getString(MODEL_PATH)), getString(MODEL_SIGNATURE),
          getString(MODEL_INPUT), getString(MODEL_OUTPUT_FEATURES), scores.isEmpty() ? null : scores,
          scores.isEmpty() ? List.of() : getList(MODEL_CLASSES), getInt(MODEL_INPUT_WIDTH), getInt(MODEL_INPUT_HEIGHT),
          floats(getList(MODEL_PIXEL_MEAN)), floats(getList(MODEL_PIXEL_STD)));
    }
    String train = getString(DESCRIPTOR_TRAIN_DIR);
    return new EmbedderOptions(cacheDir(), spec, getString(DESCRIPTOR_HEAD), getInt(DESCRIPTOR_DIMS),
        train.isEmpty() ? EmbedderOptions.defaultTrainDir() : Path.of(train), getInt(DESCRIPTOR_FIT_VIEWS),
        getLong(DESCRIPTOR_FIT_SEED), getInt(INFERENCE_BATCH_SIZE));
  }

  /** The options of the next version's embedder ({@value #DESCRIPTOR_NEXT_HEAD}), or null when none is set. */
  public EmbedderOptions nextEmbedderOptions() {
    String next = getString(DESCRIPTOR_NEXT_HEAD);
    if (next.isBlank()) {
      return null;
    }
    EmbedderOptions o = embedderOptions();
    int dims = getInt(DESCRIPTOR_NEXT_DIMS) > 0 ? getInt(DESCRIPTOR_NEXT_DIMS) : o.dims();
    return new EmbedderOptions(o.cacheDir(), o.model(), next, dims, o.trainDir(), o.viewsPerImage(), o.seed(),
        o.inferenceBatch());
  }

  private static float[] floats(List<String> l) {
    float[] f = new float[l.size()];
    for (int i = 0; i < f.length; i++) {
      f[i] = Float.parseFloat(l.get(i).strip());
    }
    return f;
  }

  /**
   * Every resolved setting plus the kafka.* pass-through, secrets masked, for the start-up log, then a warning for
   * a Kafka resource named outside the topic prefix.
   */
  public String describe() {
    Map<String, Object> all = new TreeMap<>();
    values().forEach(all::put);
    Settings.withPrefix(raw, KAFKA_PREFIX).forEach((k, v) -> all.put(KAFKA_PREFIX + k, v));
    all.put(TRANSACTIONAL_ID, transactionalId());
    StringBuilder sb = new StringBuilder(Settings.describe(all));
    KafkaResources.outsidePrefix(getString(TOPIC_PREFIX), new TreeMap<>(Map.of(GROUP_ID, getString(GROUP_ID),
        TRANSACTIONAL_ID, transactionalId()))).forEach(w -> sb.append("  WARNING: ").append(w).append('\n'));
    return sb.toString();
  }

  /** The settings table (Markdown) for the docs. */
  public static String markdownTable() {
    StringBuilder sb = new StringBuilder("| key | type | default | description |\n|---|---|---|---|\n");
    for (ConfigDef.ConfigKey k : DEF.configKeys().values()) {
      sb.append("| `").append(k.name).append("` | ").append(k.type.name().toLowerCase(java.util.Locale.ROOT))
          .append(" | `").append(k.hasDefault() ? String.valueOf(k.defaultValue) : "(required)").append("` | ")
          .append(k.documentation.replace("|", "\\|")).append(" |\n");
    }
    return sb.toString();
  }
}
