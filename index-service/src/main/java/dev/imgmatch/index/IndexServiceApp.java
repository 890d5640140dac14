package dev.imgmatch.index;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.common.config.ConfigException;

/**
 * Runs index-service alone: {@code java -cp ... dev.imgmatch.index.IndexServiceApp [--config FILE] [key=value ...]}.
 * Settings: defaults &lt; file &lt; {@code IMGMATCH_*} environment &lt; {@code key=value} arguments. Exit status 0 after
 * SIGTERM / Ctrl-C (shards committed), 1 after a fatal error (uncommitted work is replayed on the next start),
 * 2 for a usage or configuration error.
 */
public final class IndexServiceApp {
  private IndexServiceApp() {}

  public static void main(String[] args) throws InterruptedException {
    if (System.getProperty("logback.configurationFile") == null
        && IndexServiceApp.class.getClassLoader().getResource("logback-test.xml") == null) {
      System.setProperty("logback.configurationFile", "dev/imgmatch/index/service-logback.xml");
    }
    Path file = null;
    Map<String, String> overrides = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--config") && i + 1 < args.length) {
        file = Path.of(args[++i]);
      } else if (a.equals("--help") || a.equals("-h")) {
        System.out.println("usage: IndexServiceApp [--config FILE] [key=value ...]\n\nsettings:");
        IndexServiceConfig.main(new String[0]);
        return;
      } else if (a.contains("=")) {
        overrides.put(a.substring(0, a.indexOf('=')).strip(), a.substring(a.indexOf('=') + 1).strip());
      } else {
        System.err.println("index-service: unexpected argument '" + a + "' (want --config FILE or key=value)");
        System.exit(2);
      }
    }
    IndexServiceConfig cfg;
    try {
      cfg = IndexServiceConfig.load(file, System.getenv(), overrides);
    } catch (ConfigException | IllegalArgumentException e) {
      System.err.println("index-service: invalid configuration: " + e.getMessage());
      System.exit(2);
      return;
    }
    IndexService service = new IndexService(cfg);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      service.close();
      stopped.countDown();
    }, "index-service-shutdown"));
    service.start();
    while (service.isRunning()) {
      Thread.sleep(200);
    }
    if (service.failure().isPresent()) {
      System.exit(1);
    }
    stopped.await();
  }
}
