package dev.imgmatch.ops;

import java.nio.file.Path;
import java.time.Duration;

/**
 * {@code java -cp ... dev.imgmatch.ops.LocalBrokerMain [DATA_DIR [PORT]]}: runs a local broker until
 * Ctrl-C / SIGTERM. People use {@code ./imgmatch broker}; this main is for scripts and containers.
 */
public final class LocalBrokerMain {
  private LocalBrokerMain() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args.length > 0 ? args[0] : ".imgmatch/broker");
    int port = args.length > 1 ? Integer.parseInt(args[1]) : 0;
    run(new LocalBroker.Options(dir, port, 0, "512m", Duration.ofSeconds(90)));
  }

  /** Starts, prints the address, blocks until the process is told to stop, then stops the broker cleanly. */
  public static void run(LocalBroker.Options options) throws Exception {
    System.err.println("imgmatch: starting a local Kafka broker (KRaft) in " + options.dataDir().toAbsolutePath() + " ...");
    long t0 = System.nanoTime();
    LocalBroker broker = LocalBroker.start(options);
    Thread hook = new Thread(() -> {
      System.err.println("imgmatch: stopping the broker ...");
      broker.close();
      System.err.println("imgmatch: broker stopped (exit status " + broker.exitValue() + ")");
    }, "broker-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    System.err.printf("imgmatch: broker ready in %.1f s (%s data)%n", (System.nanoTime() - t0) / 1e9,
        broker.formattedNow() ? "new" : "existing");
    System.out.println("bootstrap.servers=" + broker.bootstrapServers());
    System.out.flush();
    System.err.println("imgmatch: broker log: " + options.dataDir().resolve("broker.log").toAbsolutePath()
        + "; press Ctrl-C to stop");
    int status = broker.waitFor();
    // reached only if the broker died by itself
    Runtime.getRuntime().removeShutdownHook(hook);
    broker.close();
    System.err.println("imgmatch: the broker exited on its own with status " + status + "; see "
        + options.dataDir().resolve("broker.log"));
    System.exit(status == 0 ? 1 : status);
  }
}
