package dev.imgmatch.cli;

import dev.imgmatch.common.CliCommand;
import dev.imgmatch.common.TopicSetup;
import dev.imgmatch.schemas.Topic;
import dev.imgmatch.schemas.Topics;
import java.util.HashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "topics", mixinStandardHelpOptions = true,
    description = "Create imgmatch's topics where missing (or just list them with --list).")
final class TopicsCommand implements CliCommand {
  @Option(names = "--bootstrap", defaultValue = "${env:IMGMATCH_BOOTSTRAP:-localhost:9092}",
      description = "Kafka bootstrap servers (default: $IMGMATCH_BOOTSTRAP or ${DEFAULT-VALUE}).")
  String bootstrap;

  @Option(names = "--topic-prefix", defaultValue = Topics.DEFAULT_PREFIX, description = "Topic name prefix (default: ${DEFAULT-VALUE}).")
  String prefix;

  @Option(names = "--partitions", defaultValue = "0", description = "Partitions for new topics; 0 = each topic's default.")
  int partitions;

  @Option(names = "--replication", defaultValue = "1", description = "Replication factor for new topics.")
  short replication;

  @Option(names = "--list", description = "Only print the topics and their contracts.")
  boolean list;

  @Override
  public Integer call() {
    Topics topics = new Topics(prefix);
    if (list) {
      System.out.println("topic,key,value,partitions,doc");
      for (Topic<?, ?> t : topics.all()) {
        System.out.printf("%s,%s,%s,%d,\"%s\"%n", t.name(), t.name().endsWith("rejects") ? "bytes" : "string",
            t.valueType().getSimpleName(), t.defaultPartitions(), t.doc());
      }
      return 0;
    }
    Map<String, Object> admin = new HashMap<>();
    admin.put("bootstrap.servers", bootstrap);
    var created = TopicSetup.ensureAll(admin, topics, partitions, replication);
    System.err.println(created.isEmpty() ? "imgmatch: all topics exist" : "imgmatch: created " + created);
    return 0;
  }

  @Override
  public int order() {
    return 11;
  }
}
