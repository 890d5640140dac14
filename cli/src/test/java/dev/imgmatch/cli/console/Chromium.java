package dev.imgmatch.cli.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Headless Chromium driven through the DevTools protocol over the JDK's WebSocket client (no Selenium, no driver
 * binary): launched with {@code --remote-debugging-port=0}, its address read from the "DevTools listening on" line
 * it prints, then one page target's socket for {@code Page.navigate}, {@code Runtime.evaluate}, real
 * {@code Input.dispatchKeyEvent} / {@code Input.dispatchMouseEvent} and screenshots.
 */
final class Chromium implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern LISTENING = Pattern.compile("DevTools listening on (ws://([^/]+)/\\S+)");

  private final Process process;
  private final StringBuffer log = new StringBuffer();
  private final String hostPort;

  /** Chromium's executable on PATH ({@code IMGMATCH_CHROMIUM} names another), or null. */
  static String find() {
    String forced = System.getenv("IMGMATCH_CHROMIUM");
    if (forced != null && !forced.isBlank()) {
      return Files.isExecutable(Path.of(forced)) ? forced : null;
    }
    for (String name : List.of("chromium", "chromium-browser", "google-chrome")) {
      for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
        Path p = Path.of(dir, name);
        if (Files.isExecutable(p)) {
          return p.toString();
        }
      }
    }
    return null;
  }

  Chromium(String executable, Path profile) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(executable, "--headless=new", "--no-sandbox", "--disable-gpu",
        "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-extensions", "--window-size=1400,1000",
        "--remote-debugging-port=0", "--user-data-dir=" + profile, "about:blank").redirectErrorStream(true);
    this.process = pb.start();
    CompletableFuture<String> address = new CompletableFuture<>();
    Thread.ofPlatform().daemon().name("chromium-output").start(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
          StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          log.append(line).append('\n');
          Matcher m = LISTENING.matcher(line);
          if (m.find()) {
            address.complete(m.group(2));
          }
        }
      } catch (IOException e) {
        address.completeExceptionally(e);
      }
      address.completeExceptionally(new IOException("chromium exited before listening"));
    });
    try {
      this.hostPort = address.get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      process.destroyForcibly();
      throw new IOException("chromium did not start: " + e + "\n" + log, e);
    }
  }

  /** What Chromium printed so far (for failure messages). */
  String output() {
    return log.toString();
  }

  /** The first page target (the initial about:blank tab). */
  Page page() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      String body = http.send(HttpRequest.newBuilder(URI.create("http://" + hostPort + "/json/list")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      for (JsonNode t : JSON.readTree(body)) {
        if ("page".equals(t.path("type").asText())) {
          return new Page(http, t.path("webSocketDebuggerUrl").asText());
        }
      }
      if (System.nanoTime() > deadline) {
        throw new IOException("no page target in " + body);
      }
      Thread.sleep(100);
    }
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  /** One page's DevTools session. */
  static final class Page implements WebSocket.Listener {
    private final WebSocket socket;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    private final StringBuilder partial = new StringBuilder();

    private Page(HttpClient http, String url) throws Exception {
      this.socket = http.newWebSocketBuilder().buildAsync(URI.create(url), this).get(30, TimeUnit.SECONDS);
    }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        String msg = partial.toString();
        partial.setLength(0);
        try {
          JsonNode n = JSON.readTree(msg);
          if (n.has("id")) {
            CompletableFuture<JsonNode> f = pending.remove(n.path("id").asInt());
            if (f != null) {
              if (n.has("error")) {
                f.completeExceptionally(new IOException("DevTools error: " + n.path("error")));
              } else {
                f.complete(n.path("result"));
              }
            }
          }
        } catch (IOException e) {
          pending.values().forEach(f -> f.completeExceptionally(e));
        }
      }
      ws.request(1);
      return null;
    }

    /** Calls a DevTools method and returns its result. */
    JsonNode call(String method, ObjectNode params) throws Exception {
      int id = ids.incrementAndGet();
      CompletableFuture<JsonNode> f = new CompletableFuture<>();
      pending.put(id, f);
      ObjectNode msg = JSON.createObjectNode().put("id", id).put("method", method);
      msg.set("params", params == null ? JSON.createObjectNode() : params);
      socket.sendText(JSON.writeValueAsString(msg), true).get(10, TimeUnit.SECONDS);
      return f.get(30, TimeUnit.SECONDS);
    }

    void navigate(String url) throws Exception {
      call("Page.navigate", JSON.createObjectNode().put("url", url));
    }

    /** A JavaScript expression's value (promises awaited), as JSON. */
    JsonNode eval(String expression) throws Exception {
      JsonNode r = call("Runtime.evaluate", JSON.createObjectNode().put("expression", expression)
          .put("awaitPromise", true).put("returnByValue", true));
      if (r.has("exceptionDetails")) {
        throw new IOException("script failed: " + r.path("exceptionDetails"));
      }
      return r.path("result").path("value");
    }

    String text(String expression) throws Exception {
      JsonNode v = eval(expression);
      return v.isMissingNode() || v.isNull() ? null : v.asText();
    }

    /** Waits until {@code expression} is truthy; fails with {@code what} and the page's text otherwise. */
    void waitFor(String expression, Duration timeout, String what) throws Exception {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < deadline) {
        try {
          if (eval("!!(" + expression + ")").asBoolean()) {
            return;
          }
        } catch (IOException e) {
          // the page is between documents
        }
        Thread.sleep(100);
      }
      throw new AssertionError("waited " + timeout.toSeconds() + " s for " + what + "; the page says:\n"
          + text("document.body ? document.body.innerText : '(no body)'"));
    }

    /** A real key press (keyDown with its text, then keyUp), as a person typing it. */
    void press(String key, String code, int keyCode, String text) throws Exception {
      ObjectNode down = JSON.createObjectNode().put("type", "keyDown").put("key", key).put("code", code)
          .put("windowsVirtualKeyCode", keyCode);
      if (text != null) {
        down.put("text", text);
      }
      call("Input.dispatchKeyEvent", down);
      call("Input.dispatchKeyEvent", JSON.createObjectNode().put("type", "keyUp").put("key", key).put("code", code)
          .put("windowsVirtualKeyCode", keyCode));
    }

    void type(String text) throws Exception {
      call("Input.insertText", JSON.createObjectNode().put("text", text));
    }

    /** A real mouse click in the middle of the first element {@code selector} finds. */
    void click(String selector) throws Exception {
      JsonNode box = eval("(() => { const e = document.querySelector(" + JSON.writeValueAsString(selector) + ");"
          + " if (!e) return null; e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
          + " return {x: r.x + r.width / 2, y: r.y + r.height / 2}; })()");
      if (box.isNull() || box.isMissingNode()) {
        throw new AssertionError("nothing to click at " + selector);
      }
      for (String type : List.of("mousePressed", "mouseReleased")) {
        call("Input.dispatchMouseEvent", JSON.createObjectNode().put("type", type).put("x", box.path("x").asDouble())
            .put("y", box.path("y").asDouble()).put("button", "left").put("clickCount", 1));
      }
    }

    void screenshot(Path file) throws Exception {
      JsonNode r = call("Page.captureScreenshot", JSON.createObjectNode().put("format", "png"));
      Files.createDirectories(file.toAbsolutePath().getParent());
      Files.write(file, Base64.getDecoder().decode(r.path("data").asText()));
    }
  }
}
