package dev.imgmatch.index;

import dev.imgmatch.avro.ImageEmbedding;
import dev.imgmatch.avro.ImageIdTarget;
import dev.imgmatch.avro.Purpose;
import dev.imgmatch.avro.QueryParams;
import dev.imgmatch.avro.QueryReply;
import dev.imgmatch.avro.QueryRequest;
import dev.imgmatch.avro.ReplyStatus;
import dev.imgmatch.avro.VectorTarget;
import dev.imgmatch.common.OutputFailures;
import dev.imgmatch.schemas.RecordDecodingException;
import dev.imgmatch.schemas.Topic;
import dev.imgmatch.schemas.Topics;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
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
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The query thread ({@code index-queries}): answers {@code queries} (id and vector targets) and {@code probes}
 * (image queries, purpose QUERY) from every shard kept here, on the reply topic each names, in one Kafka
 * transaction per batch with the batch's offsets (each query is answered once for a read_committed reader).
 */
final class QueryAnswerer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(QueryAnswerer.class);

  private final IndexService service;
  private final IndexServiceConfig cfg;
  private final Topics topics;
  private final MatchPolicy policy;
  private final LocalShards shards;
  private final IndexMetrics metrics;
  private final ReplyTopics replyTopics;
  /** Replies, and rejects of queries and probes: one transaction per batch of queries. */
  private final java.util.function.Supplier<KafkaProducer<byte[], byte[]>> producers;
  private volatile KafkaProducer<byte[], byte[]> producer;
  private volatile KafkaClientMetrics producerMetrics;
  private int fencedInARow;
  /** The first failed send of the open query transaction (it cannot commit). */
  private final AtomicReference<Throwable> querySendFailure = new AtomicReference<>();
  private final CountDownLatch ready = new CountDownLatch(1);
  /** For reply topic checks, created on first use. */
  private Admin admin;
  private volatile KafkaConsumer<byte[], byte[]> consumer;

  QueryAnswerer(IndexService service, java.util.function.Supplier<KafkaProducer<byte[], byte[]>> producers) {
    this.service = service;
    this.cfg = service.config();
    this.topics = cfg.topics();
    this.policy = service.policy();
    this.shards = service.shards();
    this.metrics = service.metrics();
    this.producers = producers;
    this.producer = producers.get();
    String pattern = cfg.getString(IndexServiceConfig.QUERY_REPLY_TOPIC_PATTERN);
    this.replyTopics = new ReplyTopics(pattern.isBlank() ? ReplyTopics.defaultPattern(topics.prefix()) : pattern,
        topics.queryReplies().name(), this::topicExists);
    this.producerMetrics = new KafkaClientMetrics(producer);
    producerMetrics.bindTo(metrics.registry());
  }

  /** Whether the query consumer has its first assignment. */
  boolean awaitReady(long nanos) throws InterruptedException {
    return ready.await(nanos, TimeUnit.NANOSECONDS);
  }

  boolean isReady() {
    return consumer != null && ready.getCount() == 0;
  }

  /** Interrupts a poll in progress (stopping). */
  void wakeup() {
    KafkaConsumer<?, ?> c = consumer;
    if (c != null) {
      c.wakeup();
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

  // ---------------------------------------------------------------- queries

  /** The query thread: reads queries and query probes until the service stops. */
  void run() {
    String queryGroup = cfg.getString(IndexServiceConfig.QUERY_GROUP_ID).isBlank()
        ? cfg.getString(IndexServiceConfig.GROUP_ID) + "-queries" : cfg.getString(IndexServiceConfig.QUERY_GROUP_ID);
    Map<String, Object> props = service.consumerProps(queryGroup, "index-service-queries");
    if (props.get(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG) != null) { // kafka.group.instance.id: static member
      props.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, props.get(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG) + "-queries");
    }
    try (KafkaConsumer<byte[], byte[]> qc = new KafkaConsumer<>(props);
        KafkaClientMetrics qcm = new KafkaClientMetrics(qc)) {
      qcm.bindTo(metrics.registry());
      consumer = qc;
      qc.subscribe(List.of(topics.queries().name(), topics.probes().name()), new ConsumerRebalanceListener() {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {}

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
          ready.countDown();
        }
      });
      service.retryOnTimeout("initialising the query transactions", producer::initTransactions);
      int failures = 0;
      while (service.running()) {
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
            send(service.reject("QUERY_FAILED", e.toString(), r, e));
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
      consumer = null;
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
      service.retryOnTimeout("committing query offsets", () -> producer.sendOffsetsToTransaction(offsets, qc.groupMetadata()));
      service.retryOnTimeout("committing query replies", producer::commitTransaction);
      fencedInARow = 0;
      return true;
    } catch (org.apache.kafka.common.errors.ProducerFencedException e) {
      // Kafka 4.3 also answers PRODUCER_FENCED to a commit that raced with the coordinator's own abort after a broker
      // outage (KAFKA-20785): a new producer with the same id, and the batch again; a real zombie fences us again at
      // once, and the third time in a row stops the service (as AlertTransactions does)
      if (++fencedInARow > AlertTransactions.MAX_FENCED_IN_A_ROW) {
        throw e;
      }
      log.warn("query transaction fenced ({} in a row); replacing the producer and reading its {} record(s) again",
          fencedInARow, recs.count());
      replaceProducer();
      querySendFailure.set(null);
      for (TopicPartition tp : recs.partitions()) {
        qc.seek(tp, recs.records(tp).get(0).offset());
      }
      return false;
    } catch (org.apache.kafka.common.errors.TransactionalIdAuthorizationException
        | org.apache.kafka.common.errors.ClusterAuthorizationException
        | org.apache.kafka.common.errors.UnsupportedVersionException e) {
      throw e;
    } catch (KafkaException e) {
      log.warn("query transaction failed: {}; aborting it and reading its {} record(s) again", e.toString(),
          recs.count());
      service.retryOnTimeout("aborting the query transaction", producer::abortTransaction);
      querySendFailure.set(null);
      for (TopicPartition tp : recs.partitions()) {
        qc.seek(tp, recs.records(tp).get(0).offset());
      }
      return false;
    }
  }


  private void onQuery(ConsumerRecord<byte[], byte[]> r) {
    QueryRequest q;
    try {
      q = topics.queries().deserializeValue(r.value());
    } catch (RecordDecodingException e) {
      send(service.reject(e.reasonCode(), e.getMessage(), r, e));
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
    if (q.getHashes() != null) { // a hash query (its target an empty id, for services before QueryRequest v2)
      answerHashes(q, q.getHashes(), params, r);
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
            img.sha256(), f.excluding(img.uid()), searchK(params), img.thumbnail(), null, img.background());
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

  /**
   * A hash query: the indexed images with an equal SHA-256 or a PDQ within match.pdq.max.distance (no descriptor: the
   * fused score of the hash signals), and the hash-list bank entries the hashes match (MD5 too), best first.
   */
  private void answerHashes(QueryRequest q, dev.imgmatch.avro.HashTarget h, QueryParams params,
      ConsumerRecord<byte[], byte[]> r) {
    byte[] pdq = h.getPdq() == null ? null : h.getPdq().getHash().bytes();
    int quality = h.getPdq() == null ? 0 : h.getPdq().getQuality();
    byte[] sha = h.getSha256() == null ? null : h.getSha256().bytes();
    byte[] md5 = h.getMd5() == null ? null : h.getMd5().bytes();
    answer(q.getQueryId(), q.getTenant(), params, r, () -> {
      if (pdq == null && sha == null && md5 == null) {
        throw new InvalidRecordException(Records.INVALID_QUERY, "query " + q.getQueryId() + " names no hash");
      }
      if (h.getPdq() != null && (quality < 0 || quality > 100)) {
        throw new InvalidRecordException(Records.INVALID_QUERY, "query " + q.getQueryId() + ": PDQ quality "
            + quality + " is outside 0-100");
      }
      SearchFilter f = Records.filterOf(q.getTenant(), params, policy.sharedCollections());
      return new Probe(null, List.of(), pdq == null ? List.of() : List.of(pdq), quality, sha, f, searchK(params),
          null);
    }, () -> {
      BankIndex banks = service.banks();
      return banks == null ? List.of() : banks.match(q.getTenant(), pdq == null ? List.of() : List.of(pdq), quality,
          md5, sha, null);
    });
  }

  private void onProbe(ConsumerRecord<byte[], byte[]> r) {
    ImageEmbedding e;
    try {
      e = topics.probes().deserializeValue(r.value());
      service.noteDimension(e);
    } catch (RecordDecodingException ex) {
      send(service.reject(ex.reasonCode(), ex.getMessage(), r, ex));
      return;
    }
    if (e.getPurpose() != Purpose.QUERY) {
      return; // uploads are matched when their embedding is consumed (match-then-index, one place)
    }
    QueryParams params = e.getQuery();
    if (params == null) {
      send(service.reject(Records.INVALID_QUERY, "query probe " + e.getId() + " carries no query parameters", r, null));
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
    answer(queryId, tenant, params, r, probe, null);
  }

  /** Hits found besides the shards' (hash queries: the bank entries). */
  @FunctionalInterface
  private interface MoreHits {
    List<Hit> get() throws IOException;
  }

  private void answer(String queryId, String tenant, QueryParams params, ConsumerRecord<byte[], byte[]> r,
      Supplier<Probe> probe, MoreHits more) {
    ReplyTopics.Choice to = replyTopics.choose(params == null ? null : params.getReplyTopic(),
        System.currentTimeMillis());
    if (to.refusal() != null) { // nowhere to answer: one reject, and the thread goes on
      send(service.reject(Records.INVALID_QUERY, "query " + queryId + " not answered: " + to.refusal(), r, null));
      return;
    }
    QueryReply reply;
    try {
      Records.checkParams(queryId, params, cfg.getInt(IndexServiceConfig.QUERY_MAX_K));
      Probe p = probe.get();
      long t0 = System.nanoTime();
      List<Hit> hits = shards.search(p, policy);
      if (more != null) {
        List<Hit> all = new ArrayList<>(hits);
        all.addAll(more.get());
        all.sort((x, y) -> Double.compare(y.score(), x.score()));
        hits = all;
      }
      metrics.querySearch(System.nanoTime() - t0);
      List<dev.imgmatch.avro.MatchedImage> results = new ArrayList<>();
      for (Hit h : hits) {
        if (results.size() >= params.getK()) {
          break;
        }
        if (h.score() >= params.getMinScore()) {
          results.add(h.toAvro());
        }
      }
      Map<Integer, String> truncatedShards = service.truncatedShards();
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
      send(service.reject(e.reasonCode(), e.getMessage(), r, null));
      reply = rejectedReply(queryId, tenant, e.getMessage(), params);
    } catch (IOException | RuntimeException e) {
      log.error("query {} failed", queryId, e);
      reply = rejectedReply(queryId, tenant, e.toString(), params);
      reply.setStatus(ReplyStatus.ERROR);
    }
    reply(to.topic(), reply);
    metrics.answered(reply.getStatus(), params == null ? null : reply.getRepliedAtMs() - params.getRequestedAtMs());
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

  /** A new transactional producer (same id, epoch bumped) in place of a fenced one. */
  private void replaceProducer() {
    try {
      producerMetrics.close();
      producer.close(Duration.ZERO);
    } catch (RuntimeException e) {
      log.debug("closing the fenced query producer: {}", e.toString());
    }
    producer = producers.get();
    producerMetrics = new KafkaClientMetrics(producer);
    producerMetrics.bindTo(metrics.registry());
    service.retryOnTimeout("initialising the query transactions", producer::initTransactions);
  }

  @Override
  public void close() {
    producerMetrics.close();
    producer.close(Duration.ofSeconds(10));
    synchronized (this) {
      if (admin != null) {
        admin.close(Duration.ofSeconds(5));
      }
    }
  }
}
