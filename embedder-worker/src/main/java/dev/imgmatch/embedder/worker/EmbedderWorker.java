package dev.imgmatch.embedder.worker;

import dev.imgmatch.common.HangingTransactions;
import dev.imgmatch.embedder.Embedder;
import dev.imgmatch.embedder.PictureEmbedder;
import dev.imgmatch.schemas.Topics;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedder worker: consumes {@code prepared}, embeds in micro-batches, and produces {@code embeddings},
 * {@code probes} and {@code rejects} together with the consumed offsets in one Kafka transaction per micro-batch
 * (exactly-once: a crash or a rebalance aborts the open transaction and the records are consumed again).
 *
 * <h2>Threads and hand-off</h2>
 * <ul>
 *   <li><b>Polling thread</b> ({@code embedder-poll}) owns the {@link KafkaConsumer}: it polls, appends every record
 *       to its private {@code pending} deque and moves entries into the bounded {@code queue} (capacity
 *       {@code queue.capacity}) without blocking. When the queue is full it <b>pauses</b> every assigned partition and
 *       keeps polling (so the group membership stays alive but no more records are fetched); it resumes once
 *       {@code pending} has drained. It also publishes the consumer's {@link ConsumerGroupMetadata} after each poll,
 *       executes seek requests from the inference thread, and runs the rebalance callbacks.
 *   <li><b>Inference thread</b> ({@code embedder-infer}) owns the transactional {@link KafkaProducer} and the model:
 *       it takes up to {@code batch.max.records} entries from the queue, waiting at most {@code batch.max.latency.ms}
 *       after the first, embeds them ({@link BatchProcessor}) and commits outputs and offsets in one transaction.
 * </ul>
 * The queue is FIFO and batches commit in order, so a committed offset always covers everything before it.
 * The inference thread holds {@code batchLock} from taking a batch's first entry until its transaction ends. A
 * revocation (polling thread, inside {@code poll}) takes the same lock: it therefore waits for the batch in flight
 * to commit, then removes the revoked partitions' entries from the queue and the pending deque, so no record of a
 * partition is processed after its revocation. If a transaction fails (aborted), the inference thread marks the
 * batch's partitions stale and asks the polling thread to seek them back to the batch's first offsets; the polling
 * thread seeks and enqueues a marker: entries of a stale partition are dropped until its marker arrives, because
 * they were fetched before the seek and come again after it.
 *
 * <h2>Model outages</h2>
 * When the model fails on every input ({@link BatchProcessor}: a reference picture fails too), the inference thread
 * retries its batch with back-off for up to {@code embed.retry.max.ms}, still holding {@code batchLock}; the queue
 * fills, the poller pauses its partitions and keeps polling, so the group keeps the worker. {@link #notReady()}
 * says why ({@code /ready} 503). A revocation sets {@code revoking} before it takes the lock: the back-off then gives
 * up at once ({@link BatchProcessor.Abandoned}), the batch is rewound like an aborted one and the rebalance goes on;
 * closing the worker does the same.
 */
public final class EmbedderWorker implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EmbedderWorker.class);

  /** Observes finished micro-batches (benchmarks, metrics). Called on the inference thread. */
  @FunctionalInterface
  public interface BatchListener {
    /**
     * A committed micro-batch.
     *
     * @param embedNanos decoding + model + head (the rest of {@code totalNanos} is the Kafka transaction)
     * @param totalNanos embedding plus the transaction (the wait for more records is not included)
     */
    void onBatch(int records, int pictures, long embedNanos, long totalNanos);
  }

  private sealed interface Entry permits Rec, Resumed {}

  private record Rec(ConsumerRecord<byte[], byte[]> record, TopicPartition tp) implements Entry {}

  /** Everything after this entry for {@code tp} was fetched after the seek. */
  private record Resumed(TopicPartition tp) implements Entry {}

  private record Rewind(TopicPartition tp, long offset) {}

  private final EmbedderWorkerConfig config;
  private final Topics topics;
  private final PictureEmbedder embedder;
  private final ServingEmbedder serving;
  private final BatchListener listener;
  private final WorkerMetrics metrics;
  private final BlockingQueue<Entry> queue;
  private final Deque<Entry> pending = new ArrayDeque<>(); // polling thread only (and callbacks, same thread)
  private final ConcurrentLinkedQueue<Rewind> rewinds = new ConcurrentLinkedQueue<>();
  private final Set<TopicPartition> stale = new HashSet<>(); // guarded by batchLock
  private final ReentrantLock batchLock = new ReentrantLock(true);
  private final AtomicReference<ConsumerGroupMetadata> groupMetadata = new AtomicReference<>();
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private final CountDownLatch initialized = new CountDownLatch(1);
  private final CountDownLatch stopped = new CountDownLatch(2);
  private final AtomicLong embedded = new AtomicLong();
  private final AtomicLong rejected = new AtomicLong();
  private final AtomicLong batches = new AtomicLong();
  private final AtomicLong aborted = new AtomicLong();
  private final AtomicLong pauses = new AtomicLong();
  private final AtomicLong modelRetries = new AtomicLong();
  /** Why the model is not embedding (a model outage being waited out), or null. */
  private volatile String modelStatus;
  /** Set by the polling thread while a revocation waits for the batch in flight: a back-off gives up at once. */
  private volatile boolean revoking;
  private volatile boolean running = true;
  private volatile KafkaConsumer<byte[], byte[]> consumer;
  private Thread pollThread;
  private Thread inferThread;
  private volatile HangingTransactions hanging;

  /**
   * A worker (not started).
   *
   * @param embedder the descriptor; shared, not closed by the worker
   * @param listener observes finished batches, or null
   */
  public EmbedderWorker(EmbedderWorkerConfig config, PictureEmbedder embedder, BatchListener listener) {
    this(config, embedder, listener, null);
  }

  /** A worker that also feeds {@code metrics} (may be null). */
  public EmbedderWorker(EmbedderWorkerConfig config, PictureEmbedder embedder, BatchListener listener,
      WorkerMetrics metrics) {
    Embedder.requireIndexable(embedder); // never emit vectors the index must refuse
    if (config.getBoolean(EmbedderWorkerConfig.DESCRIPTOR_BACKGROUND) && embedder instanceof Embedder e) {
      useBackground(e, "");
    }
    this.config = config;
    this.topics = config.topics();
    this.serving = new ServingEmbedder(embedder, openNext(config), topics.modelServing(), config.kafka());
    this.embedder = serving;
    this.metrics = metrics;
    BatchListener l = listener == null ? (r, p, e, n) -> { } : listener;
    this.listener = metrics == null ? l : (r, p, e, n) -> {
      metrics.onBatch(r, p, e, n);
      l.onBatch(r, p, e, n);
    };
    this.queue = new ArrayBlockingQueue<>(config.getInt(EmbedderWorkerConfig.QUEUE_CAPACITY));
  }

  /**
   * Loads the embedder's background set. Without it matching still works, only without the background's competitor
   * (the records carry a null backgroundCosine): a package that cannot be obtained (no route to a Debian mirror, a
   * changed archive) is logged as an error and the worker goes on.
   */
  private static void useBackground(Embedder e, String prefix) {
    try {
      var b = e.useBackground(m -> log.info("{}{}", prefix, m));
      log.info("{}background set {}: {} pictures", prefix, b.identity(), b.size());
    } catch (RuntimeException ex) {
      log.error("{}background set unavailable, embeddings carry no backgroundCosine (pictures of one style may match "
          + "each other on their style; provide the packages in the cache folder's deb/ or set {}=false): {}",
          prefix, EmbedderWorkerConfig.DESCRIPTOR_BACKGROUND, ex.getMessage(), ex);
    }
  }

  /** The next model version's embedder ({@code descriptor.next.head}), or null when none is configured. */
  private static PictureEmbedder openNext(EmbedderWorkerConfig config) {
    var o = config.nextEmbedderOptions();
    if (o == null) {
      return null;
    }
    Embedder next = Embedder.open(o, m -> log.info("next descriptor: {}", m));
    try {
      Embedder.requireIndexable(next);
      if (config.getBoolean(EmbedderWorkerConfig.DESCRIPTOR_BACKGROUND)) {
        useBackground(next, "next descriptor: ");
      }
    } catch (RuntimeException e) {
      next.close();
      throw e;
    }
    log.info("next model version {} ({}-d) loaded: used once model-serving names it", next.modelVersion(), next.dim());
    return next;
  }

  /** The model version the worker embeds with now (the serving one when it has it, else its main one). */
  public String modelVersionNow() {
    return serving.current().modelVersion();
  }

  /** Starts both threads; returns once the producer is ready (transactions initialised). */
  public EmbedderWorker start() {
    try {
      serving.start(Duration.ofSeconds(30)); // the serving model version, before the first batch
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    inferThread = new Thread(this::inferLoop, "embedder-infer");
    pollThread = new Thread(this::pollLoop, "embedder-poll");
    inferThread.start();
    try {
      if (!initialized.await(120, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the transactional producer did not initialise within 120 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    if (failure.get() != null) {
      stopped.countDown(); // the polling thread never starts
      throw new IllegalStateException("embedder worker failed to start: " + failure.get().getMessage(), failure.get());
    }
    pollThread.start();
    hanging = new HangingTransactions("embedder-worker", config.kafka(),
        // what it reads, and what it writes (read_committed by index-service and the platform)
        List.of(topics.prepared().name(), topics.modelServing().name(), topics.embeddings().name(),
            topics.embeddingExtras().name(), topics.probes().name(), topics.rejects().name()),
        HangingTransactions.Settings.of(config)).bind(metrics == null ? null : metrics.registry()).start();
    log.info("embedder-worker {}", hanging.describeSettings());
    return this;
  }

  public long embedded() {
    return embedded.get();
  }

  public long rejected() {
    return rejected.get();
  }

  public long batches() {
    return batches.get();
  }

  public long abortedTransactions() {
    return aborted.get();
  }

  /** How often the poller paused its partitions because the hand-off queue was full (back-pressure). */
  public long pauses() {
    return pauses.get();
  }

  /** Retries of a batch while the model failed on every input. */
  public long modelRetries() {
    return modelRetries.get();
  }

  /**
   * Why the worker is not ready, or null when it is: stopped, a topic of the worker blocked by a hanging transaction
   * it may not abort ({@link HangingTransactions}), or the model failing on every input (the batch in flight is being
   * retried with back-off, see {@code embed.retry.max.ms}).
   */
  public String notReady() {
    if (!running) {
      return failure.get() == null ? "worker stopped" : "worker stopped: " + failure.get();
    }
    HangingTransactions h = hanging;
    String blocked = h == null ? null : h.notReadyReason();
    return blocked != null ? blocked : modelStatus;
  }

  /** The error that stopped the worker, or null. */
  public Throwable failure() {
    return failure.get();
  }

  public boolean isRunning() {
    return running;
  }

  /** Waits until both threads have ended (after {@link #close()} or a fatal error). */
  public boolean awaitTermination(Duration timeout) throws InterruptedException {
    return stopped.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Stops cleanly: the batch in flight commits, queued records are left for the next owner. */
  @Override
  public void close() {
    running = false;
    KafkaConsumer<byte[], byte[]> c = consumer;
    if (c != null) {
      c.wakeup();
    }
    try {
      if (!awaitTermination(Duration.ofSeconds(60))) {
        log.warn("embedder worker threads did not stop within 60 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (hanging != null) {
      hanging.close();
    }
    serving.close();
  }

  private void fail(Throwable t) {
    if (failure.compareAndSet(null, t)) {
      log.error("embedder worker stops: {}", t.toString(), t);
    }
    running = false;
    KafkaConsumer<byte[], byte[]> c = consumer;
    if (c != null) {
      c.wakeup();
    }
  }

  // ---------------------------------------------------------------- polling thread

  private void pollLoop() {
    Map<String, Object> props = new HashMap<>(config.kafka());
    props.put(ConsumerConfig.GROUP_ID_CONFIG, config.getString(EmbedderWorkerConfig.GROUP_ID));
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.putIfAbsent(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, config.getInt(EmbedderWorkerConfig.QUEUE_CAPACITY));
    props.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, config.transactionalId() + "-consumer");
    try (KafkaConsumer<byte[], byte[]> c =
        new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      consumer = c;
      if (metrics != null) {
        metrics.bindConsumer(c);
      }
      c.subscribe(List.of(topics.prepared().name()), new Rebalance());
      while (running) {
        applyRewinds(c);
        ConsumerRecords<byte[], byte[]> records;
        try {
          records = c.poll(Duration.ofMillis(100));
        } catch (WakeupException e) {
          break;
        }
        groupMetadata.set(c.groupMetadata());
        for (ConsumerRecord<byte[], byte[]> r : records) {
          pending.addLast(new Rec(r, new TopicPartition(r.topic(), r.partition())));
        }
        while (!pending.isEmpty() && queue.offer(pending.peekFirst())) {
          pending.removeFirst();
        }
        if (!pending.isEmpty()) {
          if (c.paused().isEmpty()) {
            pauses.incrementAndGet();
            if (metrics != null) {
              metrics.paused();
            }
          }
          c.pause(c.assignment()); // back-pressure: keep the membership alive, fetch nothing
        } else if (!c.paused().isEmpty()) {
          c.resume(c.paused());
        }
      }
    } catch (Throwable t) {
      if (running) {
        fail(t);
      }
    } finally {
      running = false;
      consumer = null;
      if (metrics != null) {
        metrics.unbindConsumer();
      }
      try {
        inferThread.join(); // its last batch may still commit; offsets go through the producer
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      stopped.countDown();
    }
  }

  private void applyRewinds(KafkaConsumer<byte[], byte[]> c) {
    for (Rewind r; (r = rewinds.poll()) != null; ) {
      TopicPartition tp = r.tp();
      if (!c.assignment().contains(tp)) {
        continue; // revoked meanwhile: the new owner starts from the committed offset
      }
      c.seek(tp, r.offset());
      pending.removeIf(e -> e instanceof Rec rec && rec.tp().equals(tp));
      pending.addLast(new Resumed(tp));
      log.info("rewound {} to offset {} after a failed transaction", tp, r.offset());
    }
  }

  private final class Rebalance implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      drop(partitions, "revoked");
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      drop(partitions, "lost");
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      if (!partitions.isEmpty()) {
        log.info("assigned {}", partitions);
      }
      KafkaConsumer<byte[], byte[]> c = consumer;
      if (c != null) {
        groupMetadata.set(c.groupMetadata());
      }
    }

    private void drop(Collection<TopicPartition> partitions, String why) {
      if (partitions.isEmpty()) {
        return;
      }
      Set<TopicPartition> gone = new HashSet<>(partitions);
      revoking = true; // a batch waiting out a model outage gives up now rather than hold up the rebalance
      batchLock.lock(); // waits for the batch in flight to commit or abort
      try {
        queue.removeIf(e -> gone.contains(tp(e)));
        pending.removeIf(e -> gone.contains(tp(e)));
        rewinds.removeIf(r -> gone.contains(r.tp()));
        stale.removeAll(gone);
      } finally {
        revoking = false;
        batchLock.unlock();
      }
      log.info("{} {}: their queued records are left to the next owner", why, gone);
    }
  }

  private static TopicPartition tp(Entry e) {
    return e instanceof Rec r ? r.tp() : ((Resumed) e).tp();
  }

  // ---------------------------------------------------------------- inference thread

  /** Fencings in a row before the worker gives up ({@link #commit}). */
  static final int MAX_FENCED_IN_A_ROW = 3;
  /** The inference thread's transactional producer (replaced after a spurious fencing). */
  private KafkaProducer<byte[], byte[]> producer;
  private int fencedInARow;

  private KafkaProducer<byte[], byte[]> newProducer() {
    return new KafkaProducer<>(producerProperties(config, topics), new ByteArraySerializer(),
        new ByteArraySerializer());
  }

  /**
   * The inference thread's producer settings: transactional and idempotent, whatever {@code kafka.*} says; the rest
   * defaults that {@code kafka.*} keys override. Compression defaults to zstd: {@code embeddings} is kept for ever (the
   * index's rebuild source) and its records are mostly local features, which zstd makes a quarter smaller and lz4
   * hardly at all (docs/BENCHMARKS.md, "The embeddings topic's size").
   */
  static Map<String, Object> producerProperties(EmbedderWorkerConfig config, Topics topics) {
    Map<String, Object> props = new HashMap<>(config.kafka());
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, config.transactionalId());
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.putIfAbsent(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 30_000);
    props.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 5);
    props.putIfAbsent(ProducerConfig.COMPRESSION_TYPE_CONFIG, "zstd");
    props.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, config.transactionalId() + "-producer");
    // what Topics says the outputs take (a reject may carry up to max.reject.payload.bytes of the input)
    props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Topics.maxRequestSize(topics.embeddings(),
        topics.embeddingExtras(), topics.probes(), topics.rejects()));
    return props;
  }

  /**
   * Uploads' parts used once go on {@code embedding-extras} ({@link ExtrasAside}) when that topic exists; else (an
   * older deployment that did not create it) every record stays whole, as before, and the log says so.
   */
  private ExtrasAside extrasAside() {
    String name = topics.embeddingExtras().name();
    // asked of an admin client: a producer would wait max.block.ms (a minute) for a topic that is not there
    try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(config.kafka())) {
      admin.describeTopics(List.of(name)).allTopicNames().get(30, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException
        | org.apache.kafka.common.KafkaException e) {
      log.warn("topic {} cannot be used ({}): uploads' local features and previews stay in their embeddings records;"
          + " create it (./imgmatch topics, ops/docker/create-topics.sh) to keep them out of that kept topic", name,
          e instanceof java.util.concurrent.ExecutionException ? e.getCause().toString() : e.toString());
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
    return new ExtrasAside(topics, java.util.Set.copyOf(config.getList(EmbedderWorkerConfig.LOCAL_KEPT_COLLECTIONS)),
        topic -> producer.partitionsFor(topic).size()); // the producer's metadata, cached
  }

  private void inferLoop() {
    BatchProcessor processor = new BatchProcessor(topics, embedder, config.embedRetry(), new Backoff(), new Health(),
        config.getInt(EmbedderWorkerConfig.MAX_REJECT_PAYLOAD_BYTES), System::currentTimeMillis);
    int maxRecords = config.getInt(EmbedderWorkerConfig.BATCH_MAX_RECORDS);
    long latencyNanos = TimeUnit.MILLISECONDS.toNanos(config.getLong(EmbedderWorkerConfig.BATCH_MAX_LATENCY_MS));
    int maxAttempts = config.getInt(EmbedderWorkerConfig.RETRY_MAX_ATTEMPTS);
    long backoff = config.getLong(EmbedderWorkerConfig.RETRY_BACKOFF_MS);
    try {
      producer = newProducer();
      producer.initTransactions(); // fences a predecessor with our transactional.id and aborts its open transaction
      if (config.getBoolean(EmbedderWorkerConfig.EXTRAS_ASIDE)) {
        processor.extrasAside(extrasAside());
      }
      initialized.countDown();
      int consecutiveFailures = 0;
      int singles = 0; // after a failed transaction: records to take one per transaction, to isolate a poison one
      while (running) {
        List<ConsumerRecord<byte[], byte[]>> batch = new ArrayList<>();
        batchLock.lock();
        try {
          Entry first = queue.poll(100, TimeUnit.MILLISECONDS);
          if (first == null) {
            continue;
          }
          long deadline = System.nanoTime() + latencyNanos;
          take(first, batch);
          int limit = singles > 0 ? 1 : maxRecords;
          while (batch.size() < limit) {
            long left = deadline - System.nanoTime();
            Entry e = left > 0 ? queue.poll(left, TimeUnit.NANOSECONDS) : queue.poll();
            if (e == null) {
              break;
            }
            take(e, batch);
          }
          if (batch.isEmpty()) {
            continue; // only stale entries or markers
          }
          long t0 = System.nanoTime();
          BatchProcessor.Outcome out;
          try {
            out = processor.process(batch);
          } catch (BatchProcessor.Abandoned e) {
            // nothing was produced or committed: the records are read again (or by the partitions' next owner)
            log.info("batch of {} records given up during a model outage ({}): redone from its first offsets",
                batch.size(), e.getMessage());
            rewind(batch);
            continue;
          }
          long embedNanos = System.nanoTime() - t0;
          if (commit(out)) {
            consecutiveFailures = 0;
            singles = Math.max(0, singles - batch.size());
            embedded.addAndGet(out.embedded());
            rejected.addAndGet(out.rejected());
            batches.incrementAndGet();
            if (metrics != null) {
              metrics.committed(out.embedded(), out.rejectsByReason());
            }
            listener.onBatch(batch.size(), out.pictures(), embedNanos, System.nanoTime() - t0);
          } else if (batch.size() > 1) {
            // one record may be the cause (its outputs refused by the cluster): redo the batch one by one
            rewind(batch);
            singles = batch.size();
            consecutiveFailures++;
          } else if (++consecutiveFailures < maxAttempts) {
            rewind(batch); // alone, maybe a transient failure: try again after the back-off
          } else {
            // alone and refused every time: a reject for it, in a transaction of its own, and the worker goes on;
            // if even that cannot be committed, the cluster is the problem: stop, nothing is lost (uncommitted)
            ConsumerRecord<byte[], byte[]> poison = batch.get(0);
            BatchProcessor.Outcome rej = processor.rejectOnly(poison, BatchProcessor.OUTPUT_FAILED,
                "its outputs could not be committed in " + consecutiveFailures + " transactions of their own");
            if (!commit(rej)) {
              rewind(batch);
              throw new IllegalStateException(consecutiveFailures + " consecutive transactions failed, and a reject "
                  + "for " + poison.topic() + "/" + poison.partition() + "@" + poison.offset() + " too; giving up "
                  + "(nothing was lost: the records stay uncommitted)");
            }
            log.warn("rejected {}/{}@{} ({}): its outputs could not be committed", poison.topic(), poison.partition(),
                poison.offset(), BatchProcessor.OUTPUT_FAILED);
            rejected.incrementAndGet();
            if (metrics != null) {
              metrics.committed(0, rej.rejectsByReason());
            }
            consecutiveFailures = 0;
            singles = Math.max(0, singles - 1);
          }
        } finally {
          batchLock.unlock();
        }
        if (consecutiveFailures > 0) {
          Thread.sleep(backoff << (consecutiveFailures - 1));
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      fail(e);
    } catch (Throwable t) {
      fail(t);
    } finally {
      initialized.countDown();
      KafkaProducer<byte[], byte[]> producer = this.producer;
      if (producer != null) {
        try {
          producer.close(Duration.ofSeconds(10));
        } catch (RuntimeException e) {
          log.warn("closing the producer: {}", e.toString());
        }
      }
      stopped.countDown();
    }
  }

  /**
   * The back-off of a model outage, on the inference thread (holding {@code batchLock}): real time, cut short when
   * the worker stops or a revocation waits for the lock. Meanwhile the polling thread keeps polling, its partitions
   * paused once the queue is full, so the group keeps the worker ({@code max.poll.interval.ms} is never reached).
   */
  private final class Backoff implements BatchProcessor.Waiter {
    @Override
    public long nowMs() {
      return System.nanoTime() / 1_000_000;
    }

    @Override
    public void sleep(long ms) throws InterruptedException, BatchProcessor.Abandoned {
      long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
      while (true) {
        if (!running) {
          throw new BatchProcessor.Abandoned("the worker is stopping");
        }
        if (revoking) {
          throw new BatchProcessor.Abandoned("partitions are being revoked");
        }
        long left = end - System.nanoTime();
        if (left <= 0) {
          return;
        }
        TimeUnit.NANOSECONDS.sleep(Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)));
      }
    }
  }

  /** The model's health for readiness and metrics. */
  private final class Health implements BatchProcessor.ModelHealth {
    @Override
    public void retrying(String status) {
      modelStatus = status;
      modelRetries.incrementAndGet();
      if (metrics != null) {
        metrics.modelRetry();
      }
    }

    @Override
    public void gaveUp(int records, String status) {
      modelStatus = "gave up on " + records + " records (rejected EMBEDDING_FAILED), the model still failing: "
          + status;
      if (metrics != null) {
        metrics.modelFailing(true);
      }
    }

    @Override
    public void recovered() {
      modelStatus = null;
      if (metrics != null) {
        metrics.modelFailing(false);
      }
    }
  }

  /** Adds a queue entry to the batch unless its partition is stale (fetched before a seek). */
  private void take(Entry e, List<ConsumerRecord<byte[], byte[]>> batch) {
    if (e instanceof Resumed r) {
      stale.remove(r.tp());
    } else if (e instanceof Rec r && !stale.contains(r.tp())) {
      batch.add(r.record());
    }
  }

  private void rewind(List<ConsumerRecord<byte[], byte[]>> batch) {
    Map<TopicPartition, Long> first = new HashMap<>();
    for (ConsumerRecord<byte[], byte[]> r : batch) {
      first.merge(new TopicPartition(r.topic(), r.partition()), r.offset(), Math::min);
    }
    first.forEach((tp, off) -> {
      stale.add(tp);
      rewinds.add(new Rewind(tp, off));
    });
  }

  /**
   * One transaction: outputs + offsets. True when committed; false when aborted (records will be redone).
   *
   * <p>A fencing is fatal only {@link #MAX_FENCED_IN_A_ROW} times in a row: Kafka 4.3 also answers PRODUCER_FENCED to
   * a commit that raced with the coordinator's own abort of the transaction after a broker outage (KAFKA-20785, seen
   * in index-service's FaultInjectionIT), when no other process has our transactional id. Then the producer is
   * replaced (a new one with the same id, its epoch bumped by initTransactions) and the batch redone; a real zombie
   * (another live worker with this id) fences us again at once, and the third time in a row stops this worker.
   */
  private boolean commit(BatchProcessor.Outcome out) {
    try {
      producer.beginTransaction();
      for (ProducerRecord<byte[], byte[]> r : out.records()) {
        producer.send(r);
      }
      producer.sendOffsetsToTransaction(out.offsets(), groupMetadata.get());
      producer.commitTransaction();
      fencedInARow = 0;
      return true;
    } catch (ProducerFencedException e) {
      if (++fencedInARow > MAX_FENCED_IN_A_ROW) {
        throw e;
      }
      log.warn("transaction of {} fenced ({} in a row: the coordinator aborted it on its own after a broker outage,"
          + " or another worker uses transactional id {}); replacing the producer and redoing the batch",
          out.offsets(), fencedInARow, config.transactionalId());
      aborted.incrementAndGet();
      try {
        producer.close(Duration.ZERO);
      } catch (RuntimeException closing) {
        log.debug("closing the fenced producer: {}", closing.toString());
      }
      producer = newProducer();
      producer.initTransactions();
      return false;
    } catch (OutOfOrderSequenceException | UnsupportedVersionException | AuthorizationException e) {
      throw e; // fatal for this producer: another instance took over our transactional.id, or a broker refuses
      // (InvalidProducerEpochException — the coordinator aborted the transaction itself, e.g. at its timeout during a
      // broker outage — is recoverable: abortTransaction() below reinitialises the producer)
    } catch (KafkaException e) {
      log.warn("transaction of {} records failed, aborting and rewinding: {}", out.offsets(), e.toString());
      aborted.incrementAndGet();
      if (metrics != null) {
        metrics.aborted();
      }
      try {
        producer.abortTransaction();
      } catch (KafkaException abortFailure) {
        throw abortFailure; // cannot recover this producer
      }
      return false;
    }
  }
}
