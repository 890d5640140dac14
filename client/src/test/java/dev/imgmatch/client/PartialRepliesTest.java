package dev.imgmatch.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.MatchedImage;
import dev.imgmatch.avro.QueryReply;
import dev.imgmatch.avro.ReplyStatus;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Pure logic: merging the PARTIAL replies of several instances. */
class PartialRepliesTest {
  private static MatchedImage m(String id, float score) {
    return MatchedImage.newBuilder().setImageId(id).setTenant("t").setCollection("protected").setScore(score).build();
  }

  private static QueryReply reply(ReplyStatus s, int answered, int total, long took, MatchedImage... results) {
    return QueryReply.newBuilder().setQueryId("q").setTenant("t").setStatus(s).setResults(List.of(results))
        .setShardsAnswered(answered).setShardsTotal(total).setModelVersion("m1").setTookMs(took).setRepliedAtMs(took)
        .build();
  }

  @Test
  void partialsAreMergedBestFirstOnceEveryShardAnswered() {
    PartialReplies g = new PartialReplies(3);
    assertThat(g.add(reply(ReplyStatus.PARTIAL, 2, 5, 10, m("a", 0.9f), m("b", 0.4f)))).isNull();
    assertThat(g.any()).isTrue();
    assertThat(g.add(reply(ReplyStatus.PARTIAL, 1, 5, 30, m("c", 0.7f), m("b", 0.5f)))).isNull();
    QueryReply r = g.add(reply(ReplyStatus.PARTIAL, 2, 5, 20, m("d", 0.1f), m("e", 0.6f)));
    assertThat(r).isNotNull();
    assertThat(r.getStatus()).isEqualTo(ReplyStatus.OK);
    assertThat(r.getError()).isNull();
    assertThat(r.getShardsAnswered()).isEqualTo(5);
    assertThat(r.getResults()).extracting(MatchedImage::getImageId).containsExactly("a", "c", "e");
    assertThat(r.getTookMs()).as("the slowest instance").isEqualTo(30);
  }

  @Test
  void atTheDeadlineTheMergeIsPartialAndDuplicatesKeepTheirBestScore() {
    PartialReplies g = new PartialReplies(10);
    g.add(reply(ReplyStatus.PARTIAL, 1, 3, 5, m("a", 0.3f)));
    g.add(reply(ReplyStatus.PARTIAL, 1, 3, 5, m("a", 0.8f), m("b", 0.2f)));
    QueryReply r = g.merged();
    assertThat(r.getStatus()).isEqualTo(ReplyStatus.PARTIAL);
    assertThat(r.getError()).contains("2 of 3");
    assertThat(r.getResults()).extracting(MatchedImage::getScore).containsExactly(0.8f, 0.2f);
  }

  @Test
  void finalRepliesPassThrough() {
    QueryReply ok = reply(ReplyStatus.OK, 3, 3, 1, m("a", 1f));
    assertThat(new PartialReplies(5).add(ok)).isSameAs(ok);
    QueryReply rejected = reply(ReplyStatus.REJECTED, 0, 0, 1);
    assertThat(new PartialReplies(5).add(rejected)).isSameAs(rejected);
  }
}
