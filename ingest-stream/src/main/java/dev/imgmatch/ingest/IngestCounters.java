package dev.imgmatch.ingest;

import dev.imgmatch.ingest.image.RejectReason;
import dev.imgmatch.schemas.RecordDecodingException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * Outcome counters of one ingest-stream instance, shared by every stream thread: {@code prepared.upload},
 * {@code prepared.query}, {@code view.<NAME>} per view emitted (e.g. how many images had a border to trim; every
 * further frame of a multi-frame image counts as {@code view.frame}), {@code frames.stopped} (images whose further
 * frames were not all looked at: a damaged frame or the deadline), {@code exact.duplicate}, {@code exact.alert},
 * {@code exact.takedown} (first sightings forgotten on a takedown), {@code exact.pruned} (unwatched ones past
 * retention),
 * {@code query.skipped} (id and vector
 * queries, which index-service serves) and {@code rejected.<REASON>} per reject reason code.
 */
public final class IngestCounters {
  private final Map<String, LongAdder> counters = new ConcurrentHashMap<>();
  private final Map<String, Timer> prepareTimers = new ConcurrentHashMap<>();
  private final Map<String, DistributionSummary> imageBytes = new ConcurrentHashMap<>();
  private volatile MeterRegistry registry;

  /** Every counter exists from the start (at 0), so a metrics registry can list them all up front. */
  public IngestCounters() {
    for (String name : List.of("prepared.upload", "prepared.query", "exact.duplicate", "exact.alert",
        "exact.takedown", "exact.pruned", "query.skipped", "frames.stopped")) {
      counters.put(name, new LongAdder());
    }
    for (String view : ViewEncoder.NAMES) {
      counters.put("view." + view, new LongAdder());
    }
    counters.put("view." + ViewEncoder.FRAME, new LongAdder());
    for (RejectReason r : RejectReason.values()) {
      counters.put("rejected." + r.name(), new LongAdder());
    }
    for (RecordDecodingException.Reason r : RecordDecodingException.Reason.values()) {
      counters.put("rejected." + r.name(), new LongAdder());
    }
  }

  public void increment(String name) {
    add(name, 1);
  }

  public void add(String name, long amount) {
    LongAdder a = counters.get(name);
    if (a == null) {
      a = counters.computeIfAbsent(name, k -> {
        LongAdder n = new LongAdder();
        MeterRegistry r = registry;
        if (r != null) {
          register(r, k, n);
        }
        return n;
      });
    }
    a.add(amount);
  }

  /**
   * Publishes every counter on {@code registry} as a Micrometer {@code FunctionCounter} reading the same adder
   * ({@code imgmatch.ingest.rejected{reason}}, {@code imgmatch.ingest.prepared{input}},
   * {@code imgmatch.ingest.views{view}}, {@code imgmatch.ingest.exact.duplicates}, {@code imgmatch.ingest.exact.alerts},
   * {@code imgmatch.ingest.queries.skipped}), plus the preparation timer ({@code imgmatch.ingest.prepare{input}},
   * decode + fingerprints + views of each accepted image, with a percentile histogram) and the image size
   * summary ({@code imgmatch.ingest.image.size{input}}, bytes).
   */
  public synchronized void bindTo(MeterRegistry r) {
    registry = r;
    counters.forEach((name, adder) -> register(r, name, adder));
    for (String input : List.of("uploads", "queries")) {
      prepareTimers.put(input, Timer.builder("imgmatch.ingest.prepare")
          .description("decode, SHA-256, PDQ and views of one accepted image")
          .tag("input", input).publishPercentileHistogram().register(r));
      imageBytes.put(input, DistributionSummary.builder("imgmatch.ingest.image.size")
          .description("encoded size of each accepted image").baseUnit("bytes")
          .tag("input", input).publishPercentileHistogram().register(r));
    }
  }

  /** Records one accepted image's preparation time and size (no-op until {@link #bindTo}). */
  public void prepared(String input, long nanos, int bytes) {
    Timer t = prepareTimers.get(input);
    if (t != null) {
      t.record(nanos, TimeUnit.NANOSECONDS);
      imageBytes.get(input).record(bytes);
    }
  }

  private static void register(MeterRegistry r, String name, LongAdder adder) {
    FunctionCounter.Builder<LongAdder> b;
    if (name.startsWith("rejected.")) {
      b = FunctionCounter.builder("imgmatch.ingest.rejected", adder, LongAdder::sum)
          .tag("reason", name.substring("rejected.".length())).description("records rejected, by reason code");
    } else if (name.startsWith("prepared.")) {
      b = FunctionCounter.builder("imgmatch.ingest.prepared", adder, LongAdder::sum)
          .tag("input", name.endsWith("upload") ? "uploads" : "queries").description("images prepared");
    } else if (name.startsWith("view.")) {
      b = FunctionCounter.builder("imgmatch.ingest.views", adder, LongAdder::sum)
          .tag("view", name.substring("view.".length())).description("model views emitted, by view name");
    } else {
      String metric = switch (name) {
        case "exact.duplicate" -> "imgmatch.ingest.exact.duplicates";
        case "exact.alert" -> "imgmatch.ingest.exact.alerts";
        case "query.skipped" -> "imgmatch.ingest.queries.skipped";
        default -> "imgmatch.ingest." + name;
      };
      b = FunctionCounter.builder(metric, adder, LongAdder::sum);
    }
    b.register(r);
  }

  public void rejected(String reasonCode) {
    increment("rejected." + reasonCode);
  }

  public long get(String name) {
    LongAdder a = counters.get(name);
    return a == null ? 0 : a.sum();
  }

  public Map<String, Long> snapshot() {
    Map<String, Long> m = new TreeMap<>();
    counters.forEach((k, v) -> m.put(k, v.sum()));
    return m;
  }

  @Override
  public String toString() {
    return snapshot().toString();
  }
}
