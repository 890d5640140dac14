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
import java.util.TreeMap;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Exactly-once across a crash: a worker runs in a child JVM ({@link EmbedderWorkerApp}) and is killed with
 * {@code destroyForcibly} (SIGKILL: no clean close, possibly mid-transaction) while it works through the input; a new
 * worker with the same group and transactional id finishes the job. Every upload must then have exactly one
 * embedding and every query exactly one probe downstream (read_committed), and neither be on the other's topic.
 */
@ExtendWith({KafkaBrokerExtension.class, SharedEmbedder.Warm.class})
class CrashRestartIT {
  static final int N = 120;

  @Test
  @Timeout(420)
  void afterAKillAndARestartEveryInputHasExactlyOneEmbedding(KafkaBroker broker) throws Exception {
    WorkerHarness h = new WorkerHarness(broker, "crash");
    List<ProducerRecord<byte[], byte[]>> in = new ArrayList<>();
    List<String> uploads = new ArrayList<>();
    List<String> queries = new ArrayList<>();
    for (int k = 0; k < N; k++) {
      boolean query = k % 4 == 3; // one input in four is an image query
      String id = String.format(query ? "query-%03d" : "img-%03d", k);
      (query ? queries : uploads).add(id);
      in.add(h.topics.prepared().record(id, Fixtures.prepared(id, query ? Purpose.QUERY : Purpose.INDEX,
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
    System.err.printf("killed the child worker with %d of %d embeddings committed (log %s)%n", before,
        uploads.size(), log);

    try (EmbedderWorker worker = new EmbedderWorker(new EmbedderWorkerConfig(settings), SharedEmbedder.get(), null)
        .start()) {
      h.readUntilAll(h.topics.embeddings().name(), uploads);
      h.readUntilAll(h.topics.probes().name(), queries);
      assertThat(worker.failure()).isNull();
      System.err.printf("restarted worker: %d embedded, %d batches, %d pauses (back-pressure), %d aborted%n",
          worker.embedded(), worker.batches(), worker.pauses(), worker.abortedTransactions());
    }
    h.assertExactlyOnce(h.topics.embeddings().name(), uploads);
    h.assertExactlyOnce(h.topics.probes().name(), queries);
    assertThat(h.readAll(h.topics.rejects().name())).isEmpty();
  }
}
