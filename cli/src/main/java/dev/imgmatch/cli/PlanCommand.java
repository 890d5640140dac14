package dev.imgmatch.cli;

import dev.imgmatch.common.CliCommand;
import dev.imgmatch.schemas.Topic;
import dev.imgmatch.schemas.Topics;
import picocli.CommandLine.Command;

/**
 * Stands in for {@code demo} until every service exists: prints what the demo will run. Replaced
 * automatically when a module provides a {@code demo} command.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Run the whole pipeline locally on embedded defaults (prints the plan until every service is built).")
final class PlanCommand implements CliCommand {
  @Override
  public Integer call() {
    Topics t = Topics.defaults();
    System.out.println("""
        imgmatch demo: the plan
          1. start a local Kafka broker (KRaft, separate JVM, temporary data directory)
          2. create the topics:""");
    for (Topic<?, ?> topic : t.all()) {
      System.out.printf("       %-26s %-16s %s%n", topic.name(), topic.valueType().getSimpleName(), topic.doc());
    }
    System.out.println("""
          3. start ingest-stream (validate, decode, SHA-256 + PDQ, rejects -> dead letters)
          4. start embedder-worker (MobileNetV2 descriptor via DJL + TensorFlow, batched, exactly-once)
          5. start index-service (Lucene HNSW + PDQ + SHA-256 per shard, match alerts, query replies)
          6. index generated originals as 'protected', upload transformed copies and unrelated images
          7. print each match alert as it arrives, then caught / missed / false alarms and latency p50/p99
        Services not yet in this build are listed by './imgmatch help'.""");
    return 0;
  }

  @Override
  public int order() {
    return 1;
  }
}
