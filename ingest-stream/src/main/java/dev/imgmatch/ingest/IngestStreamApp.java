package dev.imgmatch.ingest;

import dev.imgmatch.common.TopicSetup;
import dev.imgmatch.ingest.image.ImageDecoder;
import dev.imgmatch.schemas.Topic;
import dev.imgmatch.schemas.Topics;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs ingest-stream on its own: {@code java dev.imgmatch.ingest.IngestStreamApp [--config FILE] [key=value ...]}
 * (settings: defaults &lt; file &lt; {@code IMGMATCH_*} environment &lt; arguments). Creates missing topics,
 * logs the resolved settings with secrets masked, runs until SIGTERM/Ctrl-C and logs the counters
 * periodically and at shutdown.
 */
public final class IngestStreamApp implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(IngestStreamApp.class);

  private final IngestConfig cfg;
  private final IngestCounters counters = new IngestCounters();
  private final KafkaStreams streams;
  private final ScheduledExecutorService reporter;
  private final CountDownLatch finished = new CountDownLatch(1);

  public IngestStreamApp(IngestConfig cfg) {
    this.cfg = cfg;
    log.info("ingest-stream settings:\n{}", cfg.describe());
    log.info("image decoders: {}", ImageDecoder.describeReaders());
    if (cfg.getBoolean(IngestConfig.TOPIC_CREATE)) {
      TopicSetup.ensure(cfg.adminProps(), topicsToCreate(cfg.topics()), cfg.getInt(IngestConfig.TOPIC_PARTITIONS),
          cfg.getShort(IngestConfig.TOPIC_REPLICATION));
    }
    Topology topology = IngestTopology.build(cfg, counters, Clock.systemUTC());
    log.info("topology:\n{}", topology.describe());
    Properties props = new Properties();
    props.putAll(cfg.streamsProps());
    this.streams = new KafkaStreams(topology, props);
    streams.setStateListener((now, before) -> {
      log.info("ingest-stream {} -> {}", before, now);
      if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.NOT_RUNNING) {
        finished.countDown();
      }
    });
    streams.setUncaughtExceptionHandler(e -> {
      // records never throw (every failure becomes a reject); what reaches here is infrastructure (e.g. a
      // fenced producer): replace the thread, which restarts from the last committed offsets
      log.error("stream thread failed; replacing it", e);
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
    List<Topic<?, ?>> all = new ArrayList<>(List.of(topics.uploads(), topics.queries(), topics.prepared(),
        topics.matchAlerts(), topics.rejects()));
    all.add(IngestTopology.bySha256(topics));
    return all;
  }

  public void start() {
    streams.start();
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

  public IngestConfig config() {
    return cfg;
  }

  @Override
  public void close() {
    // leave the group at once: the partitions move to the other instances now, not after the session timeout
    streams.close(CloseOptions.timeout(Duration.ofSeconds(30))
        .withGroupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
    reporter.shutdownNow();
    log.info("ingest-stream stopped; counters {}", counters);
  }

  public static void main(String[] args) throws InterruptedException {
    Path file = null;
    Map<String, String> overrides = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--config") && i + 1 < args.length) {
        file = Path.of(args[++i]);
      } else if (args[i].contains("=")) {
        overrides.put(args[i].substring(0, args[i].indexOf('=')), args[i].substring(args[i].indexOf('=') + 1));
      } else {
        System.err.println("usage: IngestStreamApp [--config FILE] [key=value ...]; unexpected '" + args[i] + "'");
        System.exit(2);
      }
    }
    IngestConfig cfg;
    try {
      cfg = IngestConfig.load(file, System.getenv(), overrides);
    } catch (ConfigException | IllegalArgumentException e) {
      System.err.println("invalid settings: " + e.getMessage());
      System.exit(2);
      return;
    }
    IngestStreamApp app = new IngestStreamApp(cfg);
    CountDownLatch closed = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      app.close(); // SIGTERM / Ctrl-C: commit and close cleanly before the JVM halts
      closed.countDown();
    }, "ingest-shutdown"));
    app.start();
    app.awaitFinished();
    if (app.state() == KafkaStreams.State.ERROR) {
      log.error("ingest-stream failed; exiting");
      System.exit(1);
    }
    closed.await(60, TimeUnit.SECONDS);
  }
}
