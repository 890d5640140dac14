package dev.imgmatch.embedder.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.PixelEncoding;
import dev.imgmatch.avro.Purpose;
import dev.imgmatch.embedder.Fixtures;
import dev.imgmatch.embedder.SharedEmbedder;
import dev.imgmatch.testkit.KafkaBroker;
import dev.imgmatch.testkit.KafkaBrokerExtension;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The packaged service: {@code java -jar target/imgmatch-embedder-worker-*.jar} (manifest class path into
 * {@code target/lib}), settings from arguments and {@code IMGMATCH_*} environment variables, JSON logs, and its HTTP
 * endpoint: /health, /ready, /metrics with the worker's meters and the consumer's Kafka metrics.
 */
@ExtendWith({KafkaBrokerExtension.class, SharedEmbedder.Warm.class})
class ServiceJarIT {
  private static Path jar() throws Exception {
    try (Stream<Path> s = Files.list(Path.of("target"))) {
      return s.filter(p -> p.getFileName().toString().matches("imgmatch-embedder-worker-[^-]+(-SNAPSHOT)?\\.jar"))
          .findFirst().orElseThrow(() -> new AssertionError("no packaged jar in target/ (run mvn verify)"));
    }
  }

  @Test
  void manifestNamesTheAppAndItsLibraries() throws Exception {
    try (JarFile j = new JarFile(jar().toFile())) {
      var attrs = j.getManifest().getMainAttributes();
      assertThat(attrs.getValue("Main-Class")).isEqualTo(EmbedderWorkerApp.class.getName());
      String cp = attrs.getValue("Class-Path");
      assertThat(cp).contains("lib/imgmatch-common-").contains("lib/kafka-clients-").contains("lib/micrometer-core-")
          .as("no CLI code: the commands live in the cli module").doesNotContain("picocli");
      assertThat(j.stream().map(e -> e.getName())).as("no CLI code").noneMatch(n -> n.endsWith("Command.class"))
          .noneMatch(n -> n.startsWith("dev/imgmatch/embedder/cli/") && n.endsWith(".class"));
      for (String entry : cp.split(" ")) {
        assertThat(Path.of("target").resolve(entry)).as("class path entry %s copied", entry).isRegularFile();
      }
    }
  }

  @Test
  @Timeout(300)
  void runsAloneWithHealthReadinessMetricsAndJsonLogs(KafkaBroker broker) throws Exception {
    WorkerHarness h = new WorkerHarness(broker, "jar");
    List<ProducerRecord<byte[], byte[]>> in = new ArrayList<>();
    for (int k = 0; k < 3; k++) {
      String id = "jar-" + k;
      in.add(h.topics.prepared().record(id, Fixtures.prepared(id, Purpose.INDEX,
          List.of(Fixtures.view("full", Fixtures.picture(k, 64, 64), PixelEncoding.RGB8)))));
    }
    in.add(h.topics.prepared().record("broken", Fixtures.prepared("broken", Purpose.INDEX,
        List.of(dev.imgmatch.avro.ImageView.newBuilder().setName("full").setWidth(8).setHeight(8)
            .setEncoding(PixelEncoding.PNG).setPixels(java.nio.ByteBuffer.wrap("not a png".getBytes())).build()))));
    h.produce(in);
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Map<String, String> settings = new TreeMap<>(h.settings());
    settings.remove("topic.create");
    settings.put("topics.create", "false"); // the deprecated spelling still works
    List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"), "-Xmx1g",
        "-Dai.djl.offline=true", "-jar", jar().toString()));
    settings.forEach((k, v) -> cmd.add(k + "=" + v));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("IMGMATCH_HTTP_PORT", String.valueOf(port));
    pb.environment().put("IMGMATCH_HTTP_HOST", "127.0.0.1");
    pb.environment().remove("IMGMATCH_LOG_FORMAT");
    Path log = Path.of("target").resolve("service-jar-" + h.group + ".log");
    pb.redirectOutput(log.toFile());
    Process child = pb.start();
    HttpClient http = HttpClient.newHttpClient();
    try {
      String metrics = "";
      // no timing assertion: poll until the batch and the reject are visible in the metrics (the test timeout bounds
      // it); the records sit on several partitions, so the corrupt one may be handled after the good ones
      while (!metrics.contains("imgmatch_embedder_records_embedded_total{service=\"embedder-worker\"} 3.0")
          || !metrics.contains(
              "imgmatch_embedder_records_rejected_total{reason=\"CORRUPT_IMAGE\",service=\"embedder-worker\"} 1.0")) {
        assertThat(child.isAlive()).as("the service died, see %s", log).isTrue();
        Thread.sleep(250);
        try {
          metrics = get(http, port, "/metrics").body();
        } catch (java.net.ConnectException notYetListening) {
          metrics = "";
        }
      }
      assertThat(get(http, port, "/health").statusCode()).isEqualTo(200);
      assertThat(get(http, port, "/ready").statusCode()).isEqualTo(200);
      assertThat(metrics)
          .contains("imgmatch_embedder_records_rejected_total{reason=\"CORRUPT_IMAGE\",service=\"embedder-worker\"} 1.0")
          .contains("imgmatch_embedder_records_rejected_total{reason=\"EMBEDDING_FAILED\",service=\"embedder-worker\"} 0.0")
          .contains("imgmatch_embedder_batch_records_count")
          .contains("imgmatch_embedder_batch_seconds_bucket")
          .contains("imgmatch_embedder_embed_seconds_bucket")
          .contains("imgmatch_embedder_transactions_aborted_total")
          .contains("imgmatch_embedder_backpressure_pauses_total")
          .contains("kafka_consumer_fetch_manager_records_lag_max");
    } finally {
      child.destroy(); // SIGTERM: clean stop
      child.waitFor();
    }
    List<String> lines = Files.readAllLines(log);
    List<String> json = lines.stream().filter(l -> l.startsWith("{") && l.endsWith("}")).toList();
    assertThat(json).as("JSON log lines in %s", log).isNotEmpty();
    assertThat(json).anyMatch(l -> l.contains("\"level\":\"INFO\"") && l.contains("embedder-worker running"));
    assertThat(json).anyMatch(l -> l.contains("topics.create is deprecated"));
    assertThat(lines).anyMatch(l -> l.contains("stopping embedder-worker"));
  }

  private static HttpResponse<String> get(HttpClient http, int port, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
