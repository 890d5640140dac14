package dev.imgmatch.cli.stack;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads the Prometheus text format the services serve at {@code /metrics} (what Micrometer's Prometheus registry
 * writes): one sample per line, {@code name{label="value",...} value}; comments and blank lines skipped. Enough
 * to read a service's counters back; not a general parser (no timestamps, no exemplars).
 */
public final class PrometheusText {
  /** One sample line. */
  public record Sample(String name, Map<String, String> labels, double value) {}

  private PrometheusText() {}

  /** Every sample of {@code text}; a line it cannot read is skipped. */
  public static List<Sample> parse(String text) {
    List<Sample> out = new ArrayList<>();
    for (String line : text.split("\n")) {
      String l = line.strip();
      if (l.isEmpty() || l.startsWith("#")) {
        continue;
      }
      Sample s = sample(l);
      if (s != null) {
        out.add(s);
      }
    }
    return out;
  }

  private static Sample sample(String l) {
    int brace = l.indexOf('{');
    int space = l.indexOf(' ');
    if (space < 0) {
      return null;
    }
    String name;
    Map<String, String> labels = new LinkedHashMap<>();
    int rest;
    if (brace >= 0 && brace < space) {
      name = l.substring(0, brace);
      int i = brace + 1;
      while (i < l.length() && l.charAt(i) != '}') {
        int eq = l.indexOf('=', i);
        if (eq < 0 || eq + 1 >= l.length() || l.charAt(eq + 1) != '"') {
          return null;
        }
        String key = l.substring(i, eq).strip();
        StringBuilder v = new StringBuilder();
        int j = eq + 2;
        for (; j < l.length() && l.charAt(j) != '"'; j++) {
          char c = l.charAt(j);
          if (c == '\\' && j + 1 < l.length()) {
            char n = l.charAt(++j);
            v.append(n == 'n' ? '\n' : n);
          } else {
            v.append(c);
          }
        }
        labels.put(key, v.toString());
        i = j + 1;
        if (i < l.length() && l.charAt(i) == ',') {
          i++;
        }
      }
      rest = i + 1;
    } else {
      name = l.substring(0, space);
      rest = space;
    }
    if (rest > l.length()) {
      return null;
    }
    String[] tail = l.substring(rest).strip().split("\\s+");
    try {
      return new Sample(name, labels, Double.parseDouble(tail[0].replace("+Inf", "Infinity").replace("-Inf", "-Infinity")));
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** The sum of the samples named {@code name} (over their labels); 0 when there is none. */
  public static double sum(List<Sample> samples, String name) {
    return samples.stream().filter(s -> s.name().equals(name)).mapToDouble(Sample::value).sum();
  }

  /**
   * ingest-stream's counters as {@code IngestCounters} names them ({@code prepared.upload}, {@code rejected.<REASON>},
   * {@code view.<NAME>}, {@code exact.duplicate}, ...), read back from the meters {@code IngestCounters.bindTo}
   * publishes ({@code imgmatch_ingest_*_total}).
   */
  public static Map<String, Long> ingestCounters(List<Sample> samples) {
    Map<String, Long> out = new TreeMap<>();
    String prefix = "imgmatch_ingest_";
    for (Sample s : samples) {
      if (!s.name().startsWith(prefix) || !s.name().endsWith("_total")) {
        continue;
      }
      String metric = s.name().substring(prefix.length(), s.name().length() - "_total".length());
      String name = switch (metric) {
        case "rejected" -> "rejected." + s.labels().getOrDefault("reason", "?");
        case "prepared" -> "queries".equals(s.labels().get("input")) ? "prepared.query" : "prepared.upload";
        case "views" -> "view." + s.labels().getOrDefault("view", "?");
        case "exact_duplicates" -> "exact.duplicate";
        case "exact_alerts" -> "exact.alert";
        case "queries_skipped" -> "query.skipped";
        default -> metric.replace('_', '.');
      };
      out.merge(name, Math.round(s.value()), Long::sum);
    }
    return out;
  }

  /**
   * embedder-worker's counters: {@code embedded} (records embedded and committed), {@code rejected} (every reason)
   * and {@code batches}, read back from {@code WorkerMetrics}' meters.
   */
  public static Map<String, Long> embedderCounters(List<Sample> samples) {
    Map<String, Long> out = new TreeMap<>();
    out.put("embedded", Math.round(sum(samples, "imgmatch_embedder_records_embedded_total")));
    out.put("rejected", Math.round(sum(samples, "imgmatch_embedder_records_rejected_total")));
    out.put("batches", Math.round(sum(samples, "imgmatch_embedder_batch_seconds_count")));
    return out;
  }
}
