package dev.imgmatch.console;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.client.QueryClient;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The review console and HTTP API: one JDK HTTP server (no framework) serving the page, the alert listing and live
 * stream, lookups by image and by id, and the OpenAPI description of all of it.
 *
 * <p>What it owns: in-memory state only — the newest {@code console.alerts.max} alerts ({@link AlertStore}), the
 * open streams ({@link SseHub}) and login sessions ({@link Auth}). Everything else is the cluster's: alerts are read
 * from {@code match-alerts} ({@link AlertFeed}), lookups go through the Kafka query path ({@link QueryClient}), so a
 * console can be restarted, or several run, at no cost to the pipeline.
 *
 * <p>Threads: requests run on virtual threads (a live stream holds one while open); the feed has its own platform
 * thread; {@link QueryClient} its reply reader. Memory is bounded by the settings: alerts held, lookup bodies times
 * lookups in flight, streams times their queues, sessions.
 */
public final class ConsoleServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ConsoleServer.class);

  private final ConsoleConfig cfg;
  private final HttpServer server;
  private final ExecutorService executor;
  private final Router router;
  private final AlertStore store;
  private final SseHub hub;
  private final Auth auth;
  /** Null when previews are off ({@code console.previews.enabled=false}): nothing read, held or served. */
  private final PreviewStore previews;
  private final List<AutoCloseable> owned = new ArrayList<>();
  private volatile AlertFeed feed;
  private volatile PreviewFeed previewFeed;

  private ConsoleServer(ConsoleConfig cfg, QueryApi.Queries queries,
      org.apache.kafka.clients.producer.Producer<byte[], byte[]> producer, SettingsFeed settings) throws IOException {
    this.cfg = cfg;
    this.store = new AlertStore(cfg.getInt(ConsoleConfig.ALERTS_MAX));
    this.hub = new SseHub(store, cfg.getInt(ConsoleConfig.SSE_MAX_CLIENTS), cfg.getInt(ConsoleConfig.SSE_QUEUE));
    this.auth = new Auth(cfg.token(), Duration.ofHours(cfg.getInt(ConsoleConfig.SESSION_HOURS)),
        cfg.getInt(ConsoleConfig.MAX_SESSIONS), System::currentTimeMillis);
    this.previews = cfg.getBoolean(ConsoleConfig.PREVIEWS_ENABLED) ? new PreviewStore(
        cfg.getLong(ConsoleConfig.PREVIEWS_MAX_BYTES), cfg.getLong(ConsoleConfig.PREVIEWS_TTL_MS)) : null;
    this.router = new Router(routes(new QueryApi(queries, cfg),
        previews == null ? null : new PreviewApi(previews, cfg, auth, System::currentTimeMillis),
        new ReviewApi(producer, cfg.topics(), store, settings)), auth);
    this.server = HttpServer.create(new InetSocketAddress(cfg.getString(ConsoleConfig.BIND),
        cfg.getInt(ConsoleConfig.PORT)), 64);
    this.executor = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("console-http-", 0).factory());
    server.setExecutor(executor);
    server.createContext("/", router);
  }

  /**
   * Starts the console on the cluster {@code cfg} names: a {@link QueryClient} for lookups and an {@link AlertFeed}
   * for the alert queue. Logs where it listens and whether authentication is on (a WARN line when it is off).
   */
  public static ConsoleServer start(ConsoleConfig cfg) throws IOException {
    QueryClient client;
    try {
      client = new QueryClient(cfg.kafkaProps(), cfg.topics())
          .gatherPartials(cfg.getBoolean(ConsoleConfig.QUERY_GATHER));
    } catch (org.apache.kafka.common.KafkaException e) {
      throw new IllegalStateException("cannot reach the cluster at " + cfg.getString(ConsoleConfig.BOOTSTRAP)
          + " (" + e.getMessage() + "); is it running, and is " + ConsoleConfig.BOOTSTRAP + " (--bootstrap) its"
          + " address?", e);
    }
    ConsoleServer s;
    org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]> producer = null;
    SettingsFeed settings = null;
    try {
      producer = new org.apache.kafka.clients.producer.KafkaProducer<>(producerProps(cfg),
          new org.apache.kafka.common.serialization.ByteArraySerializer(),
          new org.apache.kafka.common.serialization.ByteArraySerializer());
      settings = new SettingsFeed(cfg.kafkaProps(), cfg.topics().collectionSettings());
      s = new ConsoleServer(cfg, client::query, producer, settings);
    } catch (IOException | RuntimeException e) {
      client.close();
      if (producer != null) {
        producer.close();
      }
      throw e;
    }
    s.owned.add(client);
    s.owned.add(producer);
    s.owned.add(settings.start());
    s.feed = new AlertFeed(cfg.kafkaProps(), cfg.topics().matchAlerts(), cfg.getLong(ConsoleConfig.ALERTS_LOOKBACK_MS),
        s::accept).start();
    s.owned.add(s.feed);
    if (s.previews != null) {
      s.previewFeed = new PreviewFeed(cfg.kafkaProps(), cfg.topics().referencePreviews(), cfg.topics().previews(),
          s.previews, System::currentTimeMillis).start();
      s.owned.add(s.previewFeed);
    }
    s.begin();
    return s;
  }

  /** A console on given query path and no alert feed (tests add alerts with {@link #accept}). */
  static ConsoleServer startDetached(ConsoleConfig cfg, QueryApi.Queries queries) throws IOException {
    ConsoleServer s = new ConsoleServer(cfg, queries, null, null);
    s.begin();
    return s;
  }

  /** The producer of moderators' decisions and settings: idempotent, acknowledged by every replica. */
  private static java.util.Map<String, Object> producerProps(ConsoleConfig cfg) {
    java.util.Map<String, Object> p = new java.util.HashMap<>(cfg.kafkaProps());
    p.remove(org.apache.kafka.clients.consumer.ConsumerConfig.GROUP_ID_CONFIG);
    p.put(org.apache.kafka.clients.producer.ProducerConfig.ACKS_CONFIG, "all");
    p.put(org.apache.kafka.clients.producer.ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(org.apache.kafka.clients.producer.ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1);
    p.put(org.apache.kafka.clients.producer.ProducerConfig.CLIENT_ID_CONFIG, "imgmatch-console-decisions");
    return p;
  }

  private void begin() {
    server.start();
    log.info("console: review console and HTTP API at {} (API description: {}openapi.json)", url(), url());
    if (auth.enabled()) {
      log.info("console: authentication on: bearer token (console.auth.token) or a login session");
    } else {
      log.warn("console: authentication is OFF: no console.auth.token is set, and the server {}. Anyone who can"
          + " reach {} can read alerts and run lookups; set a token (IMGMATCH_CONSOLE_TOKEN) to require one",
          cfg.loopbackBind() ? "listens on a loopback address only" : "was told console.auth.allow.anonymous=true",
          url());
    }
  }

  /** A new alert (the feed thread): stored, then handed to the live streams. */
  void accept(MatchAlert a) {
    AlertStore.Stored s = store.add(a);
    if (s != null) {
      hub.publish(s);
    }
  }

  /**
   * The route table: every endpoint, and nothing else (openapi.json lists the same, checked by a test). The preview
   * routes exist only with previews on ({@code previewApi} not null); the preview route comes before
   * {@code /v1/images/{id}}, whose id takes the rest of the path.
   */
  private List<Router.Route> routes(QueryApi api, PreviewApi previewApi, ReviewApi review) {
    List<Router.Route> r = new ArrayList<>();
    if (previewApi != null) {
      r.add(new Router.Route("GET", "/v1/images/{id}/preview", false, (ex, p) -> previewApi.preview(ex, p.get("id"))));
      r.add(new Router.Route("POST", "/v1/audit/reveal", false, (ex, p) -> previewApi.reveal(ex)));
    }
    r.addAll(List.of(
        new Router.Route("GET", "/", false, (ex, p) -> StaticFiles.page(ex)),
        new Router.Route("GET", "/static/{file}", false, (ex, p) -> StaticFiles.asset(ex, p.get("file"))),
        new Router.Route("POST", "/login", true, (ex, p) -> login(ex)),
        new Router.Route("POST", "/logout", true, (ex, p) -> logout(ex)),
        new Router.Route("GET", "/health", true, (ex, p) -> health(ex)),
        new Router.Route("GET", "/openapi.json", false, (ex, p) ->
            HttpIo.send(ex, 200, "application/json; charset=utf-8", StaticFiles.get("openapi.json"))),
        new Router.Route("GET", "/v1/alerts", false, (ex, p) -> alerts(ex)),
        new Router.Route("GET", "/v1/alerts/stream", false, (ex, p) -> stream(ex)),
        new Router.Route("POST", "/v1/lookup", false, (ex, p) -> api.lookup(ex)),
        new Router.Route("POST", "/v1/lookup/hash", false, (ex, p) -> api.lookupHash(ex)),
        new Router.Route("GET", "/v1/images/{id}", false, (ex, p) -> api.image(ex, p.get("id"))),
        new Router.Route("POST", "/v1/feedback", false, (ex, p) -> review.feedback(ex)),
        new Router.Route("GET", "/v1/collections", false, (ex, p) -> review.collections(ex)),
        new Router.Route("PUT", "/v1/collections/{name}", false, (ex, p) -> review.putCollection(ex, p.get("name")))));
    return r;
  }

  private void alerts(HttpExchange ex) throws IOException {
    AlertFilter f = AlertFilter.parse(HttpIo.queryParams(ex));
    ObjectNode n = HttpIo.JSON.createObjectNode();
    ArrayNode list = n.putArray("alerts");
    store.list(f).forEach(s -> list.add(Json.alert(s)));
    n.put("held", store.size());
    n.put("max", store.max());
    n.put("lastSeq", store.lastSeq());
    ObjectNode pv = n.putObject("previews"); // what the page shows beside each alert
    pv.put("enabled", previews != null);
    ArrayNode sensitive = pv.putArray("sensitiveCollections");
    new java.util.TreeSet<>(cfg.sensitiveCollections()).forEach(sensitive::add);
    HttpIo.sendJson(ex, 200, n);
  }

  private void stream(HttpExchange ex) throws IOException {
    Map<String, String> q = HttpIo.queryParams(ex);
    AlertFilter f = AlertFilter.parse(q, "after");
    long after = -1;
    String resume = ex.getRequestHeaders().getFirst("Last-Event-ID");
    for (String v : new String[] {q.get("after"), resume}) {
      if (v != null && !v.isBlank()) {
        try {
          after = Math.max(after, Long.parseLong(v.strip()));
        } catch (NumberFormatException e) {
          throw ApiException.badRequest("after / Last-Event-ID must be an alert's seq, got '" + v + "'");
        }
      }
    }
    hub.serve(ex, f, after);
  }

  private void health(HttpExchange ex) throws IOException {
    ObjectNode n = HttpIo.JSON.createObjectNode();
    AlertFeed fd = feed;
    n.put("status", "ok");
    ObjectNode a = n.putObject("alerts");
    a.put("held", store.size());
    a.put("max", store.max());
    a.put("dropped", store.dropped());
    if (fd != null) {
      a.put("feed", fd.state());
      a.put("caughtUp", fd.caughtUp());
      a.put("read", fd.read());
      a.put("unreadable", fd.unreadable());
    }
    ObjectNode pv = n.putObject("previews");
    pv.put("enabled", previews != null);
    if (previews != null) {
      pv.put("held", previews.size());
      pv.put("bytes", previews.bytes());
      pv.put("maxBytes", previews.maxBytes());
      pv.put("evicted", previews.evicted());
      pv.put("expired", previews.expired());
      PreviewFeed pf = previewFeed;
      if (pf != null) {
        pv.put("feed", pf.state());
        pv.put("read", pf.read());
        pv.put("unreadable", pf.unreadable());
      }
    }
    n.put("streams", hub.clients());
    n.put("auth", auth.enabled() ? "token" : "off");
    HttpIo.sendJson(ex, 200, n);
  }

  private void login(HttpExchange ex) throws IOException {
    if (!auth.enabled()) {
      redirect(ex, null);
      return;
    }
    byte[] body = HttpIo.readBody(ex, 4096, "a login form is small");
    String type = String.valueOf(ex.getRequestHeaders().getFirst("Content-Type"));
    String token;
    if (type.startsWith("application/json")) {
      token = HttpIo.JSON.readTree(body).path("token").asText(null);
    } else {
      token = HttpIo.form(new String(body, StandardCharsets.UTF_8)).get("token");
    }
    String session = auth.login(token == null ? null : token.strip());
    if (session == null) {
      log.info("console: failed login from {}", ex.getRemoteAddress().getAddress().getHostAddress());
      StaticFiles.loginPage(ex, 401, "That token is not the console's token.");
      return;
    }
    redirect(ex, auth.setCookie(session));
  }

  private void logout(HttpExchange ex) throws IOException {
    try (InputStream in = ex.getRequestBody()) {
      in.readNBytes(4096);
    }
    auth.logout(ex);
    redirect(ex, auth.setCookie(null));
  }

  private static void redirect(HttpExchange ex, String cookie) throws IOException {
    if (cookie != null) {
      ex.getResponseHeaders().add("Set-Cookie", cookie);
    }
    ex.getResponseHeaders().set("Location", "/");
    HttpIo.send(ex, 303, "text/plain; charset=utf-8", new byte[0]);
  }

  /** {@code METHOD path} of every endpoint. */
  public List<String> routes() {
    return router.signatures();
  }

  public int port() {
    return server.getAddress().getPort();
  }

  /** The base URL, ending with '/': {@code http://HOST:PORT/} (localhost for a wildcard or loopback bind). */
  public String url() {
    String host = cfg.getString(ConsoleConfig.BIND);
    if (host.equals("0.0.0.0") || host.equals("::") || cfg.loopbackBind()) {
      host = "localhost";
    } else if (host.contains(":")) {
      host = "[" + host + "]";
    }
    return "http://" + host + ":" + port() + "/";
  }

  public boolean authEnabled() {
    return auth.enabled();
  }

  /** The previews held, or null when previews are off (tests put previews in with {@link PreviewStore#put}). */
  PreviewStore previews() {
    return previews;
  }

  /** Alerts held. */
  public int alertsHeld() {
    return store.size();
  }

  @Override
  public void close() {
    hub.close(); // the streams end, so that stop() does not wait for them
    server.stop(1);
    executor.shutdownNow();
    for (AutoCloseable c : owned.reversed()) {
      try {
        c.close();
      } catch (Exception e) {
        log.warn("console: error while stopping {}: {}", c.getClass().getSimpleName(), e.toString());
      }
    }
  }
}
