package dev.imgmatch.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import dev.imgmatch.avro.CollectionSettings;
import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.avro.MatchedImage;
import dev.imgmatch.avro.ReviewAction;
import dev.imgmatch.avro.ReviewDecision;
import dev.imgmatch.avro.ReviewedMatch;
import dev.imgmatch.avro.SettingsKind;
import dev.imgmatch.schemas.Topic;
import dev.imgmatch.schemas.Topics;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The moderators' side of the API: {@code POST /v1/feedback} (confirm or dismiss an alert: a {@code ReviewDecision}
 * on {@code review-decisions}, the audit trail index-service applies), {@code GET /v1/collections} (the run-time
 * settings of collections and banks) and {@code PUT /v1/collections/{name}} (enable, disable, thresholds: a
 * {@code CollectionSettings} record on {@code collection-settings}). Every write names its moderator and is logged.
 */
final class ReviewApi {
  private static final Logger log = LoggerFactory.getLogger(ReviewApi.class);
  /** Request bodies are small JSON documents. */
  static final int MAX_BODY = 64 * 1024;
  private static final int MAX_NAME = 200;
  private static final int MAX_NOTE = 2000;
  /** Collection and bank names as the CLI takes them. */
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,99}");

  private final Producer<byte[], byte[]> producer;
  private final Topics topics;
  private final AlertStore alerts;
  private final SettingsFeed settings;

  /** @param producer null: the endpoints answer 503 (a console without a cluster, in tests) */
  ReviewApi(Producer<byte[], byte[]> producer, Topics topics, AlertStore alerts, SettingsFeed settings) {
    this.producer = producer;
    this.topics = topics;
    this.alerts = alerts;
    this.settings = settings;
  }

  /** POST /v1/feedback. */
  void feedback(HttpExchange ex) throws IOException {
    JsonNode body = json(ex);
    String tenant = text(body, "tenant", true, MAX_NAME);
    String imageId = text(body, "imageId", true, 1000);
    String action = text(body, "action", true, 20).toUpperCase(java.util.Locale.ROOT);
    if (!action.equals("CONFIRM") && !action.equals("DISMISS")) {
      throw ApiException.badRequest("action must be confirm or dismiss, got " + action.toLowerCase(java.util.Locale.ROOT));
    }
    String moderator = text(body, "moderator", true, MAX_NAME);
    String note = text(body, "note", false, MAX_NOTE);
    String addTo = text(body, "addToCollection", false, MAX_NAME);
    if (addTo != null && (!action.equals("CONFIRM") || !NAME.matcher(addTo).matches())) {
      throw ApiException.badRequest(action.equals("CONFIRM") ? "addToCollection is not a collection name: " + addTo
          : "addToCollection goes with confirm, not dismiss");
    }
    MatchAlert a = alerts.find(tenant, imageId);
    if (a == null) {
      throw new ApiException(404, "no alert for " + imageId + " of tenant " + tenant + " is held by this console"
          + " (console.alerts.max newest are kept)");
    }
    Set<String> chosen = new java.util.HashSet<>();
    if (body.has("matches") && !body.get("matches").isNull()) {
      if (!body.get("matches").isArray() || body.get("matches").size() > 1000) {
        throw ApiException.badRequest("matches must be an array of matched image ids");
      }
      body.get("matches").forEach(n -> chosen.add(n.asText()));
    }
    List<ReviewedMatch> pairs = new ArrayList<>();
    for (MatchedImage m : a.getMatches()) {
      if (chosen.isEmpty() || chosen.contains(m.getImageId().toString())) {
        pairs.add(ReviewedMatch.newBuilder().setImageId(m.getImageId()).setTenant(m.getTenant())
            .setCollection(m.getCollection()).setBank(m.getBank()).build());
      }
    }
    if (pairs.isEmpty()) {
      throw ApiException.badRequest("none of " + chosen + " is a match of the alert on " + imageId);
    }
    ReviewDecision d = ReviewDecision.newBuilder().setDecisionId(UUID.randomUUID().toString()).setTenant(tenant)
        .setImageId(imageId).setAction(ReviewAction.valueOf(action)).setMatches(pairs).setSha256(a.getSha256())
        .setPdq(a.getPdq()).setAddToCollection(addTo).setModerator(moderator).setNote(note)
        .setDecidedAtMs(System.currentTimeMillis()).build();
    RecordMetadata md = send(topics.reviewDecisions(), Topics.reviewKey(tenant, imageId), d);
    if (addTo != null) {
      moveToCollection(tenant, imageId, addTo, moderator, d.getDecisionId().toString());
    }
    log.info("review: {} {} upload {} of tenant {} against {} ({}) -> {}-{}@{}", moderator,
        action.equals("CONFIRM") ? "confirmed" : "dismissed", imageId, tenant,
        pairs.stream().map(p -> p.getImageId().toString()).toList(), note == null ? "no note" : "note: " + note,
        md.topic(), md.partition(), md.offset());
    ObjectNode out = HttpIo.JSON.createObjectNode();
    out.put("decisionId", d.getDecisionId().toString());
    out.put("action", action);
    out.put("pairs", pairs.size());
    if (addTo != null) {
      out.put("addedTo", addTo);
    }
    out.put("topic", md.topic());
    out.put("partition", md.partition());
    out.put("offset", md.offset());
    HttpIo.sendJson(ex, 202, out);
  }

  /**
   * Moves the upload into {@code collection}: a SET_COLLECTION operation on every partition of {@code embeddings}
   * (the shard that holds the image applies it, in order with its uploads, on its owner and every replica; the
   * others skip it), so that later uploads are matched against it like any image of that collection.
   */
  private void moveToCollection(String tenant, String imageId, String collection, String moderator, String decision) {
    Topic<String, dev.imgmatch.avro.ImageEmbedding> emb = topics.embeddings();
    int partitions = producer.partitionsFor(emb.name()).size();
    dev.imgmatch.avro.IndexOp op = dev.imgmatch.avro.IndexOp.newBuilder()
        .setKind(dev.imgmatch.avro.IndexOpKind.SET_COLLECTION).setVersion("")
        .setRequestedBy("console: " + moderator).setTenant(tenant).setImageId(imageId).setCollection(collection)
        .build();
    long now = System.currentTimeMillis();
    List<java.util.concurrent.Future<RecordMetadata>> sent = new ArrayList<>();
    for (int p = 0; p < partitions; p++) {
      String id = "review/set-collection/" + decision + "/" + p;
      dev.imgmatch.avro.ImageEmbedding marker = dev.imgmatch.avro.ImageEmbedding.newBuilder()
          .setId(id).setPurpose(dev.imgmatch.avro.Purpose.INDEX).setTenant("").setCollection("")
          .setModelId("").setModelVersion("").setVector(List.of())
          .setSha256(new dev.imgmatch.avro.Sha256(new byte[32]))
          .setPdq(new dev.imgmatch.avro.PdqHash(new dev.imgmatch.avro.Pdq256(new byte[32]), 0))
          .setSubmittedAtMs(now).setPreparedAtMs(now).setEmbeddedAtMs(now).setIndexOp(op).build();
      ProducerRecord<byte[], byte[]> r = emb.record(id, marker);
      sent.add(producer.send(new ProducerRecord<>(r.topic(), p, r.key(), r.value())));
    }
    try {
      for (var f : sent) {
        f.get(15, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ApiException(503, "interrupted while adding " + imageId + " to " + collection);
    } catch (ExecutionException | TimeoutException e) {
      log.warn("adding {} to {} failed", imageId, collection, e);
      throw new ApiException(503, "the decision is recorded, but adding " + imageId + " to " + collection
          + " failed (" + (e instanceof TimeoutException ? "no answer within 15 s" : e.getCause().getMessage())
          + "): confirm again with addToCollection");
    }
    log.info("review: {} added upload {} of tenant {} to collection {}", moderator, imageId, tenant, collection);
  }

  /** GET /v1/collections: every collection's and bank's run-time settings. */
  void collections(HttpExchange ex) throws IOException {
    Map<String, String> q = HttpIo.queryParams(ex);
    String tenant = q.get("tenant");
    ArrayNode list = HttpIo.JSON.createArrayNode();
    for (CollectionSettings s : settings == null ? List.<CollectionSettings>of() : settings.all()) {
      if (tenant != null && !tenant.equals(s.getTenant().toString()) && !"*".equals(s.getTenant().toString())) {
        continue;
      }
      ObjectNode n = list.addObject();
      n.put("kind", s.getKind().name().toLowerCase(java.util.Locale.ROOT));
      n.put("name", s.getName().toString());
      n.put("tenant", s.getTenant().toString());
      n.put("enabled", s.getEnabled());
      putNullable(n, "matchThreshold", s.getMatchThreshold());
      putNullable(n, "reviewThreshold", s.getReviewThreshold());
      if (s.getPdqMaxDistance() == null) {
        n.putNull("pdqMaxDistance");
      } else {
        n.put("pdqMaxDistance", s.getPdqMaxDistance());
      }
      n.put("updatedBy", s.getUpdatedBy() == null ? null : s.getUpdatedBy().toString());
      n.put("updatedAt", java.time.Instant.ofEpochMilli(s.getUpdatedAtMs()).toString());
    }
    ObjectNode out = HttpIo.JSON.createObjectNode();
    out.set("collections", list);
    out.put("note", "collections and banks without a record use the service's defaults (match.threshold,"
        + " bank.pdq.max.distance) and are enabled");
    HttpIo.sendJson(ex, 200, out);
  }

  /** PUT /v1/collections/{name}: enable/disable, thresholds (kind collection) or PDQ distance (kind bank). */
  void putCollection(HttpExchange ex, String name) throws IOException {
    if (name == null || !NAME.matcher(name).matches()) {
      throw ApiException.badRequest("not a collection or bank name: " + name);
    }
    JsonNode body = json(ex);
    String tenant = text(body, "tenant", false, MAX_NAME);
    String kindText = text(body, "kind", false, 20);
    SettingsKind kind = kindText == null || kindText.equalsIgnoreCase("collection") ? SettingsKind.COLLECTION
        : kindText.equalsIgnoreCase("bank") ? SettingsKind.BANK : null;
    if (kind == null) {
      throw ApiException.badRequest("kind must be collection or bank, got " + kindText);
    }
    String moderator = text(body, "moderator", true, MAX_NAME);
    Float match = threshold(body, "matchThreshold");
    Float review = threshold(body, "reviewThreshold");
    if (match != null && review != null && review > match) {
      throw ApiException.badRequest("reviewThreshold " + review + " is above matchThreshold " + match);
    }
    Integer distance = null;
    if (body.hasNonNull("pdqMaxDistance")) {
      if (!body.get("pdqMaxDistance").canConvertToInt() || body.get("pdqMaxDistance").asInt() < 0
          || body.get("pdqMaxDistance").asInt() > 64) {
        throw ApiException.badRequest("pdqMaxDistance must be an integer in 0-64");
      }
      distance = body.get("pdqMaxDistance").asInt();
    }
    if (kind == SettingsKind.BANK && (match != null || review != null)) {
      throw ApiException.badRequest("thresholds apply to collections; a bank takes pdqMaxDistance");
    }
    if (kind == SettingsKind.COLLECTION && distance != null) {
      throw ApiException.badRequest("pdqMaxDistance applies to banks; a collection takes matchThreshold and"
          + " reviewThreshold");
    }
    boolean enabled = !body.has("enabled") || body.get("enabled").asBoolean(true);
    String t = tenant == null ? "*" : tenant;
    CollectionSettings s = CollectionSettings.newBuilder().setKind(kind).setTenant(t).setName(name)
        .setEnabled(enabled).setPdqMaxDistance(distance).setMatchThreshold(match).setReviewThreshold(review)
        .setUpdatedBy(moderator).setUpdatedAtMs(System.currentTimeMillis()).build();
    RecordMetadata md = send(topics.collectionSettings(), Topics.settingsKey(kind.name(), t, name), s);
    log.info("settings: {} set {} '{}' (tenant {}): {}, match {}, review {}, PDQ distance {} -> {}@{}", moderator,
        kind.name().toLowerCase(java.util.Locale.ROOT), name, t, enabled ? "enabled" : "disabled", match, review,
        distance, md.topic(), md.offset());
    ObjectNode out = HttpIo.JSON.createObjectNode();
    out.put("kind", kind.name().toLowerCase(java.util.Locale.ROOT));
    out.put("name", name);
    out.put("tenant", t);
    out.put("enabled", enabled);
    out.put("applied", "by every index-service instance within about a second");
    HttpIo.sendJson(ex, 200, out);
  }

  private static void putNullable(ObjectNode n, String field, Float v) {
    if (v == null) {
      n.putNull(field);
    } else {
      n.put(field, v);
    }
  }

  private static Float threshold(JsonNode body, String field) {
    if (!body.hasNonNull(field)) {
      return null;
    }
    JsonNode v = body.get(field);
    if (!v.isNumber() || v.asDouble() < 0 || v.asDouble() > 1) {
      throw ApiException.badRequest(field + " must be a number in 0-1");
    }
    return (float) v.asDouble();
  }

  private <V> RecordMetadata send(Topic<String, V> topic, String key, V value) {
    if (producer == null) {
      throw new ApiException(503, "this console has no connection to the cluster");
    }
    try {
      return producer.send(topic.record(key, value)).get(15, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ApiException(503, "interrupted while writing to " + topic.name());
    } catch (ExecutionException | TimeoutException e) {
      log.warn("writing to {} failed", topic.name(), e);
      throw new ApiException(503, "could not write to " + topic.name() + ": " + (e instanceof TimeoutException
          ? "no answer within 15 s" : e.getCause().getMessage()));
    }
  }

  private static JsonNode json(HttpExchange ex) throws IOException {
    byte[] raw = HttpIo.readBody(ex, MAX_BODY, "(fixed: " + MAX_BODY + " bytes)");
    JsonNode n;
    try {
      n = HttpIo.JSON.readTree(raw);
    } catch (IOException e) {
      throw ApiException.badRequest("the body is not JSON");
    }
    if (n == null || !n.isObject()) {
      throw ApiException.badRequest("the body must be a JSON object");
    }
    return n;
  }

  private static String text(JsonNode body, String field, boolean required, int max) {
    JsonNode v = body.get(field);
    if (v == null || v.isNull() || (v.isTextual() && v.asText().isBlank())) {
      if (required) {
        throw ApiException.badRequest(field + " is required");
      }
      return null;
    }
    if (!v.isTextual()) {
      throw ApiException.badRequest(field + " must be a string");
    }
    String s = v.asText().strip();
    if (s.length() > max) {
      throw ApiException.badRequest(field + " is longer than " + max + " characters");
    }
    return s;
  }
}
