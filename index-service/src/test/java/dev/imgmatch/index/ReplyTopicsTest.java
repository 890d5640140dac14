package dev.imgmatch.index;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.MatchedImage;
import dev.imgmatch.avro.QueryReply;
import dev.imgmatch.avro.ReplyStatus;
import dev.imgmatch.schemas.Topic;
import dev.imgmatch.schemas.Topics;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Pure logic: which reply topics a query may name, the existence cache, replies cut to fit their topic. */
class ReplyTopicsTest {
  static final Topics T = new Topics("p.");

  @Test
  void onlyTheDeploymentsReplyTopicsThatExistAreUsed() {
    AtomicInteger asked = new AtomicInteger();
    ReplyTopics r = new ReplyTopics(ReplyTopics.defaultPattern("p."), "p.query-replies", name -> {
      asked.incrementAndGet();
      return name.equals("p.query-replies.client-7");
    });
    assertThat(r.choose(null, 0)).isEqualTo(new ReplyTopics.Choice("p.query-replies", null));
    assertThat(r.choose("", 0).topic()).isEqualTo("p.query-replies");
    assertThat(r.choose("p.query-replies.client-7", 0)).isEqualTo(new ReplyTopics.Choice("p.query-replies.client-7",
        null));
    assertThat(r.choose("p.match-alerts", 0).refusal()).contains("not allowed");
    assertThat(r.choose("other.query-replies", 0).refusal()).contains("not allowed");
    assertThat(r.choose("p.query-repliesX", 0).refusal()).contains("not allowed");
    assertThat(r.choose("p.query-replies.gone", 0).refusal()).contains("does not exist");
    assertThat(asked.get()).isEqualTo(2);
    // remembered: known ones for 10 minutes, missing ones for 30 s
    r.choose("p.query-replies.client-7", 60_000);
    r.choose("p.query-replies.gone", 20_000);
    assertThat(asked.get()).isEqualTo(2);
    r.choose("p.query-replies.gone", 40_000);
    assertThat(asked.get()).isEqualTo(3);
    r.forget("p.query-replies.client-7");
    r.choose("p.query-replies.client-7", 61_000);
    assertThat(asked.get()).isEqualTo(4);
  }

  @Test
  void aReplyTooLargeForItsTopicLosesAttributesThenItsWeakestResults() {
    Topic<String, QueryReply> topic = T.queryReplies();
    List<MatchedImage> results = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      Map<String, String> attrs = new HashMap<>();
      attrs.put("note", "x".repeat(2000));
      results.add(MatchedImage.newBuilder().setImageId("img-" + i).setTenant("t").setCollection("protected")
          .setScore(1f - i / 1000f).setAttributes(attrs).build());
    }
    QueryReply big = QueryReply.newBuilder().setQueryId("q").setTenant("t").setStatus(ReplyStatus.OK)
        .setResults(results).setTookMs(1).setRepliedAtMs(2).build();
    assertThat(topic.serializeValue(big).length).isGreaterThan(topic.maxMessageBytes());
    ReplyTopics.Fitted fitted = ReplyTopics.fit(big, topic, 1024);
    QueryReply fit = fitted.reply();
    assertThat(topic.serializeValue(fit).length).isLessThanOrEqualTo(topic.maxMessageBytes() - 1024);
    assertThat(fitted.value()).isEqualTo(topic.serializeValue(fit));
    assertThat(fit.getResults()).hasSize(1000).allMatch(m -> m.getAttributes().isEmpty());
    assertThat(fit.getResults().get(0).getImageId()).isEqualTo("img-0");

    QueryReply small = QueryReply.newBuilder(big).setResults(results.subList(0, 3)).build();
    assertThat(ReplyTopics.fit(small, topic, 1024).reply()).isSameAs(small);
  }
}
