package dev.imgmatch.testkit;

/** A broker run by someone else (e.g. the docker-compose stack), named by its bootstrap address. */
final class ExternalKafkaBroker extends KafkaBroker {
  private final String bootstrap;

  ExternalKafkaBroker(String bootstrap) {
    this.bootstrap = bootstrap;
  }

  @Override
  public String bootstrapServers() {
    return bootstrap;
  }

  @Override
  public Kind kind() {
    return Kind.EXTERNAL;
  }

  @Override
  public void close() {}
}
