package dev.imgmatch.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The people's broker: a separate JVM process; this test JVM is the other process that produces and consumes. */
class LocalBrokerIT {

  @Test
  void startsServesAnotherProcessStopsCleanlyAndKeepsDataAcrossRestart(@TempDir Path dir) throws Exception {
    LocalBroker.Options options = LocalBroker.Options.defaults(dir.resolve("broker"));
    String bootstrap;
    try (LocalBroker broker = LocalBroker.start(options)) {
      assertThat(broker.formattedNow()).isTrue();
      assertThat(broker.pid()).isNotEqualTo(ProcessHandle.current().pid());
      bootstrap = broker.bootstrapServers();
      assertThat(bootstrap).matches("localhost:\\d+");
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
        admin.createTopics(List.of(new NewTopic("hello", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
      }
      try (var p = new KafkaProducer<String, String>(Map.of("bootstrap.servers", bootstrap),
          new StringSerializer(), new StringSerializer())) {
        p.send(new ProducerRecord<>("hello", "k1", "first")).get(30, TimeUnit.SECONDS);
      }
      assertThat(consumeAll(bootstrap, 1)).containsExactly("first");

      // a second broker on the same data directory is refused with a clear message
      assertThatThrownBy(() -> LocalBroker.start(options)).hasMessageContaining("already running");
      broker.close();
      assertThat(broker.isAlive()).isFalse();
      // SIGTERM ran Kafka's controlled shutdown: it exits by the signal (143) or 0, never killed forcibly (137)
      assertThat(broker.exitValue()).isIn(0, 143);
    }
    assertThat(Files.readString(dir.resolve("broker/broker.log"), StandardCharsets.UTF_8)).contains("shut down completed");

    try (LocalBroker again = LocalBroker.start(options)) {
      assertThat(again.formattedNow()).isFalse();
      assertThat(again.bootstrapServers()).isEqualTo(bootstrap); // ports remembered
      try (var p = new KafkaProducer<String, String>(Map.of("bootstrap.servers", bootstrap),
          new StringSerializer(), new StringSerializer())) {
        p.send(new ProducerRecord<>("hello", "k2", "second")).get(30, TimeUnit.SECONDS);
      }
      assertThat(consumeAll(bootstrap, 2)).containsExactly("first", "second");
    }
  }

  @Test
  void badOptionsNameTheOffendingValue() {
    assertThatThrownBy(() -> new LocalBroker.Options(Path.of("x"), 70000, 0, "512m", Duration.ofSeconds(1)))
        .hasMessageContaining("70000");
    assertThatThrownBy(() -> new LocalBroker.Options(Path.of("x"), 0, 0, "lots", Duration.ofSeconds(1)))
        .hasMessageContaining("lots");
  }

  private static List<String> consumeAll(String bootstrap, int expected) {
    List<String> values = new ArrayList<>();
    try (var c = new KafkaConsumer<String, String>(Map.of("bootstrap.servers", bootstrap, "group.id",
        "g-" + System.nanoTime(), "auto.offset.reset", "earliest"), new StringDeserializer(), new StringDeserializer())) {
      c.subscribe(List.of("hello"));
      long deadline = System.currentTimeMillis() + 30_000;
      while (values.size() < expected && System.currentTimeMillis() < deadline) {
        c.poll(Duration.ofMillis(200)).forEach(r -> values.add(r.value()));
      }
    }
    return values;
  }
}
