package dev.imgmatch.index;

import dev.imgmatch.avro.Decision;
import dev.imgmatch.avro.Deletion;
import dev.imgmatch.avro.ImageEmbedding;
import dev.imgmatch.avro.ImageIdTarget;
import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.avro.Purpose;
import dev.imgmatch.avro.QueryParams;
import dev.imgmatch.avro.QueryReply;
import dev.imgmatch.avro.QueryRequest;
import dev.imgmatch.avro.Reject;
import dev.imgmatch.avro.ReplyStatus;
import dev.imgmatch.avro.VectorTarget;
import dev.imgmatch.common.OutputFailures;
import dev.imgmatch.common.ServiceEndpoint;
import dev.imgmatch.common.TopicSetup;
import dev.imgmatch.schemas.RecordDecodingException;
import dev.imgmatch.schemas.Rejects;
import dev.imgmatch.schemas.Topic;
import dev.imgmatch.schemas.Topics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * index-service: consumes embeddings (the shards this instance owns) and deletions, matches every new
 * upload against what is already indexed before indexing it, and answers queries.
 *
 * <h2>Threads</h2>
 * <ul>
 *   <li>{@code index-ingest} owns the embeddings consumer (group {@code group.id}; partition = shard), the
 *       deletions consumer (every partition, no group) and all index writes and commits;
 *   <li>{@code index-queries} owns the consumer of {@code queries} (id and vector targets) and {@code probes}
 *       (purpose QUERY) and answers each on its reply topic;
 *   <li>{@code index-refresher} (in {@link LocalShards}) reopens searchers every {@code index.refresh.interval.ms}.
 * </ul>
 * Each thread has a transactional producer of its own: the ingest thread for alerts and rejects, committed with the
 * embeddings offsets; the query thread for replies and rejects, committed with the offsets of each batch of queries
 * (so a query is answered once for a read_committed reader; a batch whose transaction fails is read again).
 *
 * <h2>Crash safety: each alert exactly once</h2>
 * Two positions per shard. <b>A</b>, the offset Kafka holds for the embeddings group, moves only in a Kafka
 * transaction together with the alerts and rejects of the records before it (every {@code
 * alerts.transaction.interval.ms}, 100 ms). <b>L</b>, the offset in the shard's Lucene commit, moves only right
 * after such a transaction committed (every {@code index.commit.interval.ms}), so L ≤ A always. When a shard is
 * opened (start, rebalance, recovery) its partition is read from L: records before A are indexed again without
 * being matched (their alerts are committed already), records from A on are matched and indexed. A {@code
 * read_committed} reader of {@code match-alerts} therefore sees each alert once after {@code kill -9} at any moment
 * (the open transaction is aborted: by the restart, whose transactional id is kept in {@code index.dir}, or by the
 * broker after {@code transaction.timeout.ms} when the disk was lost), and a restart on an empty disk rebuilds the
 * index without alerting again. A transaction that fails to commit is aborted, the shards roll back to their last
 * commit and are read again from there (with back-off), without stopping the service. Documents are upserts, so the
 * index holds each image once. Every instance applies every deletion; the owner of shard 0 alone reports malformed
 * ones, committing the deletions' offsets in the same group and transaction, so each gets one reject too.
 */
public final class IndexService implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(IndexService.class);
  public static final String STAGE = "index-service";

  private final IndexServiceConfig cfg;
  private final Topics topics;
  private final MatchPolicy policy;
  /** Bytes of a refused record a reject keeps: the setting, within what the rejects topic takes. */
  private final int rejectPayload;
  private final ReplyTopics replyTopics;

  /** For reply topic checks, created on first use. */
  private Admin admin;
  private final LocalShards shards;
  /** Replies, and rejects of queries and probes (query thread): one transaction per batch of queries. */
  private final KafkaProducer<byte[], byte[]> producer;
  /** The first failed send of the open query transaction (it cannot commit). */
  private final AtomicReference<Throwable> querySendFailure = new AtomicReference<>();
  /** Alerts, and rejects of embeddings and deletions (ingest thread only): one transaction per commit interval. */
  private final KafkaProducer<byte[], byte[]> txProducer;
  private final String transactionalId;
  /** The first failed send of the open transaction (it cannot commit). */
  private final AtomicReference<Throwable> txSendFailure = new AtomicReference<>();
  /** Per owned shard: records before this offset had their alerts committed already (A); replayed index-only. */
  private final Map<Integer, Long> alertsFrom = new ConcurrentHashMap<>();
  /** Shards whose partition no longer holds what their index lacks (retention deleted it): why, per shard. */
  private final Map<Integer, String> truncatedShards = new ConcurrentHashMap<>();
  /** Per deletions partition: the next offset whose malformed record is still to be reported (by shard 0's owner). */
  private final Map<Integer, Long> deletionsReported = new ConcurrentHashMap<>();
  /** Offsets in the last committed transaction; null when none since the shards were (re)opened. */
  private Map<TopicPartition, OffsetAndMetadata> lastTxOffsets;
  /** Whether the open transaction holds any output. */
  private boolean txHasOutput;
  private int txFailuresInARow;
  /** Why the last transaction failed, while recovery goes on; null when the last one committed. */
  private volatile String txTrouble;
  private final AtomicLong replayed = new AtomicLong();
  /** Records indexed into replicas of shards other instances own (index.shards=all). */
  private final AtomicLong replicated = new AtomicLong();
  /** The replicas of the shards this instance does not own; null with index.shards=owned or when not running. */
  private volatile Replicas replicas;
  /** Why the replicas hold matching back (catching up, or too far behind); null when they do not. */
  private volatile String replicaTrouble;
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private final CountDownLatch assigned = new CountDownLatch(1);
  private final CountDownLatch queriesReady = new CountDownLatch(1);
  private final AtomicLong indexed = new AtomicLong();
  private final AtomicLong alerts = new AtomicLong();
  private final AtomicLong rejected = new AtomicLong();
  private final AtomicLong answered = new AtomicLong();
  private volatile boolean running;
  private Thread ingestThread;
  private Thread queryThread;
  private volatile KafkaConsumer<byte[], byte[]> embeddingsConsumer;
  private volatile KafkaConsumer<byte[], byte[]> queryConsumer;
  private volatile ServiceEndpoint endpoint;
  // meters (Micrometer; Prometheus at /metrics when the endpoint runs)
  private final MeterRegistry registry;
  private final Counter indexedCounter;
  private final Map<Decision, Counter> alertCounters = new java.util.EnumMap<>(Decision.class);
  private final Map<ReplyStatus, Counter> answeredCounters = new java.util.EnumMap<>(ReplyStatus.class);
  private final Timer uploadToAlert;
  private final Timer queryLatency;
  private final Timer matchSearch;
  private final Timer querySearch;
  private final Map<Integer, Gauge> shardGauges = new ConcurrentHashMap<>();
  private final KafkaClientMetrics producerMetrics;

  /** With a registry of its own (JVM meters included), served by {@link #startEndpoint}. */
  public IndexService(IndexServiceConfig cfg) {
    this(cfg, ServiceEndpoint.newRegistry(STAGE));
  }

  /** Meters go to {@code registry} (a Prometheus one when {@link #startEndpoint} is to serve them). */
  public IndexService(IndexServiceConfig cfg, MeterRegistry registry) {
    this.cfg = cfg;
    this.registry = registry;
    this.indexedCounter = Counter.builder("imgmatch.index.indexed").description("images indexed (upserts)")
        .register(registry);
    for (Decision d : Decision.values()) {
      alertCounters.put(d, Counter.builder("imgmatch.index.alerts").tag("decision", d.name())
          .description("match alerts raised").register(registry));
    }
    for (ReplyStatus st : ReplyStatus.values()) {
      answeredCounters.put(st, Counter.builder("imgmatch.index.queries.answered").tag("status", st.name())
          .description("queries answered, by reply status").register(registry));
    }
    for (String reason : List.of(Records.INVALID_EMBEDDING, Records.INVALID_QUERY, Records.INVALID_DELETION,
        "QUERY_FAILED")) {
      rejectCounter(reason);
    }
    this.uploadToAlert = Timer.builder("imgmatch.index.upload.to.alert").publishPercentileHistogram()
        .description("from an upload's submittedAtMs to its alert being produced").register(registry);
    this.queryLatency = Timer.builder("imgmatch.index.query.latency").publishPercentileHistogram()
        .description("from a query's requestedAtMs to its reply being produced").register(registry);
    this.matchSearch = Timer.builder("imgmatch.index.search").tag("purpose", "match").publishPercentileHistogram()
        .description("kNN (every view) + PDQ + exact search across the local shards").register(registry);
    this.querySearch = Timer.builder("imgmatch.index.search").tag("purpose", "query").publishPercentileHistogram()
        .description("kNN (every view) + PDQ + exact search across the local shards").register(registry);
    Gauge.builder("imgmatch.index.shards.owned", this, s -> s.ownedShards().size())
        .description("shards (partitions of embeddings) this instance owns").register(registry);
    Gauge.builder("imgmatch.index.shards.replicas", this, s -> s.shards.owned().size() - s.ownedShards().size())
        .description("replicas of shards other instances own (index.shards=all)").register(registry);
    Gauge.builder("imgmatch.index.recent.unrefreshed", this, s -> s.shards.recentCount())
        .description("images upserted since the last searcher refresh").register(registry);
    this.topics = cfg.topics();
    this.policy = cfg.policy();
    String pattern = cfg.getString(IndexServiceConfig.QUERY_REPLY_TOPIC_PATTERN);
    this.replyTopics = new ReplyTopics(pattern.isBlank() ? ReplyTopics.defaultPattern(topics.prefix()) : pattern,
        topics.queryReplies().name(), this::topicExists);
    this.rejectPayload = Math.min(cfg.getInt(IndexServiceConfig.MAX_REJECT_PAYLOAD),
        topics.rejects().maxMessageBytes() - 64 * 1024);
    this.shards = new LocalShards(cfg.indexDir(), ShardIndex.Options.from(cfg),
        cfg.getLong(IndexServiceConfig.REFRESH_INTERVAL_MS));
    Map<String, Object> pp = producerProps("index-service-producer");
    // what Topics says its outputs take (a reject may carry up to max.reject.payload.bytes of the refused record)
    pp.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Topics.maxRequestSize(topics.rejects(), topics.queryReplies()));
    // a reply topic that does not exist must cost one query, not a thread blocked for a minute
    pp.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, "10000");
    String txId = cfg.getString(IndexServiceConfig.TRANSACTIONAL_ID);
    try {
      this.transactionalId = txId.isBlank()
          ? cfg.getString(IndexServiceConfig.GROUP_ID) + "-" + InstanceId.of(cfg.indexDir()) : txId;
    } catch (IOException e) {
      try {
        shards.close();
      } catch (IOException e2) {
        e.addSuppressed(e2);
      }
      throw new UncheckedIOException("cannot keep the instance id in " + cfg.indexDir(), e);
    }
    Map<String, Object> tp = producerProps("index-service-alerts");
    tp.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Topics.maxRequestSize(topics.rejects(), topics.matchAlerts()));
    tp.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    // a transaction left open by a crash blocks read_committed readers of match-alerts until it is aborted: by the
    // restart (same id), or after this long when the instance id was lost with its disk
    tp.putIfAbsent(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, "15000");
    pp.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId + "-queries");
    pp.putIfAbsent(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, "15000");
    this.producer = new KafkaProducer<>(pp);
    this.txProducer = new KafkaProducer<>(tp);
    this.producerMetrics = new KafkaClientMetrics(producer);
    producerMetrics.bindTo(registry);
  }

  private Map<String, Object> producerProps(String clientId) {
    Map<String, Object> pp = new HashMap<>(cfg.kafkaProps());
    pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    pp.put(ProducerConfig.ACKS_CONFIG, "all");
    pp.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    pp.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, "1");
    Object base = pp.get(ProducerConfig.CLIENT_ID_CONFIG);
    pp.put(ProducerConfig.CLIENT_ID_CONFIG, base == null ? clientId : base + "-" + clientId);
    return pp;
  }

  private Counter rejectCounter(String reason) {
    return Counter.builder("imgmatch.index.rejected").tag("reason", reason)
        .description("records rejected (written to rejects), by reason code").register(registry);
  }

  /** This instance's meters. */
  public MeterRegistry registry() {
    return registry;
  }

  /**
   * Starts the operational HTTP endpoint ({@code /health}, {@code /ready}, {@code /metrics}) on {@code http.host:
   * http.port}, what {@link IndexServiceApp} does; null when {@code http.port} is -1. Needs the Prometheus
   * registry of {@link #IndexService(IndexServiceConfig)} (or one passed in).
   */
  public ServiceEndpoint startEndpoint() {
    int port = cfg.getInt(IndexServiceConfig.HTTP_PORT);
    if (port < 0) {
      return null;
    }
    if (!(registry instanceof io.micrometer.prometheusmetrics.PrometheusMeterRegistry prom)) {
      throw new IllegalStateException("the endpoint serves a Prometheus registry; this service was given a "
          + registry.getClass().getSimpleName());
    }
    String host = cfg.getString(IndexServiceConfig.HTTP_HOST);
    try {
      endpoint = ServiceEndpoint.start(STAGE, prom, host, port, this::notReadyReason);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot serve " + IndexServiceConfig.HTTP_HOST + ":"
          + IndexServiceConfig.HTTP_PORT + " " + host + ":" + port + ": " + e.getMessage(), e);
    }
    return endpoint;
  }

  /**
   * The model version whose latest descriptor had more dimensions than the index takes, with the reason, or null.
   * A misconfigured embedder (say, a head that emits raw 1792-d features) is a deployment error, not a bad record:
   * besides the rejects, readiness says so until descriptors of a usable dimension arrive again.
   */
  private final AtomicReference<String> unusableDimension = new AtomicReference<>();

  private void noteDimension(ImageEmbedding e) {
    int dim = e.getVector() == null ? 0 : e.getVector().size();
    if (dim > Records.MAX_DIMENSION) {
      String why = "descriptors of model " + e.getModelId() + " version " + e.getModelVersion() + " have " + dim
          + " dimensions, more than the " + Records.MAX_DIMENSION + " the index takes: every one is rejected "
          + "(INVALID_EMBEDDING); give the embedders a head that projects to at most " + Records.MAX_DIMENSION
          + " (descriptor.head=pca-whiten)";
      if (!why.equals(unusableDimension.getAndSet(why))) {
        log.error("{}", why);
      }
    } else if (dim > 0) {
      unusableDimension.set(null);
    }
  }

  /** Readiness: null when the shards are assigned and open and both consumers run; else why not. */
  public String notReadyReason() {
    Throwable t = failure.get();
    if (t != null) {
      return "failed: " + t;
    }
    String dim = unusableDimension.get();
    if (dim != null) {
      return dim;
    }
    if (!running) {
      return "not running";
    }
    if (!truncatedShards.isEmpty()) {
      return String.join("; ", new java.util.TreeMap<>(truncatedShards).values());
    }
    String tx = txTrouble;
    if (tx != null) {
      return "alerts are not being committed (recovering with back-off): " + tx;
    }
    String rt = replicaTrouble;
    if (rt != null) {
      return rt;
    }
    if (embeddingsConsumer == null || assigned.getCount() > 0) {
      return "embeddings consumer has no shard assignment yet (shards not open)";
    }
    if (queryConsumer == null || queriesReady.getCount() > 0) {
      return "query consumer not assigned yet";
    }
    return null;
  }

  /** The topics this service creates when missing, as {@link Topics} defines them ({@code embeddings}: kept forever). */
  List<Topic<?, ?>> topicsToCreate() {
    return topics.all();
  }

  /** Logs a warning when {@code embeddings} (created by someone else) deletes old records: shards could not be rebuilt. */
  private void warnIfEmbeddingsExpire() {
    String name = topics.embeddings().name();
    try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(cfg.kafkaProps())) {
      org.apache.kafka.common.config.ConfigResource r =
          new org.apache.kafka.common.config.ConfigResource(org.apache.kafka.common.config.ConfigResource.Type.TOPIC, name);
      org.apache.kafka.clients.admin.Config c = admin.describeConfigs(List.of(r)).all().get(30, TimeUnit.SECONDS).get(r);
      String retention = c.get("retention.ms") == null ? null : c.get("retention.ms").value();
      String policy = c.get("cleanup.policy") == null ? "" : c.get("cleanup.policy").value();
      if (!"-1".equals(retention) && !policy.contains("compact")) {
        log.warn("topic {} has retention.ms={} (cleanup.policy={}): shards can only be rebuilt from records still"
            + " there; set retention.ms=-1 (docs/modules/index-service.md, Topics)", name, retention, policy);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException | RuntimeException e) {
      log.warn("cannot check the retention of {}: {}", name, e.toString());
    }
  }

  /** Logs the settings, creates missing topics (when configured) and starts the threads. */
  public IndexService start() {
    log.info("index-service settings:\n{}", cfg.describe());
    log.info("index-service takes descriptors of up to {} dimensions (HNSW); other vectors are rejected and shown on "
        + "readiness", Records.MAX_DIMENSION);
    if (cfg.getBoolean(IndexServiceConfig.TOPIC_CREATE)) {
      try {
        TopicSetup.ensure(cfg.kafkaProps(), topicsToCreate(), cfg.getInt(IndexServiceConfig.TOPIC_PARTITIONS),
            cfg.getShort(IndexServiceConfig.TOPIC_REPLICATION));
        warnIfEmbeddingsExpire();
      } catch (RuntimeException e) {
        close(); // nothing started yet: release the producer and the refresher
        throw e;
      }
    }
    running = true;
    ingestThread = new Thread(() -> runGuarded(this::ingestLoop), "index-ingest");
    queryThread = new Thread(() -> runGuarded(this::queryLoop), "index-queries");
    ingestThread.start();
    queryThread.start();
    return this;
  }

  private void runGuarded(ThrowingRunnable r) {
    try {
      r.run();
    } catch (WakeupException e) {
      if (running) {
        fail(e);
      }
    } catch (Throwable t) {
      fail(t);
    }
  }

  private void fail(Throwable t) {
    if (failure.compareAndSet(null, t)) {
      log.error("index-service stopped by a fatal error (uncommitted work is replayed on restart)", t);
    }
    running = false;
    KafkaConsumer<?, ?> e = embeddingsConsumer;
    KafkaConsumer<?, ?> q = queryConsumer;
    if (e != null) {
      e.wakeup();
    }
    if (q != null) {
      q.wakeup();
    }
  }

  @FunctionalInterface
  private interface ThrowingRunnable {
    void run() throws Exception;
  }

  /** Waits until the embeddings consumer has its first assignment (shards open) and queries are consumed. */
  public boolean awaitReady(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    return assigned.await(timeout.toMillis(), TimeUnit.MILLISECONDS)
        && queriesReady.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
  }

  /** The fatal error that stopped the service, if any. */
  public Optional<Throwable> failure() {
    return Optional.ofNullable(failure.get());
  }

  public boolean isRunning() {
    return running && failure.get() == null;
  }

  public LocalShards shards() {
    return shards;
  }

  public MatchPolicy policy() {
    return policy;
  }

  /**
   * Counters: indexed, alerts, rejected, answered, replayed (indexed again without matching: their alerts were
   * committed before a restart or roll-back), replicated (indexed into replicas of shards other instances own).
   */
  public Map<String, Long> counters() {
    return Map.of("indexed", indexed.get(), "alerts", alerts.get(), "rejected", rejected.get(), "answered",
        answered.get(), "replayed", replayed.get(), "replicated", replicated.get());
  }

  /** The shards whose partitions the embeddings group gives this instance: matched and alerted here. */
  public Set<Integer> ownedShards() {
    Set<Integer> owned = new java.util.TreeSet<>(shards.owned());
    Replicas rs = replicas;
    if (rs != null) {
      owned.removeAll(rs.partitions());
    }
    return owned;
  }

  /** Replicas of the shards other instances own (index.shards=all). */
  public Set<Integer> replicaShards() {
    Replicas rs = replicas;
    return rs == null ? Set.of() : rs.partitions();
  }

  private boolean keepsEveryShard() {
    return "all".equals(cfg.getString(IndexServiceConfig.SHARDS_KEPT));
  }

  // ---------------------------------------------------------------- ingest: embeddings + deletions

  private Map<String, Object> consumerProps(String groupId, String clientId) {
    Map<String, Object> m = new HashMap<>(cfg.kafkaProps());
    m.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    m.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    m.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    m.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    m.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    m.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
    if (groupId != null) {
      m.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
    } else {
      m.remove(ConsumerConfig.GROUP_ID_CONFIG);
      m.remove(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG); // static membership is for the embeddings group only
    }
    return m;
  }

  private void ingestLoop() throws Exception {
    Topic<String, ImageEmbedding> emb = topics.embeddings();
    Topic<String, Deletion> del = topics.deletions();
    long pollMs = cfg.getLong(IndexServiceConfig.POLL_MS);
    long commitMs = cfg.getLong(IndexServiceConfig.COMMIT_INTERVAL_MS);
    long txMs = Math.min(commitMs, cfg.getLong(IndexServiceConfig.TRANSACTION_INTERVAL_MS));
    // fences an earlier incarnation with this transactional id and aborts the transaction it left open
    retryOnTimeout("initialising the alerts transactions", txProducer::initTransactions);
    txProducer.beginTransaction();
    try (KafkaConsumer<byte[], byte[]> ec = new KafkaConsumer<>(consumerProps(cfg.getString(IndexServiceConfig.GROUP_ID),
        "index-service-embeddings"));
        KafkaConsumer<byte[], byte[]> dc = new KafkaConsumer<>(consumerProps(null, "index-service-deletions"));
        Replicas rs = keepsEveryShard() ? new Replicas(new KafkaConsumer<>(replicaProps()), txMs) : null;
        KafkaClientMetrics ecm = new KafkaClientMetrics(ec);
        KafkaClientMetrics dcm = new KafkaClientMetrics(dc)) {
      embeddingsConsumer = ec;
      replicas = rs;
      ecm.bindTo(registry); // records-lag(-max) per partition: the embeddings backlog
      dcm.bindTo(registry);
      List<TopicPartition> delParts = partitions(dc, del.name());
      dc.assign(delParts);
      List<TopicPartition> embParts = partitions(ec, emb.name());
      shards.setTotalShards(embParts.size());
      Commits commits = new Commits(ec, dc, delParts, txMs, commitMs);
      if (rs != null) {
        catchUp(rs, ec, dc, delParts, embParts, commits, pollMs);
      }
      ec.subscribe(List.of(emb.name()), new Rebalance(ec, dc, delParts));
      long maxLag = cfg.getLong(IndexServiceConfig.REPLICA_MAX_LAG);
      while (running) {
        ConsumerRecords<byte[], byte[]> recs = ec.poll(Duration.ofMillis(pollMs));
        for (ConsumerRecord<byte[], byte[]> r : recs) {
          onEmbedding(r);
          if (!commits.due()) {
            break; // rolled back and sought: the rest of this batch is read again
          }
        }
        if (rs != null) {
          rs.poll(Duration.ZERO, this::onEmbedding);
          holdWhileReplicasLag(ec, rs, maxLag);
        }
        readDeletions(dc, commits);
        commits.due();
      }
      if (commitTransaction(ec, dc, delParts)) {
        commitShards();
        for (Integer p : shards.owned()) {
          shards.close(p, emb.name());
        }
      }
    } catch (Throwable t) {
      abortQuietly();
      throw t;
    } finally {
      embeddingsConsumer = null;
      replicas = null;
    }
  }

  private void readDeletions(KafkaConsumer<byte[], byte[]> dc, Commits commits)
      throws IOException, InterruptedException {
    if (!dc.assignment().isEmpty() && !shards.all().isEmpty()) {
      for (ConsumerRecord<byte[], byte[]> r : dc.poll(Duration.ZERO)) {
        onDeletion(r);
        if (!commits.due()) {
          break;
        }
      }
    }
  }

  /** The replicas' consumer: the embeddings group's id, to read what the owners committed; never joins it. */
  private Map<String, Object> replicaProps() {
    Map<String, Object> m = consumerProps(cfg.getString(IndexServiceConfig.GROUP_ID), "index-service-replicas");
    m.remove(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
    return m;
  }

  /**
   * index.shards=all, before joining the group: opens every shard as a replica and reads each up to the offset its
   * owner committed with its alerts (on the first start of a deployment: nothing), so that whatever the group then
   * gives this instance is matched against a whole index from its first record on.
   */
  private void catchUp(Replicas rs, KafkaConsumer<byte[], byte[]> ec, KafkaConsumer<byte[], byte[]> dc,
      List<TopicPartition> delParts, List<TopicPartition> parts, Commits commits, long pollMs)
      throws IOException, InterruptedException {
    Map<TopicPartition, Long> starts = ec.beginningOffsets(parts);
    for (TopicPartition tp : parts) {
      follow(rs, tp, starts.getOrDefault(tp, 0L));
    }
    seekDeletions(ec, dc, delParts, false);
    long t0 = System.nanoTime();
    long logged = t0;
    rs.refreshLimits(true);
    long lag;
    while (running && (lag = rs.lag()) > 0) {
      replicaTrouble = "catching up the replicas of " + parts.size() + " shard(s) before taking partitions: " + lag
          + " record(s) behind what their owners committed";
      rs.poll(Duration.ofMillis(pollMs), this::onEmbedding);
      readDeletions(dc, commits);
      commits.due();
      if (System.nanoTime() - logged > TimeUnit.SECONDS.toNanos(10)) {
        logged = System.nanoTime();
        log.info("{}", replicaTrouble);
      }
    }
    replicaTrouble = null;
    log.info("replicas of {} shard(s) caught up with what their owners committed ({}) in {} ms; joining group {}",
        parts.size(), rs.limits(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0),
        cfg.getString(IndexServiceConfig.GROUP_ID));
  }

  /** Opens the shard of {@code tp} as a replica read from its index commit; its records are never matched here. */
  private void follow(Replicas rs, TopicPartition tp, long partitionStart) throws IOException {
    ShardIndex s = shards.open(tp.partition());
    if (partitionStart >= 0) {
      checkComplete(tp, s, partitionStart);
    }
    shardGauge(tp.partition());
    alertsFrom.put(tp.partition(), Long.MAX_VALUE); // its owner alerts
    rs.follow(tp, s.embeddingsOffset());
  }

  /**
   * Holds the owned partitions back while the replicas are over {@code maxLag} records behind their owners (a
   * match against a stale replica would miss copies of what it lacks), and lets them go on once they are not.
   */
  private void holdWhileReplicasLag(KafkaConsumer<byte[], byte[]> ec, Replicas rs, long maxLag) {
    long lag = rs.lag();
    if (lag > maxLag && lag != Long.MAX_VALUE) {
      if (ec.paused().size() < ec.assignment().size()) {
        log.warn("replicas are {} records behind their owners (index.replica.max.lag {}): matching waits", lag,
            maxLag);
        ec.pause(ec.assignment());
      }
      replicaTrouble = "replicas are " + lag + " records behind their owners: matching waits until they catch up";
    } else if (!ec.paused().isEmpty()) {
      ec.resume(ec.paused());
      replicaTrouble = null;
      log.info("replicas caught up: matching goes on");
    }
  }
  /** When the alerts transaction and the shard commits are due; checked after every record (a batch takes seconds). */
  private final class Commits {
    private final KafkaConsumer<byte[], byte[]> ec;
    private final KafkaConsumer<byte[], byte[]> dc;
    private final List<TopicPartition> delParts;
    private final long txNanos;
    private final long commitNanos;
    private long lastTx = System.nanoTime();
    private long lastCommit = lastTx;

    Commits(KafkaConsumer<byte[], byte[]> ec, KafkaConsumer<byte[], byte[]> dc, List<TopicPartition> delParts,
        long txMs, long commitMs) {
      this.ec = ec;
      this.dc = dc;
      this.delParts = delParts;
      this.txNanos = txMs * 1_000_000L;
      this.commitNanos = commitMs * 1_000_000L;
    }

    /**
     * Commits what is due: the transaction every {@code txMs}, and the shards with it every {@code commitMs}.
     * False when the transaction failed and the shards were rolled back ({@link #recover}).
     */
    boolean due() throws IOException, InterruptedException {
      long now = System.nanoTime();
      boolean shardsDue = now - lastCommit >= commitNanos;
      if (!shardsDue && now - lastTx < txNanos) {
        return true;
      }
      boolean ok = commitTransaction(ec, dc, delParts);
      if (ok && shardsDue) {
        commitShards();
      }
      lastTx = System.nanoTime();
      if (shardsDue) {
        lastCommit = lastTx;
      }
      return ok;
    }
  }

  private void abortQuietly() {
    try {
      txProducer.abortTransaction();
    } catch (RuntimeException e) {
      log.debug("abort after a failure: {}", e.toString());
    }
  }

  /**
   * Commits the open transaction (the alerts and rejects sent since the last one) with the offsets of every owned
   * shard, then opens the next one. Nothing to commit when nothing was sent and no offset moved. A failure that
   * dooms only this transaction is recovered from ({@link #recover}) and false is returned; fencing (another
   * process took this transactional id) and authorization errors are fatal.
   */
  private boolean commitTransaction(KafkaConsumer<byte[], byte[]> ec, KafkaConsumer<byte[], byte[]> dc,
      List<TopicPartition> delParts) throws IOException, InterruptedException {
    Map<TopicPartition, OffsetAndMetadata> offsets = shardOffsets();
    if (!txHasOutput && offsets.equals(lastTxOffsets)) {
      return true;
    }
    try {
      Throwable failed = txSendFailure.get();
      if (failed != null) {
        throw new KafkaException("an output of this transaction was not sent: " + failed, failed);
      }
      if (!offsets.isEmpty()) {
        retryOnTimeout("committing alert offsets", () -> txProducer.sendOffsetsToTransaction(offsets,
            ec.groupMetadata()));
      }
      retryOnTimeout("committing alerts", txProducer::commitTransaction);
    } catch (org.apache.kafka.common.errors.ProducerFencedException
        | org.apache.kafka.common.errors.InvalidProducerEpochException
        | org.apache.kafka.common.errors.AuthorizationException
        | org.apache.kafka.common.errors.UnsupportedVersionException e) {
      throw e;
    } catch (KafkaException e) {
      recover(ec, dc, delParts, e);
      return false;
    }
    lastTxOffsets = offsets;
    txHasOutput = false;
    txFailuresInARow = 0;
    txTrouble = null;
    txProducer.beginTransaction();
    return true;
  }

  /** The offsets the next transaction commits: every owned shard's, and the deletions' when shard 0 is owned. */
  private Map<TopicPartition, OffsetAndMetadata> shardOffsets() {
    Map<TopicPartition, OffsetAndMetadata> m = new HashMap<>();
    Set<Integer> owned = ownedShards();
    for (ShardIndex s : shards.all()) {
      if (owned.contains(s.shard()) && s.embeddingsOffset() >= 0) {
        m.put(new TopicPartition(topics.embeddings().name(), s.shard()), new OffsetAndMetadata(s.embeddingsOffset()));
      }
    }
    if (reportsDeletions()) {
      deletionsReported.forEach((p, o) -> m.put(new TopicPartition(topics.deletions().name(), p),
          new OffsetAndMetadata(o)));
    }
    return m;
  }

  /**
   * Every instance applies every deletion, but only the owner of shard 0 reports malformed ones, in its transaction
   * with the deletions' offsets (kept in the embeddings group): one reject each, across crashes and instances.
   */
  private boolean reportsDeletions() {
    return ownedShards().contains(0);
  }

  /**
   * After a transaction that could not commit: aborts it, rolls every owned shard back to its last Lucene commit and
   * reads its partition again from there (the aborted alerts are raised again; records whose alerts were committed
   * are indexed without matching). Waits 0.5 s doubling to 30 s between failures in a row; readiness says why.
   */
  private void recover(KafkaConsumer<byte[], byte[]> ec, KafkaConsumer<byte[], byte[]> dc,
      List<TopicPartition> delParts, KafkaException cause) throws IOException, InterruptedException {
    txFailuresInARow++;
    txTrouble = cause.toString();
    long backoffMs = Math.min(30_000L, 500L << Math.min(6, txFailuresInARow - 1));
    log.error("alerts transaction failed ({} in a row): {}; aborting it, rolling the shards back to their last commit"
        + " and reading again from there in {} ms", txFailuresInARow, cause.toString(), backoffMs);
    retryOnTimeout("aborting the alerts transaction", txProducer::abortTransaction);
    txSendFailure.set(null);
    txHasOutput = false;
    lastTxOffsets = null;
    // replicas hold only what their owners committed: the abort does not concern them
    List<TopicPartition> owned = ownedShards().stream()
        .map(p -> new TopicPartition(topics.embeddings().name(), p)).toList();
    for (TopicPartition tp : owned) {
      shards.close(tp.partition(), null);
    }
    Thread.sleep(backoffMs);
    resume(ec, owned);
    seekDeletions(ec, dc, delParts, true);
    txProducer.beginTransaction();
  }

  /**
   * Opens the shards of {@code parts} and seeks each partition to its Lucene commit (L); records before the offset
   * the group committed with the last alerts transaction (A) are replayed into the index without matching.
   */
  private void resume(KafkaConsumer<byte[], byte[]> ec, Collection<TopicPartition> parts) throws IOException {
    if (parts.isEmpty()) {
      return;
    }
    Map<TopicPartition, OffsetAndMetadata> committed = ec.committed(new java.util.HashSet<>(parts));
    Map<TopicPartition, Long> starts = ec.beginningOffsets(parts);
    for (TopicPartition tp : parts) {
      ShardIndex s = shards.open(tp.partition()); // a replica becoming owned is open already, warm
      checkComplete(tp, s, starts.getOrDefault(tp, 0L));
      shardGauge(tp.partition());
      OffsetAndMetadata a = committed.get(tp);
      long alertsDone = a == null ? -1 : a.offset();
      alertsFrom.put(tp.partition(), alertsDone);
      if (s.embeddingsOffset() >= 0) {
        ec.seek(tp, s.embeddingsOffset());
      } else {
        ec.seekToBeginning(List.of(tp));
      }
      long from = Math.max(0, s.embeddingsOffset());
      log.info("shard {}: reading {} from offset {} (index commit), alerts committed up to {}{}", tp.partition(), tp,
          from, alertsDone, alertsDone > from ? ": offsets " + from + ".." + (alertsDone - 1)
              + " are indexed again without matching" : "");
    }
  }

  /** Marks the shard incomplete (readiness, PARTIAL replies) when its partition lost records it never indexed. */
  private void checkComplete(TopicPartition tp, ShardIndex s, long partitionStart) {
    if (partitionStart > Math.max(0, s.embeddingsOffset())) {
      String why = "shard " + tp.partition() + " is incomplete: its index holds offsets before "
          + Math.max(0, s.embeddingsOffset()) + " but " + tp + " now starts at " + partitionStart + " (records"
          + " deleted by the topic's retention cannot be indexed again); restore the shard's directory from a backup,"
          + " or re-submit the lost images, and give embeddings retention.ms=-1 (Topics)";
      if (!why.equals(truncatedShards.put(tp.partition(), why))) {
        log.error("{}", why);
      }
    } else {
      truncatedShards.remove(tp.partition());
    }
  }

  /**
   * Deletions: resume every partition at the lowest offset any owned shard still needs, and learn from the group up
   * to where malformed deletions were reported already ({@code aborted}: the open transaction was dropped, so what it
   * reported is forgotten too).
   */
  private void seekDeletions(KafkaConsumer<byte[], byte[]> ec, KafkaConsumer<byte[], byte[]> dc,
      List<TopicPartition> delParts, boolean aborted) {
    Map<TopicPartition, OffsetAndMetadata> reported = ec.committed(new java.util.HashSet<>(delParts));
    if (aborted) {
      deletionsReported.clear();
    }
    reported.forEach((tp, o) -> {
      if (o != null) {
        deletionsReported.merge(tp.partition(), o.offset(), Math::max);
      }
    });
    for (TopicPartition dp : delParts) {
      long min = Long.MAX_VALUE;
      for (ShardIndex s : shards.all()) {
        min = Math.min(min, s.deletionOffset(dp.partition()));
      }
      if (min == Long.MAX_VALUE) {
        continue;
      }
      if (min < 0) {
        dc.seekToBeginning(List.of(dp));
      } else {
        dc.seek(dp, min);
      }
    }
  }

  /** Documents of shard {@code p} (live images in its last refreshed view), registered once per shard. */
  private void shardGauge(int p) {
    shardGauges.computeIfAbsent(p, k -> Gauge.builder("imgmatch.index.shard.documents", shards, all -> {
      try {
        Optional<ShardIndex> s = all.get(k);
        return s.isPresent() ? s.get().imageCount() : Double.NaN; // NaN: not owned by this instance now
      } catch (IOException | RuntimeException e) {
        return Double.NaN;
      }
    }).tag("shard", String.valueOf(k)).description("live images in the shard (NaN when not owned now)")
        .register(registry));
  }

  private static List<TopicPartition> partitions(KafkaConsumer<?, ?> c, String topic) {
    List<PartitionInfo> infos = c.partitionsFor(topic, Duration.ofSeconds(60));
    if (infos == null || infos.isEmpty()) {
      throw new IllegalStateException("topic " + topic + " does not exist (start with topic.create=true or create it)");
    }
    return infos.stream().map(i -> new TopicPartition(topic, i.partition())).toList();
  }

  /** Opens / closes shards as partitions of the embeddings topic come and go, and seeks to their commits. */
  private final class Rebalance implements ConsumerRebalanceListener {
    private final KafkaConsumer<byte[], byte[]> ec;
    private final KafkaConsumer<byte[], byte[]> dc;
    private final List<TopicPartition> delParts;

    Rebalance(KafkaConsumer<byte[], byte[]> ec, KafkaConsumer<byte[], byte[]> dc, List<TopicPartition> delParts) {
      this.ec = ec;
      this.dc = dc;
      this.delParts = delParts;
    }

    /** Commits the alerts of every owned shard with their offsets, then commits and closes the revoked shards. */
    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> parts) {
      if (parts.isEmpty()) {
        return;
      }
      try {
        Replicas rs = replicas;
        if (!commitTransaction(ec, dc, delParts)) {
          // recovered: the shards are back at their last commit, which the group's offsets are not behind
          for (TopicPartition tp : parts) {
            if (rs != null) {
              follow(rs, tp, -1);
              continue;
            }
            shards.close(tp.partition(), null);
            alertsFrom.remove(tp.partition());
            truncatedShards.remove(tp.partition());
          }
          return;
        }
        commitShards();
        for (TopicPartition tp : parts) {
          if (rs != null) { // kept warm as a replica: read on as its new owner commits
            follow(rs, tp, -1);
            log.info("shard {} committed, kept as a replica (partition revoked)", tp.partition());
            continue;
          }
          shards.close(tp.partition(), tp.topic());
          alertsFrom.remove(tp.partition());
          truncatedShards.remove(tp.partition());
          log.info("shard {} committed and closed (partition revoked)", tp.partition());
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot commit shards " + parts + " on revocation", e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new WakeupException();
      }
    }

    /**
     * Another member may own these already: their uncommitted work is dropped, and so is the open transaction,
     * which held alerts of the shards kept too; those roll back to their last commit and are read again.
     */
    @Override
    public void onPartitionsLost(Collection<TopicPartition> parts) {
      abortQuietly();
      txSendFailure.set(null);
      txHasOutput = false;
      lastTxOffsets = null;
      List<TopicPartition> kept = new ArrayList<>();
      for (Integer p : ownedShards()) { // replicas hold only what owners committed: they stay as they are
        TopicPartition tp = new TopicPartition(topics.embeddings().name(), p);
        try {
          shards.close(p, null);
        } catch (IOException e) {
          log.warn("closing lost shard {}: {}", p, e.toString());
        }
        alertsFrom.remove(p);
        truncatedShards.remove(p);
        if (!parts.contains(tp)) {
          kept.add(tp);
        }
      }
      try {
        resume(ec, kept);
        Replicas rs = replicas;
        if (rs != null) { // back to the last commit, then read on as their new owners commit
          Map<TopicPartition, Long> starts = ec.beginningOffsets(parts);
          for (TopicPartition tp : parts) {
            follow(rs, tp, starts.getOrDefault(tp, 0L));
          }
        }
        seekDeletions(ec, dc, delParts, true);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot reopen shards " + kept + " under " + cfg.indexDir(), e);
      }
      txProducer.beginTransaction();
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> parts) {
      try {
        Replicas rs = replicas;
        if (rs != null) {
          rs.unfollow(parts); // their shards stay open: warm, at most at the offsets their last owner committed
        }
        resume(ec, parts);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot open shards " + parts + " under " + cfg.indexDir(), e);
      }
      seekDeletions(ec, dc, delParts, false);
      assigned.countDown();
    }
  }

  private void onEmbedding(ConsumerRecord<byte[], byte[]> r) throws IOException {
    Optional<ShardIndex> maybe = shards.get(r.partition());
    if (maybe.isEmpty()) {
      return; // revoked while the batch was in flight: the new owner reads it
    }
    ShardIndex shard = maybe.get();
    if (r.offset() < shard.embeddingsOffset()) {
      return; // already in the index
    }
    // its alert (or reject) was committed before a crash or a roll-back: index it again, raise nothing
    long alertsDone = alertsFrom.getOrDefault(r.partition(), -1L);
    boolean replay = r.offset() < alertsDone;
    if (alertsDone == Long.MAX_VALUE) {
      replicated.incrementAndGet(); // a replica: its owner matches and alerts
    } else if (replay) {
      replayed.incrementAndGet();
    }
    try {
      ImageEmbedding e = topics.embeddings().deserializeValue(r.value());
      noteDimension(e);
      if (e.getPurpose() != Purpose.INDEX) {
        throw new InvalidRecordException(Records.INVALID_EMBEDDING,
            "image " + e.getId() + " has purpose " + e.getPurpose() + " on the embeddings topic (only INDEX is indexed)");
      }
      IndexedImage img = Records.toIndexed(e);
      shards.checkDimension(img.modelVersion(), img.vector().length);
      if (!replay) {
        match(e, img, r);
      }
      if (shards.upsert(shard, img)) {
        indexed.incrementAndGet();
        indexedCounter.increment();
      } else {
        log.info("image {} of tenant {} not indexed: a deletion or a newer upload of it came first", img.imageId(),
            img.tenant());
      }
    } catch (RecordDecodingException e) {
      rejectUnlessReplay(replay, e.reasonCode(), e.getMessage(), r, e);
    } catch (InvalidRecordException e) {
      rejectUnlessReplay(replay, e.reasonCode(), e.getMessage(), r, null);
    } catch (IllegalArgumentException e) {
      rejectUnlessReplay(replay, Records.INVALID_EMBEDDING, e.getMessage(), r, e);
    }
    shard.setEmbeddingsOffset(r.offset() + 1);
    shard.noteEmbeddingTimestamp(r.timestamp());
  }

  private void rejectUnlessReplay(boolean replay, String code, String message, ConsumerRecord<byte[], byte[]> r,
      Throwable cause) {
    if (!replay) {
      reject(code, message, r, cause);
    }
  }

  /** Matches a new upload against what is indexed (before it is indexed itself) and raises its alert. */
  private void match(ImageEmbedding e, IndexedImage img, ConsumerRecord<byte[], byte[]> r) throws IOException {
    Set<String> targets = policy.targetsOf(img.collection());
    if (targets.isEmpty()) {
      return;
    }
    SearchFilter f = SearchFilter.tenantOnly(img.tenant(), policy.sharedCollections()).withCollections(targets)
        .excluding(img.uid());
    // every view the embedder sent (full + extra views, e.g. a trimmed border): k candidates each, best cosine
    Probe p = Records.uploadProbe(e, img, f, policy.knnK(),
        why -> log.warn("upload {}: extra view skipped for matching: {}", img.imageId(), why));
    long t0 = System.nanoTime();
    List<Hit> hits = shards.search(p, policy);
    matchSearch.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
    Optional<MatchAlert> alert = Alerts.alertFor(e, hits, policy, System.currentTimeMillis());
    if (alert.isPresent()) {
      MatchAlert a = alert.get();
      ProducerRecord<byte[], byte[]> rec = topics.matchAlerts().record(a.getImageId(), a);
      int size = rec.value().length + (rec.key() == null ? 0 : rec.key().length);
      if (size > topics.matchAlerts().maxMessageBytes() - 1024) { // checked here: in a transaction it would doom it
        reject(OutputFailures.RECORD_TOO_LARGE, "the alert of " + a.getImageId() + " takes " + size + " bytes, more"
            + " than " + topics.matchAlerts().name() + " takes", r, null);
        return;
      }
      sendTx(rec);
      alerts.incrementAndGet();
      alertCounters.get(a.getDecision()).increment();
      uploadToAlert.record(Math.max(0, a.getAlertedAtMs() - a.getSubmittedAtMs()), TimeUnit.MILLISECONDS);
      log.info("alert {} for {} ({}): {} match(es), best {} score {}", a.getDecision(), a.getImageId(), a.getTenant(),
          a.getMatches().size(), a.getMatches().get(0).getImageId(), a.getScore());
    }
  }

  private void onDeletion(ConsumerRecord<byte[], byte[]> r) throws IOException {
    boolean report = reportsDeletions() && r.offset() >= deletionsReported.getOrDefault(r.partition(), 0L);
    if (report) {
      deletionsReported.put(r.partition(), r.offset() + 1);
    }
    Deletion d = null;
    try {
      d = topics.deletions().deserializeValue(r.value());
      Records.require(d.getImageId() != null && !d.getImageId().isBlank(), Records.INVALID_DELETION,
          "deletion with an empty image id");
      Records.require(d.getTenant() != null && !d.getTenant().isBlank(), Records.INVALID_DELETION,
          "deletion of " + d.getImageId() + " without a tenant");
    } catch (RecordDecodingException e) {
      rejectUnlessReplay(!report, e.reasonCode(), e.getMessage(), r, e);
      d = null;
    } catch (InvalidRecordException e) {
      rejectUnlessReplay(!report, e.reasonCode(), e.getMessage(), r, null);
      d = null;
    }
    for (ShardIndex s : shards.all()) {
      if (r.offset() >= s.deletionOffset(r.partition())) {
        if (d != null) {
          shards.delete(s, d.getTenant(), d.getImageId(), d.getRequestedAtMs());
        }
        s.setDeletionOffset(r.partition(), r.offset() + 1);
      }
    }
    if (d != null) {
      log.info("deleted {} of tenant {} ({})", d.getImageId(), d.getTenant(), d.getReason());
    }
  }

  /**
   * Commits every shard with the offsets it reflects; call right after {@link #commitTransaction} succeeded, so that
   * no shard commit is ahead of the alerts Kafka holds.
   */
  private void commitShards() throws IOException {
    long grace = cfg.getLong(IndexServiceConfig.TOMBSTONE_GRACE_MS);
    for (ShardIndex s : shards.all()) {
      if (s.lastEmbeddingTimestamp() > grace) {
        int pruned = s.pruneTombstones(s.lastEmbeddingTimestamp() - grace);
        if (pruned > 0) {
          log.info("shard {}: dropped {} tombstone(s) of deletions requested over {} ms before its latest embedding",
              s.shard(), pruned, grace);
        }
      }
      if (s.needsCommit()) {
        s.commit(topics.embeddings().name());
      }
    }
  }

  /**
   * Sends an output of the ingest thread in the open transaction. Any failure dooms the transaction: it is
   * aborted at the next commit and its records read again ({@link #recover}). Outputs are sized before they are sent
   * (rejects carry a capped payload, alerts are checked), so one record cannot fail every retry.
   */
  private void sendTx(ProducerRecord<byte[], byte[]> rec) {
    txHasOutput = true;
    try {
      txProducer.send(rec, (md, e) -> {
        if (e != null && txSendFailure.compareAndSet(null, e)) {
          log.warn("cannot produce to {} in the alerts transaction: {}", rec.topic(), e.toString());
        }
      });
    } catch (KafkaException e) {
      if (txSendFailure.compareAndSet(null, e)) {
        log.warn("cannot produce to {} in the alerts transaction: {}", rec.topic(), e.toString());
      }
    }
  }

  /**
   * Sends an output of the query thread in its open transaction. A failure dooms the transaction: the batch is
   * aborted and answered again ({@link #commitQueries}); a client's reply topic that failed is looked at again first,
   * so a topic deleted or forbidden since it was checked costs that query one reject on the retry.
   */
  private void send(ProducerRecord<byte[], byte[]> rec) {
    try {
      producer.send(rec, (md, e) -> {
        if (e != null) {
          onQuerySendFailure(rec, e);
        }
      });
    } catch (KafkaException e) { // thrown before the record was queued (no metadata in max.block.ms, too large)
      onQuerySendFailure(rec, e);
    }
  }

  private void onQuerySendFailure(ProducerRecord<byte[], byte[]> rec, Exception e) {
    replyTopics.forget(rec.topic());
    if (querySendFailure.compareAndSet(null, e)) {
      log.warn("cannot produce to {} ({} bytes, key {}): {}", rec.topic(), rec.value() == null ? 0
          : rec.value().length, OutputFailures.keyText(rec.key()), e.toString());
    }
  }

  private void reject(String code, String message, ConsumerRecord<byte[], byte[]> r, Throwable cause) {
    rejected.incrementAndGet();
    rejectCounter(code).increment();
    log.warn("rejected {}/{}@{}: {} {}", r.topic(), r.partition(), r.offset(), code, message);
    Reject rej = Rejects.of(code, message, STAGE, r.topic(), r.partition(), r.offset(), r.key(), r.value(), cause,
        rejectPayload, System.currentTimeMillis());
    ProducerRecord<byte[], byte[]> out = topics.rejects().record(Rejects.key(r.key()), rej);
    if (r.topic().equals(topics.embeddings().name()) || r.topic().equals(topics.deletions().name())) {
      sendTx(out); // with the offsets of the record it refuses: once, like alerts
    } else {
      send(out);
    }
  }

  // ---------------------------------------------------------------- queries

  private void queryLoop() {
    String queryGroup = cfg.getString(IndexServiceConfig.QUERY_GROUP_ID).isBlank()
        ? cfg.getString(IndexServiceConfig.GROUP_ID) + "-queries" : cfg.getString(IndexServiceConfig.QUERY_GROUP_ID);
    Map<String, Object> props = consumerProps(queryGroup, "index-service-queries");
    if (props.get(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG) != null) { // kafka.group.instance.id: static member
      props.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, props.get(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG) + "-queries");
    }
    try (KafkaConsumer<byte[], byte[]> qc = new KafkaConsumer<>(props);
        KafkaClientMetrics qcm = new KafkaClientMetrics(qc)) {
      qcm.bindTo(registry);
      queryConsumer = qc;
      qc.subscribe(List.of(topics.queries().name(), topics.probes().name()), new ConsumerRebalanceListener() {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {}

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
          queriesReady.countDown();
        }
      });
      retryOnTimeout("initialising the query transactions", producer::initTransactions);
      int failures = 0;
      while (running) {
        ConsumerRecords<byte[], byte[]> recs = qc.poll(Duration.ofMillis(cfg.getLong(IndexServiceConfig.POLL_MS)));
        if (recs.isEmpty()) {
          continue;
        }
        producer.beginTransaction();
        for (ConsumerRecord<byte[], byte[]> r : recs) {
          try {
            if (r.topic().equals(topics.queries().name())) {
              onQuery(r);
            } else {
              onProbe(r);
            }
          } catch (RuntimeException e) {
            // one bad query must not stop the others; the client gets an ERROR reply where possible
            log.error("query record {}/{}@{} failed", r.topic(), r.partition(), r.offset(), e);
            reject("QUERY_FAILED", e.toString(), r, e);
          }
        }
        if (commitQueries(qc, recs)) {
          failures = 0;
        } else {
          failures++;
          Thread.sleep(Math.min(30_000L, 250L << Math.min(7, failures - 1)));
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      queryConsumer = null;
    }
  }

  /**
   * Commits the replies and rejects of one batch with the batch's offsets: each query is answered once for a
   * read_committed reader, across crashes. When the transaction fails, it is aborted and the batch read again
   * (false). Fencing (another process has this transactional id) is fatal.
   */
  private boolean commitQueries(KafkaConsumer<byte[], byte[]> qc, ConsumerRecords<byte[], byte[]> recs) {
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    for (TopicPartition tp : recs.partitions()) {
      List<ConsumerRecord<byte[], byte[]>> l = recs.records(tp);
      offsets.put(tp, new OffsetAndMetadata(l.get(l.size() - 1).offset() + 1));
    }
    try {
      Throwable failed = querySendFailure.getAndSet(null);
      if (failed != null) {
        throw new KafkaException("an output of this batch was not sent: " + failed, failed);
      }
      retryOnTimeout("committing query offsets", () -> producer.sendOffsetsToTransaction(offsets, qc.groupMetadata()));
      retryOnTimeout("committing query replies", producer::commitTransaction);
      return true;
    } catch (org.apache.kafka.common.errors.ProducerFencedException
        | org.apache.kafka.common.errors.InvalidProducerEpochException
        | org.apache.kafka.common.errors.TransactionalIdAuthorizationException
        | org.apache.kafka.common.errors.ClusterAuthorizationException
        | org.apache.kafka.common.errors.UnsupportedVersionException e) {
      throw e;
    } catch (KafkaException e) {
      log.warn("query transaction failed: {}; aborting it and reading its {} record(s) again", e.toString(),
          recs.count());
      retryOnTimeout("aborting the query transaction", producer::abortTransaction);
      querySendFailure.set(null);
      for (TopicPartition tp : recs.partitions()) {
        qc.seek(tp, recs.records(tp).get(0).offset());
      }
      return false;
    }
  }

  /**
   * Runs a transactional call, retrying it while it times out (the cluster does not answer: a broker restarting);
   * Kafka requires a timed-out commit or abort to be retried, not followed by another call. Gives up only when the
   * service is stopping.
   */
  private void retryOnTimeout(String what, Runnable call) {
    long waitMs = 200;
    while (true) {
      try {
        call.run();
        return;
      } catch (org.apache.kafka.common.errors.TimeoutException e) {
        if (!running) {
          throw e;
        }
        log.warn("{} timed out ({}); retrying in {} ms", what, e.getMessage(), waitMs);
        try {
          Thread.sleep(waitMs);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw e;
        }
        waitMs = Math.min(5_000, waitMs * 2);
      }
    }
  }

  private void onQuery(ConsumerRecord<byte[], byte[]> r) {
    QueryRequest q;
    try {
      q = topics.queries().deserializeValue(r.value());
    } catch (RecordDecodingException e) {
      reject(e.reasonCode(), e.getMessage(), r, e);
      if (r.key() != null && r.key().length <= dev.imgmatch.schemas.Limits.MAX_ID_BYTES) { // a query id, maybe
        String id = new String(r.key(), StandardCharsets.UTF_8);
        reply(topics.queryReplies().name(), rejectedReply(id, "", "malformed query record: " + e.getMessage(), null));
      }
      return;
    }
    Object target = q.getTarget();
    if (!(target instanceof ImageIdTarget) && !(target instanceof VectorTarget)) {
      return; // image queries travel through ingest-stream and the embedders and come back as probes
    }
    QueryParams params = q.getParams();
    if (expired(params)) {
      return;
    }
    answer(q.getQueryId(), q.getTenant(), params, r, () -> {
      SearchFilter f = Records.filterOf(q.getTenant(), params, policy.sharedCollections());
      if (target instanceof ImageIdTarget t) {
        IndexedImage img = shards.lookup(SearchFilter.tenantOnly(q.getTenant(), policy.sharedCollections()),
                t.getImageId())
            .orElseThrow(() -> new InvalidRecordException(Records.INVALID_QUERY,
                "image '" + t.getImageId() + "' is not indexed for tenant " + q.getTenant()));
        return new Probe(img.modelVersion(), List.of(img.vector()), List.of(img.pdq()), img.pdqQuality(),
            img.sha256(), f.excluding(img.uid()), searchK(params), img.thumbnail());
      }
      VectorTarget v = (VectorTarget) target;
      Map<String, Integer> versions = shards.modelVersions();
      if (!versions.isEmpty() && !versions.containsKey(v.getModelVersion())) {
        throw new InvalidRecordException(Records.INVALID_QUERY, "model version '" + v.getModelVersion()
            + "' is not indexed; the index holds " + versions.keySet());
      }
      float[] vec = Records.unitVector(v.getVector(), "query " + q.getQueryId(), Records.INVALID_QUERY);
      Integer dim = versions.get(v.getModelVersion());
      if (dim != null && dim != vec.length) {
        throw new InvalidRecordException(Records.INVALID_QUERY, "query " + q.getQueryId() + ": vector dimension "
            + vec.length + ", model version " + v.getModelVersion() + " has " + dim);
      }
      return new Probe(v.getModelVersion(), List.of(vec), List.of(), 0, null, f, searchK(params));
    });
  }

  private void onProbe(ConsumerRecord<byte[], byte[]> r) {
    ImageEmbedding e;
    try {
      e = topics.probes().deserializeValue(r.value());
      noteDimension(e);
    } catch (RecordDecodingException ex) {
      reject(ex.reasonCode(), ex.getMessage(), r, ex);
      return;
    }
    if (e.getPurpose() != Purpose.QUERY) {
      return; // uploads are matched when their embedding is consumed (match-then-index, one place)
    }
    QueryParams params = e.getQuery();
    if (params == null) {
      reject(Records.INVALID_QUERY, "query probe " + e.getId() + " carries no query parameters", r, null);
      return;
    }
    if (expired(params)) {
      return;
    }
    answer(e.getId(), e.getTenant(), params, r,
        () -> Records.probeOf(e, Records.filterOf(e.getTenant(), params, policy.sharedCollections()), searchK(params)));
  }

  /**
   * Neighbours examined per view for a query: what it asks for, but never fewer than {@code match.knn.k}, so that
   * the margin of the best result is taken against its real competitors (the reply is cut to k).
   */
  private int searchK(QueryParams params) {
    return Math.max(params.getK(), policy.knnK());
  }

  private static boolean expired(QueryParams p) {
    return p != null && p.getRequestedAtMs() + p.getTimeoutMs() < System.currentTimeMillis();
  }

  private void answer(String queryId, String tenant, QueryParams params, ConsumerRecord<byte[], byte[]> r,
      Supplier<Probe> probe) {
    ReplyTopics.Choice to = replyTopics.choose(params == null ? null : params.getReplyTopic(),
        System.currentTimeMillis());
    if (to.refusal() != null) { // nowhere to answer: one reject, and the thread goes on
      reject(Records.INVALID_QUERY, "query " + queryId + " not answered: " + to.refusal(), r, null);
      return;
    }
    QueryReply reply;
    try {
      Records.checkParams(queryId, params, cfg.getInt(IndexServiceConfig.QUERY_MAX_K));
      Probe p = probe.get();
      long t0 = System.nanoTime();
      List<Hit> hits = shards.search(p, policy);
      querySearch.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
      List<dev.imgmatch.avro.MatchedImage> results = new ArrayList<>();
      for (Hit h : hits) {
        if (results.size() >= params.getK()) {
          break;
        }
        if (h.score() >= params.getMinScore()) {
          results.add(h.toAvro());
        }
      }
      int answeredShards = (int) shards.owned().stream().filter(s -> !truncatedShards.containsKey(s)).count();
      int total = shards.totalShards();
      long now = System.currentTimeMillis();
      reply = QueryReply.newBuilder()
          .setQueryId(queryId)
          .setTenant(tenant)
          .setStatus(answeredShards >= total ? ReplyStatus.OK : ReplyStatus.PARTIAL)
          .setError(answeredShards >= total ? null : truncatedShards.isEmpty()
              ? "only " + answeredShards + " of " + total + " shards are local"
              : String.join("; ", new java.util.TreeMap<>(truncatedShards).values()))
          .setResults(results)
          .setShardsAnswered(answeredShards)
          .setShardsTotal(total)
          .setModelVersion(p.modelVersion())
          .setTookMs(Math.max(0, now - params.getRequestedAtMs()))
          .setRepliedAtMs(now)
          .build();
    } catch (InvalidRecordException e) {
      reject(e.reasonCode(), e.getMessage(), r, null);
      reply = rejectedReply(queryId, tenant, e.getMessage(), params);
    } catch (IOException | RuntimeException e) {
      log.error("query {} failed", queryId, e);
      reply = rejectedReply(queryId, tenant, e.toString(), params);
      reply.setStatus(ReplyStatus.ERROR);
    }
    reply(to.topic(), reply);
    answered.incrementAndGet();
    answeredCounters.get(reply.getStatus()).increment();
    if (params != null) {
      queryLatency.record(Math.max(0, reply.getRepliedAtMs() - params.getRequestedAtMs()), TimeUnit.MILLISECONDS);
    }
  }

  private QueryReply rejectedReply(String queryId, String tenant, String error, QueryParams params) {
    long now = System.currentTimeMillis();
    return QueryReply.newBuilder()
        .setQueryId(queryId)
        .setTenant(tenant)
        .setStatus(ReplyStatus.REJECTED)
        .setError(error)
        .setShardsAnswered(0)
        .setShardsTotal(shards.totalShards())
        .setTookMs(params == null ? 0 : Math.max(0, now - params.getRequestedAtMs()))
        .setRepliedAtMs(now)
        .build();
  }

  /** Sends a reply on {@code topic}, cut to what the topic takes ({@link ReplyTopics#fit}). */
  private void reply(String topic, QueryReply reply) {
    Topic<String, QueryReply> t = topics.queryReplies().withName(topic);
    send(new ProducerRecord<>(t.name(), t.serializeKey(reply.getQueryId()), ReplyTopics.fit(reply, t, 1024).value()));
  }

  /** Whether a topic exists (an Admin request, at most 5 s); false when it cannot be told. */
  private boolean topicExists(String name) {
    try {
      admin().describeTopics(List.of(name)).allTopicNames().get(5, TimeUnit.SECONDS);
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException | KafkaException e) {
      log.info("reply topic {} cannot be used: {}", name, e.getCause() == null ? e.toString() : e.getCause().toString());
      return false;
    }
  }

  private synchronized Admin admin() {
    if (admin == null) {
      admin = Admin.create(cfg.kafkaProps());
    }
    return admin;
  }

  // ---------------------------------------------------------------- lifecycle

  /** Stops the threads, commits every shard with its offsets and closes everything. */
  @Override
  public void close() {
    running = false;
    KafkaConsumer<?, ?> q = queryConsumer;
    if (q != null) {
      q.wakeup();
    }
    join(queryThread);
    join(ingestThread);
    ServiceEndpoint ep = endpoint;
    if (ep != null) {
      ep.close();
    }
    try {
      producerMetrics.close();
      producer.close(Duration.ofSeconds(10));
      txProducer.close(Duration.ofSeconds(10));
      synchronized (this) {
        if (admin != null) {
          admin.close(Duration.ofSeconds(5));
        }
      }
    } finally {
      try {
        shards.close();
      } catch (IOException e) {
        log.warn("closing shards: {}", e.toString());
      }
    }
    log.info("index-service stopped: {}", counters());
  }

  private static void join(Thread t) {
    if (t == null) {
      return;
    }
    try {
      t.join(30_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
