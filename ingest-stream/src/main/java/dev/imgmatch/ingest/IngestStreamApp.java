package dev.imgmatch.ingest;

import dev.imgmatch.common.HangingTransactions;
import dev.imgmatch.common.ServiceEndpoint;
import dev.imgmatch.common.Settings;
import dev.imgmatch.common.TopicSetup;
import dev.imgmatch.ingest.image.ImageDecoder;
import dev.imgmatch.schemas.Topic;
import dev.imgmatch.schemas.Topics;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs ingest-stream on its own: {@code java -jar imgmatch-ingest-stream-VERSION.jar [--config FILE] [key=value ...]}
 * (settings: defaults &lt; file &lt; {@code IMGMATCH_*} environment &lt; arguments). Creates missing topics,
 * logs the resolved settings with secrets masked, runs until SIGTERM/Ctrl-C and logs the counters
 * periodically and at shutdown. Run alone ({@link #main}), it serves {@code /health}, {@code /ready} (ready
 * while Kafka Streams is RUNNING) and {@code /metrics} (Prometheus: counters per reason, preparation latency
 * and image size histograms, Kafka Streams client metrics including consumer lag, JVM) on
 * {@code http.host:http.port}, and logs JSON lines ({@code log.format=json}, default) or plain text.
 * SIGTERM closes Kafka Streams cleanly (the JVM then exits with its SIGTERM status, 143); exit status 1 when the
 * stream failed for good, 2 for bad settings.
 */
public final class IngestStreamApp implements AutoCloseable {
  static final String SERVICE = "ingest-stream";

  private final Logger log = LoggerFactory.getLogger(IngestStreamApp.class);
  private final IngestConfig cfg;
  private final IngestCounters counters = new IngestCounters();
  private final Backoff replacements = new Backoff(1_000, 60_000, 10 * 60_000);
  private final PrometheusMeterRegistry registry = ServiceEndpoint.newRegistry(SERVICE);
  private final KafkaStreams streams;
  private final KafkaStreamsMetrics streamsMetrics;
  private final ScheduledExecutorService reporter;
  private final CountDownLatch finished = new CountDownLatch(1);
  private volatile ServiceEndpoint endpoint;
  private volatile HangingTransactions hanging;

  public IngestStreamApp(IngestConfig cfg) {
    this.cfg = cfg;
    log.info("ingest-stream settings:\n{}", cfg.describe());
    log.info("image decoders: {}", ImageDecoder.describeReaders());
    if (cfg.getBoolean(IngestConfig.TOPIC_CREATE)) {
      TopicSetup.ensure(cfg.adminProps(), topicsToCreate(cfg.topics()), cfg.getInt(IngestConfig.TOPIC_PARTITIONS),
          cfg.getShort(IngestConfig.TOPIC_REPLICATION));
    }
    counters.bindTo(registry);
    String replyTopic = cfg.topics().queryReplies().name();
    boolean replies = cfg.getBoolean(IngestConfig.TOPIC_CREATE) || TopicSetup.exists(cfg.adminProps(), replyTopic);
    if (!replies) {
      log.warn("topic {} does not exist: rejected image queries are not answered (their clients time out)",
          replyTopic);
    }
    Topology topology = IngestTopology.build(cfg, counters, Clock.systemUTC(), replies);
    log.info("topology:\n{}", topology.describe());
    Properties props = new Properties();
    props.putAll(cfg.streamsProps());
    this.streams = new KafkaStreams(topology, props);
    this.streamsMetrics = new KafkaStreamsMetrics(streams);
    streamsMetrics.bindTo(registry);
    streams.setStateListener((now, before) -> {
      log.info("ingest-stream {} -> {}", before, now);
      if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.NOT_RUNNING) {
        finished.countDown();
      }
    });
    streams.setUncaughtExceptionHandler(e -> {
      // records never throw (every failure becomes a reject, OutputFailureHandler catches what processors and
      // producers do not); what reaches here is infrastructure (e.g. a fenced producer): replace the thread, which
      // restarts from the last committed offsets, backing off when it keeps failing so that it never spins
      long wait = replacements.next(System.currentTimeMillis());
      log.error("stream thread failed; replacing it in {} ms ({} failures in the last 10 minutes)", wait,
          replacements.recent(), e);
      try {
        Thread.sleep(wait);
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
      }
      return StreamThreadExceptionResponse.REPLACE_THREAD;
    });
    this.reporter = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "ingest-counters");
      t.setDaemon(true);
      return t;
    });
    long every = cfg.getLong(IngestConfig.COUNTERS_LOG_INTERVAL_MS);
    if (every > 0) {
      reporter.scheduleAtFixedRate(() -> log.info("counters {}", counters), every, every, TimeUnit.MILLISECONDS);
    }
  }

  /** Every topic ingest-stream reads or writes, plus its repartition topic. */
  static List<Topic<?, ?>> topicsToCreate(Topics topics) {
    List<Topic<?, ?>> all = new ArrayList<>(List.of(topics.uploads(), topics.queries(), topics.deletions(),
        topics.prepared(), topics.matchAlerts(), topics.rejects(), topics.queryReplies(), topics.originals()));
    all.add(IngestTopology.bySha256(topics));
    return all;
  }

  public void start() {
    streams.start();
    // what it reads, and what it writes (read_committed by the embedder-worker and the platform)
    hanging = new HangingTransactions(SERVICE, cfg.adminProps(),
        topicsToCreate(cfg.topics()).stream().map(Topic::name).toList(), HangingTransactions.Settings.of(cfg))
        .bind(registry).start();
    log.info("ingest-stream {}", hanging.describeSettings());
  }

  /**
   * Starts the operational HTTP endpoint on {@code http.host:http.port} (what {@link #main} does; embedders
   * of this class, e.g. the local stack, serve their own); null when {@code http.port} is -1.
   */
  public ServiceEndpoint startEndpoint() {
    int port = cfg.getInt(IngestConfig.HTTP_PORT);
    if (port < 0) {
      return null;
    }
    try {
      endpoint = ServiceEndpoint.start(SERVICE, registry, cfg.getString(IngestConfig.HTTP_HOST), port,
          this::notReadyReason);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot serve " + IngestConfig.HTTP_HOST + ":" + IngestConfig.HTTP_PORT + " "
          + cfg.getString(IngestConfig.HTTP_HOST) + ":" + port + ": " + e.getMessage(), e);
    }
    return endpoint;
  }

  /** The endpoint {@link #startEndpoint()} started, or null. */
  public ServiceEndpoint endpoint() {
    return endpoint;
  }

  /**
   * Readiness: null while Kafka Streams is RUNNING and no topic of ingest-stream is blocked by a hanging transaction it
   * may not abort; else why not.
   */
  public String notReadyReason() {
    KafkaStreams.State s = streams.state();
    if (s != KafkaStreams.State.RUNNING) {
      return "kafka streams state " + s;
    }
    HangingTransactions h = hanging;
    return h == null ? null : h.notReadyReason();
  }

  /** Blocks until Kafka Streams stops (closed, or failed for good). */
  public void awaitFinished() throws InterruptedException {
    finished.await();
  }

  public KafkaStreams.State state() {
    return streams.state();
  }

  public IngestCounters counters() {
    return counters;
  }

  /** This instance's meters (counters, latency, sizes, Kafka Streams client metrics, JVM). */
  public PrometheusMeterRegistry registry() {
    return registry;
  }

  public IngestConfig config() {
    return cfg;
  }

  @Override
  public void close() {
    HangingTransactions h = hanging;
    if (h != null) {
      h.close();
    }
    // leave the group at once: the partitions move to the other instances now, not after the session timeout
    streams.close(CloseOptions.timeout(Duration.ofSeconds(30))
        .withGroupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
    streamsMetrics.close();
    reporter.shutdownNow();
    ServiceEndpoint e = endpoint;
    if (e != null) {
      e.close();
    }
    log.info("ingest-stream stopped; counters {}", counters);
  }

  public static void main(String[] args) throws InterruptedException {
    int status = run(args);
    if (status != 0) {
      System.exit(status);
    }
  }

  static int run(String[] args) throws InterruptedException {
    Settings.Args a = Settings.Args.parseOrReport("ingest-stream", System.err, args);
    if (a == null) {
      return 2;
    }
    if (a.help()) {
      System.out.print(usage());
      return 0;
    }
    IngestConfig cfg;
    try {
      Map<String, String> values = a.load(System.getenv());
      configureLogging(values.getOrDefault(IngestConfig.LOG_FORMAT, "json")); // before the first logger
      cfg = new IngestConfig(values);
    } catch (ConfigException | IllegalArgumentException e) {
      System.err.println("ingest-stream: invalid settings: " + e.getMessage());
      return 2;
    }
    Logger log = LoggerFactory.getLogger(IngestStreamApp.class);
    IngestStreamApp app = new IngestStreamApp(cfg);
    CountDownLatch closed = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      app.close(); // SIGTERM / Ctrl-C: commit and close cleanly before the JVM halts
      closed.countDown();
    }, "ingest-shutdown"));
    app.startEndpoint();
    app.start();
    app.awaitFinished();
    if (app.state() == KafkaStreams.State.ERROR) {
      log.error("ingest-stream failed; exiting");
      return 1;
    }
    closed.await(60, TimeUnit.SECONDS);
    return 0;
  }

  /**
   * Points logback at this service's own JSON or text configuration (never named logback.xml, so nothing
   * leaks into the CLI's classpath), unless {@code -Dlogback.configurationFile} chose one or a test classpath
   * brings logback-test.xml. Must run before the first logger is created.
   */
  static void configureLogging(String format) {
    if (System.getProperty("logback.configurationFile") == null
        && IngestStreamApp.class.getClassLoader().getResource("logback-test.xml") == null) {
      System.setProperty("logback.configurationFile", "dev/imgmatch/ingest/service-logback-"
          + ("text".equalsIgnoreCase(format) ? "text" : "json") + ".xml");
    }
  }

  static String usage() {
    StringBuilder sb = new StringBuilder("usage: java -jar imgmatch-ingest-stream.jar [--config FILE] [key=value ...]\n"
        + "settings (defaults < file < IMGMATCH_* environment, e.g. IMGMATCH_HTTP_PORT=9090 < arguments):\n");
    for (ConfigDef.ConfigKey k : IngestConfig.DEF.configKeys().values()) {
      sb.append("  ").append(k.name).append(" = ").append(k.hasDefault() ? String.valueOf(k.defaultValue) : "")
          .append("\n      ").append(k.documentation).append('\n');
    }
    return sb.toString();
  }
}
