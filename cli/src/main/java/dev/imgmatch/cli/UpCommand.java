package dev.imgmatch.cli;

import dev.imgmatch.cli.stack.Instances;
import dev.imgmatch.cli.stack.LocalStack;
import dev.imgmatch.cli.stack.ServiceSettings;
import dev.imgmatch.console.ConsoleConfig;
import dev.imgmatch.console.ConsoleServer;
import dev.imgmatch.schemas.Topic;
import dev.imgmatch.schemas.Topics;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "up", mixinStandardHelpOptions = true,
    description = {"Run the local stack (broker + ingest-stream + embedder-worker + index-service) until Ctrl-C.",
        "Prints the bootstrap address, the topics, the services' health/metrics endpoints and the review console's "
            + "address (the HTTP API is on the same server; --no-console leaves it out). Then, from another "
            + "terminal: ./imgmatch upload, alerts, query, delete, rejects (they default to the printed address when "
            + "IMGMATCH_BOOTSTRAP is set to it). Data persists in --data-dir across restarts."})
final class UpCommand implements CliCommand {
  @Option(names = "--data-dir", defaultValue = ".imgmatch/stack", description = "Broker data, index and state (default: ${DEFAULT-VALUE}).")
  Path dataDir;

  @Option(names = "--bootstrap", description = "Use this Kafka cluster instead of starting a local broker.")
  String bootstrap;

  @Option(names = "--topic-prefix", defaultValue = Topics.DEFAULT_PREFIX, description = "Topic prefix (default: ${DEFAULT-VALUE}).")
  String prefix;

  @Option(names = "--partitions", defaultValue = "2", description = "Partitions of new topics = index shards (default: ${DEFAULT-VALUE}).")
  int partitions;

  @Option(names = "--http-port", defaultValue = "8081",
      description = "Endpoints on this port (ingest), +1 (embedder), +2 (index); with --instances one port per "
          + "instance from this one on, ingest ones first, then embedder, then index; 0 = free ports (default: "
          + "${DEFAULT-VALUE}).")
  int httpPort;

  @Option(names = "--instances", paramLabel = "index=N,embedder=M,ingest=K", converter = Instances.Converter.class,
      description = "Run this many instances of each service, each a process of its own with its own index, state, "
          + "port and log (DATA-DIR/logs/<service>-<i>.log), sharing the work like a deployment; services left out: 1. "
          + "Default: one of each, in this JVM.")
  Instances instances = Instances.ONE;

  @Option(names = "--set", paramLabel = "SERVICE:KEY=VALUE",
      description = "A setting for one service, e.g. --set index:match.rules=uploads:protected,banned,uploads (services: ingest, embedder, index).")
  List<String> settings = List.of();

  @Option(names = "--console-port", defaultValue = "8090",
      description = "Port of the review console and HTTP API, on 127.0.0.1 (a token from $"
          + ConsoleConfig.TOKEN_ENV + " is required when set); 0 = a free port (default: ${DEFAULT-VALUE}).")
  int consolePort;

  @Option(names = "--no-console", description = "Do not start the review console and HTTP API.")
  boolean noConsole;

  @Override
  public Integer call() throws Exception {
    Map<String, Map<String, String>> sets = ServiceSettings.parse(settings);
    Map<String, String> ingest = sets.getOrDefault("ingest", Map.of());
    Map<String, String> embedder = sets.getOrDefault("embedder", Map.of());
    Map<String, String> index = sets.getOrDefault("index", Map.of());
    LocalStack.Options o = new LocalStack.Options(dataDir, bootstrap, prefix, partitions, httpPort, ingest, embedder, index,
        instances);
    CountDownLatch stop = new CountDownLatch(1);
    CountDownLatch stopped = new CountDownLatch(1);
    // On Ctrl-C / SIGTERM the hook asks the main thread to stop and waits until it has closed everything (the JVM
    // exits when the hooks return, so closing must be finished by then, broker process included).
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      System.err.println("up: stopping ...");
      stop.countDown();
      try {
        stopped.await(120, java.util.concurrent.TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "up-shutdown"));
    try (LocalStack stack = LocalStack.start(o, line -> System.err.println("up: " + line));
        ConsoleServer console = noConsole ? null : ConsoleCommand.start(consoleConfig(stack), "--console-port")) {
      System.out.println("bootstrap.servers=" + stack.bootstrapServers());
      System.out.println("topics:");
      for (Topic<?, ?> t : stack.topics().all()) {
        System.out.printf("  %-30s %s%n", t.name(), t.doc());
      }
      System.out.println("endpoints:");
      int width = stack.endpoints().keySet().stream().mapToInt(String::length).max().orElse(0);
      stack.endpoints().forEach((name, e) -> System.out.printf("  %-" + Math.max(16, width) + "s %s  %s  %s%n", name,
          e.url("/health"), e.url("/ready"), e.url("/metrics")));
      if (console != null) {
        System.out.println(ConsoleCommand.describe(console));
      }
      if (stack.multiProcess()) {
        System.out.println("logs: " + dataDir.resolve("logs").toAbsolutePath() + " (one per instance)");
      }
      System.out.println("ready. In another terminal:");
      System.out.println("  export IMGMATCH_BOOTSTRAP=" + stack.bootstrapServers());
      System.out.println("  ./imgmatch upload --collection protected DIR    # works to protect");
      System.out.println("  ./imgmatch upload FILE...                       # user uploads, matched against them");
      System.out.println("  ./imgmatch alerts --follow");
      System.out.println("  ./imgmatch query IMAGE");
      System.out.println("Ctrl-C stops everything; data stays in " + dataDir.toAbsolutePath());
      System.out.flush();
      while (stop.getCount() > 0) {
        String problem = stack.problem();
        if (problem != null) {
          System.err.println("up: " + problem + "; stopping");
          return 1;
        }
        stop.await(500, java.util.concurrent.TimeUnit.MILLISECONDS);
      }
    } finally {
      stopped.countDown();
    }
    System.err.println("up: stopped");
    return 0;
  }

  /** The console on the stack's cluster: loopback, the given port, a token from the environment when set. */
  private ConsoleConfig consoleConfig(LocalStack stack) {
    Map<String, String> c = new java.util.HashMap<>();
    stack.clientProps().forEach((k, v) -> c.put(ConsoleConfig.KAFKA_PREFIX + k, String.valueOf(v)));
    c.put(ConsoleConfig.TOPIC_PREFIX, prefix);
    c.put(ConsoleConfig.BIND, "127.0.0.1");
    c.put(ConsoleConfig.PORT, String.valueOf(consolePort));
    return ConsoleConfig.load(null, System.getenv(), c);
  }

  @Override
  public int order() {
    return 2;
  }
}
