package dev.imgmatch.bench.index;

import dev.imgmatch.avro.ImageEmbedding;
import dev.imgmatch.avro.Pdq256;
import dev.imgmatch.avro.PdqHash;
import dev.imgmatch.avro.Purpose;
import dev.imgmatch.avro.Sha256;
import dev.imgmatch.avro.Thumbnail;
import dev.imgmatch.common.TopicSetup;
import dev.imgmatch.index.IndexService;
import dev.imgmatch.index.IndexServiceConfig;
import dev.imgmatch.ops.LocalBroker;
import dev.imgmatch.schemas.Topics;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * How long a shard moved to an instance without its files takes to come back (issue 15): N uploads' embeddings on one
 * partition (160-d descriptors, PDQ, a 64x48 thumbnail each, as the embedder writes them) are indexed by one
 * index-service (first pass, alerts committed), then a second instance of the same group starts on an empty disk and
 * rebuilds the shard from the topic (records before the committed alerts offset are indexed without matching). A
 * real broker ({@link LocalBroker}, a JVM of its own) and the real service; the first pass is the baseline.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp "benchmarks/target/classes:$(cat benchmarks/target/classpath.txt)" \
 *   dev.imgmatch.bench.index.RebuildBench --n 100000 [--dim 160] [--seed S] [--dir D]</pre>
 */
public final class RebuildBench {
  private RebuildBench() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> a = dev.imgmatch.bench.BenchArgs.parse(args, "[--n 100000] [--dim 160] [--seed S] [--dir D]");
    int n = Integer.parseInt(a.getOrDefault("n", "100000"));
    int dim = Integer.parseInt(a.getOrDefault("dim", "160"));
    long seed = Long.parseLong(a.getOrDefault("seed", "20261203"));
    Path dir = a.containsKey("dir") ? Path.of(a.get("dir")) : Files.createTempDirectory("rebuild-bench");
    System.out.printf(Locale.ROOT, "n=%d dim=%d seed=%d dir=%s%n", n, dim, seed, dir);
    try (LocalBroker broker = LocalBroker.start(new LocalBroker.Options(dir.resolve("broker"), 0, 0, "1g",
        Duration.ofMinutes(2)))) {
      Topics topics = new Topics("rb.");
      Map<String, Object> admin = Map.of("bootstrap.servers", broker.bootstrapServers());
      TopicSetup.ensureAll(admin, topics, 1, (short) 1);
      long t0 = System.nanoTime();
      produce(broker.bootstrapServers(), topics, n, dim, new Random(seed));
      System.out.printf(Locale.ROOT, "produced %d embeddings in %.1f s%n", n, (System.nanoTime() - t0) / 1e9);
      double first = run(broker, topics, dir.resolve("index-1"), n, "first indexing (baseline)", -1);
      run(broker, topics, dir.resolve("index-2"), n, "rebuild on an empty disk", first);
    }
  }

  private static double run(LocalBroker broker, Topics topics, Path indexDir, int n, String what, double baseline)
      throws Exception {
    Map<String, String> s = new HashMap<>();
    s.put(IndexServiceConfig.BOOTSTRAP, broker.bootstrapServers());
    s.put(IndexServiceConfig.TOPIC_PREFIX, topics.prefix());
    s.put(IndexServiceConfig.GROUP_ID, "rb-index");
    s.put(IndexServiceConfig.INDEX_DIR, indexDir.toString());
    s.put(IndexServiceConfig.HTTP_PORT, "-1");
    long t0 = System.nanoTime();
    try (IndexService svc = new IndexService(new IndexServiceConfig(s)).start()) {
      long lastPrint = System.nanoTime();
      while (svc.counters().get("indexed") < n) {
        if (svc.failure().isPresent()) {
          throw new IllegalStateException("index-service failed", svc.failure().get());
        }
        if (System.nanoTime() - lastPrint > 30_000_000_000L) {
          System.out.printf(Locale.ROOT, "  %s: %d of %d%n", what, svc.counters().get("indexed"), n);
          lastPrint = System.nanoTime();
        }
        Thread.sleep(200);
      }
      double secs = (System.nanoTime() - t0) / 1e9;
      System.out.printf(Locale.ROOT, "%-30s %7.1f s  %6.0f images/s%s  (counters %s)%n", what, secs, n / secs,
          baseline > 0 ? String.format(Locale.ROOT, "  %.2fx the baseline", secs / baseline) : "", svc.counters());
      return secs;
    }
  }

  private static void produce(String bootstrap, Topics topics, int n, int dim, Random rnd) throws Exception {
    Map<String, Object> p = new HashMap<>();
    p.put("bootstrap.servers", bootstrap);
    p.put("acks", "all");
    p.put("linger.ms", 20);
    p.put("batch.size", 512 * 1024);
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(),
        new ByteArraySerializer())) {
      long now = System.currentTimeMillis();
      for (int i = 0; i < n; i++) {
        ImageEmbedding e = embedding("img-" + i, dim, rnd, now - n + i);
        ProducerRecord<byte[], byte[]> r = topics.embeddings().record(e.getId(), e);
        producer.send(new ProducerRecord<>(r.topic(), 0, r.key(), r.value()));
      }
      producer.flush();
    }
  }

  private static ImageEmbedding embedding(String id, int dim, Random rnd, long t) {
    List<Float> v = new ArrayList<>(dim);
    double norm = 0;
    float[] f = new float[dim];
    for (int j = 0; j < dim; j++) {
      f[j] = (float) rnd.nextGaussian();
      norm += f[j] * f[j];
    }
    for (int j = 0; j < dim; j++) {
      v.add((float) (f[j] / Math.sqrt(norm)));
    }
    byte[] pdq = new byte[32];
    byte[] sha = new byte[32];
    byte[] gray = new byte[64 * 48];
    rnd.nextBytes(pdq);
    rnd.nextBytes(sha);
    rnd.nextBytes(gray);
    return ImageEmbedding.newBuilder().setId(id).setPurpose(Purpose.INDEX).setTenant("t").setCollection("protected")
        .setModelId("bench").setModelVersion("bench-v1").setVector(v).setSha256(new Sha256(sha))
        .setPdq(new PdqHash(new Pdq256(pdq), 90)).setThumbnail(new Thumbnail(64, 48, ByteBuffer.wrap(gray)))
        .setSubmittedAtMs(t).setPreparedAtMs(t).setEmbeddedAtMs(t).build();
  }
}
