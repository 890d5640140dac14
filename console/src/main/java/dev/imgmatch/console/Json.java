package dev.imgmatch.console;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.avro.MatchedImage;
import dev.imgmatch.avro.QueryReply;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/** The API's JSON shapes (documented in openapi.json, components.schemas): alerts, matches, lookup replies. */
final class Json {
  private Json() {}

  static ObjectNode alert(AlertStore.Stored s) {
    MatchAlert a = s.alert();
    ObjectNode n = HttpIo.JSON.createObjectNode();
    n.put("seq", s.seq());
    n.put("imageId", a.getImageId());
    n.put("tenant", a.getTenant());
    n.put("collection", a.getCollection());
    n.put("source", a.getSource());
    attributes(n.putObject("attributes"), a.getAttributes());
    n.put("decision", a.getDecision().name());
    n.put("score", a.getScore());
    n.put("detector", a.getDetector());
    n.put("retroactive", a.getRetroactive());
    n.put("modelVersion", a.getModelVersion());
    n.put("submittedAt", Instant.ofEpochMilli(a.getSubmittedAtMs()).toString());
    n.put("alertedAt", Instant.ofEpochMilli(a.getAlertedAtMs()).toString());
    n.put("alertedAtMs", a.getAlertedAtMs());
    n.put("latencyMs", a.getAlertedAtMs() - a.getSubmittedAtMs());
    n.put("sha256", a.getSha256() == null ? null : HexFormat.of().formatHex(a.getSha256().bytes()));
    n.put("md5", a.getMd5() == null ? null : HexFormat.of().formatHex(a.getMd5().bytes()));
    if (a.getPdq() == null) {
      n.putNull("pdq");
    } else {
      ObjectNode p = n.putObject("pdq");
      p.put("hash", HexFormat.of().formatHex(a.getPdq().getHash().bytes()));
      p.put("quality", a.getPdq().getQuality());
    }
    strings(n.putArray("evidence"), Evidence.of(a));
    ArrayNode matches = n.putArray("matches");
    a.getMatches().forEach(m -> matches.add(match(m, a.getDecision().name())));
    return n;
  }

  /**
   * A matched image with its signals.
   *
   * @param decision the policy's decision when known (alerts), null for lookups: a query reply carries scores, not
   *     the policy's verdict
   */
  static ObjectNode match(MatchedImage m, String decision) {
    ObjectNode n = HttpIo.JSON.createObjectNode();
    n.put("imageId", m.getImageId());
    n.put("tenant", m.getTenant());
    n.put("collection", m.getCollection());
    n.put("source", m.getSource());
    n.put("score", m.getScore());
    n.put("decision", decision);
    ObjectNode sig = n.putObject("signals");
    sig.put("exact", m.getExact());
    sig.put("pdqDistance", m.getPdqDistance());
    sig.put("cosine", m.getCosine());
    sig.put("bank", m.getBank());
    sig.put("localInliers", m.getLocalInliers());
    strings(sig.putArray("nearDuplicates"), m.getNearDuplicates());
    strings(n.putArray("evidence"), Evidence.of(m));
    attributes(n.putObject("attributes"), m.getAttributes());
    return n;
  }

  /** A lookup's answer: {@code {"matches": [...], "tookMs": N, ...}}. */
  static ObjectNode reply(QueryReply r) {
    ObjectNode n = HttpIo.JSON.createObjectNode();
    n.put("queryId", r.getQueryId());
    n.put("status", r.getStatus().name());
    if (r.getError() != null) {
      n.put("warning", r.getError());
    }
    ArrayNode matches = n.putArray("matches");
    r.getResults().forEach(m -> matches.add(match(m, null)));
    n.put("tookMs", r.getTookMs());
    n.put("modelVersion", r.getModelVersion());
    ObjectNode shards = n.putObject("shards");
    shards.put("answered", r.getShardsAnswered());
    shards.put("total", r.getShardsTotal());
    return n;
  }

  private static void attributes(ObjectNode n, Map<? extends CharSequence, ? extends CharSequence> attrs) {
    if (attrs != null) {
      attrs.forEach((k, v) -> n.put(k.toString(), v == null ? null : v.toString()));
    }
  }

  private static void strings(ArrayNode n, List<String> lines) {
    lines.forEach(n::add);
  }
}
