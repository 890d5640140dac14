package dev.imgmatch.cli.stack;

import dev.imgmatch.common.MatchRules;
import dev.imgmatch.common.ServiceEndpoint;
import dev.imgmatch.common.TopicSetup;
import dev.imgmatch.embedder.Embedder;
import dev.imgmatch.embedder.worker.EmbedderWorker;
import dev.imgmatch.embedder.worker.EmbedderWorkerConfig;
import dev.imgmatch.index.IndexService;
import dev.imgmatch.index.IndexServiceConfig;
import dev.imgmatch.index.MatchPolicy;
import dev.imgmatch.ingest.IngestConfig;
import dev.imgmatch.ingest.IngestStreamApp;
import dev.imgmatch.ops.LocalBroker;
import dev.imgmatch.schemas.Topics;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.apache.kafka.streams.KafkaStreams;

/**
 * The whole pipeline on one machine: a local broker (a separate JVM, unless a bootstrap address is given), the
 * topics, and ingest-stream, embedder-worker and index-service, each with its health/metrics endpoint. Used by
 * {@code demo}, {@code up}, {@code scan} and {@code eval}.
 *
 * <p>With one instance of each service ({@link Instances#ONE}, the default) the services run in this JVM. With more
 * ({@code --instances index=N,embedder=M,ingest=K}) every instance is a process of its own ({@link ServiceProcess}:
 * a child JVM running the service's {@code main}, as a deployment would run it), in one consumer group per service,
 * each with its own index directory, state directory, transactional id, HTTP port and log file
 * ({@code <dataDir>/logs/<service>-<i>.log}); new topics then get at least as many partitions as the largest
 * instance count, so that every instance gets work. The counters the commands wait on ({@link #indexedMin()},
 * {@link #ingestCounters()}, {@link #embedderCounters()}) and the match policy ({@link #policy()}) work in both
 * modes. With the instances as processes, a failover test can {@link #kill(String)} one as {@code kill -9} would.
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
   * @param instances how many instances of each service; more than one of any runs every instance as a process
   */
  public record Options(Path dataDir, String bootstrap, String topicPrefix, int partitions, int httpPort,
      Map<String, String> ingest, Map<String, String> embedder, Map<String, String> index, Instances instances) {
    public Options {
      if (partitions < 1) {
        throw new IllegalArgumentException("partitions must be >= 1, got " + partitions);
      }
      ingest = Map.copyOf(ingest);
      embedder = Map.copyOf(embedder);
      index = Map.copyOf(index);
      instances = instances == null ? Instances.ONE : instances;
    }

    /** One instance of each service, in this JVM. */
    public Options(Path dataDir, String bootstrap, String topicPrefix, int partitions, int httpPort,
        Map<String, String> ingest, Map<String, String> embedder, Map<String, String> index) {
      this(dataDir, bootstrap, topicPrefix, partitions, httpPort, ingest, embedder, index, Instances.ONE);
    }

    public static Options defaults(Path dataDir) {
      return new Options(dataDir, null, Topics.DEFAULT_PREFIX, 2, 0, Map.of(), Map.of(), Map.of());
    }

    public Options with(Map<String, String> ingestMore, Map<String, String> embedderMore, Map<String, String> indexMore) {
      return new Options(dataDir, bootstrap, topicPrefix, partitions, httpPort, merge(ingest, ingestMore),
          merge(embedder, embedderMore), merge(index, indexMore), instances);
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
      return new Options(dataDir, b, topicPrefix, partitions, httpPort, ingest, embedder, index, instances);
    }

    public Options withInstances(Instances i) {
      return new Options(dataDir, bootstrap, topicPrefix, partitions, httpPort, ingest, embedder, index, i);
    }

    private static Map<String, String> merge(Map<String, String> a, Map<String, String> b) {
      Map<String, String> m = new HashMap<>(a);
      m.putAll(b);
      return m;
    }
  }

  /** A service instance's HTTP endpoint: {@code /health}, {@code /ready}, {@code /metrics} under {@code baseUrl}. */
  public record Endpoint(String name, String baseUrl) {
    public String url(String path) {
      return baseUrl + path;
    }
  }

  static final String INDEX = "index-service";
  static final String EMBEDDER = "embedder-worker";
  static final String INGEST = "ingest-stream";
  /** How long the readings of the instances' /metrics are reused (callers poll every 50-100 ms). */
  private static final long SCRAPE_REUSE_NANOS = 200_000_000L;

  private final Options options;
  /** Closed last-started first: services stop before the broker. */
  private final java.util.Deque<AutoCloseable> toClose = new java.util.ArrayDeque<>();
  private LocalBroker broker;
  private String bootstrap;
  private IngestStreamApp ingest;
  private Embedder embedder;
  private EmbedderWorker worker;
  private IndexService index;
  private final Map<String, Endpoint> endpoints = new LinkedHashMap<>();
  // process mode
  private final Map<String, List<ServiceProcess>> processes = new LinkedHashMap<>();
  private final List<ServiceProcess> children = new CopyOnWriteArrayList<>();
  private final Map<String, Scrape> scrapes = new ConcurrentHashMap<>();
  /** Instances stopped on purpose by {@link #kill(String)}: {@link #problem()} and {@link #indexedMin()} skip them. */
  private final java.util.Set<String> killed = ConcurrentHashMap.newKeySet();
  private Thread killChildren;
  private MatchPolicy policy;
  /** The one match.rules of ingest-stream and index-service (Options#matchRules); null: both take the default. */
  private String rules;

  private record Scrape(long atNanos, List<PrometheusText.Sample> samples) {}

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
    rules = options.matchRules();
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
    Instances n = options.instances();
    // every instance of a group gets work only with at least as many partitions as instances
    int partitions = n.inProcess() ? options.partitions() : Math.max(options.partitions(), n.max());
    Topics topics = new Topics(options.topicPrefix());
    Map<String, Object> admin = new HashMap<>();
    admin.put("bootstrap.servers", bootstrap);
    var created = TopicSetup.ensureAll(admin, topics, partitions, (short) 1);
    progress.accept(created.isEmpty() ? "topics exist" : "created " + created.size() + " topics with "
        + partitions + " partition(s) each");

    Map<String, String> common = Map.of("kafka.bootstrap.servers", bootstrap, "topic.prefix", options.topicPrefix());
    // the services name their groups, transactional ids and Kafka Streams internal topics after the topic prefix
    // (KafkaResources), so several stacks can share one cluster (tests, eval next to a running `up`)
    if (n.inProcess()) {
      startInProcess(common, progress);
    } else {
      startProcesses(common, partitions, progress);
    }
    progress.accept("stack ready in " + String.format(java.util.Locale.ROOT, "%.1f s", (System.nanoTime() - t0) / 1e9));
  }

  private void startInProcess(Map<String, String> common, Consumer<String> progress) throws Exception {
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
    policy = index.policy();
    progress.accept("index-service ready" + secs(t1));
    endpoint(INDEX, 2, () -> index.isRunning() ? null : "index-service stopped", index.counters()::keySet,
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
    endpoint(EMBEDDER, 1, () -> worker.isRunning() ? worker.notReady() : "embedder-worker stopped",
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
    endpoint(INGEST, 0, () -> ingest.state() == KafkaStreams.State.RUNNING ? null : "state " + ingest.state(),
        () -> ingest.counters().snapshot().keySet(), k -> ingest.counters().get(k));
  }

  /**
   * Every instance a process of its own: the index-service instances first (they catch their replicas up before
   * they are ready), then one embedder-worker (the first run builds the model into the shared cache) and the other
   * workers, then the ingest-stream instances; each phase waits for every instance's {@code /ready}.
   */
  private void startProcesses(Map<String, String> common, int partitions, Consumer<String> progress) throws Exception {
    Instances n = options.instances();
    refuse(INDEX, options.index(), "index.dir", "http.port");
    refuse(EMBEDDER, options.embedder(), "http.port");
    refuse(INGEST, options.ingest(), "state.dir", "http.port");
    List<Integer> ports = ports(n.ingest() + n.embedder() + n.index());
    // ports in the order of the in-process endpoints: ingest from the base port, then embedder, then index
    List<Integer> ingestPorts = ports.subList(0, n.ingest());
    List<Integer> embedderPorts = ports.subList(n.ingest(), n.ingest() + n.embedder());
    List<Integer> indexPorts = ports.subList(n.ingest() + n.embedder(), ports.size());
    Path logs = options.dataDir().resolve("logs");
    killChildren = new Thread(this::stopChildren, "imgmatch-stack-children");
    Runtime.getRuntime().addShutdownHook(killChildren); // Ctrl-C, System.exit: no instance outlives us
    progress.accept("running " + n + " instances, each a JVM of its own (logs in " + logs + ")");

    long t1 = System.nanoTime();
    List<Map<String, String>> ixs = new ArrayList<>();
    for (int i = 0; i < n.index(); i++) {
      Map<String, String> ix = new TreeMap<>(common);
      ix.put("topic.create", "false");
      ix.putAll(options.index());
      if (rules != null) {
        ix.put(MatchRules.KEY, rules);
      }
      ix.put("index.dir", options.dataDir().resolve("index-" + i).toString());
      suffix(ix, "transactional.id", i);
      child(ix, indexPorts.get(i));
      ixs.add(ix);
    }
    policy = IndexServiceConfig.load(null, System.getenv(), ixs.getFirst()).policy(); // what every instance decides
    progress.accept("starting " + n.index() + " index-service instances ...");
    List<ServiceProcess> ixp = new ArrayList<>();
    group(INDEX, ixp);
    for (int i = 0; i < n.index(); i++) {
      ixp.add(launch(INDEX, i, "dev.imgmatch.index.IndexServiceApp", List.of("--add-modules=jdk.incubator.vector"),
          ixs.get(i), indexPorts.get(i), logs));
    }
    awaitReady(ixp, Duration.ofSeconds(300), progress);
    progress.accept("index-service instances ready" + secs(t1));

    long t2 = System.nanoTime();
    List<ServiceProcess> emp = new ArrayList<>();
    group(EMBEDDER, emp);
    for (int i = 0; i < n.embedder(); i++) {
      Map<String, String> em = new TreeMap<>(common);
      em.put("topic.create", "false");
      em.putAll(options.embedder());
      // the default '<group.id>-<host name>' is the same for every worker on this host: they would fence each other
      em.put("transactional.id", new EmbedderWorkerConfig(dev.imgmatch.common.Settings.load(null, System.getenv(), em))
          .transactionalId() + "-" + i);
      child(em, embedderPorts.get(i));
      if (i == 0) {
        progress.accept("starting embedder-worker-0 (the first run builds the model from the nsfwjs npm package: a few "
            + "minutes) ...");
      } else if (i == 1) {
        progress.accept("starting " + (n.embedder() - 1) + " more embedder-worker instance(s) ...");
      }
      emp.add(launch(EMBEDDER, i, "dev.imgmatch.embedder.worker.EmbedderWorkerApp", List.of(), em,
          embedderPorts.get(i), logs));
      if (i == 0) { // the others then find the model in the cache instead of building it too
        awaitReady(List.of(emp.getFirst()), Duration.ofMinutes(20), progress);
      }
    }
    awaitReady(emp.subList(1, emp.size()), Duration.ofSeconds(300), progress);
    progress.accept("embedder-worker instances ready" + secs(t2));

    long t3 = System.nanoTime();
    progress.accept("starting " + n.ingest() + " ingest-stream instances ...");
    List<ServiceProcess> inp = new ArrayList<>();
    group(INGEST, inp);
    for (int i = 0; i < n.ingest(); i++) {
      Map<String, String> in = new TreeMap<>(common);
      in.put("topic.partitions", String.valueOf(partitions));
      in.put("stream.threads", "1");
      in.putAll(options.ingest());
      if (rules != null) {
        in.put(MatchRules.KEY, rules);
      }
      in.put("state.dir", options.dataDir().resolve("ingest-state-" + i).toString());
      child(in, ingestPorts.get(i));
      inp.add(launch(INGEST, i, "dev.imgmatch.ingest.IngestStreamApp", List.of(), in, ingestPorts.get(i), logs));
    }
    awaitReady(inp, Duration.ofSeconds(300), progress);
    progress.accept("ingest-stream instances ready" + secs(t3));
    for (String service : List.of(INDEX, EMBEDDER, INGEST)) {
      for (ServiceProcess p : processes.get(service)) {
        endpoints.put(p.name(), new Endpoint(p.name(), p.baseUrl()));
      }
    }
  }

  private static void refuse(String service, Map<String, String> settings, String... keys) {
    for (String k : keys) {
      if (settings.containsKey(k)) {
        throw new IllegalArgumentException(service + " setting " + k + " cannot be set with --instances: every "
            + "instance gets its own (under the data directory)");
      }
    }
  }

  /** A setting the user gave that must differ per instance (a transactional id) gets the instance's number. */
  private static void suffix(Map<String, String> settings, String key, int i) {
    String v = settings.get(key);
    if (v != null && !v.isBlank()) {
      settings.put(key, v + "-" + i);
    }
  }

  /** What every child runs with: its endpoint on this host and port, plain-text logs (they go to a file). */
  private static void child(Map<String, String> settings, int port) {
    settings.putIfAbsent("http.host", "127.0.0.1");
    settings.put("http.port", String.valueOf(port));
    settings.putIfAbsent("log.format", "text");
  }

  /** Ports from --http-port on (consecutive), or free ones (0 or -1: the endpoints serve the stack itself). */
  private List<Integer> ports(int count) throws java.io.IOException {
    List<Integer> out = new ArrayList<>();
    if (options.httpPort() > 0) {
      if (options.httpPort() + count - 1 > 65535) {
        throw new IllegalArgumentException("--http-port " + options.httpPort() + ": " + count
            + " instances need the ports up to " + (options.httpPort() + count - 1));
      }
      for (int i = 0; i < count; i++) {
        out.add(options.httpPort() + i);
      }
      return out;
    }
    java.util.Set<Integer> seen = new java.util.HashSet<>();
    while (out.size() < count) {
      try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
        if (seen.add(s.getLocalPort())) {
          out.add(s.getLocalPort());
        }
      }
    }
    return out;
  }

  private ServiceProcess launch(String service, int i, String mainClass, List<String> jvm, Map<String, String> settings,
      int port, Path logs) throws java.io.IOException {
    String name = service + "-" + i;
    ServiceProcess p = ServiceProcess.start(name, mainClass, jvm, settings, port, logs.resolve(name + ".log"));
    children.add(p);
    return p;
  }

  /** Registers a service's instances (filled as they start); they are stopped together, before earlier services. */
  private void group(String service, List<ServiceProcess> list) {
    processes.put(service, list);
    toClose.push(() -> stop(List.copyOf(list)));
  }

  private static void stop(List<ServiceProcess> ps) {
    ps.forEach(ServiceProcess::stop); // SIGTERM to all, then wait: they close in parallel
    ps.forEach(p -> p.awaitStopped(Duration.ofSeconds(60)));
  }

  private void stopChildren() {
    stop(List.copyOf(children));
  }

  /** Waits until every instance answers 200 on /ready; one that exits or stays unready names itself and its log. */
  private static void awaitReady(List<ServiceProcess> ps, Duration timeout, Consumer<String> progress)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    java.util.Set<ServiceProcess> waiting = new java.util.LinkedHashSet<>(ps);
    Map<ServiceProcess, String> why = new HashMap<>();
    while (true) {
      for (java.util.Iterator<ServiceProcess> it = waiting.iterator(); it.hasNext(); ) {
        ServiceProcess p = it.next();
        if (!p.isAlive()) {
          throw new IllegalStateException("did not start: " + p.describeExit());
        }
        String not = p.notReady();
        if (not == null) {
          it.remove();
          progress.accept(String.format(java.util.Locale.ROOT, "%s ready at %s (pid %d, %.1f s)", p.name(),
              p.baseUrl(), p.pid(), p.secondsSinceStart()));
        } else {
          why.put(p, not);
        }
      }
      if (waiting.isEmpty()) {
        return;
      }
      if (System.nanoTime() > deadline) {
        ServiceProcess p = waiting.iterator().next();
        throw new IllegalStateException(p.name() + " (pid " + p.pid() + ") was not ready after " + timeout.toSeconds()
            + " s (" + why.get(p) + "); the last lines of " + p.log() + ":" + System.lineSeparator()
            + ServiceProcess.tail(p.log(), 25));
      }
      Thread.sleep(250);
    }
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
    endpoints.put(service, new Endpoint(service, e.url("")));
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

  /** True when the services run as processes of their own (more than one instance of some service). */
  public boolean multiProcess() {
    return !options.instances().inProcess();
  }

  /** The in-process index-service; null when the services run as processes ({@link #multiProcess()}). */
  public IndexService index() {
    return index;
  }

  /** The in-process ingest-stream; null when the services run as processes ({@link #multiProcess()}). */
  public IngestStreamApp ingest() {
    return ingest;
  }

  /** The in-process embedder-worker; null when the services run as processes ({@link #multiProcess()}). */
  public EmbedderWorker worker() {
    return worker;
  }

  /** The in-process model; null when the services run as processes ({@link #multiProcess()}). */
  public Embedder embedder() {
    return embedder;
  }

  /** The match policy of the index-service settings (every instance's): what alerts, at which score. */
  public MatchPolicy policy() {
    return policy;
  }

  /**
   * Images indexed (index-service counter {@code indexed}). With several instances, the least over them: with
   * {@code index.shards=all} every instance indexes every image (its own shards and replicas of the others), so this
   * is how many images every instance has; an instance whose metrics cannot be read counts 0. An instance
   * {@link #kill(String) killed} on purpose is left out (the least over the live ones).
   */
  public long indexedMin() {
    if (index != null) {
      return index.counters().get("indexed");
    }
    long min = Long.MAX_VALUE;
    for (ServiceProcess p : processes.getOrDefault(INDEX, List.of())) {
      if (killed.contains(p.name())) {
        continue;
      }
      List<PrometheusText.Sample> s = scrape(p);
      min = Math.min(min, s == null ? 0 : Math.round(PrometheusText.sum(s, "imgmatch_index_indexed_total")));
    }
    return min == Long.MAX_VALUE ? 0 : min;
  }

  /**
   * ingest-stream's counters ({@code prepared.upload}, {@code rejected.<REASON>}, {@code view.<NAME>}, ...; see
   * {@code IngestCounters}), summed over the instances.
   */
  public Map<String, Long> ingestCounters() {
    if (ingest != null) {
      return ingest.counters().snapshot();
    }
    Map<String, Long> sum = new TreeMap<>();
    for (ServiceProcess p : processes.getOrDefault(INGEST, List.of())) {
      List<PrometheusText.Sample> s = scrape(p);
      if (s != null) {
        PrometheusText.ingestCounters(s).forEach((k, v) -> sum.merge(k, v, Long::sum));
      }
    }
    return sum;
  }

  /** embedder-worker's counters {@code embedded}, {@code rejected} and {@code batches}, summed over the instances. */
  public Map<String, Long> embedderCounters() {
    if (worker != null) {
      return new TreeMap<>(Map.of("embedded", worker.embedded(), "rejected", worker.rejected(), "batches",
          worker.batches()));
    }
    Map<String, Long> sum = new TreeMap<>(Map.of("embedded", 0L, "rejected", 0L, "batches", 0L));
    for (ServiceProcess p : processes.getOrDefault(EMBEDDER, List.of())) {
      List<PrometheusText.Sample> s = scrape(p);
      if (s != null) {
        PrometheusText.embedderCounters(s).forEach((k, v) -> sum.merge(k, v, Long::sum));
      }
    }
    return sum;
  }

  /** An instance's /metrics, read at most every 200 ms; null when it does not answer. */
  private List<PrometheusText.Sample> scrape(ServiceProcess p) {
    Scrape last = scrapes.get(p.name());
    if (last != null && System.nanoTime() - last.atNanos() < SCRAPE_REUSE_NANOS) {
      return last.samples();
    }
    try {
      List<PrometheusText.Sample> s = PrometheusText.parse(p.metrics());
      scrapes.put(p.name(), new Scrape(System.nanoTime(), s));
      return s;
    } catch (java.io.IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  /** The service instances' processes (empty in process mode); for tests and diagnostics. */
  public List<ProcessHandle> processes() {
    return children.stream().map(ServiceProcess::handle).toList();
  }

  /** Service instance name -> its endpoint (health, ready, metrics URLs). */
  public Map<String, Endpoint> endpoints() {
    return endpoints;
  }

  /**
   * Kills one service instance with SIGKILL, as {@code kill -9} would (no shutdown hook runs: it neither commits nor
   * leaves its consumer group, its open transaction stays open until the broker aborts it), and waits until it is
   * gone; for failover tests. From then on {@link #problem()} does not report it and {@link #indexedMin()} leaves it
   * out (the sums of {@link #ingestCounters()} and {@link #embedderCounters()} lose its counts, which went with it);
   * the other instances of its group take its partitions over once its session times out. {@link #close()} stops
   * the others as usual. Only when the services run as processes ({@link #multiProcess()}).
   *
   * @param instance an instance name as in {@link #endpoints()}, e.g. {@code index-service-1}
   * @throws IllegalArgumentException when no instance has that name
   * @throws IllegalStateException when the services run in this JVM
   */
  public void kill(String instance) {
    if (!multiProcess()) {
      throw new IllegalStateException("kill(" + instance + "): the services run in this JVM, not as processes");
    }
    ServiceProcess p = children.stream().filter(c -> c.name().equals(instance)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no instance named '" + instance + "'"));
    killed.add(instance); // first: a problem() in between must not report it
    scrapes.remove(instance);
    p.kill();
  }

  /** Null while every service runs (but instances {@link #kill(String) killed} on purpose), else what stopped. */
  public String problem() {
    if (broker != null && !broker.isAlive()) {
      return "the local broker stopped";
    }
    for (ServiceProcess p : children) {
      if (!p.isAlive() && !killed.contains(p.name())) {
        return p.describeExit();
      }
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
    stopChildren(); // any instance not stopped with its service (none unless a start failed half-way)
    if (killChildren != null) {
      try {
        Runtime.getRuntime().removeShutdownHook(killChildren);
      } catch (IllegalStateException e) {
        // the JVM is shutting down: the hook runs anyway and finds every instance stopped
      }
      killChildren = null;
    }
  }
}
