package dev.imgmatch.ingest;

import dev.imgmatch.ingest.image.RejectReason;
import dev.imgmatch.schemas.RecordDecodingException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Outcome counters of one ingest-stream instance, shared by every stream thread: {@code prepared.upload},
 * {@code prepared.query}, {@code exact.duplicate}, {@code exact.alert}, {@code query.skipped} (id and vector
 * queries, which index-service serves) and {@code rejected.<REASON>} per reject reason code.
 */
public final class IngestCounters {
  private final Map<String, LongAdder> counters = new ConcurrentHashMap<>();

  /** Every counter exists from the start (at 0), so a metrics registry can list them all up front. */
  public IngestCounters() {
    for (String name : List.of("prepared.upload", "prepared.query", "exact.duplicate", "exact.alert",
        "query.skipped")) {
      counters.put(name, new LongAdder());
    }
    for (RejectReason r : RejectReason.values()) {
      counters.put("rejected." + r.name(), new LongAdder());
    }
    for (RecordDecodingException.Reason r : RecordDecodingException.Reason.values()) {
      counters.put("rejected." + r.name(), new LongAdder());
    }
  }

  public void increment(String name) {
    counters.computeIfAbsent(name, k -> new LongAdder()).increment();
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
