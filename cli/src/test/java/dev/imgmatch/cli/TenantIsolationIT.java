package dev.imgmatch.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.avro.MatchedImage;
import dev.imgmatch.avro.QueryReply;
import dev.imgmatch.avro.ReplyStatus;
import dev.imgmatch.cli.samples.SampleImages;
import dev.imgmatch.client.AlertWatcher;
import dev.imgmatch.client.QueryClient;
import dev.imgmatch.common.KafkaResources;
import dev.imgmatch.common.TopicSetup;
import dev.imgmatch.embedder.Embedder;
import dev.imgmatch.embedder.worker.EmbedderWorker;
import dev.imgmatch.embedder.worker.EmbedderWorkerConfig;
import dev.imgmatch.index.IndexService;
import dev.imgmatch.index.IndexServiceConfig;
import dev.imgmatch.ingest.IngestConfig;
import dev.imgmatch.ingest.IngestStreamApp;
import dev.imgmatch.schemas.Topics;
import dev.imgmatch.testkit.SecureKafkaBroker;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tenant-per-prefix mode of docs/SECURITY.md on a broker that authenticates (SASL/PLAIN) and authorizes
 * (StandardAuthorizer, nothing without an ACL): tenant A's user holds only {@link KafkaResources#acls} on
 * {@code a.}, tenant B's on {@code b.}. Tenant A's whole stack (index-service, the real model in embedder-worker,
 * ingest-stream) and its CLI run with A's credentials alone and catch a copy; A's credentials can neither read,
 * write, create, list, join nor transact anything of B's.
 */
class TenantIsolationIT {
  static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir
  Path dir;

  @Test
  void aTenantsStackRunsOnItsPrefixAloneAndItsCredentialsReachNothingOfAnotherTenant() throws Exception {
    try (SecureKafkaBroker broker = SecureKafkaBroker.start(List.of("tenant-a", "tenant-b"))) {
      broker.allow(KafkaResources.acls("User:tenant-a", "a."));
      broker.allow(KafkaResources.acls("User:tenant-b", "b."));
      Map<String, Object> userA = broker.clientProps("tenant-a");
      Topics a = new Topics("a.");
      Topics b = new Topics("b.");
      // tenant B's deployment exists, created with B's own rights
      assertThat(TopicSetup.ensureAll(broker.clientProps("tenant-b"), b, 1, (short) 1)).hasSize(b.all().size());

      runsTenantAsStack(broker, userA, a);
      reachesNothingOf(b, userA);
    }
  }

  /** Tenant A's services and CLI, with A's credentials only, end to end: a copy of a protected image is caught. */
  private void runsTenantAsStack(SecureKafkaBroker broker, Map<String, Object> userA, Topics a) throws Exception {
    Map<String, String> common = new HashMap<>();
    userA.forEach((k, v) -> common.put("kafka." + k, String.valueOf(v)));
    common.put("topic.prefix", a.prefix());
    common.put("topic.partitions", "1");

    Map<String, String> ix = new HashMap<>(common);
    ix.put(IndexServiceConfig.INDEX_DIR, dir.resolve("index").toString());
    ix.put(IndexServiceConfig.COMMIT_INTERVAL_MS, "300");
    Map<String, String> em = new HashMap<>(common);
    Map<String, String> in = new HashMap<>(common);
    in.put(IngestConfig.STATE_DIR, dir.resolve("ingest").toString());
    in.put(IngestConfig.STREAM_THREADS, "1");
    EmbedderWorkerConfig ec = new EmbedderWorkerConfig(em);
    try (IndexService index = new IndexService(new IndexServiceConfig(ix)).start(); // creates a.* with A's rights
        Embedder model = Embedder.open(ec.embedderOptions(), m -> System.err.println("[model] " + m));
        EmbedderWorker worker = new EmbedderWorker(ec, model, null).start();
        IngestStreamApp ingest = new IngestStreamApp(new IngestConfig(in));
        AlertWatcher alerts = new AlertWatcher(userA, a, x -> { })) {
      assertThat(index.awaitReady(WAIT)).as("index-service ready: " + index.failure()).isTrue();
      ingest.start();
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (ingest.state() != KafkaStreams.State.RUNNING && System.nanoTime() < deadline) {
        assertThat(ingest.state()).isNotEqualTo(KafkaStreams.State.ERROR);
        Thread.sleep(100);
      }
      assertThat(ingest.state()).isEqualTo(KafkaStreams.State.RUNNING);
      assertThat(worker.isRunning()).as("embedder-worker runs: " + worker.failure()).isTrue();

      BufferedImage original = SampleImages.original(7, 480, 360);
      Path protectedDir = Files.createDirectories(dir.resolve("protected"));
      Path uploadsDir = Files.createDirectories(dir.resolve("uploads"));
      Files.write(protectedDir.resolve("work.png"), SampleImages.png(original));
      Files.write(uploadsDir.resolve("copy.jpg"),
          SampleImages.jpeg(SampleImages.edit(original, SampleImages.Edit.CAPTION, 7), 0.85f));
      Path kafkaConfig = dir.resolve("tenant-a.properties");
      Properties p = new Properties();
      userA.forEach((k, v) -> p.setProperty(k, String.valueOf(v)));
      try (var w = Files.newBufferedWriter(kafkaConfig)) {
        p.store(w, "tenant A's client settings");
      }
      String[] client = {"-b", broker.bootstrapServers(), "--topic-prefix", a.prefix(), "--kafka-config",
          kafkaConfig.toString(), "--tenant", "acme"};
      assertThat(cli(concat(new String[] {"upload", "--collection", "protected"}, client, protectedDir.toString())))
          .as("upload with tenant A's credentials").isZero();
      assertThat(awaitTrue(() -> index.counters().get("indexed") >= 1)).as("the work is indexed").isTrue();
      assertThat(cli(concat(new String[] {"upload"}, client, uploadsDir.toString()))).isZero();

      assertThat(awaitTrue(() -> alerts.alerts().stream().anyMatch(x -> x.getImageId().equals("copy.jpg"))))
          .as("the copy raises an alert on a.match-alerts").isTrue();
      MatchAlert alert = alerts.alerts().stream().filter(x -> x.getImageId().equals("copy.jpg")).findFirst().orElseThrow();
      assertThat(alert.getMatches()).extracting(MatchedImage::getImageId).contains("work.png");

      try (QueryClient queries = new QueryClient(userA, a)) {
        QueryReply r = queries.byImageId("acme", "work.png", 3, Duration.ofSeconds(20)).get(30, TimeUnit.SECONDS);
        assertThat(r.getStatus()).isEqualTo(ReplyStatus.OK);
        assertThat(r.getResults()).extracting(MatchedImage::getImageId).contains("copy.jpg");
      }
      assertThat(index.failure()).isEmpty();
      assertThat(worker.failure()).isNull();
    }
  }

  /** With tenant A's credentials, every way into tenant B's prefix is refused by the broker. */
  private static void reachesNothingOf(Topics b, Map<String, Object> userA) throws Exception {
    Map<String, Object> pp = new HashMap<>(userA);
    pp.put("max.block.ms", "10000");
    try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(pp, new ByteArraySerializer(), new ByteArraySerializer())) {
      Throwable t = catchThrowable(() -> p.send(new ProducerRecord<>(b.uploads().name(), new byte[] {1})).get());
      assertThat(t).as("writing b.uploads").hasRootCauseInstanceOf(TopicAuthorizationException.class);
    }
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(userA, new ByteArrayDeserializer(),
        new ByteArrayDeserializer())) {
      c.assign(List.of(new TopicPartition(b.matchAlerts().name(), 0)));
      assertThat(pollUntilFailure(c)).as("reading b.match-alerts").isInstanceOf(TopicAuthorizationException.class);
    }
    Map<String, Object> cp = new HashMap<>(userA);
    cp.put("group.id", b.prefix() + KafkaResources.INDEX_GROUP);
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(cp, new ByteArrayDeserializer(),
        new ByteArrayDeserializer())) {
      c.subscribe(List.of(new Topics("a.").uploads().name()));
      assertThat(pollUntilFailure(c)).as("joining tenant B's group").isInstanceOf(GroupAuthorizationException.class);
    }
    Map<String, Object> tp = new HashMap<>(pp);
    tp.put("transactional.id", b.prefix() + KafkaResources.EMBEDDER_GROUP + "-intruder");
    try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(tp, new ByteArraySerializer(), new ByteArraySerializer())) {
      assertThat(catchThrowable(p::initTransactions)).as("a transactional id of tenant B's")
          .isInstanceOf(TransactionalIdAuthorizationException.class);
    }
    try (Admin admin = Admin.create(userA)) {
      assertThat(admin.listTopics().names().get(30, TimeUnit.SECONDS)).as("tenant B's topics are not even listed")
          .isNotEmpty().allSatisfy(n -> assertThat(n).startsWith("a."));
      for (String name : List.of(b.prefix() + "extra", "c.anything")) {
        Throwable t = catchThrowable(() -> admin.createTopics(List.of(new NewTopic(name, 1, (short) 1))).all()
            .get(30, TimeUnit.SECONDS));
        assertThat(t).as("creating " + name).hasCauseInstanceOf(TopicAuthorizationException.class);
      }
    }
  }

  private static Throwable pollUntilFailure(KafkaConsumer<byte[], byte[]> c) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      try {
        c.poll(Duration.ofMillis(200));
      } catch (RuntimeException e) {
        return e;
      }
    }
    return null;
  }

  private static int cli(String... args) {
    PrintStream old = System.out;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
    try {
      return Main.execute(args);
    } finally {
      System.setOut(old);
    }
  }

  private static String[] concat(String[] head, String[] mid, String... tail) {
    String[] all = new String[head.length + mid.length + tail.length];
    System.arraycopy(head, 0, all, 0, head.length);
    System.arraycopy(mid, 0, all, head.length, mid.length);
    System.arraycopy(tail, 0, all, head.length + mid.length, tail.length);
    return all;
  }

  @FunctionalInterface
  interface Condition {
    boolean holds() throws Exception;
  }

  private static boolean awaitTrue(Condition c) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      if (c.holds()) {
        return true;
      }
      Thread.sleep(100);
    }
    return c.holds();
  }
}
