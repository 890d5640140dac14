package dev.imgmatch.cli;

import dev.imgmatch.common.Settings;
import dev.imgmatch.schemas.Topics;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The Kafka connection options every {@code ./imgmatch} client command shares, as a picocli mixin: bootstrap
 * servers, topic prefix and a file of extra client settings (security), with the same environment defaults.
 */
public final class KafkaOptions {
  @Option(names = {"-b", "--bootstrap"}, defaultValue = "${env:IMGMATCH_BOOTSTRAP:-localhost:9092}",
      description = "Kafka bootstrap servers (default: $IMGMATCH_BOOTSTRAP, else ${DEFAULT-VALUE}; `./imgmatch up` prints it).")
  String bootstrap;

  @Option(names = "--topic-prefix", defaultValue = "${env:IMGMATCH_TOPIC_PREFIX:-" + Topics.DEFAULT_PREFIX + "}",
      description = "Topic name prefix (default: ${DEFAULT-VALUE}).")
  String prefix;

  @Option(names = "--kafka-config", paramLabel = "FILE",
      description = "Properties file of extra Kafka client settings (security.protocol, sasl.*, ssl.*, ...).")
  Path kafkaConfig;

  public Topics topics() {
    return new Topics(prefix);
  }

  public String bootstrap() {
    return bootstrap;
  }

  /** Client settings: bootstrap plus the optional file's entries. */
  public Map<String, Object> clientProps() {
    Map<String, Object> m = new HashMap<>();
    if (kafkaConfig != null) {
      m.putAll(Settings.readFile(kafkaConfig));
    }
    m.put("bootstrap.servers", bootstrap);
    return m;
  }
}
