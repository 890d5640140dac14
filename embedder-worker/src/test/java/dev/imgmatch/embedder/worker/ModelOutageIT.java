package dev.imgmatch.embedder.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.PixelEncoding;
import dev.imgmatch.avro.Purpose;
import dev.imgmatch.embedder.Embedder;
import dev.imgmatch.embedder.Fixtures;
import dev.imgmatch.embedder.PictureEmbedder;
import dev.imgmatch.embedder.model.RgbImage;
import dev.imgmatch.testkit.KafkaBroker;
import dev.imgmatch.testkit.KafkaBrokerExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A model that fails on every input for a while, on the real broker: the workers wait it out (retrying, not ready,
 * their partitions paused while they keep polling, a rebalance in the middle), then every upload has exactly one
 * embedding, every query exactly one probe, and nothing is rejected. The model is a stand-in (no TensorFlow): the
 * test is about the worker.
 */
@ExtendWith(KafkaBrokerExtension.class)
class ModelOutageIT {
  static final int N = 40;

  /** A descriptor that throws on every call while {@code down}, like an engine whose session broke. */
  static final class FlakyModel implements PictureEmbedder {
    final AtomicBoolean down = new AtomicBoolean(true);

    @Override
    public String modelId() {
      return "flaky";
    }

    @Override
    public String modelVersion() {
      return "v1";
    }

    @Override
    public int dim() {
      return 4;
    }

    @Override
    public List<Embedder.Embedding> embed(List<RgbImage> images) {
      if (down.get()) {
        throw new IllegalStateException("simulated engine failure: CUDA_ERROR_OUT_OF_MEMORY");
      }
      List<Embedder.Embedding> out = new ArrayList<>();
      for (RgbImage img : images) {
        byte[] p = img.rgb();
        out.add(new Embedder.Embedding(new float[] {p[0], p[1], p[2], 1f}, Map.of()));
      }
      return out;
    }

    @Override
    public void close() {}
  }

  private static void await(BooleanSupplier condition) throws InterruptedException {
    while (!condition.getAsBoolean()) { // no timing assertion: the test's timeout bounds it
      Thread.sleep(50);
    }
  }

  @Test
  @Timeout(180)
  void aModelDownForAWhileIsWaitedOutAndEveryInputIsEmbeddedOnceWithoutRejects(KafkaBroker broker) throws Exception {
    WorkerHarness h = new WorkerHarness(broker, "outage");
    List<ProducerRecord<byte[], byte[]>> in = new ArrayList<>();
    List<String> uploads = new ArrayList<>();
    List<String> queries = new ArrayList<>();
    for (int k = 0; k < N; k++) {
      boolean query = k % 4 == 3; // one input in four is an image query
      String id = String.format(query ? "query-%03d" : "img-%03d", k);
      (query ? queries : uploads).add(id);
      in.add(h.topics.prepared().record(id, Fixtures.prepared(id, query ? Purpose.QUERY : Purpose.INDEX,
          List.of(Fixtures.view("full", Fixtures.picture(k, 16, 16), PixelEncoding.RGB8)))));
    }
    h.produce(in);
    Map<String, String> settings = new TreeMap<>(h.settings());
    settings.put("embed.retry.backoff.ms", "20");
    settings.put("embed.retry.backoff.max.ms", "200");
    settings.put("embed.retry.max.ms", "600000"); // never spent here
    settings.put("kafka.session.timeout.ms", "6000");
    settings.put("kafka.heartbeat.interval.ms", "1000");
    settings.put("kafka.max.poll.interval.ms", "3000"); // far shorter than the outage: polling must go on
    FlakyModel model = new FlakyModel();

    try (EmbedderWorker first = new EmbedderWorker(new EmbedderWorkerConfig(settings), model, null).start()) {
      await(() -> first.modelRetries() >= 25); // several seconds of outage, longer than max.poll.interval.ms
      assertThat(first.notReady()).contains("model failing").contains("CUDA_ERROR_OUT_OF_MEMORY");
      assertThat(first.pauses()).as("the queue filled up: partitions paused, polling went on").isPositive();

      // a second instance joins during the outage: the first's back-off gives way to the rebalance at once
      Map<String, String> second = new TreeMap<>(settings);
      second.put("transactional.id", h.txId + "-2");
      try (EmbedderWorker other = new EmbedderWorker(new EmbedderWorkerConfig(second), model, null).start()) {
        await(() -> other.modelRetries() >= 3 && first.modelRetries() >= 30); // both own partitions, both waiting
        assertThat(h.readAll(h.topics.embeddings().name())).isEmpty();
        assertThat(h.readAll(h.topics.probes().name())).isEmpty();
        assertThat(h.readAll(h.topics.rejects().name())).as("nothing is rejected while the model is down").isEmpty();

        model.down.set(false);
        h.readUntilAll(h.topics.embeddings().name(), uploads);
        h.readUntilAll(h.topics.probes().name(), queries);
        await(() -> first.notReady() == null && other.notReady() == null);
        assertThat(first.failure()).isNull();
        assertThat(other.failure()).isNull();
        System.err.printf("outage waited out: %d + %d retries, %d + %d embedded, %d pauses%n", first.modelRetries(),
            other.modelRetries(), first.embedded(), other.embedded(), first.pauses());
      }
    }
    h.assertExactlyOnce(h.topics.embeddings().name(), uploads);
    h.assertExactlyOnce(h.topics.probes().name(), queries);
    assertThat(h.readAll(h.topics.rejects().name())).isEmpty();
  }
}
