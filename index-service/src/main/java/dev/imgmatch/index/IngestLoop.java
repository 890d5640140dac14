package dev.imgmatch.index;

import dev.imgmatch.avro.Deletion;
import dev.imgmatch.avro.ImageEmbedding;
import dev.imgmatch.schemas.Topic;
import dev.imgmatch.schemas.Topics;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import java.io.IOException;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ingest thread ({@code index-ingest}): the embeddings consumer (group {@code group.id}; partition = shard),
 * the deletions consumer (every partition, no group), the replicas of the other shards ({@link Replicas}, with
 * index.shards=all), rebalancing, and when the alerts transaction and the shard commits happen (L ≤ A, see
 * {@link IndexService}). What one record does is {@link Indexer}'s.
 */
final class IngestLoop {
  private static final Logger log = LoggerFactory.getLogger(IngestLoop.class);

  private final IndexService service;
  private final IndexServiceConfig cfg;
  private final Topics topics;
  private final LocalShards shards;
  private final IndexMetrics metrics;
  private final AlertTransactions tx;
  private final Indexer indexer;
  /** Per shard kept: records before this offset had their alerts committed already (A); MAX_VALUE: a replica. */
  private final Map<Integer, Long> alertsFrom = new ConcurrentHashMap<>();
  /** Shards whose partition no longer holds what their index lacks (retention deleted it): why, per shard. */
  private final Map<Integer, String> truncatedShards = new ConcurrentHashMap<>();
  /** Per deletions partition: the next offset whose malformed record is still to be reported (by shard 0's owner). */
  private final Map<Integer, Long> deletionsReported = new ConcurrentHashMap<>();
  private final CountDownLatch assigned = new CountDownLatch(1);
  /** The replicas of the shards this instance does not own; null with index.shards=owned or when not running. */
  private volatile Replicas replicas;
  /** Why the replicas hold matching back (catching up, or too far behind); null when they do not. */
  private volatile String replicaTrouble;
  private volatile KafkaConsumer<byte[], byte[]> consumer;

  IngestLoop(IndexService service, AlertTransactions tx) {
    this.service = service;
    this.cfg = service.config();
    this.topics = cfg.topics();
    this.shards = service.shards();
    this.metrics = service.metrics();
    this.tx = tx;
    this.indexer = new Indexer(service, tx, alertsFrom, deletionsReported, this::reportsDeletions);
  }

  /** Waits for the first assignment of embeddings partitions (shards open). */
  boolean awaitAssigned(long nanos) throws InterruptedException {
    return assigned.await(nanos, TimeUnit.NANOSECONDS);
  }

  /** Why the ingest side is not ready, or null. */
  String notReadyReason() {
    if (!truncatedShards.isEmpty()) {
      return String.join("; ", new TreeMap<>(truncatedShards).values());
    }
    String t = tx.trouble();
    if (t != null) {
      return "alerts are not being committed (recovering with back-off): " + t;
    }
    String rt = replicaTrouble;
    if (rt != null) {
      return rt;
    }
    if (consumer == null || assigned.getCount() > 0) {
      return "embeddings consumer has no shard assignment yet (shards not open)";
    }
    return null;
  }

  /** Shards whose partition lost records their index lacks: why, per shard (replies say PARTIAL). */
  Map<Integer, String> truncatedShards() {
    return truncatedShards;
  }

  /** The shards whose partitions the embeddings group gives this instance: matched and alerted here. */
  Set<Integer> ownedShards() {
    Set<Integer> owned = new TreeSet<>(shards.owned());
    Replicas rs = replicas;
    if (rs != null) {
      owned.removeAll(rs.partitions());
    }
    return owned;
  }

  private boolean keepsEveryShard() {
    return "all".equals(cfg.getString(IndexServiceConfig.SHARDS_KEPT));
  }

  /** Interrupts a poll in progress (stopping). */
  void wakeup() {
    KafkaConsumer<?, ?> c = consumer;
    if (c != null) {
      c.wakeup();
    }
  }

  /** The ingest thread: reads embeddings and deletions until the service stops. */
  void run() throws Exception {
    Topic<String, ImageEmbedding> emb = topics.embeddings();
    Topic<String, Deletion> del = topics.deletions();
    long pollMs = cfg.getLong(IndexServiceConfig.POLL_MS);
    long commitMs = cfg.getLong(IndexServiceConfig.COMMIT_INTERVAL_MS);
    long txMs = Math.min(commitMs, cfg.getLong(IndexServiceConfig.TRANSACTION_INTERVAL_MS));
    // fences an earlier incarnation with this transactional id and aborts the transaction it left open
    tx.start();
    try (KafkaConsumer<byte[], byte[]> ec = new KafkaConsumer<>(service.consumerProps(cfg.getString(IndexServiceConfig.GROUP_ID),
        service.transactionalId() + ZombieFence.CLIENT_SUFFIX)); // the group's members name their transactional ids
        KafkaConsumer<byte[], byte[]> dc = new KafkaConsumer<>(service.consumerProps(null, "index-service-deletions"));
        ExtrasReader xr = extrasReader();
        Replicas rs = keepsEveryShard() ? new Replicas(new KafkaConsumer<>(replicaProps()), txMs) : null;
        KafkaClientMetrics ecm = new KafkaClientMetrics(ec);
        KafkaClientMetrics dcm = new KafkaClientMetrics(dc)) {
      consumer = ec;
      replicas = rs;
      indexer.extras(xr);
      ecm.bindTo(metrics.registry()); // records-lag(-max) per partition: the embeddings backlog
      dcm.bindTo(metrics.registry());
      List<TopicPartition> delParts = partitions(dc, del.name());
      dc.assign(delParts);
      List<TopicPartition> embParts = partitions(ec, emb.name());
      shards.setTotalShards(embParts.size());
      Commits commits = new Commits(ec, dc, delParts, txMs, commitMs);
      if (rs != null) {
        catchUp(rs, ec, dc, delParts, embParts, commits, pollMs);
      }
      ec.subscribe(List.of(emb.name()), new ShardRebalance(this, ec, dc, delParts));
      long maxLag = cfg.getLong(IndexServiceConfig.REPLICA_MAX_LAG);
      while (service.running()) {
        ConsumerRecords<byte[], byte[]> recs = ec.poll(Duration.ofMillis(pollMs));
        Set<Integer> held = new TreeSet<>();
        for (ConsumerRecord<byte[], byte[]> r : recs) {
          if (held.contains(r.partition())) {
            continue;
          }
          if (!indexer.tryEmbedding(r)) { // waits for something (Indexer): read it and the rest again next poll
            held.add(r.partition());
            ec.seek(new TopicPartition(r.topic(), r.partition()), r.offset());
            continue;
          }
          if (!commits.due()) {
            break; // rolled back and sought: the rest of this batch is read again
          }
        }
        if (rs != null) {
          rs.poll(Duration.ZERO, indexer::onEmbedding);
          holdWhileReplicasLag(ec, rs, maxLag);
        }
        readDeletions(dc, commits);
        retireSteps();
        commits.due();
      }
      if (commitTransaction(ec, dc, delParts)) {
        indexer.commitShards();
        for (Integer p : shards.owned()) {
          shards.close(p, emb.name());
        }
      }
    } catch (Throwable t) {
      tx.abortQuietly();
      throw t;
    } finally {
      consumer = null;
      replicas = null;
    }
  }

  private void readDeletions(KafkaConsumer<byte[], byte[]> dc, Commits commits)
      throws IOException, InterruptedException {
    if (!dc.assignment().isEmpty() && !shards.all().isEmpty()) {
      for (ConsumerRecord<byte[], byte[]> r : dc.poll(Duration.ZERO)) {
        indexer.onDeletion(r);
        if (!commits.due()) {
          break;
        }
      }
    }
  }

  /** The reader of uploads' extras on {@code embedding-extras} (a consumer without a group, assigned as asked). */
  private ExtrasReader extrasReader() {
    Map<String, Object> props = service.consumerProps(null, "index-service-extras");
    props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 64); // up to ~0.6 MB each: read a little ahead, not far
    props.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 8 << 20);
    return new ExtrasReader(new KafkaConsumer<>(props), topics.embeddingExtras(),
        cfg.getLong(IndexServiceConfig.EXTRAS_LOOKBACK_MS), cfg.getLong(IndexServiceConfig.EXTRAS_LOOKAHEAD_MS),
        cfg.getLong(IndexServiceConfig.EXTRAS_WAIT_MS), cfg.getLong(IndexServiceConfig.EXTRAS_BUFFER_BYTES),
        System::nanoTime);
  }

  /** The replicas' consumer: the embeddings group's id, to read what the owners committed; never joins it. */
  private Map<String, Object> replicaProps() {
    Map<String, Object> m = service.consumerProps(cfg.getString(IndexServiceConfig.GROUP_ID), "index-service-replicas");
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
    while (service.running() && (lag = rs.lag()) > 0) {
      replicaTrouble = "catching up the replicas of " + parts.size() + " shard(s) before taking partitions: " + lag
          + " record(s) behind what their owners committed";
      rs.poll(Duration.ofMillis(pollMs), indexer::onEmbedding);
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
  void follow(Replicas rs, TopicPartition tp, long partitionStart) throws IOException {
    ShardIndex s = shards.open(tp.partition());
    if (partitionStart >= 0) {
      checkComplete(tp, s, partitionStart);
    }
    metrics.shardGauge(tp.partition(), shards);
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
        indexer.commitShards();
      }
      lastTx = System.nanoTime();
      if (shardsDue) {
        lastCommit = lastTx;
      }
      return ok;
    }
  }


  /**
   * Images rewritten per shard and loop turn by a model-version retirement (about 0.1 s at ~2,000 images/s:
   * docs/BENCHMARKS.md, Model upgrade), so that the alerts of the loop's next records wait that long at most.
   */
  private static final int RETIRE_STEP = 200;

  /** A bounded step of every retirement in progress ({@code reindex}'s RETIRE_OTHERS). */
  private void retireSteps() throws IOException {
    for (ShardIndex s : shards.all()) {
      if (s.versions().retiring() != null) {
        s.versions().retireStep(RETIRE_STEP);
        if (s.versions().retiring() == null) {
          log.info("shard {}: older model versions retired", s.shard());
        }
      }
    }
  }

  /**
   * Commits the open transaction with the offsets of every owned shard ({@link AlertTransactions#commit}); when it
   * fails, recovers ({@link #recover}) and returns false.
   */
  boolean commitTransaction(KafkaConsumer<byte[], byte[]> ec, KafkaConsumer<byte[], byte[]> dc,
      List<TopicPartition> delParts) throws IOException, InterruptedException {
    if (tx.commit(shardOffsets(), ec.groupMetadata())) {
      return true;
    }
    recover(ec, dc, delParts);
    return false;
  }

  /** The offsets the next transaction commits: every owned shard's, and the deletions' when shard 0 is owned. */
  private Map<TopicPartition, OffsetAndMetadata> shardOffsets() {
    Map<TopicPartition, OffsetAndMetadata> m = new HashMap<>();
    Set<Integer> owned = ownedShards();
    for (ShardIndex s : shards.all()) {
      if (owned.contains(s.shard()) && s.embeddingsOffset() >= 0) {
        m.put(new TopicPartition(topics.embeddings().name(), s.shard()), new OffsetAndMetadata(s.embeddingsOffset(),
            ZombieFence.metadata(service.transactionalId(), indexer.retroProgress(s.shard()))));
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
      List<TopicPartition> delParts) throws IOException, InterruptedException {
    long backoffMs = tx.abortFailed();
    // replicas hold only what their owners committed: the abort does not concern them
    List<TopicPartition> owned = ownedShards().stream()
        .map(p -> new TopicPartition(topics.embeddings().name(), p)).toList();
    for (TopicPartition tp : owned) {
      shards.close(tp.partition(), null);
    }
    Thread.sleep(backoffMs);
    resume(ec, owned);
    seekDeletions(ec, dc, delParts, true);
  }

  /**
   * Opens the shards of {@code parts} and seeks each partition to its Lucene commit (L); records before the offset
   * the group committed with the last alerts transaction (A) are replayed into the index without matching.
   */
  void resume(KafkaConsumer<byte[], byte[]> ec, Collection<TopicPartition> parts) throws IOException {
    if (parts.isEmpty()) {
      return;
    }
    Map<TopicPartition, OffsetAndMetadata> committed = ec.committed(new java.util.HashSet<>(parts));
    // a departed previous owner's open transaction would hold the alerts of these partitions back: abort it now
    service.zombieFence().fenceIfGone(committed.values().stream().filter(java.util.Objects::nonNull)
        .map(o -> ZombieFence.committer(o.metadata())).collect(java.util.stream.Collectors.toSet()));
    Map<TopicPartition, Long> starts = ec.beginningOffsets(parts);
    for (TopicPartition tp : parts) {
      ShardIndex s = shards.open(tp.partition()); // a replica becoming owned is open already, warm
      checkComplete(tp, s, starts.getOrDefault(tp, 0L));
      metrics.shardGauge(tp.partition(), shards);
      OffsetAndMetadata a = committed.get(tp);
      long alertsDone = a == null ? -1 : a.offset();
      alertsFrom.put(tp.partition(), alertsDone);
      indexer.resumeRetro(tp.partition(), alertsDone, a == null ? null : ZombieFence.extra(a.metadata()));
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
   * reported is forgotten too); the owner of shard 0 resumes no later than the first deletion not reported (a
   * malformed deletion that replicas read during a rebalance lost its reject: FaultInjectionIT, fifteenth session).
   */
  void seekDeletions(KafkaConsumer<byte[], byte[]> ec, KafkaConsumer<byte[], byte[]> dc,
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
    boolean reports = reportsDeletions();
    for (TopicPartition dp : delParts) {
      long min = Long.MAX_VALUE;
      for (ShardIndex s : shards.all()) {
        min = Math.min(min, s.deletionOffset(dp.partition()));
      }
      if (reports) { // shard 0 is owned, so open: min is set
        // the owner of shard 0 reports malformed deletions (and sends takedowns' preview tombstones): what its
        // replicas read while it owned no shard 0 — between a rebalance's revocation and assignment — was applied but
        // not reported; read again from the first deletion not reported (applied ones are not applied twice)
        min = Math.min(min, deletionsReported.getOrDefault(dp.partition(), 0L));
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

  private static List<TopicPartition> partitions(KafkaConsumer<?, ?> c, String topic) {
    List<PartitionInfo> infos = c.partitionsFor(topic, Duration.ofSeconds(60));
    if (infos == null || infos.isEmpty()) {
      throw new IllegalStateException("topic " + topic + " does not exist (start with topic.create=true or create it)");
    }
    return infos.stream().map(i -> new TopicPartition(topic, i.partition())).toList();
  }

  // ---------------------------------------------------------------- for ShardRebalance

  Replicas replicas() {
    return replicas;
  }

  boolean running() {
    return service.running();
  }

  LocalShards shards() {
    return shards;
  }

  AlertTransactions transactions() {
    return tx;
  }

  ZombieFence zombieFence() {
    return service.zombieFence();
  }

  Indexer indexer() {
    return indexer;
  }

  /** Forgets what was known of shard {@code p} (it is closed, or reopened from its commit). */
  void forget(int p) {
    alertsFrom.remove(p);
    indexer.resumeRetro(p, -1, null);
    truncatedShards.remove(p);
  }

  String embeddingsTopic() {
    return topics.embeddings().name();
  }

  java.nio.file.Path indexDir() {
    return cfg.indexDir();
  }

  void assignedOnce() {
    assigned.countDown();
  }
}
