package dev.imgmatch.console;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The console's files, read once from the classpath ({@code dev/imgmatch/console/static/}): plain HTML, CSS and
 * JavaScript, no build step and nothing from another origin. Only the files named here are served.
 */
final class StaticFiles {
  /** Scripts, styles, images and connections from this origin only; no inline script; no framing. */
  static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:;"
      + " connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
  /** The login page: no script at all, its one inline style sheet. */
  static final String LOGIN_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self';"
      + " frame-ancestors 'none'; base-uri 'none'";

  /** File name -> content type. */
  static final Map<String, String> ASSETS = Map.of(
      "console.js", "text/javascript; charset=utf-8",
      "console.css", "text/css; charset=utf-8");

  private static final Map<String, byte[]> FILES = Map.of(
      "index.html", read("index.html"),
      "login.html", read("login.html"),
      "console.js", read("console.js"),
      "console.css", read("console.css"),
      "openapi.json", read("openapi.json"));

  private StaticFiles() {}

  static byte[] get(String name) {
    return FILES.get(name);
  }

  static void page(HttpExchange ex) throws IOException {
    html(ex, 200, FILES.get("index.html"));
  }

  static void asset(HttpExchange ex, String name) throws IOException {
    String type = ASSETS.get(name);
    if (type == null) {
      throw new ApiException(404, "no such file: /static/" + name);
    }
    HttpIo.send(ex, 200, type, FILES.get(name));
  }

  /** The login form, with an error line when a login failed. */
  static void loginPage(HttpExchange ex, int status, String error) throws IOException {
    String html = new String(FILES.get("login.html"), StandardCharsets.UTF_8).replace("<!--ERROR-->",
        error == null ? "" : "<p class=\"error\" role=\"alert\">" + escape(error) + "</p>");
    html(ex, status, html.getBytes(StandardCharsets.UTF_8), LOGIN_CSP);
  }

  private static void html(HttpExchange ex, int status, byte[] body) throws IOException {
    html(ex, status, body, CSP);
  }

  private static void html(HttpExchange ex, int status, byte[] body, String csp) throws IOException {
    ex.getResponseHeaders().set("Content-Security-Policy", csp);
    HttpIo.send(ex, status, "text/html; charset=utf-8", body);
  }

  static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;")
        .replace("'", "&#39;");
  }

  private static byte[] read(String name) {
    try (InputStream in = StaticFiles.class.getResourceAsStream("static/" + name)) {
      if (in == null) {
        throw new IllegalStateException("dev/imgmatch/console/static/" + name + " is missing from the classpath");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
