package dev.imgmatch.embedder.worker;

import dev.imgmatch.common.ServiceEndpoint;
import dev.imgmatch.common.Settings;
import dev.imgmatch.common.TopicSetup;
import dev.imgmatch.embedder.Embedder;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.common.config.ConfigException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one embedder worker until SIGTERM/SIGINT.
 *
 * <pre>
 * java -cp ... dev.imgmatch.embedder.worker.EmbedderWorkerApp [--config FILE] [key=value ...]
 * </pre>
 * Settings: {@link EmbedderWorkerConfig} (defaults, then the file, then {@code IMGMATCH_*} environment variables, then
 * {@code key=value} arguments). Exit status 0 after a clean stop, 1 when the worker stopped on an error, 2 for bad
 * settings. Serves {@code /health}, {@code /ready} (ready while the worker runs and its model embeds; 503 with the reason otherwise, e.g. a model
 * outage being retried) and {@code /metrics} (Prometheus) on
 * {@code http.host:http.port}; logs JSON lines ({@code log.format=json}, default) or plain text.
 */
public final class EmbedderWorkerApp {
  static final String SERVICE = "embedder-worker";

  private EmbedderWorkerApp() {}

  public static void main(String[] args) throws Exception {
    System.exit(run(args));
  }

  static int run(String[] args) throws Exception {
    Settings.Args a = Settings.Args.parseOrReport("embedder-worker", System.err, args);
    if (a == null) {
      return 2;
    }
    if (a.help()) {
      System.out.println("usage: java -jar imgmatch-embedder-worker.jar [--config FILE] [key=value ...]; settings: "
          + "docs/modules/embedder-worker.md#settings (defaults < file < IMGMATCH_* environment < arguments)");
      return 0;
    }
    Map<String, String> values;
    try {
      values = a.load(System.getenv());
    } catch (RuntimeException e) {
      System.err.println("embedder-worker: invalid settings: " + e.getMessage());
      return 2;
    }
    configureLogging(values.getOrDefault(EmbedderWorkerConfig.LOG_FORMAT, "json"));
    Logger log = LoggerFactory.getLogger(EmbedderWorkerApp.class);
    EmbedderWorkerConfig config;
    try {
      config = new EmbedderWorkerConfig(values);
    } catch (ConfigException | IllegalArgumentException e) {
      System.err.println("embedder-worker: invalid settings: " + e.getMessage());
      return 2;
    }
    log.info("embedder-worker settings:\n{}", config.describe());
    if (config.getBoolean(EmbedderWorkerConfig.TOPIC_CREATE)) {
      var t = config.topics();
      TopicSetup.ensure(config.kafka(),
          List.of(t.prepared(), t.embeddings(), t.embeddingExtras(), t.probes(), t.rejects(), t.modelServing()),
          config.getInt(EmbedderWorkerConfig.TOPIC_PARTITIONS), config.getShort(EmbedderWorkerConfig.TOPIC_REPLICATION));
    }
    var registry = ServiceEndpoint.newRegistry(SERVICE);
    WorkerMetrics metrics = new WorkerMetrics(registry);
    java.util.concurrent.atomic.AtomicReference<EmbedderWorker> current = new java.util.concurrent.atomic.AtomicReference<>();
    int port = config.getInt(EmbedderWorkerConfig.HTTP_PORT);
    ServiceEndpoint endpoint = port < 0 ? null : ServiceEndpoint.start(SERVICE, registry,
        config.getString(EmbedderWorkerConfig.HTTP_HOST), port, () -> {
          EmbedderWorker w = current.get();
          return w == null ? "loading the model" : w.notReady();
        });
    Embedder opened;
    try {
      opened = Embedder.open(config.embedderOptions(), m -> log.info("{}", m));
      try {
        Embedder.requireIndexable(opened);
      } catch (RuntimeException e) {
        opened.close();
        throw e;
      }
    } catch (RuntimeException e) {
      // no model or no proper descriptor head: refuse to start rather than emit vectors nobody can match
      log.error("embedder-worker cannot start: {}", e.getMessage(), e);
      System.err.println("embedder-worker: cannot start: " + e.getMessage());
      if (endpoint != null) {
        endpoint.close();
      }
      return 3;
    }
    try (Embedder embedder = opened) {
      log.info("model {} version {} ({}-d descriptor)", embedder.modelId(), embedder.modelVersion(), embedder.dim());
      EmbedderWorker worker = new EmbedderWorker(config, embedder, null, metrics);
      CountDownLatch hooked = new CountDownLatch(1);
      Thread hook = new Thread(() -> {
        log.info("stopping embedder-worker");
        worker.close();
        hooked.countDown();
      }, "embedder-shutdown");
      Runtime.getRuntime().addShutdownHook(hook);
      worker.start();
      current.set(worker);
      log.info("embedder-worker running: {} -> {}, {}", config.topics().prepared().name(),
          config.topics().embeddings().name(), config.topics().probes().name());
      while (!worker.awaitTermination(Duration.ofSeconds(5))) {
        log.debug("embedded {} rejected {} batches {}", worker.embedded(), worker.rejected(), worker.batches());
      }
      return worker.failure() == null ? 0 : 1;
    } finally {
      if (endpoint != null) {
        endpoint.close();
      }
    }
  }

  /**
   * Points logback at our own JSON or text configuration (never named logback.xml), unless the user chose one with
   * {@code -Dlogback.configurationFile} or a test classpath brings logback-test.xml. Must run before the first
   * logger is created.
   */
  static void configureLogging(String format) {
    if (System.getProperty("logback.configurationFile") == null
        && EmbedderWorkerApp.class.getClassLoader().getResource("logback-test.xml") == null) {
      System.setProperty("logback.configurationFile", "dev/imgmatch/embedder/worker/service-logback-"
          + ("text".equalsIgnoreCase(format) ? "text" : "json") + ".xml");
    }
  }
}
