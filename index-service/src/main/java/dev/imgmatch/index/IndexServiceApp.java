package dev.imgmatch.index;

import dev.imgmatch.common.Settings;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.config.ConfigException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs index-service alone: {@code java -jar imgmatch-index-service-*.jar [--config FILE] [key=value ...]}.
 * Settings: defaults &lt; file &lt; {@code IMGMATCH_*} environment (e.g. {@code IMGMATCH_HTTP_PORT} -&gt;
 * {@code http.port}, {@code IMGMATCH_INDEX_DIR} -&gt; {@code index.dir}) &lt; {@code key=value} arguments.
 * Serves {@code /health}, {@code /ready} and {@code /metrics} on {@code http.host:http.port} (-1 disables) and
 * logs JSON lines ({@code log.format=text}, or {@code IMGMATCH_LOG_FORMAT=text}, for plain text).
 * Exit status 0 after SIGTERM / Ctrl-C (shards committed), 1 after a fatal error (uncommitted work is replayed on
 * the next start), 2 for a usage or configuration error.
 */
public final class IndexServiceApp {
  private IndexServiceApp() {}

  public static void main(String[] args) throws InterruptedException {
    int status = run(args);
    if (status != 0) {
      System.exit(status);
    }
  }

  static int run(String[] args) throws InterruptedException {
    Settings.Args a = Settings.Args.parseOrReport("index-service", System.err, args);
    if (a == null) {
      return 2;
    }
    if (a.help()) {
      System.out.println("usage: java -jar imgmatch-index-service.jar [--config FILE] [key=value ...]\n"
          + "settings (defaults < file < IMGMATCH_* environment, e.g. IMGMATCH_HTTP_PORT=9090 < arguments):");
      IndexServiceConfig.main(new String[0]);
      return 0;
    }
    IndexServiceConfig cfg;
    try {
      Map<String, String> values = a.load(System.getenv());
      configureLogging(values.getOrDefault(IndexServiceConfig.LOG_FORMAT, "json")); // before the first logger
      cfg = new IndexServiceConfig(values);
    } catch (ConfigException | IllegalArgumentException e) {
      System.err.println("index-service: invalid configuration: " + e.getMessage());
      return 2;
    }
    Logger log = LoggerFactory.getLogger(IndexServiceApp.class);
    IndexService service = new IndexService(cfg);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      service.close();
      stopped.countDown();
    }, "index-service-shutdown"));
    service.startEndpoint();
    service.start();
    while (service.isRunning()) {
      Thread.sleep(200);
    }
    if (service.failure().isPresent()) {
      log.error("index-service failed; exiting");
      return 1;
    }
    stopped.await(60, TimeUnit.SECONDS);
    return 0;
  }

  /**
   * Points logback at this service's own JSON or text configuration (never named logback.xml, so nothing leaks
   * into the CLI's classpath), unless {@code -Dlogback.configurationFile} chose one or a test classpath brings
   * logback-test.xml. Must run before the first logger is created.
   */
  static void configureLogging(String format) {
    if (System.getProperty("logback.configurationFile") == null
        && IndexServiceApp.class.getClassLoader().getResource("logback-test.xml") == null) {
      System.setProperty("logback.configurationFile", logbackConfig(format));
    }
  }

  /** The classpath resource configuring logback for a {@code log.format} value. */
  static String logbackConfig(String format) {
    return "dev/imgmatch/index/service-logback-" + ("text".equalsIgnoreCase(format) ? "text" : "json") + ".xml";
  }
}
