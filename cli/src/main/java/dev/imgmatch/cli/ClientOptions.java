package dev.imgmatch.cli;

import dev.imgmatch.schemas.Topics;
import java.util.Map;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Options of the index commands: the shared Kafka connection options plus the tenant that asks. */
public final class ClientOptions {
  @Mixin KafkaOptions connection;

  @Option(names = "--tenant", defaultValue = "${env:IMGMATCH_TENANT:-default}",
      description = "Tenant (default: ${DEFAULT-VALUE}).")
  String tenant;

  Topics topics() {
    return connection.topics();
  }

  Map<String, Object> clientProps() {
    return connection.clientProps();
  }
}
