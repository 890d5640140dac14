package dev.imgmatch.cli;

import dev.imgmatch.common.TopicSetup;
import dev.imgmatch.schemas.Topic;
import dev.imgmatch.schemas.Topics;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "topics", mixinStandardHelpOptions = true,
    description = "Create imgmatch's topics where missing (or just list them with --list).")
final class TopicsCommand implements CliCommand {
  /** Bootstrap servers, topic prefix and {@code --kafka-config} (a secured cluster: SASL, SSL) like the client commands. */
  @Mixin KafkaOptions kafka;

  @Option(names = "--partitions", defaultValue = "0", description = "Partitions for new topics; 0 = each topic's default.")
  int partitions;

  @Option(names = "--replication", defaultValue = "1", description = "Replication factor for new topics.")
  short replication;

  @Option(names = "--list", description = "Only print the topics and their contracts.")
  boolean list;

  @Override
  public Integer call() {
    Topics topics = kafka.topics();
    if (list) {
      System.out.println("topic,key,value,partitions,doc");
      for (Topic<?, ?> t : topics.all()) {
        System.out.printf("%s,%s,%s,%d,\"%s\"%n", t.name(), t.name().endsWith("rejects") ? "bytes" : "string",
            t.valueType().getSimpleName(), t.defaultPartitions(), t.doc());
      }
      return 0;
    }
    var created = TopicSetup.ensureAll(kafka.clientProps(), topics, partitions, replication);
    System.err.println(created.isEmpty() ? "imgmatch: all topics exist" : "imgmatch: created " + created);
    return 0;
  }

  @Override
  public int order() {
    return 11;
  }
}
