package dev.imgmatch.index;

import static dev.imgmatch.index.ItSupport.await;
import static dev.imgmatch.index.ItSupport.embedding;
import static dev.imgmatch.index.ItSupport.send;
import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.common.ServiceEndpoint;
import dev.imgmatch.schemas.Topics;
import dev.imgmatch.testkit.KafkaBroker;
import dev.imgmatch.testkit.KafkaBrokerExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The operational endpoint on a real broker: health, readiness, Prometheus meters; the embeddings retention. */
@ExtendWith(KafkaBrokerExtension.class)
class EndpointIT {
  static final Duration WAIT = Duration.ofSeconds(60);
  final HttpClient http = HttpClient.newHttpClient();

  @TempDir
  Path dir;

  @Test
  void healthReadinessAndMetricsReflectTheService(KafkaBroker broker) throws Exception {
    Synthetic syn = new Synthetic(ShardIndexTest.seed(), 32, 4);
    Topics topics = new Topics(broker.uniqueName("ep") + ".");
    Map<String, String> s = new HashMap<>(ItSupport.settings(broker, topics.prefix(), dir));
    s.put(IndexServiceConfig.HTTP_HOST, "127.0.0.1");
    s.put(IndexServiceConfig.HTTP_PORT, "0");
    IndexService service = new IndexService(new IndexServiceConfig(s));
    try (service; KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(broker.producerProps())) {
      ServiceEndpoint ep = service.startEndpoint();
      assertThat(get(ep.url("/health")).statusCode()).isEqualTo(200);
      HttpResponse<String> notYet = get(ep.url("/ready"));
      assertThat(notYet.statusCode()).as("threads not started yet").isEqualTo(503);
      assertThat(notYet.body()).contains("not running");

      service.start();
      assertThat(service.awaitReady(WAIT)).isTrue();
      assertThat(await(WAIT, () -> get(ep.url("/ready")).statusCode() == 200)).as("ready once shards are open").isTrue();

      float[] v = syn.clustered();
      byte[] h = syn.hash();
      send(p, topics.embeddings(), "orig", embedding("orig", "t", "protected", v, h, syn.sha(), 1));
      // partitions are consumed independently: the original must be indexed before its copy arrives
      assertThat(await(WAIT, () -> service.counters().get("indexed") == 1)).isTrue();
      send(p, topics.embeddings(), "copy", embedding("copy", "t", "uploads", syn.near(v, 0.02), syn.flip(h, 8),
          syn.sha(), System.currentTimeMillis()));
      p.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topics.embeddings().name(), new byte[] {1},
          new byte[] {2, 3})).get();
      List<MatchAlert> alerts = ItSupport.readUntil(broker, topics.matchAlerts(), l -> !l.isEmpty(), WAIT);
      assertThat(alerts).extracting(MatchAlert::getImageId).containsExactly("copy");
      assertThat(await(WAIT, () -> service.counters().get("indexed") == 2 && service.counters().get("rejected") == 1))
          .isTrue();
      try (dev.imgmatch.client.QueryClient client = new dev.imgmatch.client.QueryClient(
          Map.of("bootstrap.servers", broker.bootstrapServers()), topics)) {
        assertThat(client.byVector("t", ItSupport.MODEL, v, 3, Duration.ofSeconds(20)).get().getResults()).isNotEmpty();
      }

      String metrics = get(ep.url("/metrics")).body();
      assertThat(metrics)
          .contains("imgmatch_index_indexed_total{service=\"index-service\"} 2.0")
          .contains("imgmatch_index_alerts_total{decision=\"MATCH\",service=\"index-service\"} 1.0")
          .containsPattern("imgmatch_index_rejected_total\\{reason=\"[A-Z_]+\",service=\"index-service\"} 1.0")
          .contains("imgmatch_index_queries_answered_total{service=\"index-service\",status=\"OK\"} 1.0")
          .contains("imgmatch_index_upload_to_alert_seconds_bucket")
          .contains("imgmatch_index_query_latency_seconds_bucket")
          .contains("imgmatch_index_search_seconds_bucket{purpose=\"match\"")
          .contains("imgmatch_index_search_seconds_bucket{purpose=\"query\"")
          .containsPattern("imgmatch_index_shard_documents\\{service=\"index-service\",shard=\"\\d\"}")
          .contains("kafka_consumer_fetch_manager_records_lag")
          .contains("jvm_memory_used_bytes");
      double docs = metrics.lines().filter(l -> l.startsWith("imgmatch_index_shard_documents{"))
          .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).filter(d -> !Double.isNaN(d)).sum();
      assertThat(docs).as("shard gauges add up after a refresh").isBetween(0.0, 2.0);
      assertThat(await(WAIT, () -> get(ep.url("/metrics")).body().lines()
          .filter(l -> l.startsWith("imgmatch_index_shard_documents{"))
          .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum() == 2.0)).isTrue();

      // a descriptor the index cannot take (a misconfigured embedder) shows on readiness, not only as a reject;
      // usable descriptors afterwards (same key, so same partition and order) make the service ready again
      float[] wide = new float[Records.MAX_DIMENSION + 76];
      java.util.Arrays.fill(wide, (float) (1 / Math.sqrt(wide.length)));
      send(p, topics.embeddings(), "wide", embedding("wide", "t", "uploads", wide, syn.hash(), syn.sha(), 2));
      assertThat(await(WAIT, () -> get(ep.url("/ready")).statusCode() == 503)).isTrue();
      assertThat(get(ep.url("/ready")).body()).contains((Records.MAX_DIMENSION + 76) + " dimensions")
          .contains("descriptor.head");
      send(p, topics.embeddings(), "wide", embedding("wide", "t", "uploads", syn.clustered(), syn.hash(), syn.sha(), 3));
      assertThat(await(WAIT, () -> get(ep.url("/ready")).statusCode() == 200)).isTrue();

      // embeddings, created by this service, keeps its records forever (a shard can always be rebuilt)
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
        ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, topics.embeddings().name());
        Config c = admin.describeConfigs(List.of(r)).all().get().get(r);
        assertThat(c.get("retention.ms").value()).isEqualTo("-1");
      }
    }
  }

  private HttpResponse<String> get(String url) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
