package dev.imgmatch.embedder.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.PixelEncoding;
import dev.imgmatch.avro.PreparedImage;
import dev.imgmatch.avro.Purpose;
import dev.imgmatch.embedder.Embedder;
import dev.imgmatch.embedder.Fixtures;
import dev.imgmatch.embedder.SharedEmbedder;
import dev.imgmatch.testkit.KafkaBroker;
import dev.imgmatch.testkit.KafkaBrokerExtension;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A fenced transaction is not the end of the worker (on the real broker): another producer takes the worker's
 * transactional id once (what the worker sees when the coordinator aborted its transaction on its own after a broker
 * outage, KAFKA-20785); the worker replaces its producer, redoes the batch, and every record still ends on
 * {@code embeddings} exactly once.
 */
@ExtendWith({KafkaBrokerExtension.class, SharedEmbedder.Warm.class})
class FencedProducerIT {
  @Test
  @Timeout(300)
  void aWorkerFencedOnceReplacesItsProducerAndLosesNothing(KafkaBroker broker) throws Exception {
    WorkerHarness h = new WorkerHarness(broker, "fenced");
    Embedder embedder = SharedEmbedder.get();
    EmbedderWorkerConfig cfg = new EmbedderWorkerConfig(h.settings());
    List<String> ids = new ArrayList<>();
    try (EmbedderWorker worker = new EmbedderWorker(cfg, embedder, null).start()) {
      h.produce(batch(h, 0, 4, ids));
      h.readUntilAll(h.topics.embeddings().name(), ids);

      // another producer initialises the worker's transactional id: the worker's producer is fenced
      Map<String, Object> props = new HashMap<>(broker.clientProps());
      props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, h.txId);
      try (KafkaProducer<byte[], byte[]> zombie = new KafkaProducer<>(props, new ByteArraySerializer(),
          new ByteArraySerializer())) {
        zombie.initTransactions();
      }
      h.produce(batch(h, 4, 8, ids));
      h.readUntilAll(h.topics.embeddings().name(), ids);
      assertThat(worker.failure()).as("the worker goes on").isNull();
      assertThat(worker.isRunning()).isTrue();
      h.assertExactlyOnce(h.topics.embeddings().name(), ids);
    }
  }

  private static List<ProducerRecord<byte[], byte[]>> batch(WorkerHarness h, int from, int to, List<String> ids) {
    List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>();
    for (int i = from; i < to; i++) {
      String id = "img-" + i;
      ids.add(id);
      PreparedImage p = Fixtures.prepared(id, Purpose.INDEX,
          List.of(Fixtures.view("full", Fixtures.picture(100 + i, 160, 120), PixelEncoding.RGB8)));
      out.add(h.topics.prepared().record(id, p));
    }
    return out;
  }
}
