package dev.imgmatch.cli;

import dev.imgmatch.ops.LocalBroker;
import dev.imgmatch.ops.LocalBrokerMain;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "broker", mixinStandardHelpOptions = true,
    description = {"Run a local Kafka broker (KRaft, one node, a separate JVM) until Ctrl-C.",
        "Prints bootstrap.servers=HOST:PORT on stdout when ready. Restarting on the same --data-dir keeps every "
            + "topic and record."})
final class BrokerCommand implements CliCommand {
  @Option(names = "--data-dir", defaultValue = ".imgmatch/broker",
      description = "Data directory (default: ${DEFAULT-VALUE}, under the current directory).")
  Path dataDir;

  @Option(names = "--port", defaultValue = "0",
      description = "Client port; 0 picks a free one on first start and keeps it (default: ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--controller-port", defaultValue = "0", description = "KRaft controller port; 0 = free, kept.")
  int controllerPort;

  @Option(names = "--heap", defaultValue = "512m", description = "Broker JVM heap (default: ${DEFAULT-VALUE}).")
  String heap;

  @Override
  public Integer call() throws Exception {
    LocalBrokerMain.run(new LocalBroker.Options(dataDir, port, controllerPort, heap, Duration.ofSeconds(90)));
    return 0;
  }

  @Override
  public int order() {
    return 10;
  }
}
