package dev.imgmatch.index;

import dev.imgmatch.avro.ImageEmbedding;
import dev.imgmatch.avro.Reject;
import dev.imgmatch.common.HangingTransactions;
import dev.imgmatch.common.ServiceEndpoint;
import dev.imgmatch.common.TopicSetup;
import dev.imgmatch.schemas.Rejects;
import dev.imgmatch.schemas.Topic;
import dev.imgmatch.schemas.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * index-service: consumes embeddings (the shards this instance owns, and replicas of the others) and deletions,
 * matches every new upload against what is already indexed before indexing it, and answers queries. This class is
 * the service's life cycle, readiness and counters; the work is done by its parts.
 *
 * <h2>Threads and parts</h2>
 * <ul>
 *   <li>{@code index-ingest} runs {@link IngestLoop}: the embeddings consumer (group {@code group.id}; partition =
 *       shard), the deletions consumer (every partition, no group), the {@link Replicas}, rebalancing and commits;
 *       {@link Indexer} does what one record asks (match, index, delete), {@link AlertTransactions} the Kafka side;
 *   <li>{@code index-queries} runs {@link QueryAnswerer}: {@code queries} (id and vector targets) and {@code
 *       probes} (purpose QUERY), each answered on its reply topic;
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
  private final LocalShards shards;
  /** Opened by {@link #start} (after the settings are logged: Lucene's first open logs through JUL). */
  private volatile BankIndex banks;
  private volatile Feedback feedback;
  private Thread feedbackThread;
  private final IndexMetrics metrics;
  private final String transactionalId;
  private final ZombieFence zombieFence;
  private final AlertTransactions alertTx;
  private final IngestLoop ingest;
  private final QueryAnswerer queries;
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  /**
   * The model version whose latest descriptor had more dimensions than the index takes, with the reason, or null.
   * A misconfigured embedder (say, a head that emits raw 1792-d features) is a deployment error, not a bad record:
   * besides the rejects, readiness says so until descriptors of a usable dimension arrive again.
   */
  private final AtomicReference<String> unusableDimension = new AtomicReference<>();
  private volatile boolean running;
  private Thread ingestThread;
  private Thread queryThread;
  private volatile HangingTransactions hanging;
  private Thread bankThread;
  private volatile ServiceEndpoint endpoint;

  /** With a registry of its own (JVM meters included), served by {@link #startEndpoint}. */
  public IndexService(IndexServiceConfig cfg) {
    this(cfg, ServiceEndpoint.newRegistry(STAGE));
  }

  /** Meters go to {@code registry} (a Prometheus one when {@link #startEndpoint} is to serve them). */
  public IndexService(IndexServiceConfig cfg, MeterRegistry registry) {
    this.cfg = cfg;
    this.topics = cfg.topics();
    this.policy = cfg.policy();
    this.rejectPayload = Math.min(cfg.getInt(IndexServiceConfig.MAX_REJECT_PAYLOAD),
        topics.rejects().maxMessageBytes() - 64 * 1024);
    this.shards = new LocalShards(cfg.indexDir(), ShardIndex.Options.from(cfg),
        cfg.getLong(IndexServiceConfig.REFRESH_INTERVAL_MS));
    this.metrics = new IndexMetrics(registry, shards, this::ownedShards);
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
    Map<String, Object> pp = producerProps("index-service-producer");
    // what Topics says its outputs take (a reject may carry up to max.reject.payload.bytes of the refused record)
    pp.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Topics.maxRequestSize(topics.rejects(), topics.queryReplies()));
    // a reply topic that does not exist must cost one query, not a thread blocked for a minute
    pp.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, "10000");
    Map<String, Object> tp = producerProps("index-service-alerts");
    tp.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Topics.maxRequestSize(topics.rejects(), topics.matchAlerts()));
    tp.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    // a transaction left open by a crash blocks read_committed readers of match-alerts until it is aborted: by the
    // restart (same id), or after this long when the instance id was lost with its disk
    tp.putIfAbsent(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, "15000");
    pp.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId + "-queries");
    pp.putIfAbsent(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, "15000");
    this.alertTx = new AlertTransactions(() -> new KafkaProducer<>(tp), this::retryOnTimeout);
    this.zombieFence = new ZombieFence(cfg.kafkaProps(), cfg.getString(IndexServiceConfig.GROUP_ID), transactionalId);
    this.ingest = new IngestLoop(this, alertTx);
    this.queries = new QueryAnswerer(this, () -> new KafkaProducer<>(pp));
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

  /** The transactional id of this instance's alerts ({@code <group.id>-<instance id>} unless set). */
  String transactionalId() {
    return transactionalId;
  }

  ZombieFence zombieFence() {
    return zombieFence;
  }

  /** This instance's meters. */
  public MeterRegistry registry() {
    return metrics.registry();
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
    if (!(metrics.registry() instanceof io.micrometer.prometheusmetrics.PrometheusMeterRegistry prom)) {
      throw new IllegalStateException("the endpoint serves a Prometheus registry; this service was given a "
          + metrics.registry().getClass().getSimpleName());
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

  void noteDimension(ImageEmbedding e) {
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

  /**
   * Readiness: null when the shards are assigned and open, both consumers run and no topic of the service is blocked
   * by a hanging transaction it may not abort; else why not.
   */
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
    HangingTransactions h = hanging;
    String why = h == null ? null : h.notReadyReason();
    if (why != null) {
      return why;
    }
    why = ingest.notReadyReason();
    if (why != null) {
      return why;
    }
    if (!queries.isReady()) {
      return "query consumer not assigned yet";
    }
    BankIndex b = banks;
    return b == null ? "hash-list banks: not opened yet" : b.notReadyReason();
  }

  /**
   * The topics this service creates when missing, as {@link Topics} defines them ({@code embeddings}: kept forever),
   * {@code previews} with the retention of {@code preview.retention.ms}.
   */
  List<Topic<?, ?>> topicsToCreate() {
    String previews = topics.previews().name();
    String retention = String.valueOf(cfg.getLong(IndexServiceConfig.PREVIEW_RETENTION_MS));
    return topics.all().stream()
        .<Topic<?, ?>>map(t -> t.name().equals(previews) ? t.withConfig("retention.ms", retention) : t).toList();
  }

  /** Logs a warning when the {@code previews} topic (created by someone else) keeps previews another time than set. */
  private void warnIfPreviewRetentionDiffers() {
    String name = topics.previews().name();
    long want = cfg.getLong(IndexServiceConfig.PREVIEW_RETENTION_MS);
    try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(cfg.kafkaProps())) {
      org.apache.kafka.common.config.ConfigResource r =
          new org.apache.kafka.common.config.ConfigResource(org.apache.kafka.common.config.ConfigResource.Type.TOPIC, name);
      org.apache.kafka.clients.admin.Config c = admin.describeConfigs(List.of(r)).all().get(30, TimeUnit.SECONDS).get(r);
      String retention = c.get("retention.ms") == null ? null : c.get("retention.ms").value();
      if (retention != null && !retention.equals(String.valueOf(want))) {
        log.warn("topic {} keeps previews {} ms (retention.ms), {} is {}: the topic's own applies; to change it:"
            + " kafka-configs.sh --alter --entity-type topics --entity-name {} --add-config retention.ms={}", name,
            retention, IndexServiceConfig.PREVIEW_RETENTION_MS, want, name, want);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException | RuntimeException e) {
      log.warn("cannot check the retention of {}: {}", name, e.toString());
    }
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
        if (cfg.getBoolean(IndexServiceConfig.PREVIEW_ENABLED)) {
          warnIfPreviewRetentionDiffers();
        }
      } catch (RuntimeException e) {
        close(); // nothing started yet: release the producer and the refresher
        throw e;
      }
    }
    try {
      banks = new BankIndex(cfg.indexDir().resolve("banks"), topics.bankEntries(), topics.collectionSettings(),
          cfg.kafkaProps(), cfg.getInt(IndexServiceConfig.BANK_PDQ_MAX_DISTANCE),
          cfg.getInt(IndexServiceConfig.BANK_PDQ_MIN_QUALITY), cfg.getInt(IndexServiceConfig.PDQ_BRUTE_FORCE_MAX_DOCS),
          cfg.getLong(IndexServiceConfig.BANK_COMMIT_INTERVAL_MS));
    } catch (IOException e) {
      close();
      throw new UncheckedIOException("cannot open the hash-list bank index in " + cfg.indexDir().resolve("banks"), e);
    }
    BankIndex banks = this.banks;
    Feedback feedback = new Feedback(topics.reviewDecisions(), topics.collectionSettings(), cfg.kafkaProps(),
        cfg.getInt(IndexServiceConfig.FEEDBACK_PDQ_MAX_DISTANCE), cfg.getInt(IndexServiceConfig.PDQ_MIN_QUALITY));
    this.feedback = feedback;
    running = true;
    bankThread = new Thread(() -> runGuarded(banks::run), "index-banks");
    bankThread.start();
    feedbackThread = new Thread(() -> runGuarded(feedback::run), "index-feedback");
    feedbackThread.start();
    long bankWait = cfg.getLong(IndexServiceConfig.BANK_CATCHUP_TIMEOUT_MS);
    ingestThread = new Thread(() -> runGuarded(() -> {
      // an upload matched before the banks are read would miss their entries
      if (!banks.awaitCaughtUp(bankWait, TimeUnit.MILLISECONDS) && running) {
        log.warn("hash-list banks not read within {} ms ({}); matching starts anyway, uploads meanwhile may miss"
            + " bank entries", bankWait, banks.notReadyReason());
      }
      // likewise moderators' dismissals and collection settings
      if (!feedback.awaitCaughtUp(bankWait, TimeUnit.MILLISECONDS) && running) {
        log.warn("review decisions and collection settings not read within {} ms; matching starts anyway",
            bankWait);
      }
      ingest.run();
    }), "index-ingest");
    queryThread = new Thread(() -> runGuarded(queries::run), "index-queries");
    ingestThread.start();
    queryThread.start();
    // what it reads, and what it writes (read_committed by the platform, the console and query clients)
    hanging = new HangingTransactions(STAGE, cfg.kafkaProps(), List.of(topics.embeddings().name(),
        topics.embeddingExtras().name(), topics.deletions().name(), topics.queries().name(), topics.probes().name(),
        topics.bankEntries().name(), topics.reviewDecisions().name(), topics.collectionSettings().name(),
        topics.matchAlerts().name(), topics.queryReplies().name(), topics.rejects().name(), topics.previews().name(),
        topics.referencePreviews().name()),
        HangingTransactions.Settings.of(cfg)).bind(metrics.registry()).start();
    log.info("index-service {}", hanging.describeSettings());
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
    ingest.wakeup();
    queries.wakeup();
    BankIndex b = banks;
    if (b != null) {
      b.stop();
    }
  }

  @FunctionalInterface
  private interface ThrowingRunnable {
    void run() throws Exception;
  }

  /** Waits until the embeddings consumer has its first assignment (shards open) and queries are consumed. */
  public boolean awaitReady(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    return ingest.awaitAssigned(timeout.toNanos()) && queries.awaitReady(Math.max(0, deadline - System.nanoTime()));
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

  /** Moderators' dismissals and collections' run-time settings, as this instance applies them. */
  public Feedback feedback() {
    return feedback;
  }

  /** The hash-list bank entries this instance holds (all of them). */
  public BankIndex banks() {
    return banks;
  }

  public MatchPolicy policy() {
    return policy;
  }

  /**
   * Counters: indexed, alerts, rejected, answered, replayed (indexed again without matching: their alerts were
   * committed before a restart or roll-back), replicated (indexed into replicas of shards other instances own).
   */
  public Map<String, Long> counters() {
    return metrics.counters();
  }

  /** The shards whose partitions the embeddings group gives this instance: matched and alerted here. */
  public Set<Integer> ownedShards() {
    return ingest == null ? Set.of() : ingest.ownedShards();
  }

  // ---------------------------------------------------------------- for the parts

  IndexServiceConfig config() {
    return cfg;
  }

  IndexMetrics metrics() {
    return metrics;
  }

  boolean running() {
    return running;
  }

  Map<Integer, String> truncatedShards() {
    return ingest.truncatedShards();
  }

  Map<String, Object> consumerProps(String groupId, String clientId) {
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

  /**
   * Counts and logs a record refused, and returns the reject to send (by the refusing thread, in its transaction),
   * carrying at most {@code reject.max.payload.bytes} of the record.
   */
  ProducerRecord<byte[], byte[]> reject(String code, String message, ConsumerRecord<byte[], byte[]> r,
      Throwable cause) {
    metrics.rejected(code);
    log.warn("rejected {}/{}@{}: {} {}", r.topic(), r.partition(), r.offset(), code, message);
    Reject rej = Rejects.of(code, message, STAGE, r.topic(), r.partition(), r.offset(), r.key(), r.value(), cause,
        rejectPayload, System.currentTimeMillis());
    return topics.rejects().record(Rejects.key(r.key()), rej);
  }


  /**
   * Runs a transactional call, retrying it while it times out (the cluster does not answer: a broker restarting);
   * Kafka requires a timed-out commit or abort to be retried, not followed by another call. Gives up only when the
   * service is stopping.
   */
  void retryOnTimeout(String what, Runnable call) {
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

  // ---------------------------------------------------------------- lifecycle

  /** Stops the threads, commits every shard with its offsets and closes everything. */
  @Override
  public void close() {
    running = false;
    var h = hanging;
    if (h != null) {
      h.close();
    }
    queries.wakeup();
    BankIndex b = banks;
    if (b != null) {
      b.stop();
    }
    Feedback fb = feedback;
    if (fb != null) {
      fb.stop();
    }
    join(queryThread);
    join(ingestThread);
    join(bankThread);
    join(feedbackThread);
    ServiceEndpoint ep = endpoint;
    if (ep != null) {
      ep.close();
    }
    try {
      zombieFence.close();
      queries.close();
      alertTx.close();
    } finally {
      try {
        shards.close();
      } catch (IOException e) {
        log.warn("closing shards: {}", e.toString());
      }
      try {
        if (b != null) {
          b.close();
        }
      } catch (IOException e) {
        log.warn("closing the hash-list bank index: {}", e.toString());
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