package dev.imgmatch.cli.stack;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.common.ServiceEndpoint;
import dev.imgmatch.embedder.worker.WorkerMetrics;
import dev.imgmatch.ingest.IngestCounters;
import io.micrometer.core.instrument.Counter;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The services' counters read back from their /metrics text equal the counters themselves. */
class PrometheusTextTest {
  @Test
  void samplesWithAndWithoutLabels() {
    List<PrometheusText.Sample> s = PrometheusText.parse("""
        # HELP imgmatch_index_indexed_total images indexed (upserts)
        # TYPE imgmatch_index_indexed_total counter
        imgmatch_index_indexed_total{service="index-service"} 12.0
        imgmatch_index_alerts_total{decision="MATCH",service="index-service"} 3.0
        imgmatch_index_alerts_total{decision="REVIEW",service="index-service"} 1.0
        weird{msg="a \\"quoted\\", comma",x="y"} 2.5E1
        plain_gauge 7
        bad_line
        """);
    assertThat(PrometheusText.sum(s, "imgmatch_index_indexed_total")).isEqualTo(12.0);
    assertThat(PrometheusText.sum(s, "imgmatch_index_alerts_total")).isEqualTo(4.0);
    assertThat(PrometheusText.sum(s, "weird")).isEqualTo(25.0);
    assertThat(s).anySatisfy(x -> assertThat(x.labels()).containsEntry("msg", "a \"quoted\", comma")
        .containsEntry("x", "y"));
    assertThat(PrometheusText.sum(s, "plain_gauge")).isEqualTo(7.0);
    assertThat(PrometheusText.sum(s, "missing")).isZero();
  }

  @Test
  void indexServicesIndexedCounterAsItsEndpointWritesIt() {
    PrometheusMeterRegistry r = ServiceEndpoint.newRegistry("index-service");
    Counter.builder("imgmatch.index.indexed").register(r).increment(41);
    assertThat(PrometheusText.sum(PrometheusText.parse(r.scrape()), "imgmatch_index_indexed_total")).isEqualTo(41.0);
  }

  @Test
  void ingestCountersSurviveTheRoundTripThroughPrometheusText() {
    IngestCounters c = new IngestCounters();
    PrometheusMeterRegistry r = ServiceEndpoint.newRegistry("ingest-stream");
    c.bindTo(r);
    c.add("prepared.upload", 9);
    c.add("prepared.query", 4);
    c.rejected("CORRUPT_IMAGE");
    c.add("view.small", 3);
    c.add("view.frame", 2);
    c.increment("exact.duplicate");
    c.increment("exact.alert");
    c.increment("exact.takedown");
    c.increment("query.skipped");
    c.increment("frames.stopped");
    c.increment("rejected.SOMETHING_NEW"); // registered after binding
    Map<String, Long> read = PrometheusText.ingestCounters(PrometheusText.parse(r.scrape()));
    assertThat(read).isEqualTo(c.snapshot());
  }

  @Test
  void embedderCountersReadBack() {
    PrometheusMeterRegistry r = ServiceEndpoint.newRegistry("embedder-worker");
    WorkerMetrics m = new WorkerMetrics(r);
    m.onBatch(5, 7, 1_000_000, 2_000_000);
    m.onBatch(3, 3, 1_000_000, 2_000_000);
    Counter.builder("imgmatch.embedder.records.embedded").register(r).increment(8);
    Counter.builder("imgmatch.embedder.records.rejected").tag("reason", "CORRUPT_IMAGE").register(r).increment(2);
    assertThat(PrometheusText.embedderCounters(PrometheusText.parse(r.scrape())))
        .isEqualTo(Map.of("embedded", 8L, "rejected", 2L, "batches", 2L));
  }
}
