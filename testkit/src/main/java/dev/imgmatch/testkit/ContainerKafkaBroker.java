package dev.imgmatch.testkit;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.kafka.KafkaContainer;

/** The official {@code apache/kafka} image in Docker, through Testcontainers. */
final class ContainerKafkaBroker extends KafkaBroker {
  static final String IMAGE = "apache/kafka:4.3.1";

  private final KafkaContainer container;

  private ContainerKafkaBroker(KafkaContainer container) {
    this.container = container;
  }

  /** True when a Docker engine answers (under a second when none does). */
  static boolean dockerAvailable() {
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (Throwable t) {
      return false;
    }
  }

  @SuppressWarnings("resource")
  static ContainerKafkaBroker start() {
    KafkaContainer c = new KafkaContainer(IMAGE)
        .withEnv("KAFKA_MESSAGE_MAX_BYTES", String.valueOf(22 * 1024 * 1024))
        .withEnv("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "false")
        .withEnv("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0")
        .withEnv("KAFKA_GROUP_MIN_SESSION_TIMEOUT_MS", "1000");
    c.start();
    return new ContainerKafkaBroker(c);
  }

  @Override
  public String bootstrapServers() {
    return container.getBootstrapServers();
  }

  @Override
  public Kind kind() {
    return Kind.CONTAINER;
  }

  @Override
  public void close() {
    container.stop();
  }
}
