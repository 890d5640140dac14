package dev.imgmatch.client;

import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.avro.QueryReply;
import dev.imgmatch.avro.Reject;
import dev.imgmatch.schemas.Topic;
import dev.imgmatch.schemas.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * docs/modules/client.md's examples, word for word, so that they keep compiling (never run: they need a stack).
 * Change both together.
 */
final class DocExamples {
  private DocExamples() {}

  static void uploadWaitForTheAlertQueryByImage() throws Exception {
    Map<String, Object> kafka = Map.of("bootstrap.servers", "localhost:9092");
    Topics topics = Topics.defaults();
    Path file = Path.of("incoming/cat.jpg");
    byte[] bytes = Files.readAllBytes(file);
    String id = ImageFiles.idOf(file);                                       // "cat"
    BlockingQueue<MatchAlert> mine = new LinkedBlockingQueue<>();
    try (AlertWatcher alerts = new AlertWatcher(kafka, topics, a -> {         // start it before uploading
           if (a.getImageId().equals(id)) mine.add(a);
         });
         Uploader uploads = new Uploader(kafka, topics);
         QueryClient queries = new QueryClient(kafka, topics)) {
      uploads.send(id, "acme", "uploads", "my-app", bytes, file.getFileName().toString(), Map.of()).get();
      MatchAlert alert = mine.poll(30, TimeUnit.SECONDS);                     // null: it copies nothing protected/banned
      if (alert != null) {
        System.out.println(alert.getDecision() + " " + alert.getMatches().getFirst().getImageId());
      }
      QueryReply similar = queries.byImage("acme", bytes, file.getFileName().toString(), 10, Duration.ofSeconds(30)).get();
      similar.getResults().forEach(m -> System.out.println(m.getImageId() + " " + m.getScore()));
    }
  }

  static void deadLetters(Map<String, Object> kafka, Topics topics) {
    Topic<byte[], Reject> rejects = topics.rejects();
    TopicReader.read(kafka, rejects.name(), false,                           // true: follow until the JVM stops
        r -> System.out.println(rejects.deserializeValue(r.value()).getReasonCode()));
  }
}
