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
import java.util.TreeMap;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Exactly-once across rebalances: a second worker joins the group while the first is busy (partitions move to it),
 * then the first leaves cleanly (they move back). Every upload ends with exactly one embedding and every query with
 * exactly one probe (and neither on the other's topic).
 */
@ExtendWith({KafkaBrokerExtension.class, SharedEmbedder.Warm.class})
class RebalanceIT {
  static final int N = 90;

  @Test
  @Timeout(300)
  void partitionsMovingBetweenWorkersNeitherLoseNorDuplicate(KafkaBroker broker) throws Exception {
    WorkerHarness h = new WorkerHarness(broker, "rebalance");
    List<ProducerRecord<byte[], byte[]>> in = new ArrayList<>();
    List<String> uploads = new ArrayList<>();
    List<String> queries = new ArrayList<>();
    for (int k = 0; k < N; k++) {
      boolean query = k % 3 == 2; // one input in three is an image query
      String id = String.format(query ? "query-%03d" : "img-%03d", k);
      (query ? queries : uploads).add(id);
      in.add(h.topics.prepared().record(id, Fixtures.prepared(id, query ? Purpose.QUERY : Purpose.INDEX,
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
      // two inputs in three are uploads: about 10 and 40 inputs done
      h.readUntil(h.topics.embeddings().name(), l -> l.size() >= 7);
      second = new EmbedderWorker(new EmbedderWorkerConfig(b), SharedEmbedder.get(), null).start();
      h.readUntil(h.topics.embeddings().name(), l -> l.size() >= 27);
      first.close(); // its partitions move to the second worker
      assertThat(first.failure()).isNull();
      h.readUntilAll(h.topics.embeddings().name(), uploads);
      h.readUntilAll(h.topics.probes().name(), queries);
      assertThat(second.failure()).isNull();
      System.err.printf("first worker embedded %d (%d aborted), second %d (%d aborted)%n", first.embedded(),
          first.abortedTransactions(), second.embedded(), second.abortedTransactions());
    } finally {
      first.close();
      if (second != null) {
        second.close();
      }
    }
    h.assertExactlyOnce(h.topics.embeddings().name(), uploads);
    h.assertExactlyOnce(h.topics.probes().name(), queries);
  }
}
