package dev.imgmatch.embedder.worker;

import dev.imgmatch.common.Settings;
import dev.imgmatch.common.TopicSetup;
import dev.imgmatch.embedder.Embedder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
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
 * settings.
 */
public final class EmbedderWorkerApp {
  private static final Logger log = LoggerFactory.getLogger(EmbedderWorkerApp.class);

  private EmbedderWorkerApp() {}

  public static void main(String[] args) throws Exception {
    System.exit(run(args));
  }

  static int run(String[] args) throws Exception {
    Path file = null;
    Map<String, String> overrides = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--config") && i + 1 < args.length) {
        file = Path.of(args[++i]);
      } else if (args[i].contains("=")) {
        int eq = args[i].indexOf('=');
        overrides.put(args[i].substring(0, eq).strip(), args[i].substring(eq + 1).strip());
      } else {
        System.err.println("usage: EmbedderWorkerApp [--config FILE] [key=value ...]; unknown argument " + args[i]);
        return 2;
      }
    }
    EmbedderWorkerConfig config;
    try {
      config = new EmbedderWorkerConfig(Settings.load(file, System.getenv(), overrides));
    } catch (ConfigException | IllegalArgumentException e) {
      System.err.println("embedder-worker: invalid settings: " + e.getMessage());
      return 2;
    }
    log.info("embedder-worker settings:\n{}", config.describe());
    if (config.getBoolean(EmbedderWorkerConfig.TOPICS_CREATE)) {
      var t = config.topics();
      TopicSetup.ensure(config.kafka(), List.of(t.prepared(), t.embeddings(), t.probes(), t.rejects()),
          config.getInt(EmbedderWorkerConfig.TOPICS_PARTITIONS), config.getShort(EmbedderWorkerConfig.TOPICS_REPLICATION));
    }
    try (Embedder embedder = Embedder.open(config.embedderOptions(), m -> log.info("{}", m))) {
      log.info("model {} version {} ({}-d descriptor)", embedder.modelId(), embedder.modelVersion(), embedder.dim());
      EmbedderWorker worker = new EmbedderWorker(config, embedder, null);
      CountDownLatch hooked = new CountDownLatch(1);
      Thread hook = new Thread(() -> {
        log.info("stopping embedder-worker");
        worker.close();
        hooked.countDown();
      }, "embedder-shutdown");
      Runtime.getRuntime().addShutdownHook(hook);
      worker.start();
      log.info("embedder-worker running: {} -> {}, {}", config.topics().prepared().name(),
          config.topics().embeddings().name(), config.topics().probes().name());
      while (!worker.awaitTermination(Duration.ofSeconds(5))) {
        log.debug("embedded {} rejected {} batches {}", worker.embedded(), worker.rejected(), worker.batches());
      }
      return worker.failure() == null ? 0 : 1;
    }
  }
}
