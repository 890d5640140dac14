package dev.imgmatch.index;

import dev.imgmatch.common.KafkaResources;
import dev.imgmatch.common.MatchRules;
import dev.imgmatch.common.Settings;
import dev.imgmatch.schemas.Topics;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.ValidString;
import org.apache.kafka.common.config.ConfigException;

/**
 * Every setting of index-service: one {@link ConfigDef} with a doc, a default and a validator per key,
 * cross-field checks in the constructor, and a masked rendering for the start-up log.
 *
 * <p>Kafka client settings pass through under {@code kafka.} (e.g. {@code kafka.security.protocol}); they
 * go to every consumer, producer and admin client the service creates.
 */
public final class IndexServiceConfig extends AbstractConfig {
  public static final String KAFKA_PREFIX = "kafka.";

  public static final String BOOTSTRAP = "kafka.bootstrap.servers";
  public static final String TOPIC_PREFIX = "topic.prefix";
  public static final String TOPIC_CREATE = "topic.create";
  public static final String TOPIC_PARTITIONS = "topic.partitions";
  public static final String TOPIC_REPLICATION = "topic.replication";
  public static final String GROUP_ID = "group.id";
  public static final String INDEX_DIR = "index.dir";
  public static final String VECTOR_FORMAT = "index.vector.format";
  public static final String HNSW_M = "index.hnsw.m";
  public static final String HNSW_BEAM = "index.hnsw.beam.width";
  public static final String KNN_CANDIDATES = "index.knn.candidates";
  public static final String RESCORE_OVERSAMPLE = "index.rescore.oversample";
  public static final String PDQ_BRUTE_FORCE_MAX_DOCS = "index.pdq.brute.force.max.docs";
  public static final String REFRESH_INTERVAL_MS = "index.refresh.interval.ms";
  public static final String COMMIT_INTERVAL_MS = "index.commit.interval.ms";
  public static final String TRANSACTION_INTERVAL_MS = "alerts.transaction.interval.ms";
  public static final String TRANSACTIONAL_ID = "transactional.id";
  public static final String TOMBSTONE_GRACE_MS = "index.tombstone.grace.ms";
  public static final String RAM_BUFFER_MB = "index.ram.buffer.mb";
  /** Which collections alert against which: the one rule set ingest-stream reads too ({@link MatchRules}). */
  public static final String MATCH_RULES = MatchRules.KEY;
  public static final String SHARED_COLLECTIONS = "match.shared.collections";
  public static final String MATCH_K = "match.knn.k";
  public static final String PDQ_MAX_DISTANCE = "match.pdq.max.distance";
  public static final String PDQ_MIN_QUALITY = "match.pdq.min.quality";
  public static final String RETROACTIVE_DAYS = "match.retroactive.days";
  public static final String RETROACTIVE_MAX_CANDIDATES = "match.retroactive.max.candidates";
  public static final String BANK_PDQ_MAX_DISTANCE = "bank.pdq.max.distance";
  public static final String BANK_PDQ_MIN_QUALITY = "bank.pdq.min.quality";
  public static final String BANK_COMMIT_INTERVAL_MS = "bank.commit.interval.ms";
  public static final String BANK_CATCHUP_TIMEOUT_MS = "bank.catchup.timeout.ms";
  public static final String BANK_RETROACTIVE_MAX_ALERTS = "bank.retroactive.max.alerts";
  public static final String BANK_RETROACTIVE_STEP_ENTRIES = "bank.retroactive.step.entries";
  public static final String FEEDBACK_PDQ_MAX_DISTANCE = "feedback.pdq.max.distance";
  public static final String FUSION_PDQ_WEIGHT = "match.fusion.pdq.weight";
  public static final String MARGIN_WEIGHT = "match.margin.weight";
  public static final String MARGIN_FLOOR = "match.margin.floor";
  public static final String BACKGROUND_WEIGHT = "match.background.weight";
  public static final String DUPLICATE_COSINE = "match.margin.duplicate.cosine";
  public static final String VERIFY_CANDIDATES = "match.verify.candidates";
  public static final String VERIFY_WEIGHT = "match.verify.weight";
  public static final String VERIFY_NEUTRAL = "match.verify.neutral";
  public static final String LOCAL_CANDIDATES = "match.local.candidates";
  public static final String LOCAL_MIN_INLIERS = "match.local.min.inliers";
  public static final String LOCAL_PER_INLIER = "match.local.per.inlier";
  public static final String LOCAL_CONTRADICT = "match.local.contradict";
  public static final String LAYOUT_CANDIDATES = "match.layout.candidates";
  public static final String LAYOUT_MIN_CORRELATION = "match.layout.min.correlation";
  public static final String LAYOUT_MAX_RATIO = "match.layout.max.ratio";
  public static final String LAYOUT_WINDOWS = "match.layout.windows";
  public static final String LAYOUT_TINY_MAX_SIDE = "match.layout.tiny.max.side";
  public static final String LAYOUT_TINY_MAX_BACKGROUND = "match.layout.tiny.max.background";
  public static final String LOCAL_COLLECTIONS = "index.local.collections";
  public static final String EXTRAS_LOOKBACK_MS = "index.extras.lookback.ms";
  public static final String EXTRAS_LOOKAHEAD_MS = "index.extras.lookahead.ms";
  public static final String EXTRAS_WAIT_MS = "index.extras.wait.ms";
  public static final String EXTRAS_BUFFER_BYTES = "index.extras.buffer.bytes";
  public static final String MATCH_THRESHOLD = "match.threshold";
  public static final String REVIEW_THRESHOLD = "match.review.threshold";
  /**
   * Settings that no longer exist, refused at start with why and what to set instead: those of the old per-signal
   * scale, and the exact fast path's collections (now the targets of {@code match.rules}, read by both stages).
   */
  static final Map<String, String> RENAMED = Map.of(
      "match.cosine.match.threshold", "decisions use one fused score; set match.threshold (on the fused score)",
      "match.cosine.review.threshold", "decisions use one fused score; set match.review.threshold (on the fused score)",
      "match.exact.fast.path.collections", "ingest-stream and index-service read one rule set; set " + MATCH_RULES
          + " (the same value for both): index-service leaves out the exact pairs ingest-stream alerts, those of an"
          + " upload into S whose first sighting is in a collection T the rules match S against"
          + " (docs/modules/index-service.md#matching)");
  public static final String ALERT_MIN_DECISION = "match.alert.min.decision";
  public static final String MAX_ALERT_MATCHES = "match.alert.max.matches";
  public static final String PREVIEW_ENABLED = "preview.enabled";
  public static final String PREVIEW_RETENTION_MS = "preview.retention.ms";
  public static final String QUERY_MAX_K = "query.max.k";
  public static final String QUERY_REPLY_TOPIC_PATTERN = "query.reply.topic.pattern";
  public static final String QUERY_GROUP_ID = "query.group.id";
  public static final String SHARDS_KEPT = "index.shards";
  public static final String REPLICA_MAX_LAG = "index.replica.max.lag";
  public static final String MAX_REJECT_PAYLOAD = "reject.max.payload.bytes";
  public static final String POLL_MS = "poll.timeout.ms";
  public static final String HTTP_HOST = "http.host";
  public static final String HTTP_PORT = "http.port";
  public static final String LOG_FORMAT = "log.format";

  public static final ConfigDef DEF = dev.imgmatch.common.HangingTransactions.define(new ConfigDef())
      .define(BOOTSTRAP, Type.STRING, "localhost:9092", new ConfigDef.NonEmptyString(), Importance.HIGH,
          "Kafka bootstrap servers (every other kafka.* key is passed to the clients unchanged).")
      .define(TOPIC_PREFIX, Type.STRING, Topics.DEFAULT_PREFIX, IndexServiceConfig::validatePrefix, Importance.HIGH,
          "Prefix of every imgmatch topic name.")
      .define(TOPIC_CREATE, Type.BOOLEAN, true, Importance.LOW,
          "Create missing imgmatch topics at start (TopicSetup).")
      .define(TOPIC_PARTITIONS, Type.INT, 0, Range.atLeast(0), Importance.LOW,
          "Partitions for topics this service creates; 0 = each topic's default (6).")
      .define(TOPIC_REPLICATION, Type.SHORT, (short) 1, Range.atLeast(1), Importance.LOW,
          "Replication factor for topics this service creates.")
      .define(GROUP_ID, Type.STRING, "", Importance.HIGH,
          "Consumer group over the embeddings topic: each member owns the shards of its partitions. Empty = "
              + "<topic.prefix>" + KafkaResources.INDEX_GROUP + " (e.g. imgmatch.index-service), inside the topic "
              + "prefix like every Kafka resource of a deployment (docs/SECURITY.md).")
      .define(INDEX_DIR, Type.STRING, ".imgmatch/index", new ConfigDef.NonEmptyString(), Importance.HIGH,
          "Directory holding one Lucene index per shard (shard-<partition>).")
      .define(VECTOR_FORMAT, Type.STRING, VectorFormat.INT7.configName(),
          ValidString.in(VectorFormat.configNames().toArray(String[]::new)), Importance.MEDIUM,
          "HNSW vector encoding: float32, int8, int7, int4 or bit; quantized ones are rescored with the raw floats."
              + " Applies to new segments (existing segments keep theirs until merged).")
      .define(HNSW_M, Type.INT, 16, Range.between(2, 512), Importance.LOW, "HNSW max connections per node.")
      .define(HNSW_BEAM, Type.INT, 100, Range.between(1, 3200), Importance.LOW, "HNSW beam width at build time.")
      .define(KNN_CANDIDATES, Type.INT, 100, Range.between(1, 10_000), Importance.MEDIUM,
          "HNSW candidates explored per kNN search (at least k); larger = better recall, slower.")
      .define(RESCORE_OVERSAMPLE, Type.DOUBLE, 2.0, Range.between(1.0, 20.0), Importance.LOW,
          "Quantized formats: HNSW explores max(candidates, k*oversample) and every hit it returns is rescored"
              + " with the full-precision floats.")
      .define(PDQ_BRUTE_FORCE_MAX_DOCS, Type.INT, 5_000, Range.atLeast(0), Importance.LOW,
          "Shards with at most this many documents scan PDQ hashes linearly instead of multi-index hashing"
              + " (measured crossover between 2k and 10k documents).")
      .define(REFRESH_INTERVAL_MS, Type.LONG, 100L, Range.between(1, 1000), Importance.MEDIUM,
          "Background searcher refresh period: Lucene sees a new document within this plus one refresh. Matches"
              + " and queries see every accepted change at once anyway (changes not yet refreshed are searched in"
              + " memory), so this only bounds how long they stay there.")
      .define(COMMIT_INTERVAL_MS, Type.LONG, 2_000L, Range.between(10, 600_000), Importance.MEDIUM,
          "How often the index is committed (durable) together with the offsets it reflects; each commit follows"
              + " the alerts transaction of the same offsets (alerts.transaction.interval.ms), so the index never"
              + " runs ahead of the alerts Kafka has committed.")
      .define(TRANSACTION_INTERVAL_MS, Type.LONG, 100L, Range.between(10, 10_000), Importance.MEDIUM,
          "How often the alerts and rejects of consumed embeddings are committed in one Kafka transaction with the"
              + " consumed offsets: a read_committed reader sees an alert at most this long after it was raised, and"
              + " sees it exactly once across crashes.")
      .define(SHARDS_KEPT, Type.STRING, "all", ValidString.in("all", "owned"), Importance.HIGH,
          "Which shards an instance keeps. 'all': the shards of the embeddings partitions the group gives it (matched"
              + " and alerted here) and a replica of every other shard, read up to the offset its owner committed with"
              + " its alerts; so on any number of instances every upload is matched against the whole index and"
              + " alerts exactly as one instance would, any instance answers a query complete, and a shard whose owner"
              + " leaves or dies is taken over warm. Costs every instance the indexing, memory and disk of the whole"
              + " index. 'owned': only its own shards, for an index larger than one machine: an upload is then matched"
              + " against the shards of the instance that indexes it only, and query replies are PARTIAL (clients"
              + " gather them) (docs/modules/index-service.md, Scale-out).")
      .define(REPLICA_MAX_LAG, Type.LONG, 1_000L, Range.atLeast(0), Importance.LOW,
          "index.shards=all: while the replicas are more than this many records behind what their owners committed,"
              + " the partitions this instance owns wait (matching against a stale replica would miss copies of what"
              + " it lacks); readiness says so.")
      .define(TRANSACTIONAL_ID, Type.STRING, "", Importance.LOW,
          "Transactional id of the producer of alerts and rejects; empty = '<group.id>-<instance id>', the instance"
              + " id being a random name kept in index.dir (stable across restarts on the same disk, so a restart"
              + " aborts the transaction a crash left open at once). Must be unique per running instance.")
      .define(TOMBSTONE_GRACE_MS, Type.LONG, 7L * 24 * 3600 * 1000, Range.atLeast(0), Importance.LOW,
          "A deletion's tombstone blocks embeddings of the image submitted before the takedown that arrive after it;"
              + " it is dropped once the shard has read an embedding appended this long after the deletion was"
              + " requested (by record timestamps, so a rebuild from the topic keeps it as long as it matters)."
              + " Bounds the tombstones to the deletions of this period.")
      .define(RAM_BUFFER_MB, Type.DOUBLE, 64.0, Range.between(1.0, 2048.0), Importance.LOW,
          "IndexWriter RAM buffer per shard.")
      .define(MATCH_RULES, Type.STRING, MatchRules.DEFAULT, MatchRules.VALIDATOR, Importance.HIGH, MatchRules.DOC)
      .define(SHARED_COLLECTIONS, Type.LIST, List.of(), Importance.HIGH,
          "Collections every tenant matches and queries against (e.g. a global banned bank); all other images"
              + " are visible to their own tenant only.")
      .define(MATCH_K, Type.INT, 10, Range.between(1, 1000), Importance.MEDIUM,
          "Nearest neighbours examined per upload for the descriptor signal.")
      .define(PDQ_MAX_DISTANCE, Type.INT, 31, Range.between(0, 128), Importance.HIGH,
          "PDQ Hamming distance at or below which two hashes match.")
      .define(PDQ_MIN_QUALITY, Type.INT, 50, Range.between(0, 100), Importance.MEDIUM,
          "PDQ quality both hashes need before PDQ is used.")
      .define(RETROACTIVE_DAYS, Type.INT, 30, Range.between(0, 3650), Importance.HIGH,
          "When a reference arrives (a new image of a collection some rule matches against), uploads of the last this"
              + " many days that copy it are alerted too, marked retroactive (judged as if uploaded now); 0 = off.")
      .define(RETROACTIVE_MAX_CANDIDATES, Type.INT, 100, Range.between(1, 10_000), Importance.LOW,
          "Candidate uploads a new reference's retroactive search examines (best first): bounds its cost, and the"
              + " alerts one reference can raise at once.")
      .define(BANK_PDQ_MAX_DISTANCE, Type.INT, 31, Range.between(0, 64), Importance.HIGH,
          "PDQ Hamming distance at or below which an upload matches an entry of a hash-list bank (HMA's default, 31)"
              + "; compared with the upload's PDQ and its 8 dihedral variants.")
      .define(BANK_PDQ_MIN_QUALITY, Type.INT, 50, Range.between(0, 100), Importance.MEDIUM,
          "PDQ quality both the upload and a bank entry need before their PDQs are compared (MD5 and SHA-256 are"
              + " always compared).")
      .define(BANK_COMMIT_INTERVAL_MS, Type.LONG, 10_000L, Range.atLeast(100), Importance.LOW,
          "How often the hash-list bank index commits what it read (a restart reads the topic from there).")
      .define(BANK_CATCHUP_TIMEOUT_MS, Type.LONG, 120_000L, Range.atLeast(0), Importance.LOW,
          "How long, at start, matching waits for the hash-list banks to be read up to the end of bank-entries (an"
              + " upload matched earlier would miss entries not yet read); after it, matching starts anyway.")
      .define(BANK_RETROACTIVE_MAX_ALERTS, Type.INT, 10_000, Range.between(0, 1_000_000), Importance.LOW,
          "Retroactive alerts one hash-list import raises at most per shard (the best matches first; the rest are"
              + " logged as left out): bounds the transaction an import's check commits. The window is"
              + " match.retroactive.days; 0 = imports alert nothing retroactively.")
      .define(BANK_RETROACTIVE_STEP_ENTRIES, Type.INT, BankRetroactive.CHUNK, Range.between(1, 1_000_000),
          Importance.LOW, "Entries of an import one step of its retroactive check compares at most (one step per turn"
              + " of the ingest loop, fewer entries when the window holds many uploads: about 10^10 entry-upload pairs"
              + " a step). Larger steps finish a big import sooner and hold the shard's other records longer per turn.")
      .define(FEEDBACK_PDQ_MAX_DISTANCE, Type.INT, 16, Range.between(0, 64), Importance.MEDIUM,
          "A dismissed pair (review-decisions) also covers a later upload whose PDQ is within this Hamming distance"
              + " of the dismissed upload's (both of quality at least match.pdq.min.quality): a re-encoded or resized"
              + " re-upload of the same picture; an equal SHA-256 always counts.")
      .define(PREVIEW_ENABLED, Type.BOOLEAN, true, Importance.MEDIUM,
          "Publish colour previews for the review console: an image indexed into a collection some match rule"
              + " targets (a reference) on 'reference-previews', kept while it is indexed; an upload that raises an"
              + " alert on 'previews'; a takedown's tombstone on both. Never for an upload that matches nothing."
              + " false = none (ingest-stream's ingest.preview.size=0 stops making them at all).")
      .define(PREVIEW_RETENTION_MS, Type.LONG, Topics.DEFAULT_PREVIEW_RETENTION_MS, Range.atLeast(60_000),
          Importance.MEDIUM, "retention.ms of the 'previews' topic (alerted uploads' previews) when this service"
              + " creates it (30 days); an existing topic keeps its own (a warning at start says when they differ:"
              + " kafka-configs.sh --alter --add-config retention.ms=...).")
      .define(FUSION_PDQ_WEIGHT, Type.DOUBLE, MatchPolicy.DEFAULT_FUSION_PDQ_WEIGHT, Range.between(0.0, 1.0),
          Importance.MEDIUM, "beta of the fused score max(min(1, cos + beta*clip(1 - d/128, 0, 1)), pdq_map, exact):"
              + " how much PDQ similarity nudges the best descriptor cosine (docs/modules/index-service.md).")
      .define(MARGIN_WEIGHT, Type.DOUBLE, MatchPolicy.DEFAULT_MARGIN_WEIGHT, Range.between(0.0, 1.0),
          Importance.MEDIUM, "m of the decision score similarity - m * (similarity of the best competing work, at"
              + " least match.margin.floor); 0 = decide on the similarity alone (docs/modules/index-service.md).")
      .define(BACKGROUND_WEIGHT, Type.DOUBLE, MatchPolicy.DEFAULT_BACKGROUND_WEIGHT, Range.between(0.0, 1.0),
          Importance.MEDIUM, "How much the probe's background cosine (its embedding's backgroundCosine: the most "
          + "similar picture of the embedder's background set of screenshots, icons and plots) counts as a competing "
          + "work in the margin: the margin's floor is raised to weight x background cosine. Keeps pictures of one "
          + "style (two dialogs, two icons of a theme) from matching on their style alone; 0 = off.")
      .define(MARGIN_FLOOR, Type.DOUBLE, MatchPolicy.DEFAULT_MARGIN_FLOOR, Range.between(0.0, 1.0),
          Importance.LOW, "Least competitor similarity assumed (about what unrelated pictures score), so that a"
              + " nearly empty index does not make a weak candidate look unique.")
      .define(DUPLICATE_COSINE, Type.DOUBLE, MatchPolicy.DEFAULT_DUPLICATE_COSINE, Range.between(-1.0, 1.0),
          Importance.LOW, "Descriptor cosine at or above which two indexed images are copies of one work and do not"
              + " compete in the margin (equal SHA-256 or PDQ within match.pdq.max.distance also count).")
      .define(VERIFY_CANDIDATES, Type.INT, MatchPolicy.Verification.DEFAULT.candidates(), Range.between(0, 100),
          Importance.MEDIUM, "How many of a probe's best candidates (those whose decision score is above 0) are"
              + " verified against its thumbnail (geometric verification, about 7 ms of CPU each); 0 = none, in"
              + " which case use match.threshold=0.37 and match.review.threshold=0.31 or recalibrate"
              + " (docs/modules/index-service.md#matching).")
      .define(VERIFY_WEIGHT, Type.DOUBLE, MatchPolicy.Verification.DEFAULT.weight(), Range.between(0.0, 2.0),
          Importance.MEDIUM, "w of the verified decision score score + w * (evidence - "
              + VERIFY_NEUTRAL + "): how much the thumbnails' alignment moves a candidate's score.")
      .define(VERIFY_NEUTRAL, Type.DOUBLE, MatchPolicy.Verification.DEFAULT.neutral(), Range.between(-1.0, 1.0),
          Importance.LOW, "The evidence (how much better the thumbnails line up than by chance, 0 to 2) that neither"
              + " raises nor lowers a candidate's score.")
      .define(LOCAL_CANDIDATES, Type.INT, MatchPolicy.LocalVerification.DEFAULT.candidates(), Range.between(0, 100),
          Importance.MEDIUM, "Local verification: for a probe sent with local features (ingest.local.features), the"
              + " references of each shard sharing the most rare visual words with it are placed inside it by RANSAC"
              + " (about 4 ms each); finds a reference pasted into, or heavily cropped from, a larger picture. 0 = off.")
      .define(LOCAL_MIN_INLIERS, Type.INT, MatchPolicy.LocalVerification.DEFAULT.minInliers(), Range.atLeast(4),
          Importance.MEDIUM, "Inliers of a local placement at or above which it is evidence on its own: the candidate's"
              + " decision score becomes at least the match threshold.")
      .define(LOCAL_PER_INLIER, Type.DOUBLE, MatchPolicy.LocalVerification.DEFAULT.perInlier(), Range.between(0.0, 0.1),
          Importance.LOW, "How much each inlier beyond " + LOCAL_MIN_INLIERS + " adds to a placed reference's score.")
      .define(LOCAL_CONTRADICT, Type.BOOLEAN, MatchPolicy.LocalVerification.DEFAULT.contradict(), Importance.LOW,
          "Whether a match resting on the descriptor alone is checked against the probe's local features: when many"
              + " distinctive matches with the reference place almost no inliers (two drawings of one style), it is"
              + " held at the review threshold (REVIEW) instead of alerting.")
      .define(LAYOUT_CANDIDATES, Type.INT, MatchPolicy.LayoutMatching.DEFAULT.candidates(), Range.between(0, 100),
          Importance.MEDIUM, "Layout matching of pixelated probes (those in which ingest-stream found a mosaic grid:"
              + " their depixel view): the references of each shard nearest to the probe's coarse layout (its"
              + " thumbnail averaged onto 8 x 8 cells), per flip of the probe, compared with it on 16 x 16 cells;"
              + " finds the original of a coarse mosaic no other signal sees. 0 = off (docs/modules/index-service.md).")
      .define(LAYOUT_MIN_CORRELATION, Type.DOUBLE, MatchPolicy.LayoutMatching.DEFAULT.minCorrelation(),
          Range.between(0.5, 0.999), Importance.LOW, "The least 16 x 16-cell layout correlation of a reference a"
              + " pixelated probe is decided to copy by its layout (the worst-fitting tenth of the cells left out).")
      .define(LAYOUT_MAX_RATIO, Type.DOUBLE, MatchPolicy.LayoutMatching.DEFAULT.maxRatio(), Range.between(0.01, 0.99),
          Importance.LOW, "The ratio test of layout matching: (1 - the best reference's correlation) must be at most"
              + " this times (1 - the best other work's, at least 0.8).")
      .define(LAYOUT_WINDOWS, Type.BOOLEAN, MatchPolicy.LayoutMatching.DEFAULT.windows(), Importance.LOW,
          "Where the whole layouts decide nothing, decide again by windows of each candidate's thumbnail with the"
              + " probe's shape (sides 0.6-1.0, 3 x 3 positions): a pixelated copy cropped before or after the"
              + " pixelating. Costs a few milliseconds per candidate, only for pixelated probes left undecided.")
      .define(LAYOUT_TINY_MAX_SIDE, Type.INT, MatchPolicy.LayoutMatching.DEFAULT.tinyMaxSide(),
          Range.between(0, 100_000), Importance.LOW, "An upload or query whose longer side is at most this many pixels"
              + " and that nothing else decided is also judged by the 16 x 16-cell layouts of its ranked candidates"
              + " and of the references nearest to its layout (match.layout.candidates per shard), by the same rule"
              + " as a pixelated probe. 0 = off.")
      .define(LAYOUT_TINY_MAX_BACKGROUND, Type.DOUBLE, MatchPolicy.LayoutMatching.DEFAULT.tinyMaxBackground(),
          Range.between(0.0, 1.0), Importance.LOW, "A tiny upload or query whose background cosine (its similarity to"
              + " the embedder's background set of icons, dialogs and plots) is above this is not judged by its"
              + " layout: pictures of one such style share their layouts. 1 = no such gate.")
      .define(LOCAL_COLLECTIONS, Type.LIST, List.of("protected", "banned"), Importance.MEDIUM,
          "Collections whose images keep their local features in the index (about 44 KB and 2,000 indexed words per"
              + " image), so that local verification can find them inside later uploads; empty = none.")
      .define(EXTRAS_LOOKBACK_MS, Type.LONG, 60_000L, Range.between(0, 86_400_000), Importance.LOW,
          "An upload whose local features and preview the embedder put on embedding-extras (extrasAside): how far"
              + " before its embeddings record's embeddedAtMs they are looked for, when that partition is read afresh"
              + " (clock differences between brokers or embedders).")
      .define(EXTRAS_LOOKAHEAD_MS, Type.LONG, 60_000L, Range.between(0, 86_400_000), Importance.LOW,
          "How far past an upload's embeddings record's embeddedAtMs its extras may still lie (records of several"
              + " embedders interleave): past it, they are not there and the upload is matched without them.")
      .define(EXTRAS_WAIT_MS, Type.LONG, 5_000L, Range.between(0, 600_000), Importance.LOW,
          "The longest one upload waits for its extras (another embedder's open transaction can hold them back).")
      .define(EXTRAS_BUFFER_BYTES, Type.LONG, 32L << 20, Range.between(1 << 20, 1L << 34), Importance.LOW,
          "What the extras read ahead of their embeddings records may hold in memory; the oldest go first.")
      .define(MATCH_THRESHOLD, Type.DOUBLE, MatchPolicy.DEFAULT_MATCH_THRESHOLD, Range.between(0.0, 1.0),
          Importance.HIGH, "Decision score (similarity less the margin) at or above which the decision is MATCH."
              + " Calibrate on held-out data (./imgmatch calibrate), never on the queries you evaluate with.")
      .define(REVIEW_THRESHOLD, Type.DOUBLE, MatchPolicy.DEFAULT_REVIEW_THRESHOLD, Range.between(0.0, 1.0),
          Importance.HIGH, "Decision score at or above which the decision is REVIEW (at most match.threshold).")
      .define(ALERT_MIN_DECISION, Type.STRING, "MATCH", ValidString.in("MATCH", "REVIEW"), Importance.MEDIUM,
          "Weakest decision that raises an alert (REVIEW also alerts at match.review.threshold).")
      .define(MAX_ALERT_MATCHES, Type.INT, 10, Range.between(1, 1000), Importance.LOW,
          "Most matched images listed in one alert.")
      .define(QUERY_GROUP_ID, Type.STRING, "", Importance.LOW,
          "Consumer group for queries and probes; empty = '<group.id>-queries'. Instances sharing it split the"
              + " queries (each answers from its own shards, PARTIAL when it lacks some); one group per instance"
              + " makes every instance see every query (the scale-out fan-out, docs/modules/index-service.md).")
      .define(QUERY_MAX_K, Type.INT, 1000, Range.between(1, 10_000), Importance.LOW, "Largest k a query may ask.")
      .define(QUERY_REPLY_TOPIC_PATTERN, Type.STRING, "", Importance.MEDIUM,
          "Regular expression a query's own reply topic must match (empty: <topic.prefix>query-replies, optionally "
              + "followed by '.', '-' or '_' and a suffix). Other reply topics, and ones that do not exist, cost the "
              + "query a reject (INVALID_QUERY), never a reply elsewhere.")
      .define(MAX_REJECT_PAYLOAD, Type.INT, 1024 * 1024, Range.atLeast(0), Importance.LOW,
          "Original values are cut to this many bytes in reject records.")
      .define(POLL_MS, Type.LONG, 50L, Range.between(1, 10_000), Importance.LOW, "Consumer poll timeout.")
      .define(HTTP_HOST, Type.STRING, "0.0.0.0", new ConfigDef.NonEmptyString(), Importance.MEDIUM,
          "Address the operational HTTP endpoint (/health, /ready, /metrics) binds to when run alone.")
      .define(HTTP_PORT, Type.INT, 8080, Range.between(-1, 65535), Importance.MEDIUM,
          "Port of the operational HTTP endpoint when run alone; 0 = any free port, -1 = no endpoint.")
      .define(LOG_FORMAT, Type.STRING, "json", ValidString.in("json", "text"), Importance.LOW,
          "Log lines of IndexServiceApp run alone: json (one JSON object per line, logback's JsonEncoder) or text"
              + " (IMGMATCH_LOG_FORMAT=text). Level of our loggers: environment variable IMGMATCH_LOG_LEVEL (default"
              + " INFO).");

  private final MatchPolicy policy;

  public IndexServiceConfig(Map<String, ?> props) {
    super(DEF, KafkaResources.withDerivedName(props, GROUP_ID, KafkaResources.INDEX_GROUP, TOPIC_PREFIX,
        Topics.DEFAULT_PREFIX), false);
    Settings.refuseRemoved(originals(), RENAMED);
    if (getDouble(REVIEW_THRESHOLD) > getDouble(MATCH_THRESHOLD)) {
      throw new ConfigException(REVIEW_THRESHOLD, getDouble(REVIEW_THRESHOLD),
          "must not exceed " + MATCH_THRESHOLD + " (" + getDouble(MATCH_THRESHOLD) + ")");
    }
    if (getInt(KNN_CANDIDATES) < getInt(MATCH_K)) {
      throw new ConfigException(KNN_CANDIDATES, getInt(KNN_CANDIDATES),
          "must be at least " + MATCH_K + " (" + getInt(MATCH_K) + "): HNSW cannot return more than it explores");
    }
    try {
      this.policy = MatchPolicy.from(this);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(MATCH_RULES, getString(MATCH_RULES), e.getMessage());
    }
  }

  private static void validatePrefix(String name, Object v) {
    try {
      new Topics((String) v);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(name, v, e.getMessage());
    }
  }

  /** Loads defaults &lt; file &lt; environment &lt; overrides (see {@link Settings}). */
  public static IndexServiceConfig load(Path file, Map<String, String> env, Map<String, String> overrides) {
    return new IndexServiceConfig(Settings.load(file, env, overrides));
  }

  public Topics topics() {
    return new Topics(getString(TOPIC_PREFIX));
  }

  public MatchPolicy policy() {
    return policy;
  }

  public VectorFormat vectorFormat() {
    return VectorFormat.fromConfig(getString(VECTOR_FORMAT));
  }

  public Path indexDir() {
    return Path.of(getString(INDEX_DIR));
  }

  /** Kafka client settings: every {@code kafka.*} key without its prefix. */
  public Map<String, Object> kafkaProps() {
    Map<String, Object> m = new HashMap<>(Settings.withPrefix(originals(), KAFKA_PREFIX));
    m.put("bootstrap.servers", getString(BOOTSTRAP));
    return m;
  }

  /**
   * Resolved settings (defaults included, pass-through Kafka keys too) with secrets masked, one per line, then a
   * warning for a consumer group named outside the topic prefix.
   */
  public String describe() {
    Map<String, Object> all = new TreeMap<>();
    values().forEach(all::put);
    originals().forEach((k, v) -> {
      if (k.startsWith(KAFKA_PREFIX)) {
        all.put(k, v);
      }
    });
    StringBuilder sb = new StringBuilder(Settings.describe(all));
    Map<String, String> names = new TreeMap<>();
    names.put(GROUP_ID, getString(GROUP_ID));
    names.put(QUERY_GROUP_ID, getString(QUERY_GROUP_ID));
    if (!getString(TRANSACTIONAL_ID).isBlank()) { // the default is '<group.id>-<instance id>'
      names.put(TRANSACTIONAL_ID, getString(TRANSACTIONAL_ID));
    }
    KafkaResources.outsidePrefix(getString(TOPIC_PREFIX), names)
        .forEach(w -> sb.append("  WARNING: ").append(w).append('\n'));
    return sb.toString();
  }

  /** Markdown table of every key (docs/modules/index-service.md). */
  public static void main(String[] args) {
    System.out.println("| key | default | meaning |\n|---|---|---|");
    DEF.configKeys().values().forEach(k -> System.out.println("| `" + k.name + "` | `"
        + (k.defaultValue == null ? "" : k.defaultValue instanceof List<?> l ? String.join(",", l.stream().map(String::valueOf).toList()) : k.defaultValue)
        + "` | " + k.documentation + " |"));
  }
}
