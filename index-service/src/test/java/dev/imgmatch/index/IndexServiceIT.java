package dev.imgmatch.index;

import static dev.imgmatch.index.ItSupport.await;
import static dev.imgmatch.index.ItSupport.embedding;
import static dev.imgmatch.index.ItSupport.send;
import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.Decision;
import dev.imgmatch.avro.ImageEmbedding;
import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.avro.MatchedImage;
import dev.imgmatch.avro.QueryReply;
import dev.imgmatch.avro.Reject;
import dev.imgmatch.avro.ReplyStatus;
import dev.imgmatch.client.QueryClient;
import dev.imgmatch.schemas.Topics;
import dev.imgmatch.testkit.KafkaBroker;
import dev.imgmatch.testkit.KafkaBrokerExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** index-service in-process on the real broker: alerts, queries, deletions, rejects. */
@ExtendWith(KafkaBrokerExtension.class)
class IndexServiceIT {
  static final Duration WAIT = Duration.ofSeconds(60);
  static final Duration Q = Duration.ofSeconds(20);

  @TempDir
  Path dir;

  @Test
  void aTransformedCopyRaisesOneAlertNamingTheOriginalAndQueriesAndDeletionsWork(KafkaBroker broker) throws Exception {
    long seed = ShardIndexTest.seed();
    Synthetic syn = new Synthetic(seed, 64, 8);
    Topics topics = new Topics(broker.uniqueName("x") + ".");
    IndexServiceConfig cfg = new IndexServiceConfig(ItSupport.settings(broker, topics.prefix(), dir));
    try (IndexService service = new IndexService(cfg).start();
        KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(broker.producerProps())) {
      assertThat(service.awaitReady(WAIT)).as("service assigned its shards").isTrue();
      try (QueryClient client = new QueryClient(Map.of("bootstrap.servers", broker.bootstrapServers()), topics)) {
        float[] v = syn.clustered();
        byte[] pdq = syn.hash();
        long now = System.currentTimeMillis();
        // the protected original and some unrelated protected images
        send(p, topics.embeddings(), "orig", embedding("orig", "t1", "protected", v, pdq, syn.sha(), now));
        for (int i = 0; i < 20; i++) {
          send(p, topics.embeddings(), "prot-" + i,
              embedding("prot-" + i, "t1", "protected", syn.gaussianUnit(), syn.hash(), syn.sha(), now));
        }
        // the same picture protected by another tenant must never be reported to t1
        send(p, topics.embeddings(), "orig", embedding("orig", "t2", "protected", v, pdq, syn.sha(), now));
        assertThat(await(WAIT, () -> ids(client.byVector("t1", ItSupport.MODEL, v, 3, Q).get()).contains("orig")))
            .as("the original becomes searchable").isTrue();

        // a malformed record is rejected and the service goes on
        p.send(new ProducerRecord<>(topics.embeddings().name(), "bad".getBytes(StandardCharsets.UTF_8),
            "not avro".getBytes(StandardCharsets.UTF_8))).get();
        // an unrelated upload and then a transformed copy
        send(p, topics.embeddings(), "other", embedding("other", "t1", "uploads", syn.gaussianUnit(), syn.hash(),
            syn.sha(), now));
        send(p, topics.embeddings(), "copy", embedding("copy", "t1", "uploads", syn.near(v, 0.02), syn.flip(pdq, 14),
            syn.sha(), now));

        List<MatchAlert> alerts = ItSupport.readUntil(broker, topics.matchAlerts(), l -> !l.isEmpty(), WAIT);
        assertThat(await(WAIT, () -> service.counters().get("indexed") == 24)).isTrue();
        alerts = ItSupport.readUntil(broker, topics.matchAlerts(), l -> false, Duration.ofSeconds(2));
        assertThat(alerts).hasSize(1);
        MatchAlert a = alerts.get(0);
        assertThat(a.getImageId()).isEqualTo("copy");
        assertThat(a.getDetector()).isEqualTo("index");
        assertThat(a.getDecision()).isEqualTo(Decision.MATCH);
        assertThat(a.getMatches()).extracting(MatchedImage::getImageId).containsExactly("orig");
        MatchedImage m = a.getMatches().get(0);
        assertThat(m.getTenant()).isEqualTo("t1");
        assertThat(m.getPdqDistance()).isEqualTo(14);
        assertThat(m.getCosine()).isGreaterThan(0.9f);
        assertThat(m.getExact()).isFalse();
        assertThat(a.getAlertedAtMs()).isGreaterThanOrEqualTo(a.getSubmittedAtMs());

        List<Reject> rejects = ItSupport.readUntil(broker, topics.rejects(), l -> !l.isEmpty(), WAIT);
        assertThat(rejects).extracting(Reject::getReasonCode).containsExactly("MALFORMED_RECORD");
        assertThat(rejects.get(0).getStage()).isEqualTo("index-service");

        // id query: ranked reply, the image itself excluded, the copy first
        QueryReply byId = client.byImageId("t1", "orig", 5, Q).get();
        assertThat(byId.getStatus()).isEqualTo(ReplyStatus.OK);
        assertThat(byId.getShardsAnswered()).isEqualTo(3);
        assertThat(ids(byId)).doesNotContain("orig").startsWith("copy").hasSizeLessThanOrEqualTo(5);
        assertRanked(byId);

        // a hash query (QueryRequest v2 'hashes'): the original by its PDQ, t1's only; an unknown SHA-256 finds nothing
        QueryReply byPdq = client.byHashes("t1", pdq, 90, null, null, 5, Q).get();
        assertThat(byPdq.getStatus()).isEqualTo(ReplyStatus.OK);
        assertThat(byPdq.getResults()).extracting(x -> x.getImageId() + "/" + x.getTenant()).contains("orig/t1")
            .doesNotContain("orig/t2");
        assertThat(byPdq.getResults().getFirst().getPdqDistance()).isZero();
        assertThat(client.byHashes("t1", null, 0, new byte[32], null, 5, Q).get().getResults()).isEmpty();
        assertThat(client.byHashes("t1", null, 0, null, null, 5, Q).get().getStatus())
            .as("no hash at all").isEqualTo(ReplyStatus.REJECTED);

        // the query producer fenced once (another producer takes its transactional id, as the coordinator's own abort
        // after a broker outage looks, KAFKA-20785): replaced, and the next query is answered
        Map<String, Object> zp = new java.util.HashMap<>(broker.clientProps());
        zp.put(org.apache.kafka.clients.producer.ProducerConfig.TRANSACTIONAL_ID_CONFIG,
            service.transactionalId() + "-queries");
        try (KafkaProducer<byte[], byte[]> zombie = new KafkaProducer<>(zp,
            new org.apache.kafka.common.serialization.ByteArraySerializer(),
            new org.apache.kafka.common.serialization.ByteArraySerializer())) {
          zombie.initTransactions();
        }
        assertThat(await(WAIT, () -> client.byImageId("t1", "orig", 5, Q).get().getStatus() == ReplyStatus.OK))
            .as("queries answered after the fencing").isTrue();
        assertThat(service.isRunning()).isTrue();

        // image query (a probe with purpose QUERY, as the embedder writes it): answered on the reply topic
        var params = client.params(3, Q);
        ImageEmbedding probe = ItSupport.queryProbe("qp-1", "t1", syn.near(v, 0.03), syn.flip(pdq, 20), params);
        send(p, topics.probes(), "qp-1", probe);
        List<QueryReply> replies = ItSupport.readUntil(broker, topics.queryReplies(),
            l -> l.stream().anyMatch(r -> r.getQueryId().equals("qp-1")), WAIT);
        QueryReply imageReply = replies.stream().filter(r -> r.getQueryId().equals("qp-1")).findFirst().orElseThrow();
        assertThat(ids(imageReply)).hasSize(3).containsAnyOf("orig", "copy");
        assertThat(ids(imageReply).subList(0, 2)).containsExactlyInAnyOrder("orig", "copy");
        assertRanked(imageReply);

        // an invalid query gets a REJECTED reply (and a reject record)
        QueryReply bad = client.byVector("t1", "no-such-model", v, 3, Q).get();
        assertThat(bad.getStatus()).isEqualTo(ReplyStatus.REJECTED);
        assertThat(bad.getError()).contains("no-such-model");

        // what `./imgmatch query --id orig -k 2` prints (cli's QueryAndDeleteCommandsIT checks its CSV)
        QueryReply top2 = client.byImageId("t1", "orig", 2, Q).get();
        assertThat(top2.getResults()).hasSize(2);
        assertThat(top2.getResults().getFirst()).extracting(MatchedImage::getImageId, MatchedImage::getTenant,
            MatchedImage::getCollection).containsExactly("copy", "t1", "uploads");
        // an image query as a platform sends it (inline image on `queries`); here a stand-in for ingest-stream and the
        // embedder turns it into a QUERY probe (as they would), and index-service's reply reaches the client
        byte[] image = {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3};
        java.util.concurrent.CompletableFuture<QueryReply> imageReplyFuture =
            client.byImage("t1", image, "query.png", 2, Duration.ofSeconds(40));
        List<dev.imgmatch.avro.QueryRequest> sent = ItSupport.readUntil(broker, topics.queries(),
            l -> l.stream().anyMatch(q -> q.getTarget() instanceof dev.imgmatch.avro.InlineImage), WAIT);
        dev.imgmatch.avro.QueryRequest imageQuery = sent.stream()
            .filter(q -> q.getTarget() instanceof dev.imgmatch.avro.InlineImage).findFirst().orElseThrow();
        assertThat(((dev.imgmatch.avro.InlineImage) imageQuery.getTarget()).getData().remaining()).isEqualTo(7);
        assertThat(imageQuery.getTenant()).isEqualTo("t1");
        send(p, topics.probes(), imageQuery.getQueryId(), ItSupport.queryProbe(imageQuery.getQueryId(), "t1",
            syn.near(v, 0.01), syn.flip(pdq, 5), imageQuery.getParams()));
        QueryReply viaImage = imageReplyFuture.get(60, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(viaImage.getStatus()).isEqualTo(ReplyStatus.OK);
        assertThat(ids(viaImage)).containsExactlyInAnyOrder("orig", "copy");

        // deletion (what `./imgmatch delete` sends): the original disappears from later replies (t2's copy stays)
        send(p, topics.deletions(), "orig", ItSupport.deletion("t1", "orig"));
        assertThat(await(WAIT, () -> !ids(client.byVector("t1", ItSupport.MODEL, v, 5, Q).get()).contains("orig")))
            .as("the deleted image leaves the replies").isTrue();
        assertThat(ids(client.byVector("t1", ItSupport.MODEL, v, 5, Q).get())).doesNotContain("orig").contains("copy");
        assertThat(ids(client.byVector("t2", ItSupport.MODEL, v, 5, Q).get())).containsExactly("orig");
      }
      assertThat(service.failure()).isEmpty();
    }
  }

  /**
   * index.shards=owned: two instances in one group split the shards (a query answered by one of them is PARTIAL);
   * when one leaves, the other takes its partitions over and rebuilds those shards from the topic (its disk has none
   * of them).
   */
  @Test
  void twoInstancesSplitTheShardsAndTheSurvivorRebuildsTheOthersShards(KafkaBroker broker) throws Exception {
    Synthetic syn = new Synthetic(ShardIndexTest.seed(), 32, 4);
    Topics topics = new Topics(broker.uniqueName("x") + ".");
    IndexServiceConfig a = new IndexServiceConfig(owned(ItSupport.settings(broker, topics.prefix(), dir.resolve("a"))));
    IndexServiceConfig b = new IndexServiceConfig(owned(ItSupport.settings(broker, topics.prefix(), dir.resolve("b"))));
    float[] v = syn.clustered();
    try (IndexService first = new IndexService(a).start();
        KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(broker.producerProps())) {
      assertThat(first.awaitReady(WAIT)).isTrue();
      try (QueryClient client = new QueryClient(Map.of("bootstrap.servers", broker.bootstrapServers()), topics)) {
        try (IndexService second = new IndexService(b).start()) {
          assertThat(second.awaitReady(WAIT)).isTrue();
          assertThat(await(WAIT, () -> first.shards().owned().size() + second.shards().owned().size() == 3
              && !first.shards().owned().isEmpty() && !second.shards().owned().isEmpty())).isTrue();
          for (int i = 0; i < 30; i++) {
            send(p, topics.embeddings(), "img-" + i, embedding("img-" + i, "t", "protected",
                i == 0 ? v : syn.gaussianUnit(), syn.hash(), syn.sha(), 1));
          }
          assertThat(await(WAIT, () -> first.counters().get("indexed") + second.counters().get("indexed") == 30))
              .isTrue();
          QueryReply partial = client.byVector("t", ItSupport.MODEL, v, 50, Q).get();
          assertThat(partial.getStatus()).isEqualTo(ReplyStatus.PARTIAL);
          assertThat(partial.getShardsTotal()).isEqualTo(3);
          assertThat(partial.getShardsAnswered()).isBetween(1, 2);
        }
        // the second instance left: the first owns every shard again, rebuilding the ones it never had
        assertThat(await(WAIT, () -> first.shards().owned().size() == 3)).isTrue();
        assertThat(await(WAIT, () -> {
          QueryReply r = client.byVector("t", ItSupport.MODEL, v, 50, Q).get();
          return r.getStatus() == ReplyStatus.OK && r.getResults().size() == 30;
        })).as("every image answerable again from one instance").isTrue();
      }
      assertThat(first.failure()).isEmpty();
    }
  }

  /**
   * index.shards=owned, fan-out: with one query group per instance every instance answers every query from its own
   * shards, and the client gathers their PARTIAL replies into one complete reply.
   */
  @Test
  void withAQueryGroupPerInstanceTheClientGathersEveryShard(KafkaBroker broker) throws Exception {
    Synthetic syn = new Synthetic(ShardIndexTest.seed(), 32, 4);
    Topics topics = new Topics(broker.uniqueName("f") + ".");
    Map<String, String> sa = new java.util.HashMap<>(ItSupport.settings(broker, topics.prefix(), dir.resolve("fa")));
    Map<String, String> sb = new java.util.HashMap<>(ItSupport.settings(broker, topics.prefix(), dir.resolve("fb")));
    owned(sa);
    owned(sb);
    sa.put(IndexServiceConfig.QUERY_GROUP_ID, topics.prefix() + "queries-a");
    sb.put(IndexServiceConfig.QUERY_GROUP_ID, topics.prefix() + "queries-b");
    float[] v = syn.clustered();
    try (IndexService a = new IndexService(new IndexServiceConfig(sa)).start();
        IndexService b = new IndexService(new IndexServiceConfig(sb)).start();
        KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(broker.producerProps());
        QueryClient client = new QueryClient(Map.of("bootstrap.servers", broker.bootstrapServers()), topics)
            .gatherPartials(true)) {
      assertThat(a.awaitReady(WAIT) && b.awaitReady(WAIT)).isTrue();
      assertThat(await(WAIT, () -> a.shards().owned().size() + b.shards().owned().size() == 3
          && !a.shards().owned().isEmpty() && !b.shards().owned().isEmpty())).isTrue();
      for (int i = 0; i < 30; i++) {
        send(p, topics.embeddings(), "img-" + i, embedding("img-" + i, "t", "protected",
            i == 0 ? v : syn.gaussianUnit(), syn.hash(), syn.sha(), 1));
      }
      assertThat(await(WAIT, () -> a.counters().get("indexed") + b.counters().get("indexed") == 30)).isTrue();
      QueryReply r = client.byVector("t", ItSupport.MODEL, v, 50, Q).get();
      assertThat(r.getStatus()).isEqualTo(ReplyStatus.OK);
      assertThat(r.getShardsAnswered()).isEqualTo(3);
      assertThat(r.getResults()).hasSize(30);
      assertThat(ids(r).getFirst()).isEqualTo("img-0");
      assertRanked(r);
      assertThat(a.failure()).isEmpty();
      assertThat(b.failure()).isEmpty();
    }
  }

  private static Map<String, String> owned(Map<String, String> settings) {
    settings.put(IndexServiceConfig.SHARDS_KEPT, "owned");
    return settings;
  }

  static List<String> ids(QueryReply r) {
    return r.getResults().stream().map(MatchedImage::getImageId).toList();
  }

  static void assertRanked(QueryReply r) {
    List<Float> scores = r.getResults().stream().map(MatchedImage::getScore).toList();
    for (int i = 1; i < scores.size(); i++) {
      assertThat(scores.get(i)).isLessThanOrEqualTo(scores.get(i - 1));
    }
  }

  /**
   * A shard rebuilt on an empty disk from an embeddings partition whose oldest records were deleted (retention)
   * would silently serve a truncated index: readiness says which shard and why instead, and query replies are PARTIAL.
   */
  @Test
  void aShardThatCannotBeRebuiltWhollyFailsReadinessWithTheReason(KafkaBroker broker) throws Exception {
    Synthetic syn = new Synthetic(ShardIndexTest.seed(), 64, 8);
    Topics topics = new Topics(broker.uniqueName("trunc") + ".");
    dev.imgmatch.common.TopicSetup.ensureAll(broker.clientProps(), topics, 1, (short) 1);
    long now = System.currentTimeMillis();
    try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(broker.producerProps())) {
      for (int i = 0; i < 5; i++) {
        send(p, topics.embeddings(), "img-" + i, embedding("img-" + i, "t1", "protected", syn.gaussianUnit(),
            syn.hash(), syn.sha(), now));
      }
    }
    // what retention does to old records: the partition now starts at offset 3
    try (var admin = broker.admin()) {
      admin.deleteRecords(Map.of(new org.apache.kafka.common.TopicPartition(topics.embeddings().name(), 0),
          org.apache.kafka.clients.admin.RecordsToDelete.beforeOffset(3))).all().get();
    }
    Map<String, String> settings = ItSupport.settings(broker, topics.prefix(), dir.resolve("empty-disk"));
    settings.put(IndexServiceConfig.TOPIC_CREATE, "false");
    try (IndexService service = new IndexService(new IndexServiceConfig(settings)).start()) {
      assertThat(service.awaitReady(WAIT)).isTrue();
      assertThat(service.notReadyReason()).contains("shard 0 is incomplete").contains("starts at 3")
          .contains("retention");
      try (QueryClient client = new QueryClient(Map.of("bootstrap.servers", broker.bootstrapServers()), topics)) {
        QueryReply reply = client.byVector("t1", ItSupport.MODEL, syn.gaussianUnit(), 3, Q).get();
        assertThat(reply.getStatus()).isEqualTo(ReplyStatus.PARTIAL);
        assertThat(reply.getError()).contains("shard 0 is incomplete");
      }
    }
  }
}
