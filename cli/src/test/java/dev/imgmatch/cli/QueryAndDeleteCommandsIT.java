package dev.imgmatch.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.Deletion;
import dev.imgmatch.avro.ImageIdTarget;
import dev.imgmatch.avro.InlineImage;
import dev.imgmatch.avro.MatchedImage;
import dev.imgmatch.avro.QueryReply;
import dev.imgmatch.avro.QueryRequest;
import dev.imgmatch.avro.ReplyStatus;
import dev.imgmatch.common.TopicSetup;
import dev.imgmatch.schemas.Topics;
import dev.imgmatch.testkit.KafkaBroker;
import dev.imgmatch.testkit.KafkaBrokerExtension;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./imgmatch query} and {@code delete} on a real broker: the requests and takedowns they send, and the CSV they
 * print from a reply. A stand-in answers the queries (index-service's own answers are its IndexServiceIT's).
 */
@ExtendWith(KafkaBrokerExtension.class)
class QueryAndDeleteCommandsIT {
  private record Run(int status, String out) {}

  /** {@code ./imgmatch ARGS} in this JVM: its status and stdout (without the in-process broker's log lines). */
  private static Run imgmatch(String... args) {
    PrintStream old = System.out;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    int status;
    System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
    try {
      status = Main.execute(args);
    } finally {
      System.setOut(old);
    }
    String out = buf.toString(StandardCharsets.UTF_8);
    System.out.print(out);
    return new Run(status, out.lines().filter(l -> !l.matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} .*"))
        .map(l -> l + "\n").reduce("", String::concat));
  }

  /** Answers every query of tenant t1 with two ranked images (cut to k); ignores the others. */
  private static final class StandIn implements AutoCloseable {
    final List<QueryRequest> seen = new CopyOnWriteArrayList<>();
    private final Thread thread;
    private volatile boolean running = true;

    StandIn(KafkaBroker broker, Topics topics) {
      thread = new Thread(() -> {
        try (var c = new KafkaConsumer<byte[], byte[]>(broker.consumerProps(broker.uniqueName("standin")));
            var p = new KafkaProducer<byte[], byte[]>(broker.producerProps())) {
          c.subscribe(List.of(topics.queries().name()));
          while (running) {
            for (var r : c.poll(Duration.ofMillis(100))) {
              QueryRequest q = topics.queries().deserializeValue(r.value());
              seen.add(q);
              if (!q.getTenant().equals("t1")) {
                continue;
              }
              List<MatchedImage> results = List.of(
                  MatchedImage.newBuilder().setImageId("copy").setTenant("t1").setCollection("uploads").setScore(0.95f)
                      .setExact(false).setPdqDistance(14).setCosine(0.97f).build(),
                  MatchedImage.newBuilder().setImageId("other").setTenant("t1").setCollection("protected")
                      .setScore(0.5f).setExact(false).setPdqDistance(null).setCosine(0.5f).build());
              QueryReply reply = QueryReply.newBuilder().setQueryId(q.getQueryId()).setTenant("t1")
                  .setStatus(ReplyStatus.OK).setResults(results.subList(0, Math.min(q.getParams().getK(), 2)))
                  .setShardsAnswered(3).setShardsTotal(3).setModelVersion("m1").setTookMs(4)
                  .setRepliedAtMs(System.currentTimeMillis()).build();
              p.send(topics.queryReplies().withName(q.getParams().getReplyTopic()).record(q.getQueryId(), reply)).get();
            }
          }
        } catch (Exception e) {
          if (running) {
            throw new IllegalStateException(e);
          }
        }
      }, "query-stand-in");
      thread.setDaemon(true);
      thread.start();
    }

    @Override
    public void close() throws InterruptedException {
      running = false;
      thread.join(5000);
    }
  }

  @Test
  void queryPrintsTheRankedReplyAsCsvForAnIdOrAnImage(KafkaBroker broker, @TempDir Path dir) throws Exception {
    Topics topics = new Topics(broker.uniqueName("q") + ".");
    TopicSetup.ensureAll(broker.clientProps(), topics, 2, (short) 1);
    String[] common = {"-b", broker.bootstrapServers(), "--topic-prefix", topics.prefix(), "--tenant", "t1"};
    try (StandIn standIn = new StandIn(broker, topics)) {
      Run byId = imgmatch(concat(new String[] {"query"}, common, "--id", "orig", "-k", "2"));
      assertThat(byId.status()).isZero();
      assertThat(byId.out().lines()).containsExactly("rank,imageId,tenant,collection,score,exact,pdqDistance,cosine",
          "1,copy,t1,uploads,0.9500,false,14,0.9700", "2,other,t1,protected,0.5000,false,,0.5000");
      QueryRequest idQuery = standIn.seen.getLast();
      assertThat(idQuery.getTenant()).isEqualTo("t1");
      assertThat(idQuery.getTarget()).isInstanceOfSatisfying(ImageIdTarget.class,
          t -> assertThat(t.getImageId()).isEqualTo("orig"));
      assertThat(idQuery.getParams().getK()).isEqualTo(2);

      Path png = Files.write(dir.resolve("query.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3});
      Run byImage = imgmatch(concat(new String[] {"query"}, common, png.toString(), "-k", "1", "--timeout", "40s"));
      assertThat(byImage.status()).isZero();
      assertThat(byImage.out().lines()).hasSize(2).last().asString().startsWith("1,copy,t1,uploads,");
      QueryRequest imageQuery = standIn.seen.getLast();
      assertThat(imageQuery.getTarget()).isInstanceOfSatisfying(InlineImage.class, t -> {
        assertThat(t.getData().remaining()).isEqualTo(7);
        assertThat(t.getFileName()).isEqualTo("query.png");
      });
      assertThat(imageQuery.getParams().getTimeoutMs()).isEqualTo(40_000);

      // no answer (the stand-in ignores tenant t2): status 1 after the timeout
      Run unanswered = imgmatch("query", "-b", broker.bootstrapServers(), "--topic-prefix", topics.prefix(),
          "--tenant", "t2", "--id", "orig", "--timeout", "2s");
      assertThat(unanswered.status()).isEqualTo(1);
      assertThat(imgmatch(concat(new String[] {"query"}, common, "--id", "orig", "-k", "0")).status())
          .as("a usage error").isEqualTo(2);
    }
  }

  @Test
  void deleteSendsOneTakedownPerIdOfTheTenant(KafkaBroker broker) throws Exception {
    Topics topics = new Topics(broker.uniqueName("d") + ".");
    TopicSetup.ensureAll(broker.clientProps(), topics, 2, (short) 1);
    Run r = imgmatch("delete", "-b", broker.bootstrapServers(), "--topic-prefix", topics.prefix(), "--tenant", "t1",
        "orig", "dup", "--reason", "dmca", "--requested-by", "legal");
    assertThat(r.status()).isZero();
    assertThat(r.out().lines()).hasSize(3).first().isEqualTo("id,partition,offset");
    List<Deletion> got = new ArrayList<>();
    List<String> keys = new ArrayList<>();
    try (var c = new KafkaConsumer<byte[], byte[]>(broker.consumerProps(broker.uniqueName("g")))) {
      c.subscribe(List.of(topics.deletions().name()));
      long deadline = System.currentTimeMillis() + 30_000;
      while (got.size() < 2 && System.currentTimeMillis() < deadline) {
        c.poll(Duration.ofMillis(200)).forEach(rec -> {
          keys.add(topics.deletions().deserializeKey(rec.key()));
          got.add(topics.deletions().deserializeValue(rec.value()));
        });
      }
    }
    assertThat(keys).containsExactlyInAnyOrder("orig", "dup");
    assertThat(got).extracting(Deletion::getImageId).containsExactlyInAnyOrder("orig", "dup");
    assertThat(got).allSatisfy(d -> {
      assertThat(d.getTenant()).isEqualTo("t1");
      assertThat(d.getReason()).isEqualTo("dmca");
      assertThat(d.getRequestedBy()).isEqualTo("legal");
    });
  }

  private static String[] concat(String[] a, String[] b, String... c) {
    List<String> all = new ArrayList<>(List.of(a));
    all.addAll(List.of(b));
    all.addAll(List.of(c));
    return all.toArray(String[]::new);
  }
}

