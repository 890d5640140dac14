package dev.imgmatch.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.cli.samples.SampleImages;
import dev.imgmatch.cli.stack.LocalStack;
import dev.imgmatch.common.HangingTransactions;
import dev.imgmatch.common.TopicSetup;
import dev.imgmatch.ops.LocalBroker;
import dev.imgmatch.schemas.Topic;
import dev.imgmatch.schemas.Topics;
import dev.imgmatch.testkit.CommittedRecords;
import dev.imgmatch.testkit.Seeds;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real hanging transaction on a real broker, and {@link HangingTransactions} ending it. The hang is made the way a
 * crash makes one: a producer's transaction is open on a partition that its coordinator's state does not list (the
 * broker is killed twice and its transaction-state log put back to the copy taken before the partition joined the
 * transaction). Every read_committed consumer of that partition then stops at the transaction, for ever. The guard
 * aborts it — and leaves alone a live transaction on the other partition, which then commits. A local stack started
 * on a broker whose {@code prepared} partitions are held that way embeds and indexes an upload once its
 * embedder-worker's guard has ended the hang.
 */
class HangingTransactionIT {
  private static final String TOPIC = "hang.prepared";
  private static final String SIDE = "hang.side";

  @TempDir
  Path dir;

  @Test
  @Timeout(300)
  void aTransactionTheCoordinatorLostIsAbortedAndALiveOneIsLeftToCommit() throws Exception {
    LocalBroker.Options bo = LocalBroker.Options.defaults(dir.resolve("broker"));
    LocalBroker broker = LocalBroker.start(bo);
    TopicPartition lost = new TopicPartition(TOPIC, 0);
    TopicPartition live = new TopicPartition(TOPIC, 1);
    try {
      try (Admin a = admin(broker)) {
        a.createTopics(List.of(new NewTopic(TOPIC, 2, (short) 1), new NewTopic(SIDE, 1, (short) 1))).all().get();
      }
      broker = hang(broker, bo, "hang-crashed", List.of(lost));
      // a live transaction on the other partition, which the coordinator lists: never to be touched
      KafkaProducer<byte[], byte[]> alive = producer(broker, "hang-alive", 240_000);
      alive.initTransactions();
      alive.beginTransaction();
      alive.send(new ProducerRecord<>(TOPIC, 1, null, bytes("committed later"))).get();

      try (Admin a = admin(broker)) {
        assertThat(stable(a, lost)).as("the lost transaction holds its partition").isLessThan(high(a, lost));
        assertThat(stable(a, live)).as("the live transaction holds its partition").isLessThan(high(a, live));
        Thread.sleep(5_000);
        assertThat(stable(a, lost)).as("still held, nothing will end it").isLessThan(high(a, lost));
      }

      Map<String, Object> kafka = Map.of("bootstrap.servers", broker.bootstrapServers());
      var registry = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
      try (HangingTransactions guard = new HangingTransactions("test", kafka, List.of(TOPIC),
          new HangingTransactions.Settings(500, 3_000)).bind(registry).start();
          Admin a = admin(broker)) {
        LocalBroker b = broker;
        await(() -> guard.aborted() >= 1, Duration.ofSeconds(90), "the guard aborts the hanging transaction");
        assertThat(stable(a, lost)).as("the partition is free").isEqualTo(high(a, lost));
        long checks = guard.checks();
        await(() -> guard.checks() >= checks + 6, Duration.ofSeconds(60), "six more checks");
        assertThat(guard.aborted()).as("the live transaction is left alone").isEqualTo(1);
        assertThat(guard.problems()).isEmpty();
        assertThat(registry.get("imgmatch.hanging.transactions.aborted").tag("stage", "test").functionCounter()
            .count()).isEqualTo(1.0);
        assertThat(registry.get("imgmatch.hanging.transactions.blocked").gauge().value()).isZero();
        assertThat(stable(a, live)).isLessThan(high(a, live));

        alive.commitTransaction();
        alive.close();
        try (KafkaProducer<byte[], byte[]> after = producer(b, "hang-after", 60_000)) {
          after.initTransactions();
          after.beginTransaction();
          after.send(new ProducerRecord<>(TOPIC, 0, null, bytes("after the abort"))).get();
          after.commitTransaction();
        }
      }
      List<String> read = CommittedRecords.readAll(broker.bootstrapServers(), TOPIC, Duration.ofSeconds(30)).stream()
          .map(r -> new String(r.value(), StandardCharsets.UTF_8)).sorted().toList();
      assertThat(read).as("read_committed: past the aborted transaction, and the live one's record")
          .containsExactly("after the abort", "committed later");
    } finally {
      broker.close();
    }
  }

  /**
   * The same hang on both partitions of {@code prepared}, made before a local stack starts on the broker: the
   * embedder-worker reads nothing until its guard aborts the transaction, then an upload is embedded and indexed.
   */
  @Test
  @Timeout(600)
  void theEmbedderWorkerEndsAHangOnPreparedAndTheUploadGoesThrough() throws Exception {
    String prefix = "stalled.";
    Topics topics = new Topics(prefix);
    LocalBroker.Options bo = LocalBroker.Options.defaults(dir.resolve("broker"));
    LocalBroker broker = LocalBroker.start(bo);
    LocalStack stack = null;
    try {
      TopicSetup.ensure(Map.<String, Object>of("bootstrap.servers", broker.bootstrapServers()),
          List.<Topic<?, ?>>of(topics.prepared()), 2,
          (short) 1);
      try (Admin a = admin(broker)) {
        a.createTopics(List.of(new NewTopic(SIDE, 1, (short) 1))).all().get();
      }
      broker = hang(broker, bo, prefix + "crashed", List.of(new TopicPartition(topics.prepared().name(), 0),
          new TopicPartition(topics.prepared().name(), 1)));
      try (Admin a = admin(broker)) {
        for (int p = 0; p < 2; p++) {
          TopicPartition tp = new TopicPartition(topics.prepared().name(), p);
          assertThat(stable(a, tp)).as(tp + " is held").isLessThan(high(a, tp));
        }
      }

      Map<String, String> guard = Map.of(HangingTransactions.CHECK_MS, "1000", HangingTransactions.ABORT_AFTER_MS,
          "5000");
      stack = LocalStack.start(new LocalStack.Options(dir.resolve("stack"), broker.bootstrapServers(), prefix, 2, -1,
          Map.of(), guard, Map.of()), m -> System.out.println("[stack] " + m));
      byte[] jpeg = SampleImages.jpeg(SampleImages.original(Seeds.of("hanging transaction", 20261205L), 640, 480),
          0.9f);
      try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(Map.<String, Object>of("bootstrap.servers", broker.bootstrapServers()),
          new ByteArraySerializer(), new ByteArraySerializer())) {
        p.send(topics.uploads().record("after-the-hang", HostileInputs.submissionOf("after-the-hang", "t", "uploads",
            jpeg, Map.of()))).get();
      }
      LocalStack s = stack;
      await(() -> s.index().counters().get("indexed") >= 1, Duration.ofSeconds(180),
          "the upload embedded and indexed past the hanging transaction");
      List<String> embedded = CommittedRecords.readAll(broker.bootstrapServers(), topics.embeddings().name(),
          Duration.ofSeconds(30)).stream().map(r -> topics.embeddings().deserializeValue(r.value()).getId()).toList();
      assertThat(embedded).containsExactly("after-the-hang");
    } finally {
      if (stack != null) {
        stack.close();
      }
      broker.close();
    }
  }

  /**
   * Leaves a hanging transaction on each of {@code partitions}: a transaction of {@code transactionalId} open on
   * {@link #SIDE}, the coordinator's state copied (broker down), the partitions joining it, then the broker down again
   * and its transaction-state log put back to the copy. Returns the restarted broker.
   */
  private LocalBroker hang(LocalBroker broker, LocalBroker.Options bo, String transactionalId,
      List<TopicPartition> partitions) throws Exception {
    Path logs = bo.dataDir().resolve("logs");
    Path saved = dir.resolve("transaction-state-before");
    KafkaProducer<byte[], byte[]> crashed = producer(broker, transactionalId, 60_000);
    crashed.initTransactions();
    crashed.beginTransaction();
    crashed.send(new ProducerRecord<>(SIDE, 0, null, bytes("side"))).get();
    LocalBroker b = restart(broker, bo, () -> copyTransactionState(logs, saved));
    for (TopicPartition tp : partitions) {
      crashed.send(new ProducerRecord<>(tp.topic(), tp.partition(), null, bytes("never committed"))).get();
    }
    return restart(b, bo, () -> {
      crashed.close(Duration.ZERO);
      deleteTransactionState(logs);
      copyTransactionState(saved, logs);
    });
  }

  private interface Step {
    void run() throws Exception;
  }

  /** kill -9 of the broker, {@code whileDown}, and a start on the same disk. */
  private static LocalBroker restart(LocalBroker broker, LocalBroker.Options bo, Step whileDown) throws Exception {
    ProcessHandle.of(broker.pid()).ifPresent(ProcessHandle::destroyForcibly);
    broker.waitFor();
    broker.close();
    whileDown.run();
    return LocalBroker.start(bo);
  }

  private static void copyTransactionState(Path fromLogs, Path to) throws Exception {
    try (Stream<Path> s = Files.list(fromLogs)) {
      for (Path d : s.filter(p -> p.getFileName().toString().startsWith("__transaction_state-")).toList()) {
        Path target = to.resolve(d.getFileName());
        Files.createDirectories(target);
        try (Stream<Path> files = Files.list(d)) {
          for (Path f : files.toList()) {
            Files.copy(f, target.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
          }
        }
      }
    }
  }

  private static void deleteTransactionState(Path logs) throws Exception {
    try (Stream<Path> s = Files.list(logs)) {
      for (Path d : s.filter(p -> p.getFileName().toString().startsWith("__transaction_state-")).toList()) {
        try (Stream<Path> w = Files.walk(d)) {
          for (Path p : w.sorted(Comparator.reverseOrder()).toList()) {
            Files.delete(p);
          }
        }
      }
    }
  }

  private static KafkaProducer<byte[], byte[]> producer(LocalBroker broker, String transactionalId, int timeoutMs) {
    Map<String, Object> p = new HashMap<>();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    p.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, timeoutMs);
    return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
  }

  private static Admin admin(LocalBroker broker) {
    return Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()));
  }

  private static long stable(Admin a, TopicPartition tp) throws Exception {
    return a.listOffsets(Map.of(tp, OffsetSpec.latest()), new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all()
        .get().get(tp).offset();
  }

  private static long high(Admin a, TopicPartition tp) throws Exception {
    return a.listOffsets(Map.of(tp, OffsetSpec.latest()), new ListOffsetsOptions(IsolationLevel.READ_UNCOMMITTED))
        .all().get().get(tp).offset();
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static void await(BooleanSupplier done, Duration max, String what) throws InterruptedException {
    long deadline = System.nanoTime() + max.toNanos();
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("waited " + max + " for " + what);
      }
      Thread.sleep(200);
    }
  }
}
