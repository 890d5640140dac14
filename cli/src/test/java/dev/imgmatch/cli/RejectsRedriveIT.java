package dev.imgmatch.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.Reject;
import dev.imgmatch.common.TopicSetup;
import dev.imgmatch.schemas.Rejects;
import dev.imgmatch.schemas.Topics;
import dev.imgmatch.testkit.KafkaBroker;
import dev.imgmatch.testkit.KafkaBrokerExtension;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(KafkaBrokerExtension.class)
class RejectsRedriveIT {
  private record Run(int status, String out, String err) {}

  private static Run run(String... args) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    int status;
    try {
      status = Main.execute(args);
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
    Run r = new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    oldErr.print(r.err());
    return r;
  }

  /** Every record of a topic, read_committed, up to its end. */
  private static List<ConsumerRecord<byte[], byte[]>> readAll(KafkaBroker broker, String topic) {
    List<ConsumerRecord<byte[], byte[]>> got = new ArrayList<>();
    try (var c = new KafkaConsumer<byte[], byte[]>(broker.consumerProps(broker.uniqueName("read")))) {
      List<TopicPartition> parts = c.partitionsFor(topic, Duration.ofSeconds(10)).stream()
          .map(p -> new TopicPartition(topic, p.partition())).toList();
      c.assign(parts);
      c.seekToBeginning(parts);
      Map<TopicPartition, Long> end = c.endOffsets(parts);
      long deadline = System.currentTimeMillis() + 10_000;
      while (parts.stream().anyMatch(p -> c.position(p) < end.get(p)) && System.currentTimeMillis() < deadline) {
        c.poll(Duration.ofMillis(100)).forEach(got::add);
      }
    }
    return got;
  }

  private static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  @Test
  void redriveResubmitsExactlyTheWholeRejectsOfTheChosenReasonOnce(KafkaBroker broker) throws Exception {
    String prefix = broker.uniqueName("rd") + ".";
    Topics topics = new Topics(prefix);
    TopicSetup.ensureAll(broker.clientProps(), topics, 2, (short) 1);
    String foreignTopic = broker.uniqueName("foreign");
    broker.createTopic(foreignTopic, 1);

    byte[] valueA = random(3000, 1);
    byte[] valueB = random(500, 2);
    long now = System.currentTimeMillis();
    List<Reject> rejects = List.of(
        // re-submitted: a whole prepared record, to its partition 1
        Rejects.of("EMBEDDING_FAILED", "model failed", "embedder-worker", topics.prepared().name(), 1, 5,
            "img-a".getBytes(StandardCharsets.UTF_8), valueA, new RuntimeException("boom"), 1 << 20, now),
        // re-submitted: a null key, to embeddings partition 0
        Rejects.of("EMBEDDING_FAILED", "model failed", "embedder-worker", topics.embeddings().name(), 0, 9,
            null, valueB, null, 1 << 20, now),
        // selected, but cut at 1000 of 3000 bytes
        Rejects.of("EMBEDDING_FAILED", "model failed", "embedder-worker", topics.prepared().name(), 0, 6,
            "img-cut".getBytes(StandardCharsets.UTF_8), random(3000, 3), null, 1000, now),
        // selected, but naming a topic that is not this stack's
        Rejects.of("EMBEDDING_FAILED", "model failed", "embedder-worker", foreignTopic, 0, 7,
            "img-f".getBytes(StandardCharsets.UTF_8), random(100, 4), null, 1 << 20, now),
        // another reason
        Rejects.of("CORRUPT_IMAGE", "bad jpeg", "ingest-stream", topics.uploads().name(), 0, 3,
            "img-c".getBytes(StandardCharsets.UTF_8), random(200, 5), null, 1 << 20, now));
    try (var p = new KafkaProducer<byte[], byte[]>(broker.producerProps())) {
      int i = 0;
      for (Reject r : rejects) {
        // spread over both partitions of rejects
        p.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topics.rejects().name(), i++ % 2,
            RejectRedrive.bytes(r.getOriginalKey()), topics.rejects().serializeValue(r))).get();
      }
    }
    String[] base = {"rejects", "-b", broker.bootstrapServers(), "--topic-prefix", prefix, "--redrive",
        "--reason", "EMBEDDING_FAILED"};

    // --dry-run: says what it would do, produces and commits nothing
    Run dry = run(concat(base, "--dry-run"));
    assertThat(dry.status()).isEqualTo(1); // two selected rejects cannot be re-submitted
    assertThat(dry.out().lines().filter(l -> l.startsWith("would-resubmit,"))).hasSize(2);
    assertThat(dry.out()).contains("skipped-incomplete,embedder-worker,EMBEDDING_FAILED," + topics.prepared().name()
        + "-0@6,img-cut,1000,").contains("skipped-foreign-topic,");
    assertThat(dry.err()).contains("2 would be re-submitted", "1 incomplete payload", "1 foreign source topic",
        "1 not selected");
    for (String t : List.of(topics.prepared().name(), topics.embeddings().name(), topics.uploads().name(), foreignTopic)) {
      assertThat(readAll(broker, t)).as(t).isEmpty();
    }

    // the redrive
    Run first = run(base);
    assertThat(first.status()).isEqualTo(1);
    assertThat(first.out().lines().filter(l -> l.startsWith("resubmitted,"))).hasSize(2);
    assertThat(first.err()).contains("2 re-submitted", "1 incomplete payload", "1 foreign source topic",
        "1 not selected");
    List<ConsumerRecord<byte[], byte[]>> prepared = readAll(broker, topics.prepared().name());
    assertThat(prepared).hasSize(1);
    assertThat(prepared.getFirst().partition()).isEqualTo(1);
    assertThat(prepared.getFirst().key()).isEqualTo("img-a".getBytes(StandardCharsets.UTF_8));
    assertThat(prepared.getFirst().value()).isEqualTo(valueA);
    List<ConsumerRecord<byte[], byte[]>> embeddings = readAll(broker, topics.embeddings().name());
    assertThat(embeddings).hasSize(1);
    assertThat(embeddings.getFirst().partition()).isEqualTo(0);
    assertThat(embeddings.getFirst().key()).isNull();
    assertThat(embeddings.getFirst().value()).isEqualTo(valueB);
    assertThat(readAll(broker, topics.uploads().name())).isEmpty();
    assertThat(readAll(broker, foreignTopic)).isEmpty();

    // a second run with the same selection (so the same group) re-submits nothing
    Run second = run(base);
    assertThat(second.status()).isZero();
    assertThat(second.out().lines().filter(l -> l.startsWith("resubmitted,"))).isEmpty();
    assertThat(second.err()).contains("0 read; 0 re-submitted");
    assertThat(readAll(broker, topics.prepared().name())).hasSize(1);
    assertThat(readAll(broker, topics.embeddings().name())).hasSize(1);

    // --from-beginning ignores the group's position (here only to look)
    Run again = run(concat(base, "--from-beginning", "--dry-run"));
    assertThat(again.out().lines().filter(l -> l.startsWith("would-resubmit,"))).hasSize(2);

    // --limit 1 with a fresh group re-submits one, and the next run the other
    String[] limited = concat(base, "--group", prefix + "redrive-limit", "--limit", "1");
    Run one = run(limited);
    assertThat(one.out().lines().filter(l -> l.startsWith("resubmitted,"))).hasSize(1);
    assertThat(one.err()).contains("stopped at --limit 1");
    Run rest = run(limited);
    assertThat(rest.out().lines().filter(l -> l.startsWith("resubmitted,"))).hasSize(1);
    assertThat(readAll(broker, topics.prepared().name()).size() + readAll(broker, topics.embeddings().name()).size())
        .isEqualTo(4);
  }

  @Test
  void aFailedResubmissionStopsTheRunAndTheNextRunTriesItAgain(KafkaBroker broker) throws Exception {
    String prefix = broker.uniqueName("rf") + ".";
    Topics topics = new Topics(prefix);
    TopicSetup.ensureAll(broker.clientProps(), topics, 1, (short) 1);
    long now = System.currentTimeMillis();
    // deletions take 1 MiB: this whole 1.5 MiB record is refused by the broker (not retriable)
    List<Reject> rejects = List.of(
        Rejects.of("INTERNAL_ERROR", "m", "index-service", topics.deletions().name(), 0, 1,
            "ok-1".getBytes(StandardCharsets.UTF_8), random(100, 6), null, 1 << 20, now),
        Rejects.of("INTERNAL_ERROR", "m", "index-service", topics.deletions().name(), 0, 2,
            "big".getBytes(StandardCharsets.UTF_8), random(1536 * 1024, 7), null, 2 << 20, now),
        Rejects.of("INTERNAL_ERROR", "m", "index-service", topics.deletions().name(), 0, 3,
            "ok-2".getBytes(StandardCharsets.UTF_8), random(100, 8), null, 1 << 20, now));
    var props = broker.producerProps();
    props.put("max.request.size", Topics.MAX_MESSAGE_BYTES);
    try (var p = new KafkaProducer<byte[], byte[]>(props)) {
      for (Reject r : rejects) {
        p.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topics.rejects().name(),
            RejectRedrive.bytes(r.getOriginalKey()), topics.rejects().serializeValue(r))).get();
      }
    }
    String[] args = {"rejects", "-b", broker.bootstrapServers(), "--topic-prefix", prefix, "--redrive", "--reason",
        "INTERNAL_ERROR"};
    Run first = run(args);
    assertThat(first.status()).isEqualTo(1);
    assertThat(first.out()).contains("failed,index-service,INTERNAL_ERROR," + topics.deletions().name() + "-0@2,big,");
    assertThat(first.err()).contains("1 FAILED");
    assertThat(readAll(broker, topics.deletions().name())).extracting(r -> new String(r.key(), StandardCharsets.UTF_8))
        .contains("ok-1").doesNotContain("big");
    // the group's position stayed at the failed one: the next run starts there
    Run second = run(args);
    assertThat(second.status()).isEqualTo(1);
    assertThat(second.err()).contains("reading 2 reject(s)", "continuing where it stopped", "1 FAILED");
  }

  private static String[] concat(String[] a, String... b) {
    String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }
}
