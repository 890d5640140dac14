package dev.imgmatch.bench.embedder;

import dev.imgmatch.avro.ImageView;
import dev.imgmatch.avro.PdqHash;
import dev.imgmatch.avro.Pdq256;
import dev.imgmatch.avro.PixelEncoding;
import dev.imgmatch.avro.PreparedImage;
import dev.imgmatch.avro.Purpose;
import dev.imgmatch.avro.Sha256;
import dev.imgmatch.common.TopicSetup;
import dev.imgmatch.embedder.Embedder;
import dev.imgmatch.embedder.EmbedderOptions;
import dev.imgmatch.embedder.head.TrainingViews;
import dev.imgmatch.embedder.model.ImageOps;
import dev.imgmatch.embedder.model.RgbImage;
import dev.imgmatch.embedder.worker.EmbedderWorker;
import dev.imgmatch.embedder.worker.EmbedderWorkerConfig;
import dev.imgmatch.schemas.Topics;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.apache.kafka.metadata.bootstrap.BootstrapMetadata;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * Embedder throughput and batch latency against batch size, for the model alone ({@link Embedder#embed}) and end to
 * end through the worker (prepared → worker → embeddings under transactions, on a real broker: the inputs are
 * uploads, which go to embeddings only; queries would go to probes only). The worker's input views are 320x240 JPEGs
 * (decoded and resized by the worker); the model-alone rows take 320x240 RGB8 pixels.
 *
 * <pre>
 * java -cp "$(cat benchmarks/target/classpath.txt):benchmarks/target/classes" -Dai.djl.offline=true \
 *   dev.imgmatch.bench.embedder.EmbedderBench [--images 400] [--batch-sizes 1,4,8,16,32] [--bootstrap HOST:PORT]
 *   [--mode both|model|worker] [--inference-batch 8]
 * </pre>
 * Without {@code --bootstrap} a one-node KRaft broker runs inside the JVM. Pictures are synthetic and seeded; both
 * paths pay the resize to 224x224. Results are printed as Markdown tables.
 */
public final class EmbedderBench {
  private EmbedderBench() {}

  public static void main(String[] args) throws Exception {
    int images = 400;
    int[] sizes = {1, 4, 8, 16, 32};
    String bootstrap = null;
    String mode = "both";
    int inferenceBatch = 8;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--images" -> images = Integer.parseInt(args[++i]);
        case "--batch-sizes" -> sizes = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
        case "--bootstrap" -> bootstrap = args[++i];
        case "--mode" -> mode = args[++i];
        case "--inference-batch" -> inferenceBatch = Integer.parseInt(args[++i]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    Random rnd = new Random(7);
    List<RgbImage> pics = new ArrayList<>();
    for (int i = 0; i < 64; i++) {
      pics.add(ImageOps.fromBufferedImage(TrainingViews.synthetic(rnd, 320, 240)));
    }
    System.out.printf(Locale.ROOT, "machine: %d cores, %s %s, Java %s%n", Runtime.getRuntime().availableProcessors(),
        System.getProperty("os.name"), System.getProperty("os.arch"), System.getProperty("java.version"));
    try (Embedder embedder = Embedder.open(EmbedderOptions.defaults(), System.err::println)) {
      System.out.println("model " + embedder.modelId() + " " + embedder.modelVersion() + ", device "
          + dev.imgmatch.embedder.model.TensorFlowRuntime.describeDevice(ai.djl.engine.Engine.getEngine("TensorFlow")));
      if (!mode.equals("worker")) {
        System.out.println("\n| model alone: batch | images/s | batch p50 ms | batch p99 ms |\n|---|---|---|---|");
        for (int b : sizes) {
          List<RgbImage> batch = new ArrayList<>();
          for (int i = 0; i < b; i++) {
            batch.add(pics.get(i % pics.size()));
          }
          embedder.embed(batch); // warm-up
          int rounds = Math.max(3, images / b);
          long[] lat = new long[rounds];
          long t0 = System.nanoTime();
          for (int r = 0; r < rounds; r++) {
            long s = System.nanoTime();
            embedder.embed(batch);
            lat[r] = System.nanoTime() - s;
          }
          double secs = (System.nanoTime() - t0) / 1e9;
          row(b, rounds * b / secs, lat);
        }
      }
      if (!mode.equals("model")) {
        KafkaClusterTestKit cluster = bootstrap == null ? startBroker() : null;
        String servers = bootstrap != null ? bootstrap : cluster.bootstrapServers();
        try {
          System.out.println("\n| worker end to end: batch.max.records (inference.batch.size = min(b, " + inferenceBatch
              + ")) | images/s | batch p50 ms | batch p99 ms | share of batch time in the transaction |"
              + "\n|---|---|---|---|---|");
          for (int b : sizes) {
            worker(embedder, servers, pics, images, b, inferenceBatch);
          }
        } finally {
          if (cluster != null) {
            cluster.close();
          }
        }
      }
    }
    System.exit(0);
  }

  private static void row(int b, double perSec, long[] nanos) {
    long[] s = nanos.clone();
    Arrays.sort(s);
    System.out.printf(Locale.ROOT, "| %d | %.1f | %.1f | %.1f |%n", b, perSec, s[s.length / 2] / 1e6,
        s[Math.min(s.length - 1, (int) Math.ceil(s.length * 0.99) - 1)] / 1e6);
  }

  private static void worker(Embedder embedder, String servers, List<RgbImage> pics, int images, int b,
      int inferenceBatch) throws Exception {
    Topics topics = new Topics("bench" + b + "-" + System.nanoTime() + ".");
    List<byte[]> jpegs = new ArrayList<>();
    for (RgbImage img : pics) {
      java.io.ByteArrayOutputStream bos = new java.io.ByteArrayOutputStream();
      javax.imageio.ImageIO.write(ImageOps.toBufferedImage(img), "jpeg", bos);
      jpegs.add(bos.toByteArray());
    }
    Map<String, Object> admin = Map.of("bootstrap.servers", servers);
    TopicSetup.ensure(admin, List.of(topics.prepared(), topics.embeddings(), topics.probes(), topics.rejects()), 6,
        (short) 1);
    try (org.apache.kafka.clients.admin.Admin a = org.apache.kafka.clients.admin.Admin.create(admin)) {
      // a fresh topic answers NOT_LEADER for a moment: wait until every partition has a leader
      while (a.describeTopics(List.of(topics.prepared().name())).allTopicNames().get().values().stream()
          .flatMap(d -> d.partitions().stream()).anyMatch(pi -> pi.leader() == null || pi.leader().isEmpty())) {
        Thread.sleep(100);
      }
    }
    Map<String, Object> pp = new HashMap<>(admin);
    pp.put(ProducerConfig.ACKS_CONFIG, "all");
    pp.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    pp.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false); // plain input loader: one request in flight suffices
    pp.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1);
    List<java.util.concurrent.Future<org.apache.kafka.clients.producer.RecordMetadata>> sent = new ArrayList<>();
    try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(pp, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (int i = 0; i < images; i++) {
        RgbImage img = pics.get(i % pics.size());
        byte[] jpeg = jpegs.get(i % jpegs.size());
        String id = "img-" + i;
        PreparedImage rec = PreparedImage.newBuilder().setId(id).setPurpose(Purpose.INDEX).setTenant("t")
            .setCollection("c").setSha256(new Sha256(new byte[32]))
            .setPdq(PdqHash.newBuilder().setHash(new Pdq256(new byte[32])).setQuality(100).build())
            .setFormat("png").setWidth(img.width()).setHeight(img.height())
            .setViews(List.of(ImageView.newBuilder().setName("full").setWidth(img.width()).setHeight(img.height())
                .setEncoding(PixelEncoding.JPEG).setPixels(ByteBuffer.wrap(jpeg)).build()))
            .setSubmittedAtMs(0).setPreparedAtMs(0).build();
        sent.add(p.send(topics.prepared().record(id, rec)));
      }
      p.flush();
      for (var f : sent) {
        f.get(); // every input must be in the topic, or the measurement waits forever
      }
    }
    Map<String, String> s = new HashMap<>();
    s.put("kafka.bootstrap.servers", servers);
    s.put("topic.prefix", topics.prefix());
    s.put("group.id", "bench-" + topics.prefix());
    s.put("transactional.id", "bench-tx-" + topics.prefix());
    s.put("batch.max.records", String.valueOf(b));
    s.put("inference.batch.size", String.valueOf(Math.min(b, inferenceBatch)));
    s.put("queue.capacity", String.valueOf(Math.max(64, 2 * b)));
    s.put("batch.max.latency.ms", "50");
    ConcurrentLinkedQueue<Long> lat = new ConcurrentLinkedQueue<>();
    AtomicLong done = new AtomicLong();
    AtomicLong first = new AtomicLong();
    AtomicLong last = new AtomicLong();
    AtomicLong commitNanos = new AtomicLong();
    AtomicLong totalNanos = new AtomicLong();
    EmbedderWorker.BatchListener l = (records, pictures, embed, nanos) -> {
      long now = System.nanoTime();
      first.compareAndSet(0, now - nanos);
      last.set(now);
      lat.add(nanos);
      commitNanos.addAndGet(nanos - embed);
      totalNanos.addAndGet(nanos);
      done.addAndGet(records);
    };
    try (EmbedderWorker w = new EmbedderWorker(new EmbedderWorkerConfig(s), embedder, l).start()) {
      while (done.get() < images) {
        if (w.failure() != null) {
          throw new IllegalStateException("worker failed", w.failure());
        }
        Thread.sleep(50);
      }
    }
    long[] ls = lat.stream().mapToLong(Long::longValue).toArray();
    // the first batch waits for the group to form; measure the steady state from its end
    long[] s2 = ls.clone();
    Arrays.sort(s2);
    System.out.printf(Locale.ROOT, "| %d | %.1f | %.1f | %.1f | %.0f %% |%n", b, images / ((last.get() - first.get()) / 1e9),
        s2[s2.length / 2] / 1e6, s2[Math.min(s2.length - 1, (int) Math.ceil(s2.length * 0.99) - 1)] / 1e6,
        100.0 * commitNanos.get() / totalNanos.get());
  }

  /** A one-node KRaft cluster inside this JVM, production features (EOS v2 needs transaction.version 2). */
  static KafkaClusterTestKit startBroker() throws Exception {
    Map<String, Short> features = new HashMap<>();
    for (Feature f : Feature.PRODUCTION_FEATURES) {
      if (f != Feature.KRAFT_VERSION) {
        features.put(f.featureName(), f.latestProduction());
      }
    }
    BootstrapMetadata meta = BootstrapMetadata.fromVersions(MetadataVersion.latestProduction(), features, "bench");
    TestKitNodes nodes = new TestKitNodes.Builder(meta).setCombined(true).setNumBrokerNodes(1)
        .setNumControllerNodes(1).build();
    KafkaClusterTestKit.Builder builder = new KafkaClusterTestKit.Builder(nodes);
    Map<String, String> props = Map.of("offsets.topic.replication.factor", "1",
        "transaction.state.log.replication.factor", "1", "transaction.state.log.min.isr", "1",
        "min.insync.replicas", "1", "group.initial.rebalance.delay.ms", "0", "message.max.bytes", "23068672",
        "unstable.api.versions.enable", "false", "unstable.feature.versions.enable", "false",
        "log.cleaner.dedupe.buffer.size", "16777216");
    props.forEach(builder::setConfigProp);
    KafkaClusterTestKit c = builder.build();
    c.format();
    c.startup();
    c.waitForReadyBrokers();
    return c;
  }
}
