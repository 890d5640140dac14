package dev.imgmatch.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.ImageSubmission;
import dev.imgmatch.avro.InlineImage;
import dev.imgmatch.schemas.Topics;
import dev.imgmatch.testkit.KafkaBroker;
import dev.imgmatch.testkit.KafkaBrokerExtension;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged service: {@code java -jar target/imgmatch-ingest-stream-*.jar} (manifest class path into
 * {@code target/lib}), settings from {@code IMGMATCH_*} environment variables, JSON logs, and its HTTP endpoint:
 * /health, /ready (Kafka Streams RUNNING), /metrics with the per-reason counters, the preparation histogram and
 * the Kafka Streams client metrics.
 */
@ExtendWith(KafkaBrokerExtension.class)
class ServiceJarIT {
  @TempDir
  Path tmp;

  private static Path jar() throws Exception {
    try (Stream<Path> s = Files.list(Path.of("target"))) {
      return s.filter(p -> p.getFileName().toString().matches("imgmatch-ingest-stream-[^-]+(-SNAPSHOT)?\\.jar"))
          .findFirst().orElseThrow(() -> new AssertionError("no packaged jar in target/ (run mvn verify)"));
    }
  }

  private static String java() {
    return ProcessHandle.current().info().command().orElse("java");
  }

  @Test
  void manifestNamesTheAppAndItsLibraries() throws Exception {
    try (JarFile j = new JarFile(jar().toFile())) {
      var attrs = j.getManifest().getMainAttributes();
      assertThat(attrs.getValue("Main-Class")).isEqualTo(IngestStreamApp.class.getName());
      String cp = attrs.getValue("Class-Path");
      assertThat(cp).contains("lib/imgmatch-common-").contains("lib/kafka-streams-").contains("lib/micrometer-core-")
          .contains("lib/logback-classic-").contains("lib/imageio-webp-").doesNotContain("junit")
          .as("no CLI code: the commands live in the cli module").doesNotContain("picocli");
      for (String entry : cp.split(" ")) {
        assertThat(Path.of("target").resolve(entry)).as("class path entry %s copied", entry).isRegularFile();
      }
      assertThat(j.getEntry("logback.xml")).as("no logback.xml to leak into the CLI").isNull();
      assertThat(j.getEntry("dev/imgmatch/ingest/service-logback-json.xml")).isNotNull();
      assertThat(j.stream().map(e -> e.getName())).as("no CLI code")
          .noneMatch(n -> n.startsWith("META-INF/services/dev.imgmatch.")).noneMatch(n -> n.endsWith("Command.class"));
    }
  }

  @Test
  @Timeout(120)
  void helpListsTheSettingsAndBadSettingsExitWithStatus2() throws Exception {
    Process help = new ProcessBuilder(java(), "-jar", jar().toString(), "--help").redirectErrorStream(true).start();
    String out = new String(help.getInputStream().readAllBytes());
    assertThat(help.waitFor()).isZero();
    assertThat(out).contains(IngestConfig.HTTP_PORT).contains(IngestConfig.QUERY_VIEWS).contains(IngestConfig.LOG_FORMAT);
    ProcessBuilder bad = new ProcessBuilder(java(), "-jar", jar().toString()).redirectErrorStream(true);
    bad.environment().put("IMGMATCH_HTTP_PORT", "70000");
    Process p = bad.start();
    String err = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor()).isEqualTo(2);
    assertThat(err).contains("http.port");
  }

  @Test
  @Timeout(300)
  void runsAloneWithHealthReadinessMetricsAndJsonLogs(KafkaBroker broker) throws Exception {
    Topics topics = new Topics(broker.uniqueName("jar") + ".");
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    List<String> cmd = new ArrayList<>(List.of(java(), "-Xmx512m", "-jar", jar().toString(),
        IngestConfig.TOPIC_PREFIX + "=" + topics.prefix(), IngestConfig.APPLICATION_ID + "=" + broker.uniqueName("jar"),
        IngestConfig.STREAM_THREADS + "=1", IngestConfig.TOPIC_PARTITIONS + "=1", "kafka.commit.interval.ms=100"));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("IMGMATCH_KAFKA_BOOTSTRAP_SERVERS", broker.bootstrapServers());
    pb.environment().put("IMGMATCH_HTTP_PORT", String.valueOf(port));
    pb.environment().put("IMGMATCH_HTTP_HOST", "127.0.0.1");
    pb.environment().put("IMGMATCH_STATE_DIR", tmp.resolve("state").toString());
    pb.environment().remove("IMGMATCH_LOG_FORMAT");
    Path log = Path.of("target").resolve("service-jar-" + topics.prefix() + "log");
    pb.redirectOutput(log.toFile());
    Process child = pb.start();
    HttpClient http = HttpClient.newHttpClient();
    try {
      // no timing assertion: poll until ready (the test timeout bounds it)
      int ready = 0;
      while (ready != 200) {
        assertThat(child.isAlive()).as("the service died, see %s", log).isTrue();
        Thread.sleep(250);
        try {
          ready = get(http, port, "/ready").statusCode();
        } catch (java.net.ConnectException notYetListening) {
          ready = 0;
        }
      }
      assertThat(get(http, port, "/health").statusCode()).isEqualTo(200);
      try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(broker.producerProps())) {
        for (String id : List.of("ok-1", "bad-1")) {
          byte[] image = id.startsWith("ok") ? TestImages.jpeg(200, 150, 3) : new byte[] {1, 2, 3, 4};
          ImageSubmission s = ImageSubmission.newBuilder().setImageId(id).setTenant("acme").setCollection("uploads")
              .setImage(new InlineImage(ByteBuffer.wrap(image), null)).setSubmittedAtMs(System.currentTimeMillis())
              .build();
          producer.send(new ProducerRecord<>(topics.uploads().name(), topics.uploads().serializeKey(id),
              topics.uploads().serializeValue(s))).get();
        }
      }
      String metrics = "";
      while (!metrics.contains("imgmatch_ingest_prepared_total{input=\"uploads\",service=\"ingest-stream\"} 1.0")
          || !metrics.contains("imgmatch_ingest_rejected_total{reason=\"UNSUPPORTED_FORMAT\",service=\"ingest-stream\"} 1.0")) {
        assertThat(child.isAlive()).as("the service died, see %s", log).isTrue();
        Thread.sleep(250);
        metrics = get(http, port, "/metrics").body();
      }
      assertThat(metrics)
          .contains("imgmatch_ingest_rejected_total{reason=\"CORRUPT_IMAGE\",service=\"ingest-stream\"} 0.0")
          .contains("imgmatch_ingest_views_total{service=\"ingest-stream\",view=\"full\"} 1.0")
          .contains("imgmatch_ingest_prepare_seconds_bucket{input=\"uploads\"")
          .contains("imgmatch_ingest_prepare_seconds_count{input=\"uploads\",service=\"ingest-stream\"} 1")
          .contains("imgmatch_ingest_image_size_bytes_bucket{input=\"uploads\"")
          .contains("kafka_consumer_fetch_manager_records_lag_max")
          .contains("kafka_stream_thread_")
          .contains("jvm_memory_used_bytes");
    } finally {
      child.destroy(); // SIGTERM: Streams closed cleanly by the shutdown hook, then the JVM's SIGTERM status
      assertThat(child.waitFor()).isIn(0, 143);
    }
    List<String> lines = Files.readAllLines(log);
    List<String> json = lines.stream().filter(l -> l.startsWith("{") && l.endsWith("}")).toList();
    assertThat(json).as("JSON log lines in %s", log).isNotEmpty();
    assertThat(lines).as("every log line is JSON (the JVM's own warnings aside), see %s", log)
        .allMatch(l -> l.isBlank() || json.contains(l) || l.startsWith("WARNING: "));
    assertThat(json).anyMatch(l -> l.contains("\"level\":\"INFO\"") && l.contains("RUNNING"));
    assertThat(json).anyMatch(l -> l.contains("ingest-stream stopped"));
  }

  private static HttpResponse<String> get(HttpClient http, int port, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
