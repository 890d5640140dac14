package dev.imgmatch.embedder.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.PixelEncoding;
import dev.imgmatch.avro.Purpose;
import dev.imgmatch.embedder.Fixtures;
import dev.imgmatch.embedder.SharedEmbedder;
import dev.imgmatch.testkit.KafkaBroker;
import dev.imgmatch.testkit.KafkaBrokerExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Exactly-once across a crash: a worker runs in a child JVM ({@link EmbedderWorkerApp}) and is killed with
 * {@code destroyForcibly} (SIGKILL: no clean close, possibly mid-transaction) while it works through the input; a new
 * worker with the same group and transactional id finishes the job. Every input must then have exactly one
 * embedding and one probe downstream (read_committed).
 */
@ExtendWith(KafkaBrokerExtension.class)
class CrashRestartIT {
  static final int N = 120;

  @Test
  @Timeout(420)
  void afterAKillAndARestartEveryInputHasExactlyOneEmbedding(KafkaBroker broker) throws Exception {
    SharedEmbedder.get(); // model and head in the cache before the child starts
    WorkerHarness h = new WorkerHarness(broker, "crash");
    List<ProducerRecord<byte[], byte[]>> in = new ArrayList<>();
    for (int k = 0; k < N; k++) {
      String id = String.format("img-%03d", k);
      in.add(h.topics.prepared().record(id, Fixtures.prepared(id, Purpose.INDEX,
          List.of(Fixtures.view("full", Fixtures.picture(k, 224, 224), PixelEncoding.RGB8)))));
    }
    h.produce(in);
    Map<String, String> settings = new TreeMap<>(h.settings());
    settings.put("batch.max.records", "4");
    settings.put("inference.batch.size", "4");
    settings.put("kafka.session.timeout.ms", "6000");
    settings.put("kafka.heartbeat.interval.ms", "1000");

    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    cmd.add("-Xmx1g");
    cmd.add("-Dai.djl.offline=true");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(EmbedderWorkerApp.class.getName());
    settings.forEach((k, v) -> cmd.add(k + "=" + v));
    Path log = Files.createDirectories(Path.of("target")).resolve("crash-child-" + h.group + ".log");
    Process child = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    int before;
    try {
      before = h.readUntil(h.topics.embeddings().name(), l -> l.size() >= 12 || !child.isAlive()).size();
      assertThat(child.isAlive()).as("child worker died by itself, see %s", log).isTrue();
    } finally {
      child.destroyForcibly();
      child.waitFor();
    }
    System.err.printf("killed the child worker with %d of %d embeddings committed (log %s)%n", before, N, log);

    try (EmbedderWorker worker = new EmbedderWorker(new EmbedderWorkerConfig(settings), SharedEmbedder.get(), null)
        .start()) {
      h.readUntil(h.topics.embeddings().name(),
          l -> l.stream().map(WorkerHarness::key).collect(Collectors.toSet()).size() >= N);
      h.readUntil(h.topics.probes().name(),
          l -> l.stream().map(WorkerHarness::key).collect(Collectors.toSet()).size() >= N);
      assertThat(worker.failure()).isNull();
      System.err.printf("restarted worker: %d embedded, %d batches, %d pauses (back-pressure), %d aborted%n",
          worker.embedded(), worker.batches(), worker.pauses(), worker.abortedTransactions());
    }
    for (String topic : List.of(h.topics.embeddings().name(), h.topics.probes().name())) {
      List<ConsumerRecord<byte[], byte[]>> all = h.readAll(topic);
      Map<String, Long> counts = all.stream().collect(Collectors.groupingBy(WorkerHarness::key,
          TreeMap::new, Collectors.counting()));
      assertThat(counts).as("records per id on %s", topic).hasSize(N);
      assertThat(Set.copyOf(counts.values())).as("every id exactly once on %s", topic).containsExactly(1L);
    }
    assertThat(h.readAll(h.topics.rejects().name())).isEmpty();
  }
}
