package dev.imgmatch.cli;

import dev.imgmatch.avro.Deletion;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code ./imgmatch delete ID...}: a takedown of the tenant's images (index-service removes them). */
@Command(name = "delete", mixinStandardHelpOptions = true,
    description = {"Remove images of the tenant from the index (a takedown on the deletions topic).",
        "Prints id,partition,offset per deletion on stdout."})
public final class DeleteCommand implements CliCommand {
  @Mixin ClientOptions kafka;

  @Parameters(arity = "1..*", paramLabel = "ID", description = "Image ids to remove.")
  List<String> ids;

  @Option(names = "--reason", description = "Why (kept for the audit trail), e.g. dmca.")
  String reason;

  @Option(names = "--requested-by", defaultValue = "${env:USER:-cli}", description = "Who asks (default: ${DEFAULT-VALUE}).")
  String requestedBy;

  @Override
  public int order() {
    return 45;
  }

  @Override
  public Integer call() throws Exception {
    Map<String, Object> props = kafka.clientProps();
    props.put("enable.idempotence", true);
    props.put("acks", "all");
    var topic = kafka.topics().deletions();
    int failed = 0;
    try (var producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
      System.out.println("id,partition,offset");
      for (String id : ids) {
        if (id.isBlank()) {
          System.err.println("imgmatch delete: empty id skipped");
          failed++;
          continue;
        }
        Deletion d = Deletion.newBuilder().setImageId(id).setTenant(kafka.tenant).setReason(reason)
            .setRequestedBy(requestedBy).setRequestedAtMs(System.currentTimeMillis()).build();
        try {
          RecordMetadata md = producer.send(topic.record(id, d)).get();
          System.out.printf("%s,%d,%d%n", id, md.partition(), md.offset());
        } catch (Exception e) {
          System.err.println("imgmatch delete: " + id + ": " + (e.getCause() == null ? e : e.getCause()).getMessage());
          failed++;
        }
      }
    }
    System.err.printf("imgmatch delete: %d deletion(s) sent to %s for tenant '%s'%n", ids.size() - failed,
        topic.name(), kafka.tenant);
    return failed > 0 ? 1 : 0;
  }
}
