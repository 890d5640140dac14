package dev.imgmatch.cli;

import static dev.imgmatch.cli.CliOutput.stdout;
import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.Decision;
import dev.imgmatch.avro.ImageSubmission;
import dev.imgmatch.avro.InlineImage;
import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.avro.MatchedImage;
import dev.imgmatch.common.TopicSetup;
import dev.imgmatch.schemas.Topics;
import dev.imgmatch.testkit.KafkaBroker;
import dev.imgmatch.testkit.KafkaBrokerExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(KafkaBrokerExtension.class)
class UploadAndReadIT {

  @Test
  void uploadSendsEveryImageOfADirectoryAsSubmissions(KafkaBroker broker, @TempDir Path dir) throws Exception {
    String prefix = broker.uniqueName("up") + ".";
    Topics topics = new Topics(prefix);
    TopicSetup.ensureAll(broker.clientProps(), topics, 1, (short) 1);
    Files.createDirectories(dir.resolve("sub"));
    Files.write(dir.resolve("a.jpg"), new byte[] {1, 2, 3});
    Files.write(dir.resolve("sub/b.PNG"), new byte[] {4, 5});
    Files.writeString(dir.resolve("notes.txt"), "not an image");

    String out = stdout(() -> Main.execute("upload", "-b", broker.bootstrapServers(), "--topic-prefix", prefix,
        "--collection", "protected", "--tenant", "acme", dir.toString()), 0);
    assertThat(out.lines().skip(1)).hasSize(2);

    List<ImageSubmission> got = new ArrayList<>();
    try (var c = new KafkaConsumer<byte[], byte[]>(broker.consumerProps(broker.uniqueName("g")))) {
      c.subscribe(List.of(topics.uploads().name()));
      long deadline = System.currentTimeMillis() + 30_000;
      while (got.size() < 2 && System.currentTimeMillis() < deadline) {
        c.poll(Duration.ofMillis(200)).forEach(r -> got.add(topics.uploads().deserializeValue(r.value())));
      }
    }
    assertThat(got).extracting(ImageSubmission::getImageId).containsExactlyInAnyOrder("a.jpg", "sub/b.PNG");
    assertThat(got).allSatisfy(s -> {
      assertThat(s.getTenant()).isEqualTo("acme");
      assertThat(s.getCollection()).isEqualTo("protected");
      assertThat(s.getImage()).isInstanceOf(InlineImage.class);
    });
  }

  @Test
  void uploadOfAMissingFileFailsWithStatus1(KafkaBroker broker, @TempDir Path dir) throws Exception {
    String prefix = broker.uniqueName("up") + ".";
    TopicSetup.ensureAll(broker.clientProps(), new Topics(prefix), 1, (short) 1);
    stdout(() -> Main.execute("upload", "-b", broker.bootstrapServers(), "--topic-prefix", prefix,
        dir.resolve("nope.jpg").toString()), 1);
  }

  @Test
  void alertsPrintsEveryAlertAsCsvAndStopsAtTheEnd(KafkaBroker broker) throws Exception {
    String prefix = broker.uniqueName("al") + ".";
    Topics topics = new Topics(prefix);
    TopicSetup.ensureAll(broker.clientProps(), topics, 2, (short) 1);
    try (var p = new KafkaProducer<byte[], byte[]>(broker.producerProps())) {
      for (int i = 0; i < 3; i++) {
        MatchAlert a = MatchAlert.newBuilder().setImageId("up-" + i).setTenant("t").setCollection("uploads")
            .setDecision(Decision.MATCH).setScore(0.9f).setDetector("index")
            .setMatches(List.of(MatchedImage.newBuilder().setImageId("orig-" + i).setTenant("t")
                .setCollection("protected").setScore(0.9f).setPdqDistance(10).setCosine(0.8f).build()))
            .setSubmittedAtMs(1000).setAlertedAtMs(1250).build();
        p.send(topics.matchAlerts().record(a.getImageId(), a)).get();
      }
      p.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topics.matchAlerts().name(), "junk".getBytes(),
          "not avro".getBytes())).get();
    }
    String out = stdout(() -> Main.execute("alerts", "--csv", "-b", broker.bootstrapServers(), "--topic-prefix", prefix), 0);
    List<String> lines = out.lines().toList();
    assertThat(lines.getFirst()).startsWith("image,tenant");
    assertThat(lines.subList(1, lines.size())).hasSize(3)
        .anySatisfy(l -> assertThat(l).startsWith("up-1,t,uploads,MATCH,0.9000,index,orig-1,protected,false,10,0.8000,250"));
  }
}
