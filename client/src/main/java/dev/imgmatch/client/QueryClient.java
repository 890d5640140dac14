package dev.imgmatch.client;

import dev.imgmatch.avro.ImageIdTarget;
import dev.imgmatch.avro.InlineImage;
import dev.imgmatch.avro.QueryFilters;
import dev.imgmatch.avro.QueryParams;
import dev.imgmatch.avro.QueryReply;
import dev.imgmatch.avro.QueryRequest;
import dev.imgmatch.avro.VectorTarget;
import dev.imgmatch.schemas.RecordDecodingException;
import dev.imgmatch.schemas.Topic;
import dev.imgmatch.schemas.Topics;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks index-service (through Kafka) and returns the reply as a future.
 *
 * <pre>{@code
 * try (QueryClient c = new QueryClient(Map.of("bootstrap.servers", "localhost:9092"), Topics.defaults())) {
 *   QueryReply r = c.byImageId("acme", "img-42", 10, Duration.ofSeconds(5)).join();
 * }
 * }</pre>
 *
 * <p>Sends each request to {@code queries} (key = query id) and reads its reply topic (every partition, from
 * the end as of construction, without a consumer group) on one background thread, completing the future whose
 * query id the reply carries. A future not answered within its timeout completes exceptionally with
 * {@link java.util.concurrent.TimeoutException}. Thread-safe; one client per process is enough.
 *
 * <p>Fan-out deployments (several index-service instances, each with its own {@code query.group.id}, so each
 * answers every query from the shards it owns): {@link #gatherPartials(boolean) gatherPartials(true)} makes the
 * client wait for the PARTIAL replies of every instance and complete with their merge ({@link PartialReplies}),
 * OK once the shards answered add up to all shards, or PARTIAL with what arrived at the deadline.
 */
public final class QueryClient implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(QueryClient.class);

  private final Topic<String, QueryRequest> queries;
  private final Topic<String, QueryReply> replies;
  private final KafkaProducer<byte[], byte[]> producer;
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final Map<String, CompletableFuture<QueryReply>> pending = new ConcurrentHashMap<>();
  private final Map<String, PartialReplies> gathering = new ConcurrentHashMap<>();
  private volatile boolean gather;
  private final Thread poller;
  private volatile boolean running = true;

  /** A client reading replies on the deployment's default reply topic. */
  public QueryClient(Map<String, Object> kafkaProps, Topics topics) {
    this(kafkaProps, topics, topics.queryReplies().name());
  }

  /**
   * @param kafkaProps Kafka client settings (at least bootstrap.servers)
   * @param replyTopic the topic replies are requested on (it must exist)
   */
  public QueryClient(Map<String, Object> kafkaProps, Topics topics, String replyTopic) {
    this.queries = topics.queries();
    this.replies = topics.queryReplies().withName(replyTopic);
    Map<String, Object> pp = new HashMap<>(kafkaProps);
    pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    pp.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, "0");
    // an image query carries the file inline (up to Limits.MAX_IMAGE_BYTES): the default 1 MiB would refuse any photo over 1 MiB
    pp.putIfAbsent(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Topics.MAX_MESSAGE_BYTES);
    pp.remove(ConsumerConfig.GROUP_ID_CONFIG);
    this.producer = new KafkaProducer<>(pp);
    Map<String, Object> cp = new HashMap<>(kafkaProps);
    cp.remove(ConsumerConfig.GROUP_ID_CONFIG);
    cp.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    cp.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    cp.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    // replies are produced in transactions: an aborted attempt is never seen, a committed one once
    cp.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    this.consumer = new KafkaConsumer<>(cp);
    try {
      List<TopicPartition> parts = new ArrayList<>();
      var infos = consumer.partitionsFor(replies.name(), Duration.ofSeconds(30));
      if (infos == null || infos.isEmpty()) {
        throw new IllegalStateException("reply topic " + replies.name() + " does not exist");
      }
      infos.forEach(i -> parts.add(new TopicPartition(i.topic(), i.partition())));
      consumer.assign(parts);
      consumer.seekToEnd(parts);
      parts.forEach(consumer::position); // resolve now: a reply produced after this constructor is seen
    } catch (RuntimeException e) {
      consumer.close();
      producer.close();
      throw e;
    }
    this.poller = new Thread(this::poll, "query-client-replies");
    poller.setDaemon(true);
    poller.start();
  }

  private void poll() {
    try {
      while (running) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
          String id = r.key() == null ? null : replies.deserializeKey(r.key());
          CompletableFuture<QueryReply> f = id == null ? null : pending.get(id);
          if (f == null) {
            continue; // another client's reply
          }
          try {
            QueryReply reply = replies.deserializeValue(r.value());
            PartialReplies parts = gathering.get(id);
            if (parts == null) {
              f.complete(reply);
            } else {
              synchronized (parts) {
                QueryReply merged = parts.add(reply);
                if (merged != null) {
                  f.complete(merged);
                }
              }
            }
          } catch (RecordDecodingException e) {
            f.completeExceptionally(e);
          }
        }
      }
    } catch (WakeupException e) {
      // closing
    } catch (RuntimeException e) {
      log.error("query client reply consumer failed", e);
      pending.values().forEach(f -> f.completeExceptionally(e));
    } finally {
      consumer.close();
    }
  }

  /**
   * Whether to gather the PARTIAL replies of several instances into one (fan-out deployments, class comment).
   * Off by default: with one instance, or instances sharing a query group, a PARTIAL reply is the only one coming.
   *
   * @return this client
   */
  public QueryClient gatherPartials(boolean on) {
    this.gather = on;
    return this;
  }

  /** Default parameters: k results, no minimum score, no filters, replies on this client's topic. */
  public QueryParams params(int k, Duration timeout) {
    return QueryParams.newBuilder()
        .setK(k)
        .setMinScore(0f)
        .setFilters(QueryFilters.newBuilder().build())
        .setReplyTopic(replies.name())
        .setRequestedAtMs(System.currentTimeMillis())
        .setTimeoutMs((int) Math.min(Integer.MAX_VALUE, timeout.toMillis()))
        .build();
  }

  /**
   * Sends a request and returns its reply. The request's reply topic is set to this client's and its
   * {@code requestedAtMs} to now; its query id must be unique.
   */
  public CompletableFuture<QueryReply> query(QueryRequest request, Duration timeout) {
    Objects.requireNonNull(request.getQueryId(), "queryId");
    Objects.requireNonNull(request.getParams(), "params (use params(k, timeout) for the defaults)");
    QueryParams p = QueryParams.newBuilder(request.getParams())
        .setReplyTopic(replies.name())
        .setRequestedAtMs(System.currentTimeMillis())
        .setTimeoutMs((int) Math.min(Integer.MAX_VALUE, timeout.toMillis()))
        .build();
    QueryRequest req = QueryRequest.newBuilder(request).setParams(p).build();
    CompletableFuture<QueryReply> f = new CompletableFuture<>();
    if (pending.putIfAbsent(req.getQueryId(), f) != null) {
      throw new IllegalArgumentException("query id " + req.getQueryId() + " is already waiting for its reply");
    }
    f.whenComplete((r, e) -> {
      pending.remove(req.getQueryId(), f);
      gathering.remove(req.getQueryId());
    });
    if (gather) {
      PartialReplies parts = new PartialReplies(p.getK());
      gathering.put(req.getQueryId(), parts);
      CompletableFuture.delayedExecutor(timeout.toMillis(), TimeUnit.MILLISECONDS).execute(() -> {
        synchronized (parts) { // at the deadline: what the instances answered so far, else a timeout
          if (parts.any()) {
            f.complete(parts.merged());
          } else {
            f.completeExceptionally(new java.util.concurrent.TimeoutException("no reply to " + req.getQueryId()
                + " within " + timeout));
          }
        }
      });
    } else {
      f.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }
    producer.send(queries.record(req.getQueryId(), req), (md, e) -> {
      if (e != null) {
        f.completeExceptionally(e);
      }
    });
    return f;
  }

  /** Images similar to an indexed image of the tenant (the image itself is not returned). */
  public CompletableFuture<QueryReply> byImageId(String tenant, String imageId, int k, Duration timeout) {
    return query(request(tenant, ImageIdTarget.newBuilder().setImageId(imageId).build(), k, timeout), timeout);
  }

  /** Images whose descriptor is closest to {@code vector} (L2-normalised, of {@code modelVersion}). */
  public CompletableFuture<QueryReply> byVector(String tenant, String modelVersion, float[] vector, int k,
      Duration timeout) {
    List<Float> v = new ArrayList<>(vector.length);
    for (float x : vector) {
      v.add(x);
    }
    return query(request(tenant, VectorTarget.newBuilder().setModelVersion(modelVersion).setVector(v).build(), k,
        timeout), timeout);
  }

  /**
   * Indexed images and hash-list bank entries that match hashes (each may be null, not all): an equal SHA-256 or MD5,
   * or a PDQ within the services' distances.
   *
   * @param pdq 32 bytes, with {@code pdqQuality} 0-100
   */
  public CompletableFuture<QueryReply> byHashes(String tenant, byte[] pdq, int pdqQuality, byte[] sha256, byte[] md5,
      int k, Duration timeout) {
    dev.imgmatch.avro.HashTarget t = dev.imgmatch.avro.HashTarget.newBuilder()
        .setPdq(pdq == null ? null : new dev.imgmatch.avro.PdqHash(new dev.imgmatch.avro.Pdq256(pdq), pdqQuality))
        .setSha256(sha256 == null ? null : new dev.imgmatch.avro.Sha256(sha256))
        .setMd5(md5 == null ? null : new dev.imgmatch.avro.Md5(md5)).build();
    QueryRequest req = request(tenant, ImageIdTarget.newBuilder().setImageId("").build(), k, timeout);
    req.setHashes(t);
    return query(req, timeout);
  }

  /** Images similar to an image file: it travels through ingest-stream and the embedders first, never indexed. */
  public CompletableFuture<QueryReply> byImage(String tenant, byte[] file, String fileName, int k, Duration timeout) {
    InlineImage img = InlineImage.newBuilder().setData(ByteBuffer.wrap(file)).setFileName(fileName).build();
    return query(request(tenant, img, k, timeout), timeout);
  }

  private QueryRequest request(String tenant, Object target, int k, Duration timeout) {
    return QueryRequest.newBuilder()
        .setQueryId("q-" + UUID.randomUUID())
        .setTenant(tenant)
        .setTarget(target)
        .setParams(params(k, timeout))
        .build();
  }

  @Override
  public void close() {
    running = false;
    consumer.wakeup();
    try {
      poller.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    producer.close(Duration.ofSeconds(5));
    pending.values().forEach(f -> f.completeExceptionally(new IllegalStateException("query client closed")));
  }
}
