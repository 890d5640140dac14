package dev.imgmatch.console;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** Reading requests and writing responses on the JDK HTTP server: size-capped bodies, JSON, error bodies. */
final class HttpIo {
  static final ObjectMapper JSON = new ObjectMapper();
  /** Longest query string accepted (filters and lookup parameters are short). */
  static final int MAX_QUERY_CHARS = 4096;

  private HttpIo() {}

  /**
   * The request body, at most {@code max} bytes. Over it: 413, decided from Content-Length before anything is read
   * when the client sends one. The excess of a refused body is read and dropped up to {@code max} more bytes (no
   * memory kept), so that a client still sending gets the 413 instead of a reset connection; beyond that the
   * connection is closed.
   *
   * @param setting the setting that raises the limit, named in the reason
   */
  static byte[] readBody(HttpExchange ex, int max, String setting) throws IOException {
    String length = ex.getRequestHeaders().getFirst("Content-Length");
    long declared = -1;
    if (length != null) {
      try {
        declared = Long.parseLong(length.strip());
      } catch (NumberFormatException e) {
        throw ApiException.badRequest("Content-Length is not a number: " + length);
      }
    }
    try (InputStream in = ex.getRequestBody()) {
      if (declared > max) {
        drain(in, max);
        throw tooLarge(declared, max, setting);
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.max(0, Math.min(declared, max)));
      byte[] buf = new byte[64 * 1024];
      int n;
      while ((n = in.read(buf)) >= 0) {
        if (out.size() + n > max) {
          drain(in, max);
          throw tooLarge(-1, max, setting);
        }
        out.write(buf, 0, n);
      }
      return out.toByteArray();
    }
  }

  private static ApiException tooLarge(long declared, int max, String setting) {
    return new ApiException(413, (declared >= 0 ? "body of " + declared + " bytes" : "body") + " is over the limit of "
        + max + " bytes (" + setting + ")");
  }

  private static void drain(InputStream in, long atMost) throws IOException {
    byte[] buf = new byte[64 * 1024];
    long left = atMost;
    int n;
    while (left > 0 && (n = in.read(buf, 0, (int) Math.min(buf.length, left))) >= 0) {
      left -= n;
    }
  }

  /** Query parameters (first value of each), URL-decoded; 400 on a query string over {@link #MAX_QUERY_CHARS}. */
  static Map<String, String> queryParams(HttpExchange ex) {
    String raw = ex.getRequestURI().getRawQuery();
    Map<String, String> m = new LinkedHashMap<>();
    if (raw == null || raw.isEmpty()) {
      return m;
    }
    if (raw.length() > MAX_QUERY_CHARS) {
      throw ApiException.badRequest("query string over " + MAX_QUERY_CHARS + " characters");
    }
    return form(raw);
  }

  /** An {@code application/x-www-form-urlencoded} string as a map (first value of each key). */
  static Map<String, String> form(String raw) {
    Map<String, String> m = new LinkedHashMap<>();
    for (String pair : raw.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      try {
        String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
        String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
        m.putIfAbsent(k, v);
      } catch (IllegalArgumentException e) {
        throw ApiException.badRequest("malformed URL encoding in '" + pair + "'");
      }
    }
    return m;
  }

  static void sendJson(HttpExchange ex, int status, Object body) throws IOException {
    send(ex, status, "application/json; charset=utf-8", JSON.writeValueAsBytes(body));
  }

  static void sendError(HttpExchange ex, int status, String reason) throws IOException {
    ObjectNode n = JSON.createObjectNode();
    n.put("error", reason);
    n.put("status", status);
    sendJson(ex, status, n);
  }

  /** Headers every response carries: no sniffing, no framing, no referrer, nothing cached. */
  static void commonHeaders(HttpExchange ex) {
    var h = ex.getResponseHeaders();
    h.set("X-Content-Type-Options", "nosniff");
    h.set("X-Frame-Options", "DENY");
    h.set("Referrer-Policy", "no-referrer");
    h.set("Cache-Control", "no-store");
  }

  static void send(HttpExchange ex, int status, String type, byte[] body) throws IOException {
    commonHeaders(ex);
    ex.getResponseHeaders().set("Content-Type", type);
    if ("HEAD".equals(ex.getRequestMethod())) {
      ex.sendResponseHeaders(status, -1);
    } else {
      ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
      if (body.length > 0) {
        try (OutputStream out = ex.getResponseBody()) {
          out.write(body);
        }
      }
    }
    ex.close();
  }
}
