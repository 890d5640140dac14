package dev.imgmatch.embedder.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.PixelEncoding;
import dev.imgmatch.avro.Purpose;
import dev.imgmatch.embedder.Fixtures;
import dev.imgmatch.embedder.SharedEmbedder;
import dev.imgmatch.testkit.KafkaBroker;
import dev.imgmatch.testkit.KafkaBrokerExtension;
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
 * Exactly-once across rebalances: a second worker joins the group while the first is busy (partitions move to it),
 * then the first leaves cleanly (they move back). Every input ends with exactly one embedding and one probe.
 */
@ExtendWith(KafkaBrokerExtension.class)
class RebalanceIT {
  static final int N = 90;

  @Test
  @Timeout(300)
  void partitionsMovingBetweenWorkersNeitherLoseNorDuplicate(KafkaBroker broker) throws Exception {
    WorkerHarness h = new WorkerHarness(broker, "rebalance");
    List<ProducerRecord<byte[], byte[]>> in = new ArrayList<>();
    for (int k = 0; k < N; k++) {
      String id = String.format("img-%03d", k);
      in.add(h.topics.prepared().record(id, Fixtures.prepared(id, Purpose.INDEX,
          List.of(Fixtures.view("full", Fixtures.picture(100 + k, 200, 200), PixelEncoding.RGB8)))));
    }
    h.produce(in);
    Map<String, String> a = new TreeMap<>(h.settings());
    a.put("batch.max.records", "4");
    a.put("kafka.session.timeout.ms", "6000");
    a.put("kafka.heartbeat.interval.ms", "1000");
    Map<String, String> b = new TreeMap<>(a);
    b.put("transactional.id", h.txId + "-b");
    EmbedderWorker first = new EmbedderWorker(new EmbedderWorkerConfig(a), SharedEmbedder.get(), null).start();
    EmbedderWorker second = null;
    try {
      h.readUntil(h.topics.embeddings().name(), l -> l.size() >= 10);
      second = new EmbedderWorker(new EmbedderWorkerConfig(b), SharedEmbedder.get(), null).start();
      h.readUntil(h.topics.embeddings().name(), l -> l.size() >= 40);
      first.close(); // its partitions move to the second worker
      assertThat(first.failure()).isNull();
      h.readUntil(h.topics.embeddings().name(),
          l -> l.stream().map(WorkerHarness::key).collect(Collectors.toSet()).size() >= N);
      h.readUntil(h.topics.probes().name(),
          l -> l.stream().map(WorkerHarness::key).collect(Collectors.toSet()).size() >= N);
      assertThat(second.failure()).isNull();
      System.err.printf("first worker embedded %d (%d aborted), second %d (%d aborted)%n", first.embedded(),
          first.abortedTransactions(), second.embedded(), second.abortedTransactions());
    } finally {
      first.close();
      if (second != null) {
        second.close();
      }
    }
    for (String topic : List.of(h.topics.embeddings().name(), h.topics.probes().name())) {
      List<ConsumerRecord<byte[], byte[]>> all = h.readAll(topic);
      Map<String, Long> counts = all.stream().collect(Collectors.groupingBy(WorkerHarness::key, TreeMap::new,
          Collectors.counting()));
      assertThat(counts).as("records per id on %s", topic).hasSize(N);
      assertThat(Set.copyOf(counts.values())).as("every id exactly once on %s", topic).containsExactly(1L);
    }
  }
}
