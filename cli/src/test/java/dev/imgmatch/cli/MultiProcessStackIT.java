package dev.imgmatch.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.cli.samples.SampleSet;
import dev.imgmatch.cli.stack.Instances;
import dev.imgmatch.cli.stack.LocalStack;
import dev.imgmatch.cli.stack.PrometheusText;
import dev.imgmatch.client.Uploader;
import dev.imgmatch.schemas.Topics;
import dev.imgmatch.testkit.CommittedRecords;
import dev.imgmatch.testkit.KafkaBroker;
import dev.imgmatch.testkit.KafkaBrokerExtension;
import dev.imgmatch.testkit.Seeds;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --instances index=2,embedder=2,ingest=2}: the stack runs every service instance as a JVM of its own (the
 * real services' mains, the real model, Lucene indexes on disk) on the test broker. Protected originals, then edited
 * copies, a byte-identical copy and unrelated pictures are uploaded; read_committed, every copy has exactly one alert
 * naming its original and nothing else alerted; the counters the commands wait on add up over the instances; both
 * index instances own a shard; and after close no instance process is left.
 */
@ExtendWith(KafkaBrokerExtension.class)
class MultiProcessStackIT {
  private static final String TENANT = "mp";

  @Test
  @Timeout(600)
  void twoInstancesOfEachServiceAsProcessesAlertEveryCopyExactlyOnceAndStopWithTheStack(KafkaBroker broker,
      @TempDir Path dir) throws Exception {
    long seed = Seeds.of("multi-process stack", 20261204L);
    SampleSet samples = SampleSet.generate(dir.resolve("samples"), 4, 4, seed);
    String prefix = "mp-" + Long.toHexString(System.nanoTime() & 0xffffff) + ".";
    Topics topics = new Topics(prefix);
    LocalStack.Options o = new LocalStack.Options(dir.resolve("stack"), broker.bootstrapServers(), prefix, 2, 0,
        Map.of(), Map.of(), Map.of(), new Instances(2, 2, 2));
    List<ProcessHandle> processes;
    long t0 = System.nanoTime();
    try (LocalStack stack = LocalStack.start(o, m -> System.out.println("[stack] " + m))) {
      System.out.printf("stack of 6 instance processes ready in %.1f s%n", (System.nanoTime() - t0) / 1e9);
      processes = stack.processes();
      assertThat(processes).hasSize(6).allMatch(ProcessHandle::isAlive);
      assertThat(processes.stream().map(ProcessHandle::pid).distinct()).hasSize(6)
          .doesNotContain(ProcessHandle.current().pid());
      assertThat(stack.endpoints().keySet()).containsExactly("index-service-0", "index-service-1",
          "embedder-worker-0", "embedder-worker-1", "ingest-stream-0", "ingest-stream-1");
      assertThat(stack.policy()).as("the index settings' policy, without an in-process service").isNotNull();
      assertThat(stack.index()).isNull();

      Map<String, String> copyOf = new HashMap<>(); // upload id -> the original it copies
      List<String> unrelated = new ArrayList<>();
      try (Uploader up = new Uploader(stack.clientProps(), stack.topics())) {
        for (Path f : samples.originals()) {
          up.send("orig/" + f.getFileName(), TENANT, "protected", "it", Files.readAllBytes(f),
              f.getFileName().toString(), Map.of());
        }
        up.flush();
        await(() -> stack.indexedMin() >= samples.originals().size(), stack,
            () -> "the originals indexed by both index instances (least " + stack.indexedMin() + ")");

        List<Path> uploads = new ArrayList<>();
        for (SampleSet.Copy c : samples.copies()) {
          uploads.add(c.file());
          copyOf.put("up/" + c.file().getFileName(), "orig/" + c.original().getFileName());
        }
        for (Path u : samples.unrelated()) {
          uploads.add(u);
          unrelated.add("up/" + u.getFileName());
        }
        Collections.shuffle(uploads, new Random(seed));
        for (Path u : uploads) {
          up.send("up/" + u.getFileName(), TENANT, "uploads", "it", Files.readAllBytes(u),
              u.getFileName().toString(), Map.of());
        }
        // a byte-identical copy: ingest-stream's exact-copy store (its state spread over two instances) alerts it
        Path first = samples.originals().getFirst();
        up.send("up/exact-" + first.getFileName(), TENANT, "uploads", "it", Files.readAllBytes(first),
            first.getFileName().toString(), Map.of());
        copyOf.put("up/exact-" + first.getFileName(), "orig/" + first.getFileName());
        up.flush();
      }
      int total = samples.originals().size() + copyOf.size() + unrelated.size();
      await(() -> stack.indexedMin() >= total, stack, () -> "every upload indexed by both index instances (least "
          + stack.indexedMin() + " of " + total + ")");
      await(() -> alertsById(stack.bootstrapServers(), topics).keySet().containsAll(copyOf.keySet()), stack,
          () -> "an alert for every copy; so far " + alertsById(stack.bootstrapServers(), topics).keySet());
      Thread.sleep(1000); // anything late (a duplicate) would show now

      Map<String, List<MatchAlert>> alerts = alertsById(stack.bootstrapServers(), topics);
      for (var e : copyOf.entrySet()) {
        assertThat(alerts.get(e.getKey())).as("alerts of copy %s", e.getKey()).hasSize(1);
        assertThat(alerts.get(e.getKey()).getFirst().getMatches())
            .as("the alert of %s names its original", e.getKey())
            .anySatisfy(m -> assertThat(m.getImageId()).isEqualTo(e.getValue()));
      }
      assertThat(alerts.keySet()).as("only copies alerted").containsExactlyInAnyOrderElementsOf(copyOf.keySet());
      assertThat(unrelated).noneMatch(alerts::containsKey);

      Map<String, Long> ingest = stack.ingestCounters();
      assertThat(ingest.get("prepared.upload")).as("uploads prepared, over both ingest instances").isEqualTo(total);
      assertThat(stack.embedderCounters().get("embedded")).as("records embedded, over both workers").isEqualTo(total);
      HttpClient http = HttpClient.newHttpClient();
      for (String ix : List.of("index-service-0", "index-service-1")) {
        String metrics = http.send(HttpRequest.newBuilder(URI.create(stack.endpoints().get(ix).url("/metrics")))
            .build(), HttpResponse.BodyHandlers.ofString()).body();
        var s = PrometheusText.parse(metrics);
        assertThat(PrometheusText.sum(s, "imgmatch_index_shards_owned")).as("%s owns one of the 2 shards", ix)
            .isEqualTo(1.0);
        assertThat(PrometheusText.sum(s, "imgmatch_index_shards_replicas")).as("%s replicates the other", ix)
            .isEqualTo(1.0);
      }
      assertThat(stack.problem()).isNull();
      for (String log : List.of("index-service-0", "index-service-1", "embedder-worker-0", "embedder-worker-1",
          "ingest-stream-0", "ingest-stream-1")) {
        assertThat(dir.resolve("stack/logs/" + log + ".log")).isNotEmptyFile();
      }
    }
    assertThat(processes).as("no instance process outlives the stack").noneMatch(ProcessHandle::isAlive);
    System.out.printf("whole test %.1f s%n", (System.nanoTime() - t0) / 1e9);
  }

  private static Map<String, List<MatchAlert>> alertsById(String bootstrap, Topics topics) {
    Map<String, List<MatchAlert>> out = new HashMap<>();
    for (ConsumerRecord<byte[], byte[]> r : CommittedRecords.readAll(bootstrap, topics.matchAlerts().name(),
        Duration.ofSeconds(30))) {
      MatchAlert a = topics.matchAlerts().deserializeValue(r.value());
      out.computeIfAbsent(a.getImageId().toString(), k -> new ArrayList<>()).add(a);
    }
    return out;
  }

  private static void await(BooleanSupplier done, LocalStack stack, Supplier<String> what) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(180).toNanos();
    while (!done.getAsBoolean()) {
      assertThat(stack.problem()).as("an instance stopped").isNull();
      if (System.nanoTime() > deadline) {
        throw new AssertionError("gave up waiting for " + what.get());
      }
      Thread.sleep(250);
    }
  }
}
