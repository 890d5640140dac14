package dev.imgmatch.console;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import dev.imgmatch.avro.ImageIdTarget;
import dev.imgmatch.avro.InlineImage;
import dev.imgmatch.avro.QueryFilters;
import dev.imgmatch.avro.QueryParams;
import dev.imgmatch.avro.QueryReply;
import dev.imgmatch.avro.QueryRequest;
import dev.imgmatch.avro.ReplyStatus;
import dev.imgmatch.schemas.Limits;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /v1/lookup} and {@code GET /v1/images/{id}}: the Kafka query path (a {@code QueryRequest} on
 * {@code queries}, the reply read by {@link dev.imgmatch.client.QueryClient}), so lookups scale with the cluster,
 * not with this server. Each request is checked here before anything is sent: size, that the body is an image,
 * k, tenant and collection bounds.
 *
 * <p>The cluster's answer as HTTP: OK and PARTIAL (some shards did not answer in time: a {@code warning} says which)
 * are 200; REJECTED is 400 (the cluster refused the query, e.g. an image it cannot decode), or 404 for an id that is
 * not indexed; ERROR is 502; no reply within {@code console.query.timeout.ms} is 504; a query that cannot be sent is
 * 503.
 */
final class QueryApi {
  private static final Logger log = LoggerFactory.getLogger(QueryApi.class);

  /** The query path: {@code QueryClient::query} in production. */
  @FunctionalInterface
  interface Queries {
    CompletableFuture<QueryReply> query(QueryRequest request, Duration timeout);
  }

  private final Queries queries;
  private final ConsoleConfig cfg;
  private final Semaphore inFlight;

  QueryApi(Queries queries, ConsoleConfig cfg) {
    this.queries = queries;
    this.cfg = cfg;
    this.inFlight = new Semaphore(cfg.getInt(ConsoleConfig.LOOKUP_MAX_CONCURRENT));
  }

  void lookup(HttpExchange ex) throws IOException {
    Map<String, String> q = HttpIo.queryParams(ex);
    unknown(q, Set.of("tenant", "k", "collection", "filename"));
    String tenant = tenant(q);
    int k = k(q);
    List<String> collections = collections(q.get("collection"));
    if (!inFlight.tryAcquire()) {
      ex.getResponseHeaders().set("Retry-After", "1");
      throw new ApiException(503, "too many lookups in progress (console.lookup.max.concurrent="
          + cfg.getInt(ConsoleConfig.LOOKUP_MAX_CONCURRENT) + "); retry shortly");
    }
    try {
      byte[] body = HttpIo.readBody(ex, cfg.getInt(ConsoleConfig.LOOKUP_MAX_BYTES), ConsoleConfig.LOOKUP_MAX_BYTES);
      if (body.length == 0) {
        throw ApiException.badRequest("empty body: send the image file's bytes (e.g. curl --data-binary @copy.jpg)");
      }
      String format = ImageSniffer.format(body);
      if (format == null) {
        throw ApiException.badRequest("the body is not an image this pipeline reads (JPEG, PNG, GIF, WebP, BMP or"
            + " TIFF, recognised by its first bytes)");
      }
      String fileName = q.getOrDefault("filename", "lookup." + format);
      QueryParams params = params(k, collections);
      QueryRequest req = QueryRequest.newBuilder().setQueryId("console-" + UUID.randomUUID()).setTenant(tenant)
          .setTarget(InlineImage.newBuilder().setData(ByteBuffer.wrap(body)).setFileName(fileName).build())
          .setParams(params).build();
      QueryReply reply = await(req, "an image lookup", "ingest-stream, embedder-worker and index-service");
      if (reply.getStatus() == ReplyStatus.REJECTED) {
        throw ApiException.badRequest("the cluster refused the image: " + reply.getError());
      }
      answer(ex, reply, null);
    } finally {
      inFlight.release();
    }
  }

  /**
   * POST /v1/lookup/hash: a JSON body {@code {"pdq": hex, "quality": 0-100, "sha256": hex, "md5": hex}} (at least
   * one hash; quality defaults to 100) and {@code ?tenant=&k=&collection=}: the indexed images and hash-list bank
   * entries those hashes match, best first (a hash query to index-service).
   */
  void lookupHash(HttpExchange ex) throws IOException {
    Map<String, String> q = HttpIo.queryParams(ex);
    unknown(q, Set.of("tenant", "k", "collection"));
    String tenant = tenant(q);
    int k = k(q);
    List<String> collections = collections(q.get("collection"));
    byte[] raw = HttpIo.readBody(ex, 4096, "(fixed: 4096 bytes)");
    com.fasterxml.jackson.databind.JsonNode body;
    try {
      body = HttpIo.JSON.readTree(raw);
    } catch (IOException e) {
      throw ApiException.badRequest("the body is not JSON: send {\"pdq\": \"<64 hex>\", \"sha256\": \"<64 hex>\","
          + " \"md5\": \"<32 hex>\"} (any of them)");
    }
    if (body == null || !body.isObject()) {
      throw ApiException.badRequest("the body must be a JSON object with pdq, sha256 or md5");
    }
    byte[] pdq = hex(body, "pdq", 32);
    byte[] sha = hex(body, "sha256", 32);
    byte[] md5 = hex(body, "md5", 16);
    if (pdq == null && sha == null && md5 == null) {
      throw ApiException.badRequest("name at least one hash: pdq (64 hex digits), sha256 (64) or md5 (32)");
    }
    int quality = 100;
    if (body.hasNonNull("quality")) {
      if (!body.get("quality").canConvertToInt() || body.get("quality").asInt() < 0
          || body.get("quality").asInt() > 100) {
        throw ApiException.badRequest("quality must be an integer in 0-100");
      }
      quality = body.get("quality").asInt();
    }
    dev.imgmatch.avro.HashTarget target = dev.imgmatch.avro.HashTarget.newBuilder()
        .setPdq(pdq == null ? null : new dev.imgmatch.avro.PdqHash(new dev.imgmatch.avro.Pdq256(pdq), quality))
        .setSha256(sha == null ? null : new dev.imgmatch.avro.Sha256(sha))
        .setMd5(md5 == null ? null : new dev.imgmatch.avro.Md5(md5)).build();
    QueryRequest req = QueryRequest.newBuilder().setQueryId("console-" + UUID.randomUUID()).setTenant(tenant)
        .setTarget(ImageIdTarget.newBuilder().setImageId("").build()).setHashes(target)
        .setParams(params(k, collections)).build();
    QueryReply reply = await(req, "a hash lookup", "index-service");
    if (reply.getStatus() == ReplyStatus.REJECTED) {
      throw ApiException.badRequest("the cluster refused the query: " + reply.getError());
    }
    answer(ex, reply, null);
  }

  private static byte[] hex(com.fasterxml.jackson.databind.JsonNode body, String field, int bytes) {
    if (!body.hasNonNull(field)) {
      return null;
    }
    String s = body.get(field).asText().strip();
    if (s.length() != bytes * 2) {
      throw ApiException.badRequest(field + " must be " + bytes * 2 + " hex digits, got " + s.length()
          + " characters");
    }
    try {
      return java.util.HexFormat.of().parseHex(s);
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(field + " is not hexadecimal");
    }
  }

  /**
   * What the query path knows of an indexed image: that it is indexed for the tenant (else 404) and its nearest
   * neighbours. index-service answers an id query with the image's neighbours and excludes the image itself, so its
   * own record (collection, source, attributes) is not available here.
   */
  void image(HttpExchange ex, String id) throws IOException {
    Map<String, String> q = HttpIo.queryParams(ex);
    unknown(q, Set.of("tenant", "k", "collection"));
    if (Limits.utf8Length(id) > Limits.MAX_ID_BYTES) {
      throw ApiException.badRequest("image id over " + Limits.MAX_ID_BYTES + " bytes");
    }
    String tenant = tenant(q);
    QueryRequest req = QueryRequest.newBuilder().setQueryId("console-" + UUID.randomUUID()).setTenant(tenant)
        .setTarget(ImageIdTarget.newBuilder().setImageId(id).build())
        .setParams(params(k(q), collections(q.get("collection")))).build();
    QueryReply reply = await(req, "an id query", "index-service");
    if (reply.getStatus() == ReplyStatus.REJECTED) {
      String why = String.valueOf(reply.getError());
      if (why.contains("is not indexed")) {
        throw new ApiException(404, "image '" + id + "' is not indexed for tenant " + tenant);
      }
      throw ApiException.badRequest("the cluster refused the query: " + why);
    }
    ObjectNode extra = HttpIo.JSON.createObjectNode();
    extra.put("imageId", id);
    extra.put("tenant", tenant);
    extra.put("indexed", true);
    answer(ex, reply, extra);
  }

  private void answer(HttpExchange ex, QueryReply reply, ObjectNode extra) throws IOException {
    if (reply.getStatus() == ReplyStatus.ERROR) {
      throw new ApiException(502, "the cluster failed to answer: " + reply.getError());
    }
    ObjectNode n = Json.reply(reply);
    if (extra != null) {
      extra.setAll(n);
      n = extra;
    }
    HttpIo.sendJson(ex, 200, n);
  }

  /**
   * @param what the query, for messages
   * @param services the services that answer it, named when none did
   */
  private QueryReply await(QueryRequest req, String what, String services) {
    Duration timeout = cfg.queryTimeout();
    CompletableFuture<QueryReply> f;
    try {
      f = queries.query(req, timeout);
    } catch (RuntimeException e) {
      log.warn("cannot send query {}: {}", req.getQueryId(), e.toString());
      throw new ApiException(503, "cannot send the query to the cluster: " + e.getMessage());
    }
    try {
      return f.get(timeout.toMillis() + 5_000, TimeUnit.MILLISECONDS); // the client times out first
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ApiException(503, "interrupted (the console is stopping)");
    } catch (TimeoutException e) {
      throw timeout(what, services, timeout);
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof TimeoutException) {
        throw timeout(what, services, timeout);
      }
      log.warn("query {} failed", req.getQueryId(), c);
      throw new ApiException(503, "the query could not be completed: " + c.getMessage());
    }
  }

  private static ApiException timeout(String what, String services, Duration timeout) {
    return new ApiException(504, "no reply to " + what + " within " + timeout.toMillis() + " ms"
        + " (console.query.timeout.ms); are " + services + " running?");
  }

  private QueryParams params(int k, List<String> collections) {
    return QueryParams.newBuilder().setK(k).setMinScore(0f)
        .setFilters(QueryFilters.newBuilder().setCollections(collections).build())
        .setRequestedAtMs(System.currentTimeMillis()).setTimeoutMs(cfg.getInt(ConsoleConfig.QUERY_TIMEOUT_MS))
        .build();
  }

  private String tenant(Map<String, String> q) {
    String t = q.get("tenant");
    if (t == null || t.isBlank()) {
      return cfg.getString(ConsoleConfig.TENANT);
    }
    if (Limits.utf8Length(t) > Limits.MAX_NAME_BYTES) {
      throw ApiException.badRequest("tenant over " + Limits.MAX_NAME_BYTES + " bytes");
    }
    return t.strip();
  }

  private int k(Map<String, String> q) {
    String v = q.get("k");
    int max = cfg.getInt(ConsoleConfig.QUERY_MAX_K);
    if (v == null || v.isBlank()) {
      return Math.min(10, max);
    }
    int k;
    try {
      k = Integer.parseInt(v.strip());
    } catch (NumberFormatException e) {
      k = -1;
    }
    if (k < 1 || k > max) {
      throw ApiException.badRequest("k must be 1-" + max + " (console.query.max.k), got '" + v + "'");
    }
    return k;
  }

  static List<String> collections(String v) {
    List<String> out = new ArrayList<>();
    if (v == null || v.isBlank()) {
      return out;
    }
    for (String c : v.split(",")) {
      String s = c.strip();
      if (s.isEmpty()) {
        continue;
      }
      if (Limits.utf8Length(s) > Limits.MAX_NAME_BYTES) {
        throw ApiException.badRequest("collection name over " + Limits.MAX_NAME_BYTES + " bytes");
      }
      out.add(s);
    }
    if (out.size() > 64) {
      throw ApiException.badRequest("at most 64 collections, got " + out.size());
    }
    return out;
  }

  private static void unknown(Map<String, String> q, Set<String> known) {
    for (String key : q.keySet()) {
      if (!known.contains(key)) {
        throw ApiException.badRequest("unknown parameter '" + key + "' (known: " + String.join(", ",
            new java.util.TreeSet<>(known)) + ")");
      }
    }
  }
}
