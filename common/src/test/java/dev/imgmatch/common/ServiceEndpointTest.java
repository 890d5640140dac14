package dev.imgmatch.common;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class ServiceEndpointTest {
  private static HttpResponse<String> get(ServiceEndpoint e, String path) throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(e.url(path))).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void servesHealthReadinessAndPrometheusMetrics() throws Exception {
    AtomicBoolean ready = new AtomicBoolean(false);
    var registry = ServiceEndpoint.newRegistry("test-service");
    registry.counter("imgmatch_rejects", "reason", "CORRUPT_IMAGE").increment(3);
    try (ServiceEndpoint e = ServiceEndpoint.start("test-service", registry, "127.0.0.1", 0,
        ServiceEndpoint.when(ready::get, "index not open yet"))) {
      assertThat(get(e, "/health").statusCode()).isEqualTo(200);
      var notReady = get(e, "/ready");
      assertThat(notReady.statusCode()).isEqualTo(503);
      assertThat(notReady.body()).contains("index not open yet");
      ready.set(true);
      assertThat(get(e, "/ready").statusCode()).isEqualTo(200);
      var metrics = get(e, "/metrics");
      assertThat(metrics.statusCode()).isEqualTo(200);
      assertThat(metrics.body())
          .contains("imgmatch_rejects_total{reason=\"CORRUPT_IMAGE\",service=\"test-service\"} 3.0")
          .contains("jvm_memory_used_bytes");
    }
  }
}
