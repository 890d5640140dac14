package dev.imgmatch.client;

import dev.imgmatch.avro.MatchedImage;
import dev.imgmatch.avro.QueryReply;
import dev.imgmatch.avro.ReplyStatus;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Gathers the PARTIAL replies several index-service instances send for one query when each reads every query (one
 * query consumer group per instance, {@code query.group.id}) and answers from the shards it owns: the merged reply
 * is complete when the shards answered add up to the shards that exist. Pure logic; not thread-safe (the client's
 * reply thread owns it).
 */
public final class PartialReplies {
  private final int k;
  private final List<QueryReply> parts = new ArrayList<>();
  private int shardsAnswered;

  /** @param k the number of results the query asked for */
  public PartialReplies(int k) {
    this.k = k;
  }

  /**
   * Adds one instance's reply; returns the merged reply when the query is answered (every shard, or a reply that is
   * final on its own: OK, REJECTED, ERROR), else null.
   */
  public QueryReply add(QueryReply r) {
    if (r.getStatus() != ReplyStatus.PARTIAL) {
      return r; // one instance owned every shard, or the query failed: nothing to wait for
    }
    parts.add(r);
    shardsAnswered += r.getShardsAnswered();
    return shardsAnswered >= r.getShardsTotal() ? merged() : null;
  }

  /** True when at least one partial reply arrived. */
  public boolean any() {
    return !parts.isEmpty();
  }

  /**
   * The replies so far as one: results deduplicated by (tenant, image id) keeping the best score, best first, cut to
   * k; OK when the shards answered cover every shard, else PARTIAL (e.g. at the deadline).
   */
  public QueryReply merged() {
    Map<String, MatchedImage> best = new LinkedHashMap<>();
    int answered = 0;
    int total = 0;
    long took = 0;
    long replied = 0;
    String model = null;
    for (QueryReply r : parts) {
      answered += r.getShardsAnswered();
      total = Math.max(total, r.getShardsTotal());
      took = Math.max(took, r.getTookMs());
      replied = Math.max(replied, r.getRepliedAtMs());
      model = model != null ? model : r.getModelVersion();
      for (MatchedImage m : r.getResults()) {
        best.merge(m.getTenant() + "\u0000" + m.getImageId(), m, (a, b) -> b.getScore() > a.getScore() ? b : a);
      }
    }
    List<MatchedImage> results = new ArrayList<>(best.values());
    results.sort(Comparator.comparingDouble(MatchedImage::getScore).reversed());
    boolean complete = answered >= total;
    QueryReply first = parts.getFirst();
    return QueryReply.newBuilder(first)
        .setStatus(complete ? ReplyStatus.OK : ReplyStatus.PARTIAL)
        .setError(complete ? null : "only " + answered + " of " + total + " shards answered before the deadline")
        .setResults(results.subList(0, Math.min(k, results.size())))
        .setShardsAnswered(Math.min(answered, total))
        .setShardsTotal(total)
        .setModelVersion(model)
        .setTookMs(took)
        .setRepliedAtMs(replied)
        .build();
  }
}
