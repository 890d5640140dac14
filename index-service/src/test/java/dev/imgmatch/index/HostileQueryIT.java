package dev.imgmatch.index;

import static dev.imgmatch.index.ItSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.QueryFilters;
import dev.imgmatch.avro.QueryParams;
import dev.imgmatch.avro.QueryRequest;
import dev.imgmatch.avro.Reject;
import dev.imgmatch.avro.ReplyStatus;
import dev.imgmatch.avro.VectorTarget;
import dev.imgmatch.client.QueryClient;
import dev.imgmatch.schemas.Topics;
import dev.imgmatch.testkit.KafkaBroker;
import dev.imgmatch.testkit.KafkaBrokerExtension;
import dev.imgmatch.testkit.Seeds;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Records a hostile producer can write to {@code queries} on a real broker: 2 MB of random bytes (it stopped the
 * service once: its reject, value and envelope, was larger than the producer took), a 600 KB key, and queries
 * that aim their replies at a topic they may not use or one that does not exist. Each costs one reject; the
 * service keeps running and answers the next query.
 */
@ExtendWith(KafkaBrokerExtension.class)
class HostileQueryIT {
  static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir
  Path dir;

  @Test
  void everyHostileQueryCostsOneRejectAndTheServiceAnswersTheNext(KafkaBroker broker) throws Exception {
    long seed = Seeds.of("HostileQueryIT", 20261211L);
    Random rnd = new Random(seed);
    Topics topics = new Topics(broker.uniqueName("hq") + ".");
    Synthetic syn = new Synthetic(seed, 32, 4);
    Map<String, Object> big = new HashMap<>();
    broker.producerProps().forEach((k, val) -> big.put(String.valueOf(k), val));
    big.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Topics.MAX_MESSAGE_BYTES);
    try (IndexService service = new IndexService(new IndexServiceConfig(ItSupport.settings(broker, topics.prefix(),
        dir))).start(); KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(big)) {
      assertThat(service.awaitReady(WAIT)).isTrue();
      float[] v = syn.clustered();
      ItSupport.send(p, topics.embeddings(), "orig", ItSupport.embedding("orig", "t", "protected", v, syn.hash(),
          syn.sha(), 1));
      assertThat(await(WAIT, () -> service.counters().get("indexed") == 1)).isTrue();

      byte[] random = new byte[2 * 1024 * 1024];
      rnd.nextBytes(random);
      p.send(new ProducerRecord<>(topics.queries().name(), "rand".getBytes(StandardCharsets.UTF_8), random)).get();
      byte[] hugeKey = new byte[600 * 1024];
      rnd.nextBytes(hugeKey);
      p.send(new ProducerRecord<>(topics.queries().name(), hugeKey, new byte[] {1, 2, 3})).get();
      ItSupport.send(p, topics.queries(), "aimed", vectorQuery("aimed", v, topics.matchAlerts().name()));
      ItSupport.send(p, topics.queries(), "nowhere", vectorQuery("nowhere", v,
          topics.queryReplies().name() + ".gone"));

      List<Reject> rejects = ItSupport.readUntil(broker, topics.rejects(), l -> l.size() >= 4, WAIT);
      Map<String, Reject> byKey = new HashMap<>();
      List<Reject> keyed = new ArrayList<>();
      for (Reject r : rejects) {
        byte[] k = r.getOriginalKey() == null ? new byte[0] : bytes(r.getOriginalKey());
        byKey.put(k.length <= 64 ? new String(k, StandardCharsets.UTF_8) : "huge", r);
        keyed.add(r);
      }
      assertThat(byKey.get("rand").getReasonCode()).isEqualTo("MALFORMED_RECORD");
      assertThat(byKey.get("rand").getOriginalValueSize()).isEqualTo(random.length);
      assertThat(byKey.get("rand").getOriginalValue().remaining()).isLessThanOrEqualTo(1024 * 1024);
      assertThat(bytes(byKey.get("huge").getOriginalKey())).hasSize(dev.imgmatch.schemas.Limits.MAX_ID_BYTES);
      assertThat(byKey.get("aimed").getReasonCode()).isEqualTo("INVALID_QUERY");
      assertThat(byKey.get("aimed").getMessage()).contains("not allowed");
      assertThat(byKey.get("nowhere").getReasonCode()).isEqualTo("INVALID_QUERY");
      assertThat(byKey.get("nowhere").getMessage()).contains("does not exist");

      try (QueryClient client = new QueryClient(Map.of("bootstrap.servers", broker.bootstrapServers()), topics)) {
        var reply = client.byVector("t", ItSupport.MODEL, v, 3, Duration.ofSeconds(30)).get();
        assertThat(reply.getStatus()).isEqualTo(ReplyStatus.OK);
        assertThat(IndexServiceIT.ids(reply)).contains("orig");
      }
      assertThat(service.failure()).isEmpty();
      assertThat(service.notReadyReason()).isNull();
    }
  }

  private static QueryRequest vectorQuery(String id, float[] v, String replyTopic) {
    List<Float> vec = new ArrayList<>();
    for (float x : v) {
      vec.add(x);
    }
    return QueryRequest.newBuilder().setQueryId(id).setTenant("t")
        .setTarget(VectorTarget.newBuilder().setModelVersion(ItSupport.MODEL).setVector(vec).build())
        .setParams(QueryParams.newBuilder().setK(3).setMinScore(0f).setFilters(QueryFilters.newBuilder().build())
            .setReplyTopic(replyTopic).setRequestedAtMs(System.currentTimeMillis()).setTimeoutMs(60_000).build())
        .build();
  }

  private static byte[] bytes(java.nio.ByteBuffer b) {
    java.nio.ByteBuffer d = b.duplicate();
    byte[] out = new byte[d.remaining()];
    d.get(out);
    return out;
  }
}
