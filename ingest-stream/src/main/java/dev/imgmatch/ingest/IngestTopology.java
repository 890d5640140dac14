package dev.imgmatch.ingest;

import dev.imgmatch.avro.PreparedImage;
import dev.imgmatch.common.MatchRules;
import dev.imgmatch.schemas.Topic;
import dev.imgmatch.schemas.Topics;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.Stores;

/**
 * The ingest-stream topology, built by a pure function of its settings:
 * <pre>
 *   uploads ──► prepare-upload ──► {prefix}ingest-by-sha256 ──► exact-copy [store exact-copies] ──► prepared
 *                    │     │          (key SHA-256:tenant)           └──► match-alerts (exact copies)
 *                    │     └──► originals (reference collections: the bytes, for reindex)
 *   queries ──► prepare-query ─────────────────────────────────────────────► prepared (image targets only)
 *                    └──────────── every failure ──► rejects
 *   deletions ──► takedown-route ──► {prefix}ingest-by-sha256 (every partition) ──► exact-copy forgets the taken-down
 *                        │                                                         first sighting
 *                        └──► originals (a tombstone)
 * </pre>
 * Values are read as bytes and decoded by the topic descriptors inside the processors, so a malformed
 * record becomes a reject (MALFORMED_RECORD, UNKNOWN_SCHEMA, EMPTY_RECORD) instead of a deserialization
 * failure. Uploads are re-keyed by (SHA-256, tenant) through a repartition topic so that byte-identical
 * copies meet in the same store partition whatever their image ids; the output is keyed by image id again.
 */
public final class IngestTopology {
  public static final String STORE = "exact-copies";
  /** (tenant, image id) of a watched first sighting → its key in {@link #STORE}: what a takedown must forget. */
  public static final String BY_IMAGE_STORE = "exact-copies-by-image";
  static final String DELETIONS_SOURCE = "deletions-source";
  static final String TAKEDOWN_ROUTE = "takedown-route";
  static final String TAKEDOWN_SINK = "takedown-sink";
  static final String UPLOADS_SOURCE = "uploads-source";
  static final String QUERIES_SOURCE = "queries-source";
  static final String BY_SHA_SOURCE = "by-sha256-source";
  static final String PREPARE_UPLOAD = "prepare-upload";
  static final String PREPARE_QUERY = "prepare-query";
  static final String EXACT_COPY = "exact-copy";
  static final String BY_SHA_SINK = "by-sha256-sink";
  static final String PREPARED_SINK = "prepared-sink";
  static final String ALERTS_SINK = "match-alerts-sink";
  static final String REJECTS_SINK = "rejects-sink";
  static final String REPLIES_SINK = "query-replies-sink";
  static final String ORIGINALS_SINK = "originals-sink";

  private IngestTopology() {}

  /**
   * The repartition topic between the two upload stages (created with the other topics): prepared records
   * keyed by (SHA-256, tenant), kept one day (stage 2 reads them within seconds; the day covers outages).
   */
  public static Topic<String, PreparedImage> bySha256(Topics topics) {
    Topic<String, PreparedImage> p = topics.prepared();
    Map<String, String> configs = new HashMap<>(p.configs());
    configs.put("retention.ms", String.valueOf(24L * 3600 * 1000));
    return new Topic<>(topics.prefix() + "ingest-by-sha256", p.keySerde(), p.valueSerde(), p.valueType(),
        p.defaultPartitions(), configs, "ingest-stream's uploads re-keyed by SHA-256 and tenant (exact-copy store)");
  }

  public static Topology build(IngestConfig cfg, IngestCounters counters, Clock clock) {
    return build(cfg, counters, clock, true);
  }

  /**
   * @param answerRejectedQueries write a REJECTED reply for each image query ingest-stream rejects, on the default
   *     reply topic (which must exist: a missing topic would fail the stream's transaction)
   */
  public static Topology build(IngestConfig cfg, IngestCounters counters, Clock clock,
      boolean answerRejectedQueries) {
    Topics topics = cfg.topics();
    ImagePreparer preparer = ImagePreparer.of(cfg);
    ReferenceResolver references = new ReferenceResolver(cfg.referenceRoots(), cfg.imageLimits().maxBytes());
    ByteArrayDeserializer bytesIn = new ByteArrayDeserializer();
    ByteArraySerializer bytesOut = new ByteArraySerializer();
    String bySha = bySha256(topics).name();
    // each processor has its own sink nodes, so the three stages are independent sub-topologies (tasks)
    RejectSink uploadRejects = rejects(cfg, topics, counters, clock, REJECTS_SINK + "-upload");
    RejectSink queryRejects = rejects(cfg, topics, counters, clock, REJECTS_SINK + "-query");
    RejectSink exactRejects = rejects(cfg, topics, counters, clock, REJECTS_SINK + "-exact");

    Topology t = new Topology();
    t.addSource(UPLOADS_SOURCE, bytesIn, bytesIn, topics.uploads().name());
    t.addProcessor(PREPARE_UPLOAD, () -> new PrepareProcessor(PrepareProcessor.Input.UPLOADS, topics, preparer,
        references, uploadRejects, counters, clock, BY_SHA_SINK, cfg.uploadViews(), cfg.smallViewCollections(), null,
        cfg.originalsCollections(), ORIGINALS_SINK), UPLOADS_SOURCE);
    t.addSink(BY_SHA_SINK, bySha, bytesOut, bytesOut, PREPARE_UPLOAD);
    t.addSink(ORIGINALS_SINK, topics.originals().name(), bytesOut, bytesOut, PREPARE_UPLOAD);
    t.addSink(REJECTS_SINK + "-upload", topics.rejects().name(), bytesOut, bytesOut, PREPARE_UPLOAD);

    t.addSource(QUERIES_SOURCE, bytesIn, bytesIn, topics.queries().name());
    t.addProcessor(PREPARE_QUERY, () -> new PrepareProcessor(PrepareProcessor.Input.QUERIES, topics, preparer,
        references, queryRejects, counters, clock, PREPARED_SINK + "-query", cfg.queryViews(), java.util.Set.of(),
        answerRejectedQueries ? REPLIES_SINK : null), QUERIES_SOURCE);
    t.addSink(PREPARED_SINK + "-query", topics.prepared().name(), bytesOut, bytesOut, PREPARE_QUERY);
    if (answerRejectedQueries) {
      // REJECTED replies to image queries ingest cannot use (default reply topic only: it is known to exist)
      t.addSink(REPLIES_SINK, topics.queryReplies().name(), bytesOut, bytesOut, PREPARE_QUERY);
    }
    t.addSink(REJECTS_SINK + "-query", topics.rejects().name(), bytesOut, bytesOut, PREPARE_QUERY);

    t.addSource(BY_SHA_SOURCE, bytesIn, bytesIn, bySha);
    MatchRules rules = cfg.matchRules();
    t.addProcessor(EXACT_COPY, () -> new ExactCopyProcessor(topics, STORE, BY_IMAGE_STORE, rules, cfg.exactPruning(),
        exactRejects, counters, clock, PREPARED_SINK + "-exact", ALERTS_SINK), BY_SHA_SOURCE);
    t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STORE), Serdes.String(),
        Serdes.ByteArray()), EXACT_COPY);
    t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(BY_IMAGE_STORE), Serdes.String(),
        Serdes.String()), EXACT_COPY);
    t.addSink(PREPARED_SINK + "-exact", topics.prepared().name(), bytesOut, bytesOut, EXACT_COPY);
    t.addSink(ALERTS_SINK, topics.matchAlerts().name(), bytesOut, bytesOut, EXACT_COPY);
    t.addSink(REJECTS_SINK + "-exact", topics.rejects().name(), bytesOut, bytesOut, EXACT_COPY);

    // takedowns reach every partition of the exact-copy store (the deletion names an id, the store is keyed by
    // bytes): the partition holding that id's first sighting forgets it. Added last, so that the sub-topologies
    // above keep their numbers (and task state directories) in deployments that predate it.
    t.addSource(DELETIONS_SOURCE, bytesIn, bytesIn, topics.deletions().name());
    t.addProcessor(TAKEDOWN_ROUTE, () -> new ExactCopyProcessor.TakedownRouter(topics, TAKEDOWN_SINK,
        ORIGINALS_SINK + "-takedown"), DELETIONS_SOURCE);
    t.addSink(TAKEDOWN_SINK, bySha, bytesOut, bytesOut,
        (String topic, byte[] key, byte[] value, int partitions) -> java.util.Optional.of(
            java.util.stream.IntStream.range(0, partitions).boxed().collect(java.util.stream.Collectors.toSet())),
        TAKEDOWN_ROUTE);
    t.addSink(ORIGINALS_SINK + "-takedown", topics.originals().name(), bytesOut, bytesOut, TAKEDOWN_ROUTE);
    return t;
  }

  private static RejectSink rejects(IngestConfig cfg, Topics topics, IngestCounters counters, Clock clock,
      String sink) {
    return new RejectSink(topics, sink, cfg.maxRejectPayloadBytes(), counters, clock);
  }
}
