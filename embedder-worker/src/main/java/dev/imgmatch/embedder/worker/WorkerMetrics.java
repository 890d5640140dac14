package dev.imgmatch.embedder.worker;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.Consumer;

/**
 * Micrometer meters of one worker (Prometheus names in brackets): records embedded
 * ({@code imgmatch_embedder_records_embedded_total}), records rejected by reason
 * ({@code imgmatch_embedder_records_rejected_total{reason}}), pictures embedded, batch size
 * ({@code imgmatch_embedder_batch_records}), batch latency (embedding + transaction,
 * {@code imgmatch_embedder_batch_seconds}) and embedding latency ({@code imgmatch_embedder_embed_seconds}) with
 * percentile histograms, aborted transactions, back-pressure pauses, retries of a model outage
 * ({@code imgmatch_embedder_model_retries_total}) and whether the model is failing now
 * ({@code imgmatch_embedder_model_failing}), and the Kafka consumer's own metrics
 * (records-lag-max and friends, {@code kafka_consumer_*}) through {@link KafkaClientMetrics}.
 */
public final class WorkerMetrics implements EmbedderWorker.BatchListener {
  static final String[] REASONS = {"EMPTY_RECORD", "MALFORMED_RECORD", "UNKNOWN_SCHEMA", "EMPTY_IMAGE", "CORRUPT_IMAGE",
      "EMBEDDING_FAILED", "IMAGE_NOT_EMBEDDABLE"};

  private final MeterRegistry registry;
  private final Counter embedded;
  private final Counter pictures;
  private final DistributionSummary batchSize;
  private final Timer batchLatency;
  private final Timer embedLatency;
  private final Counter aborted;
  private final Counter pauses;
  private final Counter modelRetries;
  private final java.util.concurrent.atomic.AtomicInteger modelFailing = new java.util.concurrent.atomic.AtomicInteger();
  private KafkaClientMetrics consumerMetrics;

  public WorkerMetrics(MeterRegistry registry) {
    this.registry = registry;
    embedded = Counter.builder("imgmatch.embedder.records.embedded").description("Records embedded and committed")
        .register(registry);
    pictures = Counter.builder("imgmatch.embedder.pictures").description("Pictures (views) run through the model")
        .register(registry);
    for (String r : REASONS) { // every reason listed from the start, at 0
      rejectedCounter(r);
    }
    batchSize = DistributionSummary.builder("imgmatch.embedder.batch.records")
        .description("Records per committed micro-batch").publishPercentileHistogram().register(registry);
    batchLatency = Timer.builder("imgmatch.embedder.batch").description("Embedding plus Kafka transaction per batch")
        .publishPercentileHistogram().register(registry);
    embedLatency = Timer.builder("imgmatch.embedder.embed").description("Decoding + model + head per batch")
        .publishPercentileHistogram().register(registry);
    aborted = Counter.builder("imgmatch.embedder.transactions.aborted")
        .description("Aborted transactions (records rewound and redone)").register(registry);
    pauses = Counter.builder("imgmatch.embedder.backpressure.pauses")
        .description("Times the consumer paused its partitions because the queue was full").register(registry);
    modelRetries = Counter.builder("imgmatch.embedder.model.retries")
        .description("Retries of a batch while the model failed on every input (a reference picture too)")
        .register(registry);
    io.micrometer.core.instrument.Gauge.builder("imgmatch.embedder.model.failing", modelFailing, Number::doubleValue)
        .description("1 while the model fails on every input (retrying with back-off), else 0").register(registry);
  }

  /** The registry these meters are on. */
  public MeterRegistry registry() {
    return registry;
  }

  private Counter rejectedCounter(String reason) {
    return Counter.builder("imgmatch.embedder.records.rejected").tag("reason", reason)
        .description("Records rejected to the rejects topic, by reason").register(registry);
  }

  @Override
  public void onBatch(int records, int pics, long embedNanos, long totalNanos) {
    batchSize.record(records);
    pictures.increment(pics);
    embedLatency.record(embedNanos, TimeUnit.NANOSECONDS);
    batchLatency.record(totalNanos, TimeUnit.NANOSECONDS);
  }

  void committed(int embeddedRecords, Map<String, Integer> rejectsByReason) {
    embedded.increment(embeddedRecords);
    rejectsByReason.forEach((reason, n) -> rejectedCounter(reason).increment(n));
  }

  void aborted() {
    aborted.increment();
  }

  void paused() {
    pauses.increment();
  }

  void modelRetry() {
    modelRetries.increment();
    modelFailing.set(1);
  }

  void modelFailing(boolean failing) {
    modelFailing.set(failing ? 1 : 0);
  }

  synchronized void bindConsumer(Consumer<?, ?> consumer) {
    unbindConsumer();
    consumerMetrics = new KafkaClientMetrics(consumer);
    consumerMetrics.bindTo(registry);
  }

  synchronized void unbindConsumer() {
    if (consumerMetrics != null) {
      consumerMetrics.close();
      consumerMetrics = null;
    }
  }
}
