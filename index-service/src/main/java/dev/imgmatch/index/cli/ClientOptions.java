package dev.imgmatch.index.cli;

import dev.imgmatch.common.Settings;
import dev.imgmatch.schemas.Topics;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/** Kafka options of the index commands (the same names and environment defaults as the CLI's own). */
public final class ClientOptions {
  @Option(names = {"-b", "--bootstrap"}, defaultValue = "${env:IMGMATCH_BOOTSTRAP:-localhost:9092}",
      description = "Kafka bootstrap servers (default: ${DEFAULT-VALUE}).")
  String bootstrap;

  @Option(names = "--topic-prefix", defaultValue = "${env:IMGMATCH_TOPIC_PREFIX:-" + Topics.DEFAULT_PREFIX + "}",
      description = "Topic name prefix (default: ${DEFAULT-VALUE}).")
  String prefix;

  @Option(names = "--tenant", defaultValue = "${env:IMGMATCH_TENANT:-default}",
      description = "Tenant (default: ${DEFAULT-VALUE}).")
  String tenant;

  @Option(names = "--kafka-config", paramLabel = "FILE",
      description = "Properties file of extra Kafka client settings (security.protocol, sasl.*, ssl.*, ...).")
  Path kafkaConfig;

  Topics topics() {
    return new Topics(prefix);
  }

  Map<String, Object> clientProps() {
    Map<String, Object> m = new HashMap<>();
    if (kafkaConfig != null) {
      m.putAll(Settings.readFile(kafkaConfig));
    }
    m.put("bootstrap.servers", bootstrap);
    return m;
  }
}
