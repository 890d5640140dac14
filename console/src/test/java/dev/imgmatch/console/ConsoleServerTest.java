package dev.imgmatch.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.imgmatch.avro.InlineImage;
import dev.imgmatch.avro.QueryReply;
import dev.imgmatch.avro.QueryRequest;
import dev.imgmatch.avro.ReplyStatus;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The HTTP contract of the console over real HTTP, with the query path replaced by a function (the IT in cli runs
 * it on the real cluster): authentication, request validation, the cluster's answers as statuses, the live stream.
 */
class ConsoleServerTest {
  private static final String TOKEN = "test-token-0123456789abcdef";
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final BlockingQueue<QueryRequest> sent = new LinkedBlockingQueue<>();
  private Function<QueryRequest, CompletableFuture<QueryReply>> answer = r -> CompletableFuture.completedFuture(
      reply(r, ReplyStatus.OK, null));
  private ConsoleServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  private ConsoleServer start(Map<String, Object> more) throws Exception {
    Map<String, Object> m = new HashMap<>(Map.of(ConsoleConfig.PORT, 0, ConsoleConfig.TOKEN, TOKEN,
        ConsoleConfig.LOOKUP_MAX_BYTES, 100_000, ConsoleConfig.QUERY_TIMEOUT_MS, 300));
    m.putAll(more);
    server = ConsoleServer.startDetached(new ConsoleConfig(m), (req, timeout) -> {
      sent.add(req);
      return answer.apply(req);
    });
    return server;
  }

  private static QueryReply reply(QueryRequest r, ReplyStatus status, String error) {
    return QueryReply.newBuilder().setQueryId(r.getQueryId()).setTenant(r.getTenant()).setStatus(status)
        .setError(error).setResults(status == ReplyStatus.OK
            ? List.of(Alerts.match("orig-1", "protected", 0.97f, 8, 0.95f), Alerts.match("other", "uploads", 0.4f,
                null, 0.5f)) : List.of())
        .setShardsAnswered(2).setShardsTotal(2).setTookMs(42).setRepliedAtMs(1).build();
  }

  private HttpResponse<String> send(HttpRequest.Builder b, boolean withToken) throws Exception {
    if (withToken) {
      b.header("Authorization", "Bearer " + TOKEN);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpRequest.Builder get(String path) {
    return HttpRequest.newBuilder(URI.create(server.url() + path.substring(1))).timeout(Duration.ofSeconds(10));
  }

  private HttpRequest.Builder post(String path, byte[] body) {
    return get(path).POST(HttpRequest.BodyPublishers.ofByteArray(body));
  }

  private static JsonNode json(HttpResponse<String> r) throws Exception {
    return HttpIo.JSON.readTree(r.body());
  }

  private static byte[] png() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(new BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB), "png", out);
    return out.toByteArray();
  }

  /** An error answer: its status, a JSON body with the reason, and never a stack trace. */
  private static void assertError(HttpResponse<String> r, int status, String reason) throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith(
        "application/json"));
    JsonNode n = json(r);
    assertThat(n.path("status").asInt()).isEqualTo(status);
    assertThat(n.path("error").asText()).contains(reason);
    assertThat(r.body()).doesNotContain("Exception").doesNotContain("\tat ");
  }

  @Test
  void withATokenEveryEndpointButHealthNeedsIt() throws Exception {
    start(Map.of());
    for (String p : List.of("/v1/alerts", "/v1/alerts/stream", "/openapi.json", "/static/console.js",
        "/v1/images/x")) {
      HttpResponse<String> r = send(get(p), false);
      assertError(r, 401, "authentication required");
      assertThat(r.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"imgmatch-console\"");
    }
    assertError(send(post("/v1/lookup", png()), false), 401, "authentication required");
    assertError(send(get("/v1/alerts").header("Authorization", "Bearer " + TOKEN + "x"), false), 401,
        "authentication required");
    HttpResponse<String> page = send(get("/"), false);
    assertThat(page.statusCode()).isEqualTo(401);
    assertThat(page.body()).contains("<form method=\"post\" action=\"/login\">");
    assertThat(send(get("/health"), false).statusCode()).isEqualTo(200);
    assertThat(send(get("/v1/alerts"), true).statusCode()).isEqualTo(200);
    assertThat(sent).as("nothing reached the cluster unauthenticated").isEmpty();
  }

  @Test
  void theLoginFormOpensASessionTheCookieCarries() throws Exception {
    start(Map.of());
    HttpRequest.Builder wrong = post("/login", "token=nope".getBytes(StandardCharsets.UTF_8))
        .header("Content-Type", "application/x-www-form-urlencoded");
    HttpResponse<String> refused = send(wrong, false);
    assertThat(refused.statusCode()).isEqualTo(401);
    assertThat(refused.body()).contains("That token is not the console&#39;s token.");
    assertThat(refused.headers().firstValue("Set-Cookie")).isEmpty();

    HttpResponse<String> ok = send(post("/login", ("token=" + TOKEN).getBytes(StandardCharsets.UTF_8))
        .header("Content-Type", "application/x-www-form-urlencoded"), false);
    assertThat(ok.statusCode()).isEqualTo(303);
    String cookie = ok.headers().firstValue("Set-Cookie").orElseThrow();
    assertThat(cookie).startsWith(Auth.COOKIE + "=").contains("HttpOnly", "SameSite=Strict");
    String session = cookie.substring(0, cookie.indexOf(';'));
    HttpResponse<String> page = send(get("/").header("Cookie", session), false);
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.body()).contains("imgmatch review console").contains("/static/console.js");
    assertThat(page.headers().firstValue("Content-Security-Policy")).hasValueSatisfying(
        c -> assertThat(c).contains("script-src 'self'"));

    assertThat(send(post("/logout", new byte[0]).header("Cookie", session), false).statusCode()).isEqualTo(303);
    assertThat(send(get("/v1/alerts").header("Cookie", session), false).statusCode()).isEqualTo(401);
  }

  @Test
  void lookupAnswersTheRankedMatchesWithTheirSignals() throws Exception {
    start(Map.of());
    byte[] png = png();
    HttpResponse<String> r = send(post("/v1/lookup?tenant=acme&k=5&collection=protected,banned", png), true);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode n = json(r);
    assertThat(n.path("status").asText()).isEqualTo("OK");
    assertThat(n.path("tookMs").asLong()).isEqualTo(42);
    JsonNode first = n.path("matches").get(0);
    assertThat(first.path("imageId").asText()).isEqualTo("orig-1");
    assertThat(first.path("collection").asText()).isEqualTo("protected");
    assertThat(first.path("score").asDouble()).isCloseTo(0.97, org.assertj.core.data.Offset.offset(1e-6));
    assertThat(first.path("signals").path("pdqDistance").asInt()).isEqualTo(8);
    assertThat(first.path("signals").path("cosine").asDouble()).isCloseTo(0.95, org.assertj.core.data.Offset.offset(1e-6));
    assertThat(first.path("decision").isNull()).isTrue();
    assertThat(first.path("evidence").toString()).contains("perceptual hash 8 bits apart of 256");

    QueryRequest q = sent.poll(1, TimeUnit.SECONDS);
    assertThat(q.getTenant()).isEqualTo("acme");
    assertThat(q.getParams().getK()).isEqualTo(5);
    assertThat(q.getParams().getFilters().getCollections()).containsExactly("protected", "banned");
    assertThat(((InlineImage) q.getTarget()).getData().remaining()).isEqualTo(png.length);
    assertThat(((InlineImage) q.getTarget()).getFileName()).isEqualTo("lookup.png");
  }

  @Test
  void badLookupsAre4xxWithAReasonAndNeverReachTheCluster() throws Exception {
    start(Map.of());
    assertError(send(post("/v1/lookup", new byte[0]), true), 400, "empty body");
    assertError(send(post("/v1/lookup", "not an image at all".getBytes(StandardCharsets.UTF_8)), true), 400,
        "not an image");
    assertError(send(post("/v1/lookup", new byte[100_001]), true), 413, "over the limit of 100000 bytes");
    assertError(send(post("/v1/lookup?k=0", png()), true), 400, "k must be 1-100");
    assertError(send(post("/v1/lookup?k=ten", png()), true), 400, "k must be 1-100");
    assertError(send(post("/v1/lookup?tenant=" + "x".repeat(300), png()), true), 400, "tenant over 256 bytes");
    assertError(send(post("/v1/lookup?kk=3", png()), true), 400, "unknown parameter 'kk'");
    // a body without a Content-Length (chunked) is capped while it is read
    HttpRequest chunked = get("/v1/lookup").header("Authorization", "Bearer " + TOKEN)
        .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(new byte[200_000])))
        .build();
    assertError(http.send(chunked, HttpResponse.BodyHandlers.ofString()), 413, "over the limit");
    assertThat(sent).isEmpty();
  }

  @Test
  void theClustersAnswersBecomeStatuses() throws Exception {
    start(Map.of());
    answer = r -> CompletableFuture.completedFuture(reply(r, ReplyStatus.REJECTED, "CORRUPT_IMAGE: cannot decode"));
    assertError(send(post("/v1/lookup", png()), true), 400, "the cluster refused the image: CORRUPT_IMAGE");
    answer = r -> CompletableFuture.completedFuture(reply(r, ReplyStatus.ERROR, "disk full"));
    assertError(send(post("/v1/lookup", png()), true), 502, "the cluster failed to answer: disk full");
    answer = r -> new CompletableFuture<QueryReply>().orTimeout(300, TimeUnit.MILLISECONDS);
    assertError(send(post("/v1/lookup", png()), true), 504, "no reply to an image lookup within 300 ms");
    answer = r -> {
      throw new org.apache.kafka.common.KafkaException("broker unreachable");
    };
    assertError(send(post("/v1/lookup", png()), true), 503, "cannot send the query to the cluster");
    answer = r -> CompletableFuture.completedFuture(reply(r, ReplyStatus.REJECTED,
        "image 'works/cat 1' is not indexed for tenant acme"));
    assertError(send(get("/v1/images/works/cat%201?tenant=acme"), true), 404,
        "image 'works/cat 1' is not indexed for tenant acme");
  }

  @Test
  void anImageIdMayHoldSlashesAndTheReplyNamesIt() throws Exception {
    start(Map.of());
    HttpResponse<String> r = send(get("/v1/images/works%2Fcat+1?tenant=acme&k=3"), true);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode n = json(r);
    assertThat(n.path("imageId").asText()).isEqualTo("works/cat+1");
    assertThat(n.path("indexed").asBoolean()).isTrue();
    assertThat(n.path("matches").get(0).path("imageId").asText()).isEqualTo("orig-1");
    QueryRequest q = sent.poll(1, TimeUnit.SECONDS);
    assertThat(((dev.imgmatch.avro.ImageIdTarget) q.getTarget()).getImageId()).isEqualTo("works/cat+1");
    assertThat(q.getParams().getK()).isEqualTo(3);
  }

  @Test
  void unknownPathsAndMethodsAreNamed() throws Exception {
    start(Map.of());
    assertError(send(get("/v2/nothing"), true), 404, "no such endpoint: /v2/nothing");
    HttpResponse<String> r = send(get("/v1/lookup"), true);
    assertError(r, 405, "GET is not allowed on /v1/lookup");
    assertThat(r.headers().firstValue("Allow")).hasValue("POST");
    assertError(send(get("/static/secret.txt"), true), 404, "no such file");
  }

  @Test
  void alertsAreListedNewestFirstAndStreamedLive() throws Exception {
    start(Map.of());
    server.accept(Alerts.alert("older", 1000));
    server.accept(Alerts.alert("newer", 2000));
    JsonNode list = json(send(get("/v1/alerts"), true));
    assertThat(list.path("alerts").size()).isEqualTo(2);
    assertThat(list.path("alerts").get(0).path("imageId").asText()).isEqualTo("newer");
    assertThat(list.path("alerts").get(1).path("imageId").asText()).isEqualTo("older");
    assertThat(list.path("alerts").get(0).path("matches").get(0).path("decision").asText()).isEqualTo("MATCH");
    assertThat(list.path("lastSeq").asLong()).isEqualTo(2);
    assertError(send(get("/v1/alerts?decision=NOPE"), true), 400, "decision must be MATCH or REVIEW");

    BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    HttpRequest streamReq = get("/v1/alerts/stream?after=1&collection=uploads")
        .header("Authorization", "Bearer " + TOKEN).build();
    CompletableFuture<HttpResponse<Stream<String>>> stream = http.sendAsync(streamReq,
        HttpResponse.BodyHandlers.ofLines());
    HttpResponse<Stream<String>> sr = stream.get(10, TimeUnit.SECONDS);
    assertThat(sr.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith(
        "text/event-stream"));
    Thread reader = Thread.ofVirtual().start(() -> sr.body().forEach(lines::add));
    assertThat(nextData(lines)).as("the catch-up after seq 1").contains("\"imageId\":\"newer\"");
    server.accept(Alerts.alert("live", 3000));
    assertThat(nextData(lines)).contains("\"imageId\":\"live\"").contains("\"seq\":3");
    server.close(); // the stream ends with the server
    reader.join(10_000);
    assertThat(reader.isAlive()).isFalse();
    server = null;
  }

  @Test
  void streamsAreBoundedInNumber() throws Exception {
    start(Map.of(ConsoleConfig.SSE_MAX_CLIENTS, 1));
    HttpRequest req = get("/v1/alerts/stream").header("Authorization", "Bearer " + TOKEN).build();
    HttpResponse<Stream<String>> first = http.sendAsync(req, HttpResponse.BodyHandlers.ofLines()).get(10,
        TimeUnit.SECONDS);
    assertThat(first.statusCode()).isEqualTo(200);
    assertError(http.send(req, HttpResponse.BodyHandlers.ofString()), 503, "too many live alert streams");
  }

  private static String nextData(BlockingQueue<String> lines) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      String l = lines.poll(100, TimeUnit.MILLISECONDS);
      if (l != null && l.startsWith("data: ")) {
        return l;
      }
    }
    throw new AssertionError("no event within 10 s");
  }

  @Test
  void withoutATokenItServesOnLoopbackOnlyUnlessTold() throws Exception {
    assertThatThrownBy(() -> new ConsoleConfig(Map.of(ConsoleConfig.BIND, "0.0.0.0")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("no console.auth.token is set");
    new ConsoleConfig(Map.of(ConsoleConfig.BIND, "0.0.0.0", ConsoleConfig.ALLOW_ANONYMOUS, true));
    new ConsoleConfig(Map.of(ConsoleConfig.BIND, "0.0.0.0", ConsoleConfig.TOKEN, TOKEN));
    assertThatThrownBy(() -> new ConsoleConfig(Map.of(ConsoleConfig.TOKEN, "short")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("at least 16 characters");
    assertThat(ConsoleConfig.load(null, Map.of(ConsoleConfig.TOKEN_ENV, TOKEN), Map.of()).token()).isEqualTo(TOKEN);
    assertThat(new ConsoleConfig(Map.of(ConsoleConfig.TOKEN, TOKEN)).describe()).doesNotContain(TOKEN);

    Map<String, Object> open = new HashMap<>(Map.of(ConsoleConfig.PORT, 0));
    server = ConsoleServer.startDetached(new ConsoleConfig(open), (r, t) -> CompletableFuture.completedFuture(
        reply(r, ReplyStatus.OK, null)));
    assertThat(server.authEnabled()).isFalse();
    assertThat(send(get("/v1/alerts"), false).statusCode()).isEqualTo(200);
    assertThat(json(send(get("/health"), false)).path("auth").asText()).isEqualTo("off");
  }
}
