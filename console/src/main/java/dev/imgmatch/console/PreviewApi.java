package dev.imgmatch.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import dev.imgmatch.schemas.Limits;
import java.io.IOException;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /v1/images/{id}/preview} (the image's colour preview from the {@link PreviewStore}, image/jpeg; 404 when
 * none is held: never written, taken down, expired or dropped) and {@code POST /v1/audit/reveal} (a moderator
 * revealed a blurred preview of a sensitive collection: logged at INFO by logger {@code dev.imgmatch.console.audit}
 * with who, what and when). Registered only when {@code console.previews.enabled}.
 */
final class PreviewApi {
  /** The audit log: one line per reveal (a Kafka audit topic will come with the review-decisions work). */
  private static final Logger audit = LoggerFactory.getLogger("dev.imgmatch.console.audit");

  private final PreviewStore store;
  private final ConsoleConfig cfg;
  private final Auth auth;
  private final LongSupplier clock;

  PreviewApi(PreviewStore store, ConsoleConfig cfg, Auth auth, LongSupplier clock) {
    this.store = store;
    this.cfg = cfg;
    this.auth = auth;
    this.clock = clock;
  }

  void preview(HttpExchange ex, String imageId) throws IOException {
    Map<String, String> q = HttpIo.queryParams(ex);
    for (String key : q.keySet()) {
      if (!key.equals("tenant")) {
        throw ApiException.badRequest("unknown parameter '" + key + "' (known: tenant)");
      }
    }
    String tenant = name("tenant", q.get("tenant"), cfg.getString(ConsoleConfig.TENANT));
    requireId(imageId);
    PreviewStore.Preview p = store.get(tenant, imageId, clock.getAsLong());
    if (p == null) {
      throw new ApiException(404, "no preview of " + imageId + " for tenant " + tenant + " (none written, taken down,"
          + " expired after console.previews.ttl.ms, or not held)");
    }
    ex.getResponseHeaders().set("X-Image-Collection", p.collection());
    HttpIo.send(ex, 200, "image/jpeg", p.jpeg());
  }

  void reveal(HttpExchange ex) throws IOException {
    byte[] body = HttpIo.readBody(ex, 4096, "a reveal is small");
    JsonNode n;
    try {
      n = HttpIo.JSON.readTree(body);
    } catch (IOException e) {
      throw ApiException.badRequest("the body must be JSON: {\"imageId\", \"tenant\", \"collection\", \"alert\"}");
    }
    if (n == null || !n.isObject()) {
      throw ApiException.badRequest("the body must be a JSON object: {\"imageId\", \"tenant\", \"collection\"}");
    }
    String imageId = n.path("imageId").asText("");
    requireId(imageId);
    String tenant = name("tenant", n.path("tenant").asText(null), cfg.getString(ConsoleConfig.TENANT));
    String collection = name("collection", n.path("collection").asText(null), "");
    String alert = n.path("alert").asText("");
    if (Limits.utf8Length(alert) > Limits.MAX_ID_BYTES) {
      throw ApiException.badRequest("alert over " + Limits.MAX_ID_BYTES + " bytes");
    }
    long now = clock.getAsLong();
    String who = auth.identity(ex) + " from " + ex.getRemoteAddress().getAddress().getHostAddress();
    audit.info("reveal: image {} of tenant {} (collection {}{}) revealed by {} at {}", quoted(imageId),
        quoted(tenant), quoted(collection), alert.isEmpty() ? "" : ", alert on " + quoted(alert), who,
        Instant.ofEpochMilli(now));
    ObjectNode out = HttpIo.JSON.createObjectNode();
    out.put("logged", true);
    out.put("at", Instant.ofEpochMilli(now).toString());
    out.put("by", who);
    HttpIo.sendJson(ex, 200, out);
  }

  /** The page's settings for previews: which collections it blurs. */
  Set<String> sensitiveCollections() {
    return cfg.sensitiveCollections();
  }

  private static void requireId(String imageId) {
    if (imageId == null || imageId.isBlank()) {
      throw ApiException.badRequest("an image id is needed");
    }
    if (Limits.utf8Length(imageId) > Limits.MAX_ID_BYTES) {
      throw ApiException.badRequest("image id over " + Limits.MAX_ID_BYTES + " bytes");
    }
  }

  private static String name(String what, String v, String dflt) {
    if (v == null || v.isBlank()) {
      return dflt;
    }
    if (Limits.utf8Length(v) > Limits.MAX_NAME_BYTES) {
      throw ApiException.badRequest(what + " over " + Limits.MAX_NAME_BYTES + " bytes");
    }
    return v.strip();
  }

  /** A value for a log line: quoted, control characters escaped (no forged lines). */
  static String quoted(String s) {
    StringBuilder b = new StringBuilder(s.length() + 2).append('\'');
    s.codePoints().forEach(c -> {
      if (c < 0x20 || c == 0x7F || c == 0x2028 || c == 0x2029) {
        b.append(String.format("\\u%04x", c));
      } else {
        b.appendCodePoint(c);
      }
    });
    return b.append('\'').toString();
  }
}
