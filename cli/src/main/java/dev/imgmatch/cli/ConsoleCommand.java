package dev.imgmatch.cli;

import dev.imgmatch.console.ConsoleConfig;
import dev.imgmatch.console.ConsoleServer;
import java.io.IOException;
import java.net.BindException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ./imgmatch console}: the review console and HTTP API against any cluster, until Ctrl-C. */
@Command(name = "console", mixinStandardHelpOptions = true,
    description = {"Serve the review console (live alert queue, side-by-side evidence, search by image and by id) and",
        "the HTTP API (/v1/lookup, /v1/images/{id}, /v1/alerts, described at /openapi.json) for a running cluster,",
        "until Ctrl-C. Without a token it serves loopback only. Settings: docs/modules/console.md."})
final class ConsoleCommand implements CliCommand {
  @Mixin KafkaOptions kafka;

  @Option(names = "--port", defaultValue = "8090", description = "HTTP port; 0 = a free one (default: ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--bind", defaultValue = "127.0.0.1",
      description = "Address to listen on (default: ${DEFAULT-VALUE}); another than loopback needs a token.")
  String bind;

  @Option(names = "--token-file", paramLabel = "FILE",
      description = "File whose first line is the access token (else $" + ConsoleConfig.TOKEN_ENV + "; none: no "
          + "authentication, loopback only).")
  Path tokenFile;

  @Option(names = "--allow-anonymous", description = "Serve without a token on a non-loopback address (behind a "
      + "proxy that authenticates).")
  boolean allowAnonymous;

  @Option(names = "--tenant", defaultValue = "${env:IMGMATCH_TENANT:-default}",
      description = "Tenant lookups ask as when a request names none (default: ${DEFAULT-VALUE}).")
  String tenant;

  @Option(names = "--set", paramLabel = "KEY=VALUE",
      description = "Any console setting, e.g. --set console.alerts.max=50000 --set console.alerts.lookback.ms=86400000.")
  List<String> settings = List.of();

  @Override
  public Integer call() throws Exception {
    Map<String, String> o = new HashMap<>();
    kafka.clientProps().forEach((k, v) -> o.put(ConsoleConfig.KAFKA_PREFIX + k, String.valueOf(v)));
    o.put(ConsoleConfig.TOPIC_PREFIX, kafka.topics().prefix());
    o.put(ConsoleConfig.PORT, String.valueOf(port));
    o.put(ConsoleConfig.BIND, bind);
    o.put(ConsoleConfig.TENANT, tenant);
    if (allowAnonymous) {
      o.put(ConsoleConfig.ALLOW_ANONYMOUS, "true");
    }
    if (tokenFile != null) {
      o.put(ConsoleConfig.TOKEN, readToken(tokenFile));
    }
    for (String s : settings) {
      int eq = s.indexOf('=');
      if (eq <= 0) {
        System.err.println("imgmatch console: --set wants KEY=VALUE, got '" + s + "'");
        return 2;
      }
      o.put(s.substring(0, eq).strip(), s.substring(eq + 1).strip());
    }
    ConsoleConfig cfg = ConsoleConfig.load(null, System.getenv(), o);
    CountDownLatch stop = new CountDownLatch(1);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      stop.countDown();
      try {
        stopped.await(30, java.util.concurrent.TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "console-shutdown"));
    try (ConsoleServer console = start(cfg, "--port")) {
      System.out.println(describe(console));
      System.out.println("Ctrl-C stops it.");
      System.out.flush();
      stop.await();
    } finally {
      stopped.countDown();
    }
    return 0;
  }

  /** Starts the console; a port in use is one line naming the option that changes it. */
  static ConsoleServer start(ConsoleConfig cfg, String portOption) throws IOException {
    try {
      return ConsoleServer.start(cfg);
    } catch (BindException e) {
      throw new IOException("console: cannot listen on " + cfg.getString(ConsoleConfig.BIND) + ":"
          + cfg.getInt(ConsoleConfig.PORT) + " (" + e.getMessage() + "); choose another with " + portOption
          + " (0 = a free port)", e);
    }
  }

  /** What {@code console} and {@code up} print about it: the address, the API's description, whether auth is on. */
  static String describe(ConsoleServer c) {
    return "console: " + c.url() + "  (review console and HTTP API; API description " + c.url() + "openapi.json; "
        + (c.authEnabled() ? "token required" : "no authentication: loopback only") + ")";
  }

  static String readToken(Path file) throws IOException {
    List<String> lines = Files.readAllLines(file);
    String t = lines.isEmpty() ? "" : lines.getFirst().strip();
    if (t.isEmpty()) {
      throw new IOException(file + ": the first line should be the console's token, and it is empty");
    }
    return t;
  }

  @Override
  public int order() {
    return 24;
  }
}
