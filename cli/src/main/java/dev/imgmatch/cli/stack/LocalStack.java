package dev.imgmatch.cli.stack;

import dev.imgmatch.common.MatchRules;
import dev.imgmatch.common.ServiceEndpoint;
import dev.imgmatch.common.TopicSetup;
import dev.imgmatch.embedder.Embedder;
import dev.imgmatch.embedder.worker.EmbedderWorker;
import dev.imgmatch.embedder.worker.EmbedderWorkerConfig;
import dev.imgmatch.index.IndexService;
import dev.imgmatch.index.IndexServiceConfig;
import dev.imgmatch.ingest.IngestConfig;
import dev.imgmatch.ingest.IngestStreamApp;
import dev.imgmatch.ops.LocalBroker;
import dev.imgmatch.schemas.Topics;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.kafka.streams.KafkaStreams;

/**
 * The whole pipeline on one machine: a local broker (a separate JVM, unless a bootstrap address is given), the
 * topics, and ingest-stream, embedder-worker and index-service in this JVM, each with its health/metrics endpoint.
 * Used by {@code demo}, {@code up}, {@code scan} and {@code eval}.
 */
public final class LocalStack implements AutoCloseable {

  /**
   * @param dataDir broker data, ingest state and index live under it
   * @param bootstrap an existing cluster, or null to start a local broker
   * @param topicPrefix topic prefix
   * @param partitions partitions of new topics (index shards)
   * @param httpPort first port of the three service endpoints (ingest, embedder, index); 0 = free ports, -1 = none
   * @param ingest extra ingest-stream settings
   * @param embedder extra embedder-worker settings
   * @param index extra index-service settings
   */
  public record Options(Path dataDir, String bootstrap, String topicPrefix, int partitions, int httpPort,
      Map<String, String> ingest, Map<String, String> embedder, Map<String, String> index) {
    public Options {
      if (partitions < 1) {
        throw new IllegalArgumentException("partitions must be >= 1, got " + partitions);
      }
      ingest = Map.copyOf(ingest);
      embedder = Map.copyOf(embedder);
      index = Map.copyOf(index);
    }

    public static Options defaults(Path dataDir) {
      return new Options(dataDir, null, Topics.DEFAULT_PREFIX, 2, 0, Map.of(), Map.of(), Map.of());
    }

    public Options with(Map<String, String> ingestMore, Map<String, String> embedderMore, Map<String, String> indexMore) {
      return new Options(dataDir, bootstrap, topicPrefix, partitions, httpPort, merge(ingest, ingestMore),
          merge(embedder, embedderMore), merge(index, indexMore));
    }

    /**
     * The one {@code match.rules} both ingest-stream and index-service run with: set for either, it applies to both
     * (ingest-stream alerts the exact copies the rules match and index-service leaves exactly those out, so the two
     * must agree); null when neither sets it (both take the default).
     *
     * @throws IllegalArgumentException when ingest and index are given different rules
     */
    public String matchRules() {
      String in = ingest.get(MatchRules.KEY);
      String ix = index.get(MatchRules.KEY);
      if (in != null && ix != null && !MatchRules.parse(in).equals(MatchRules.parse(ix))) {
        throw new IllegalArgumentException(MatchRules.KEY + " must be one rule set for ingest and index, got '" + in
            + "' and '" + ix + "': set it once");
      }
      return ix != null ? ix : in;
    }

    public Options withBootstrap(String b) {
      return new Options(dataDir, b, topicPrefix, partitions, httpPort, ingest, embedder, index);
    }

    private static Map<String, String> merge(Map<String, String> a, Map<String, String> b) {
      Map<String, String> m = new HashMap<>(a);
      m.putAll(b);
      return m;
    }
  }

  private final Options options;
  /** Closed last-started first: services stop before the broker. */
  private final java.util.Deque<AutoCloseable> toClose = new java.util.ArrayDeque<>();
  private LocalBroker broker;
  private String bootstrap;
  private IngestStreamApp ingest;
  private Embedder embedder;
  private EmbedderWorker worker;
  private IndexService index;
  private final Map<String, ServiceEndpoint> endpoints = new LinkedHashMap<>();

  private LocalStack(Options options) {
    this.options = options;
  }

  /** Starts everything and waits until each service is ready; progress lines go to {@code progress}. */
  public static LocalStack start(Options o, Consumer<String> progress) throws Exception {
    LocalStack s = new LocalStack(o);
    try {
      s.startAll(progress);
      return s;
    } catch (Exception | Error e) {
      s.close();
      throw e;
    }
  }

  private void startAll(Consumer<String> progress) throws Exception {
    // one rule set for ingest-stream and index-service, checked before anything starts
    String rules = options.matchRules();
    Files.createDirectories(options.dataDir());
    long t0 = System.nanoTime();
    if (options.bootstrap() == null) {
      progress.accept("starting a local Kafka broker (KRaft, separate JVM) ...");
      broker = LocalBroker.start(LocalBroker.Options.defaults(options.dataDir().resolve("broker")));
      toClose.push(broker);
      bootstrap = broker.bootstrapServers();
      progress.accept("broker ready at " + bootstrap + secs(t0));
    } else {
      bootstrap = options.bootstrap();
      progress.accept("using the Kafka cluster at " + bootstrap);
    }
    Topics topics = new Topics(options.topicPrefix());
    Map<String, Object> admin = new HashMap<>();
    admin.put("bootstrap.servers", bootstrap);
    var created = TopicSetup.ensureAll(admin, topics, options.partitions(), (short) 1);
    progress.accept(created.isEmpty() ? "topics exist" : "created " + created.size() + " topics with "
        + options.partitions() + " partition(s) each");

    Map<String, String> common = Map.of("kafka.bootstrap.servers", bootstrap, "topic.prefix", options.topicPrefix());
    // the services name their groups, transactional ids and Kafka Streams internal topics after the topic prefix
    // (KafkaResources), so several stacks can share one cluster (tests, eval next to a running `up`)

    long t1 = System.nanoTime();
    progress.accept("starting index-service ...");
    Map<String, String> ix = new HashMap<>(common);
    ix.put("index.dir", options.dataDir().resolve("index").toString());
    ix.put("topic.create", "false");
    ix.putAll(options.index());
    if (rules != null) {
      ix.put(MatchRules.KEY, rules);
    }
    index = new IndexService(IndexServiceConfig.load(null, Map.of(), ix));
    toClose.push(index);
    index.start();
    if (!index.awaitReady(Duration.ofSeconds(120))) {
      throw new IllegalStateException("index-service did not become ready: " + index.failure().map(Throwable::toString).orElse("timeout"));
    }
    progress.accept("index-service ready" + secs(t1));
    endpoint("index-service", 2, () -> index.isRunning() ? null : "index-service stopped", index.counters()::keySet,
        k -> index.counters().get(k));

    long t2 = System.nanoTime();
    progress.accept("starting embedder-worker (the first run builds the model from the nsfwjs npm package: a few minutes) ...");
    Map<String, String> em = new HashMap<>(common);
    em.put("topic.create", "false");
    em.putAll(options.embedder());
    EmbedderWorkerConfig ec = new EmbedderWorkerConfig(em);
    embedder = Embedder.open(ec.embedderOptions(), m -> progress.accept("  " + m));
    toClose.push(embedder);
    progress.accept("model " + embedder.modelId() + " version " + embedder.modelVersion() + " (" + embedder.dim() + "-d)");
    worker = new EmbedderWorker(ec, embedder, null);
    toClose.push(worker); // stops before the model it uses
    worker.start();
    progress.accept("embedder-worker running" + secs(t2));
    endpoint("embedder-worker", 1, () -> worker.isRunning() ? worker.notReady() : "embedder-worker stopped",
        () -> java.util.Set.of("embedded", "rejected", "batches"),
        k -> switch (k) {
          case "embedded" -> worker.embedded();
          case "rejected" -> worker.rejected();
          default -> worker.batches();
        });

    long t3 = System.nanoTime();
    progress.accept("starting ingest-stream ...");
    Map<String, String> in = new HashMap<>(common);
    in.put("state.dir", options.dataDir().resolve("ingest-state").toString());
    // ingest creates what it needs (including its by-SHA-256 topic), with our partition count
    in.put("topic.partitions", String.valueOf(options.partitions()));
    in.put("stream.threads", "1");
    in.putAll(options.ingest());
    if (rules != null) {
      in.put(MatchRules.KEY, rules);
    }
    ingest = new IngestStreamApp(IngestConfig.load(null, Map.of(), in));
    toClose.push(ingest);
    ingest.start();
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    while (ingest.state() != KafkaStreams.State.RUNNING) {
      if (System.nanoTime() > deadline || ingest.state() == KafkaStreams.State.ERROR) {
        throw new IllegalStateException("ingest-stream did not reach RUNNING (state " + ingest.state() + ")");
      }
      Thread.sleep(100);
    }
    progress.accept("ingest-stream running" + secs(t3));
    endpoint("ingest-stream", 0, () -> ingest.state() == KafkaStreams.State.RUNNING ? null : "state " + ingest.state(),
        () -> ingest.counters().snapshot().keySet(), k -> ingest.counters().get(k));
    progress.accept("stack ready in " + String.format(java.util.Locale.ROOT, "%.1f s", (System.nanoTime() - t0) / 1e9));
  }

  private void endpoint(String service, int offset, ServiceEndpoint.Readiness ready,
      java.util.function.Supplier<java.util.Set<String>> names, java.util.function.ToLongFunction<String> value)
      throws java.io.IOException {
    if (options.httpPort() < 0) {
      return;
    }
    PrometheusMeterRegistry reg = ServiceEndpoint.newRegistry(service);
    for (String name : names.get()) {
      Gauge.builder("imgmatch_" + name.replaceAll("[^a-zA-Z0-9_]", "_"), () -> value.applyAsLong(name))
          .description(service + " counter " + name).register(reg);
    }
    ServiceEndpoint e = ServiceEndpoint.start(service, reg, "127.0.0.1",
        options.httpPort() == 0 ? 0 : options.httpPort() + offset, ready);
    endpoints.put(service, e);
    toClose.push(e);
  }

  private static String secs(long t0) {
    return String.format(java.util.Locale.ROOT, " (%.1f s)", (System.nanoTime() - t0) / 1e9);
  }

  public String bootstrapServers() {
    return bootstrap;
  }

  public Topics topics() {
    return new Topics(options.topicPrefix());
  }

  public Map<String, Object> clientProps() {
    Map<String, Object> m = new HashMap<>();
    m.put("bootstrap.servers", bootstrap);
    return m;
  }

  public IndexService index() {
    return index;
  }

  public IngestStreamApp ingest() {
    return ingest;
  }

  public EmbedderWorker worker() {
    return worker;
  }

  public Embedder embedder() {
    return embedder;
  }

  /** Service name -> its endpoint (health, ready, metrics URLs). */
  public Map<String, ServiceEndpoint> endpoints() {
    return endpoints;
  }

  /** Null while every service runs, else what stopped. */
  public String problem() {
    if (broker != null && !broker.isAlive()) {
      return "the local broker stopped";
    }
    if (index != null && !index.isRunning()) {
      return "index-service stopped: " + index.failure().map(Throwable::toString).orElse("?");
    }
    if (worker != null && !worker.isRunning()) {
      return "embedder-worker stopped: " + worker.failure();
    }
    if (ingest != null && (ingest.state() == KafkaStreams.State.ERROR || ingest.state() == KafkaStreams.State.NOT_RUNNING)) {
      return "ingest-stream stopped (" + ingest.state() + ")";
    }
    return null;
  }

  @Override
  public synchronized void close() {
    while (!toClose.isEmpty()) {
      AutoCloseable c = toClose.pop();
      try {
        c.close();
      } catch (Exception e) {
        System.err.println("imgmatch: error while stopping " + c.getClass().getSimpleName() + ": " + e);
      }
    }
  }
}
