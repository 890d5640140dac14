package dev.imgmatch.cli;

import dev.imgmatch.avro.Reject;
import dev.imgmatch.common.CliCommand;
import dev.imgmatch.common.KafkaOptions;
import dev.imgmatch.schemas.RecordDecodingException;
import dev.imgmatch.schemas.Topic;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "rejects", mixinStandardHelpOptions = true,
    description = "Print dead letters (records a stage refused) with their reason: everything so far, or --follow.")
final class RejectsCommand implements CliCommand {
  @Mixin KafkaOptions kafka;

  @Option(names = {"-f", "--follow"}, description = "Keep printing new rejects until Ctrl-C.")
  boolean follow;

  @Override
  public Integer call() {
    Topic<byte[], Reject> topic = kafka.topics().rejects();
    System.out.println("stage,reason,source,key,message");
    TopicTail.run(kafka.clientProps(), topic.name(), follow, r -> {
      try {
        Reject j = topic.deserializeValue(r.value());
        String key = j.getOriginalKey() == null ? "" : StandardCharsets.UTF_8.decode(j.getOriginalKey().duplicate()).toString();
        System.out.printf("%s,%s,%s-%d@%d,%s,\"%s\"%n", j.getStage(), j.getReasonCode(), j.getSourceTopic(),
            j.getSourcePartition(), j.getSourceOffset(), key, j.getMessage().replace("\"", "'"));
      } catch (RecordDecodingException e) {
        System.err.printf("imgmatch rejects: %s-%d@%d: %s%n", r.topic(), r.partition(), r.offset(), e.getMessage());
      }
    });
    return 0;
  }

  @Override
  public int order() {
    return 23;
  }
}
