package dev.imgmatch.console;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The console's one route table and its dispatcher: every endpoint is a {@link Route} here (and the OpenAPI file
 * lists exactly these, checked by a test). A path template's last {@code {name}} takes the rest of the path,
 * slashes included (image ids such as {@code works/cat-1} may contain them), percent-decoded.
 *
 * <p>Failure policy, decided here in one place: an {@link ApiException} is answered with its status and reason as
 * JSON; any other exception is logged with its stack trace and answered 500 with no detail (never a stack trace on the
 * wire); a client gone mid-response is logged at debug.
 */
final class Router implements HttpHandler {
  private static final Logger log = LoggerFactory.getLogger(Router.class);

  /** A handler of one route. */
  @FunctionalInterface
  interface Handler {
    void handle(HttpExchange ex, Map<String, String> pathParams) throws IOException;
  }

  /**
   * One endpoint.
   *
   * @param open served without authentication
   */
  record Route(String method, String path, boolean open, Handler handler) {
    /** The path parameters when {@code rawPath} matches this route's template, else null. */
    Map<String, String> match(String rawPath) {
      String[] t = path.split("/", -1);
      String[] p = rawPath.split("/", -1);
      Map<String, String> params = new java.util.LinkedHashMap<>();
      for (int i = 0; i < t.length; i++) {
        boolean last = i == t.length - 1;
        if (t[i].startsWith("{") && t[i].endsWith("}")) {
          if (i >= p.length) {
            return null;
          }
          String raw = last ? String.join("/", java.util.Arrays.copyOfRange(p, i, p.length)) : p[i];
          if (raw.isEmpty()) {
            return null;
          }
          params.put(t[i].substring(1, t[i].length() - 1), URLDecoder.decode(raw.replace("+", "%2B"),
              StandardCharsets.UTF_8));
          if (last) {
            return params;
          }
        } else if (i >= p.length || !t[i].equals(p[i])) {
          return null;
        }
      }
      return p.length == t.length ? params : null;
    }
  }

  private final List<Route> routes;
  private final Auth auth;

  Router(List<Route> routes, Auth auth) {
    this.routes = List.copyOf(routes);
    this.auth = auth;
  }

  List<Route> routes() {
    return routes;
  }

  @Override
  public void handle(HttpExchange ex) {
    try {
      dispatch(ex);
    } catch (ApiException e) {
      answerError(ex, e.status(), e.getMessage());
    } catch (IOException e) {
      log.debug("{} {}: client gone: {}", ex.getRequestMethod(), ex.getRequestURI().getRawPath(), e.toString());
      ex.close();
    } catch (RuntimeException | Error e) {
      log.error("{} {} failed", ex.getRequestMethod(), ex.getRequestURI().getRawPath(), e);
      answerError(ex, 500, "internal error (logged by the server)");
    }
  }

  private void dispatch(HttpExchange ex) throws IOException {
    String rawPath = ex.getRequestURI().getRawPath();
    String method = ex.getRequestMethod();
    TreeSet<String> allowed = new TreeSet<>();
    for (Route r : routes) {
      Map<String, String> params = r.match(rawPath);
      if (params == null) {
        continue;
      }
      if (!r.method().equals(method)) {
        allowed.add(r.method());
        continue;
      }
      if (!r.open() && !auth.allows(ex)) {
        auth.refuse(ex, rawPath);
        return;
      }
      r.handler().handle(ex, params);
      return;
    }
    if (!allowed.isEmpty()) {
      ex.getResponseHeaders().set("Allow", String.join(", ", allowed));
      throw new ApiException(405, method + " is not allowed on " + rawPath + " (allowed: "
          + String.join(", ", allowed) + ")");
    }
    throw new ApiException(404, "no such endpoint: " + rawPath + " (the API is described at /openapi.json)");
  }

  private static void answerError(HttpExchange ex, int status, String reason) {
    try {
      HttpIo.sendError(ex, status, reason);
    } catch (IOException | RuntimeException e) { // headers already sent, or the client is gone
      log.debug("cannot answer {} to {}: {}", status, ex.getRequestURI().getRawPath(), e.toString());
      ex.close();
    }
  }

  /** {@code METHOD path} of every route, e.g. {@code GET /v1/images/{id}}. */
  List<String> signatures() {
    List<String> s = new ArrayList<>();
    routes.forEach(r -> s.add(r.method() + " " + r.path()));
    return s;
  }
}
