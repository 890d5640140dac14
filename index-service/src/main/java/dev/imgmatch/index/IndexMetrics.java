package dev.imgmatch.index;

import dev.imgmatch.avro.Decision;
import dev.imgmatch.avro.ReplyStatus;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.io.IOException;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * index-service's counters (for {@link IndexService#counters()}) and meters (Micrometer; Prometheus at
 * {@code /metrics} when the endpoint runs), counted together so the two never disagree.
 */
final class IndexMetrics {
  private final MeterRegistry registry;
  private final AtomicLong indexed = new AtomicLong();
  private final AtomicLong alerts = new AtomicLong();
  private final AtomicLong rejected = new AtomicLong();
  private final AtomicLong answered = new AtomicLong();
  private final AtomicLong replayed = new AtomicLong();
  private final AtomicLong extrasFound = new AtomicLong();
  private final AtomicLong extrasMissing = new AtomicLong();
  private final AtomicLong replicated = new AtomicLong();
  private final AtomicLong reindexed = new AtomicLong();
  private final AtomicLong reindexSkipped = new AtomicLong();
  private final Counter indexedCounter;
  private final Map<Decision, Counter> alertCounters = new EnumMap<>(Decision.class);
  private final Map<ReplyStatus, Counter> answeredCounters = new EnumMap<>(ReplyStatus.class);
  private final Timer uploadToAlert;
  private final Timer queryLatency;
  private final Timer matchSearch;
  private final Timer querySearch;
  private final Map<Integer, Gauge> shardGauges = new ConcurrentHashMap<>();

  IndexMetrics(MeterRegistry registry, LocalShards shards, Supplier<Set<Integer>> owned) {
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
    Gauge.builder("imgmatch.index.shards.owned", owned, s -> s.get().size())
        .description("shards (partitions of embeddings) this instance owns").strongReference(true).register(registry);
    Gauge.builder("imgmatch.index.shards.replicas", owned, s -> shards.owned().size() - s.get().size())
        .description("replicas of shards other instances own (index.shards=all)").strongReference(true)
        .register(registry);
    Gauge.builder("imgmatch.index.recent.unrefreshed", shards, LocalShards::recentCount)
        .description("images upserted since the last searcher refresh").register(registry);
  }

  MeterRegistry registry() {
    return registry;
  }

  private Counter rejectCounter(String reason) {
    return Counter.builder("imgmatch.index.rejected").tag("reason", reason)
        .description("records rejected (written to rejects), by reason code").register(registry);
  }

  void indexed() {
    indexed.incrementAndGet();
    indexedCounter.increment();
  }

  void alert(Decision d, long uploadToAlertMs) {
    alerts.incrementAndGet();
    alertCounters.get(d).increment();
    uploadToAlert.record(Math.max(0, uploadToAlertMs), TimeUnit.MILLISECONDS);
  }

  void rejected(String reason) {
    rejected.incrementAndGet();
    rejectCounter(reason).increment();
  }

  void answered(ReplyStatus st, Long latencyMs) {
    answered.incrementAndGet();
    answeredCounters.get(st).increment();
    if (latencyMs != null) {
      queryLatency.record(Math.max(0, latencyMs), TimeUnit.MILLISECONDS);
    }
  }

  /** An upload's extras looked for on {@code embedding-extras}: found or not (then matched without them). */
  void extras(boolean found) {
    (found ? extrasFound : extrasMissing).incrementAndGet();
    Counter.builder("imgmatch.index.extras").tag("found", String.valueOf(found))
        .description("uploads' local features and previews read from embedding-extras, found or not")
        .register(registry).increment();
  }

  /** A preview record written: {@code kind} reference, upload or tombstone. */
  void preview(String kind) {
    Counter.builder("imgmatch.index.previews").tag("kind", kind)
        .description("preview records written for the review console, by kind").register(registry).increment();
  }

  void replayed() {
    replayed.incrementAndGet();
  }

  void replicated() {
    replicated.incrementAndGet();
  }

  /** A reindex record added another model version's descriptors to an indexed image. */
  void reindexed() {
    reindexed.incrementAndGet();
  }

  /** A reindex record that changed nothing (its image deleted or never indexed, or invalid). */
  void reindexSkipped() {
    reindexSkipped.incrementAndGet();
  }

  void matchSearch(long nanos) {
    matchSearch.record(nanos, TimeUnit.NANOSECONDS);
  }

  void querySearch(long nanos) {
    querySearch.record(nanos, TimeUnit.NANOSECONDS);
  }

  /** Documents of shard {@code p} (live images in its last refreshed view), registered once per shard. */
  void shardGauge(int p, LocalShards shards) {
    shardGauges.computeIfAbsent(p, k -> Gauge.builder("imgmatch.index.shard.documents", shards, all -> {
      try {
        Optional<ShardIndex> s = all.get(k);
        return s.isPresent() ? s.get().imageCount() : Double.NaN; // NaN: not kept by this instance now
      } catch (IOException | RuntimeException e) {
        return Double.NaN;
      }
    }).tag("shard", String.valueOf(k)).description("live images in the shard (NaN when not kept here now)")
        .register(registry));
  }

  /** See {@link IndexService#counters()}. */
  Map<String, Long> counters() {
    return Map.of("indexed", indexed.get(), "alerts", alerts.get(), "rejected", rejected.get(), "answered",
        answered.get(), "replayed", replayed.get(), "replicated", replicated.get(), "reindexed", reindexed.get(),
        "reindex.skipped", reindexSkipped.get(), "extras.found", extrasFound.get(), "extras.missing",
        extrasMissing.get());
  }
}
