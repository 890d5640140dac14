package dev.imgmatch.console;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Who may use the console and the API. With a token configured, a request is let in when it carries
 * {@code Authorization: Bearer TOKEN} (API clients, curl) or the cookie of a session opened by {@code POST /login}
 * with that token (the page: an {@code EventSource} cannot send headers). Without a token everything is open; the
 * server only allows that on a loopback address unless told otherwise ({@link ConsoleConfig}).
 *
 * <p>The token is compared in constant time (SHA-256 digests of both, {@link MessageDigest#isEqual}), so neither its
 * content nor its length leaks through timing. Sessions are random 256-bit ids held in memory, bounded in number
 * (the oldest dropped) and in age; the cookie is {@code HttpOnly} and {@code SameSite=Strict}, which keeps other sites
 * from riding on it (no CSRF on {@code POST /v1/lookup}).
 */
final class Auth {
  static final String COOKIE = "imgmatch_console";

  private final byte[] tokenDigest;
  private final Duration sessionTtl;
  private final int maxSessions;
  private final LongSupplier clock;
  private final SecureRandom random = new SecureRandom();
  /** Session id -> expiry (epoch ms). */
  private final Map<String, Long> sessions = new ConcurrentHashMap<>();

  /**
   * @param token the token, or null for no authentication
   * @param clock epoch milliseconds (tests move it)
   */
  Auth(String token, Duration sessionTtl, int maxSessions, LongSupplier clock) {
    this.tokenDigest = token == null ? null : sha256(token);
    this.sessionTtl = sessionTtl;
    this.maxSessions = maxSessions;
    this.clock = clock;
  }

  boolean enabled() {
    return tokenDigest != null;
  }

  /** Whether {@code presented} is the token, in time independent of both. */
  boolean isToken(String presented) {
    return enabled() && presented != null && MessageDigest.isEqual(tokenDigest, sha256(presented));
  }

  boolean allows(HttpExchange ex) {
    if (!enabled()) {
      return true;
    }
    String header = ex.getRequestHeaders().getFirst("Authorization");
    if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return isToken(header.substring(7).strip());
    }
    String session = cookie(ex.getRequestHeaders().get("Cookie"), COOKIE);
    return session != null && validSession(session);
  }

  /** 401: the login page for a browser asking for the page, else JSON with {@code WWW-Authenticate}. */
  void refuse(HttpExchange ex, String rawPath) throws IOException {
    ex.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"imgmatch-console\"");
    if (rawPath.equals("/")) {
      StaticFiles.loginPage(ex, 401, null);
    } else {
      HttpIo.sendError(ex, 401, "authentication required: send 'Authorization: Bearer <token>' (console.auth.token)"
          + " or log in at /");
    }
  }

  /**
   * Who made an allowed request, for the audit log: {@code token} (the bearer token), {@code session <id prefix>}
   * (a login session: the first 8 characters of the SHA-256 of its id, never the id itself), or {@code anonymous}
   * (authentication off). There is one token and no user names: the session tells logins apart.
   */
  String identity(HttpExchange ex) {
    if (!enabled()) {
      return "anonymous";
    }
    String header = ex.getRequestHeaders().getFirst("Authorization");
    if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7) && isToken(header.substring(7).strip())) {
      return "token";
    }
    String session = cookie(ex.getRequestHeaders().get("Cookie"), COOKIE);
    if (session != null && validSession(session)) {
      return "session " + java.util.HexFormat.of().formatHex(sha256(session)).substring(0, 8);
    }
    return "unknown";
  }

  /** A new session for a correct token (its id, for the cookie), or null. */
  String login(String presented) {
    if (!isToken(presented)) {
      return null;
    }
    long now = clock.getAsLong();
    if (sessions.size() >= maxSessions) {
      sessions.values().removeIf(expiry -> expiry <= now);
      while (sessions.size() >= maxSessions) {
        sessions.entrySet().stream().min(Comparator.comparingLong(Map.Entry::getValue))
            .ifPresent(e -> sessions.remove(e.getKey(), e.getValue()));
      }
    }
    byte[] id = new byte[32];
    random.nextBytes(id);
    String s = Base64.getUrlEncoder().withoutPadding().encodeToString(id);
    sessions.put(s, now + sessionTtl.toMillis());
    return s;
  }

  void logout(HttpExchange ex) {
    String session = cookie(ex.getRequestHeaders().get("Cookie"), COOKIE);
    if (session != null) {
      sessions.remove(session);
    }
  }

  /** The Set-Cookie value of a session ({@code null}: one that clears the cookie). */
  String setCookie(String session) {
    return session == null
        ? COOKIE + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
        : COOKIE + "=" + session + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + sessionTtl.toSeconds();
  }

  int sessions() {
    return sessions.size();
  }

  private boolean validSession(String id) {
    Long expiry = sessions.get(id);
    if (expiry == null) {
      return false;
    }
    if (expiry <= clock.getAsLong()) {
      sessions.remove(id, expiry);
      return false;
    }
    return true;
  }

  /** The value of cookie {@code name} among Cookie headers, or null. */
  static String cookie(java.util.List<String> headers, String name) {
    if (headers == null) {
      return null;
    }
    for (String h : headers) {
      for (String part : h.split(";")) {
        String p = part.strip();
        if (p.startsWith(name + "=")) {
          return p.substring(name.length() + 1);
        }
      }
    }
    return null;
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
  }
}
