package dev.imgmatch.cli.console;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.imgmatch.console.ConsoleConfig;
import dev.imgmatch.testkit.KafkaBroker;
import dev.imgmatch.testkit.KafkaBrokerExtension;
import dev.imgmatch.testkit.Seeds;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16's done-when, on the real pipeline: {@code POST /v1/lookup} with an edited copy's bytes answers the
 * original first with its score (through ingest-stream, the real model and the Lucene index, over Kafka's query
 * path); oversize, garbage and unauthenticated requests are refused with their reason; the copy's alert is listed
 * by {@code GET /v1/alerts} with its evidence; {@code GET /v1/images/{id}} knows the original and not an unknown id;
 * {@code GET /v1/images/{id}/preview} serves the colour previews of the original (a reference) and of the alerted copy
 * that index-service wrote, and a reveal is logged.
 */
@ExtendWith(KafkaBrokerExtension.class)
class ConsoleIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_BODY = 2 * 1024 * 1024;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  @Test
  void lookupRanksTheOriginalFirstAndTheCopysAlertIsListed(KafkaBroker broker, @TempDir Path dir) throws Exception {
    long seed = Seeds.of("ConsoleIT", 1616L);
    try (ConsoleStack s = new ConsoleStack(broker, dir, seed, Map.of(ConsoleConfig.LOOKUP_MAX_BYTES, MAX_BODY))) {
      String base = s.console.url();
      s.protectOriginal();

      // (a) the copy's bytes as the body: the original first, with its score and signals
      HttpResponse<String> found = send(authed(base + "v1/lookup?k=5")
          .POST(HttpRequest.BodyPublishers.ofByteArray(s.copy)));
      assertThat(found.statusCode()).as(found.body()).isEqualTo(200);
      JsonNode reply = JSON.readTree(found.body());
      System.err.println("lookup: " + reply);
      assertThat(reply.path("status").asText()).isEqualTo("OK");
      assertThat(reply.path("tookMs").asLong()).isGreaterThanOrEqualTo(0);
      JsonNode first = reply.path("matches").get(0);
      assertThat(first.path("imageId").asText()).isEqualTo(s.originalId);
      assertThat(first.path("collection").asText()).isEqualTo("protected");
      assertThat(first.path("score").asDouble()).isGreaterThan(0.5);
      assertThat(first.path("signals").has("cosine")).isTrue();
      assertThat(first.path("evidence").size()).isGreaterThanOrEqualTo(1);

      // (b) refused with a reason, before anything is sent to the cluster
      HttpResponse<String> tooLarge = send(authed(base + "v1/lookup")
          .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[MAX_BODY + 1])));
      assertError(tooLarge, 413, "over the limit of " + MAX_BODY + " bytes");
      assertError(send(authed(base + "v1/lookup").POST(HttpRequest.BodyPublishers.ofString(
          "<html>not an image</html>"))), 400, "not an image");
      assertError(send(HttpRequest.newBuilder(URI.create(base + "v1/lookup"))
          .POST(HttpRequest.BodyPublishers.ofByteArray(s.copy))), 401, "authentication required");
      assertError(send(HttpRequest.newBuilder(URI.create(base + "v1/alerts"))), 401, "authentication required");

      // (c) the copy's alert, listed newest first with the original as its best match
      s.uploadCopy();
      JsonNode alert = null;
      long deadline = System.currentTimeMillis() + 120_000;
      while (alert == null && System.currentTimeMillis() < deadline) {
        JsonNode list = JSON.readTree(send(authed(base + "v1/alerts?collection=uploads&tenant=t")).body());
        for (JsonNode a : list.path("alerts")) {
          if (a.path("imageId").asText().equals(s.copyId)) {
            alert = a;
          }
        }
        Thread.sleep(200);
      }
      assertThat(alert).as("the copy's alert within 120 s").isNotNull();
      System.err.println("alert: " + alert);
      assertThat(alert.path("decision").asText()).isIn("MATCH", "REVIEW");
      assertThat(alert.path("matches").get(0).path("imageId").asText()).isEqualTo(s.originalId);
      assertThat(alert.path("matches").get(0).path("decision").asText()).isEqualTo(alert.path("decision").asText());
      assertThat(alert.path("evidence").get(0).asText()).startsWith(alert.path("decision").asText() + ":");
      assertThat(alert.path("sha256").asText()).hasSize(64);
      JsonNode none = JSON.readTree(send(authed(base + "v1/alerts?decision=MATCH&collection=protected")).body());
      assertThat(none.path("alerts").size()).as("no upload to protected alerted").isZero();

      // GET /v1/images/{id}: the original is indexed (the copy, indexed since, is its neighbour); an unknown id is not
      String orig = URLEncoder.encode(s.originalId, StandardCharsets.UTF_8);
      HttpResponse<String> image = send(authed(base + "v1/images/" + orig + "?tenant=t"));
      assertThat(image.statusCode()).as(image.body()).isEqualTo(200);
      JsonNode img = JSON.readTree(image.body());
      assertThat(img.path("imageId").asText()).isEqualTo(s.originalId);
      assertThat(img.path("indexed").asBoolean()).isTrue();
      assertError(send(authed(base + "v1/images/nobody%2Fnothing?tenant=t")), 404, "is not indexed for tenant t");

      // POST /v1/lookup/hash: the copy's SHA-256 finds the copy (indexed since), its PDQ finds the original too
      HttpResponse<String> bySha = send(authed(base + "v1/lookup/hash?tenant=t").POST(HttpRequest.BodyPublishers
          .ofString("{\"sha256\":\"" + alert.path("sha256").asText() + "\"}")));
      assertThat(bySha.statusCode()).as(bySha.body()).isEqualTo(200);
      JsonNode shaFirst = JSON.readTree(bySha.body()).path("matches").get(0);
      assertThat(shaFirst.path("imageId").asText()).isEqualTo(s.copyId);
      assertThat(shaFirst.path("signals").path("exact").asBoolean()).isTrue();
      HttpResponse<String> byPdq = send(authed(base + "v1/lookup/hash?tenant=t").POST(HttpRequest.BodyPublishers
          .ofString("{\"pdq\":\"" + alert.path("pdq").path("hash").asText() + "\",\"quality\":"
              + alert.path("pdq").path("quality").asInt() + "}")));
      assertThat(byPdq.statusCode()).as(byPdq.body()).isEqualTo(200);
      assertThat(JSON.readTree(byPdq.body()).path("matches").findValuesAsText("imageId")).contains(s.originalId);
      assertError(send(authed(base + "v1/lookup/hash").POST(HttpRequest.BodyPublishers.ofString(
          "{\"pdq\":\"xyz\"}"))), 400, "pdq must be 64 hex digits");
      assertError(send(authed(base + "v1/lookup/hash").POST(HttpRequest.BodyPublishers.ofString("{}"))), 400,
          "name at least one hash");

      // POST /v1/feedback refuses what it cannot record, with the reason
      assertError(send(authed(base + "v1/feedback").POST(HttpRequest.BodyPublishers.ofString("{\"tenant\":\"t\","
          + "\"imageId\":\"" + s.copyId + "\",\"action\":\"maybe\",\"moderator\":\"it\"}"))), 400,
          "action must be confirm or dismiss");
      assertError(send(authed(base + "v1/feedback").POST(HttpRequest.BodyPublishers.ofString("{\"tenant\":\"t\","
          + "\"imageId\":\"" + s.copyId + "\",\"action\":\"dismiss\"}"))), 400, "moderator is required");
      assertError(send(authed(base + "v1/feedback").POST(HttpRequest.BodyPublishers.ofString("{\"tenant\":\"t\","
          + "\"imageId\":\"nobody\",\"action\":\"dismiss\",\"moderator\":\"it\"}"))), 404, "no alert for nobody");
      assertError(send(authed(base + "v1/feedback").POST(HttpRequest.BodyPublishers.ofString("not json"))), 400,
          "not JSON");

      // PUT /v1/collections/protected: disabled for tenant t, a further copy raises no alert
      HttpResponse<String> put = send(authed(base + "v1/collections/protected").PUT(HttpRequest.BodyPublishers
          .ofString("{\"tenant\":\"t\",\"enabled\":false,\"moderator\":\"it\"}")));
      assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
      assertError(send(authed(base + "v1/collections/protected").PUT(HttpRequest.BodyPublishers
          .ofString("{\"matchThreshold\":2,\"moderator\":\"it\"}"))), 400, "matchThreshold must be a number in 0-1");
      s.waitFor(() -> s.stack.index().feedback().collectionSettings("t", "protected") != null,
          "index-service has the setting");
      long indexed = s.stack.index().counters().getOrDefault("indexed", 0L);
      String whileOff = "user-8/while-off-" + seed;
      s.upload(whileOff, s.secondCopy(seed));
      s.waitFor(() -> s.stack.index().counters().getOrDefault("indexed", 0L) > indexed, "the copy indexed");
      Thread.sleep(1500);
      JsonNode after = JSON.readTree(send(authed(base + "v1/alerts?tenant=t")).body());
      assertThat(after.path("alerts").findValuesAsText("imageId")).as("no alert while protected is disabled")
          .doesNotContain(whileOff);
      s.waitFor(() -> {
        try {
          return send(authed(base + "v1/collections")).body().contains("\"enabled\":false");
        } catch (Exception e) {
          return false;
        }
      }, "the console lists the setting");
      JsonNode cols = JSON.readTree(send(authed(base + "v1/collections")).body());
      assertThat(cols.path("collections").get(0).path("name").asText()).isEqualTo("protected");
      assertThat(cols.path("collections").get(0).path("updatedBy").asText()).isEqualTo("it");

      // confirm the copy and add it to banned: a re-encoded copy of it alerts against it (protected is still off)
      HttpResponse<String> confirmed = send(authed(base + "v1/feedback").POST(HttpRequest.BodyPublishers.ofString(
          "{\"tenant\":\"t\",\"imageId\":\"" + s.copyId + "\",\"action\":\"confirm\",\"moderator\":\"it\","
              + "\"addToCollection\":\"banned\"}")));
      assertThat(confirmed.statusCode()).as(confirmed.body()).isEqualTo(202);
      assertThat(JSON.readTree(confirmed.body()).path("addedTo").asText()).isEqualTo("banned");
      java.awt.image.BufferedImage copyPixels = javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(s.copy));
      String ofCopy = "user-9/of-the-copy-" + seed;
      s.upload(ofCopy, dev.imgmatch.cli.samples.SampleImages.jpeg(copyPixels, 0.7f));
      JsonNode banned = null;
      long bannedBy = System.currentTimeMillis() + 120_000;
      while (banned == null && System.currentTimeMillis() < bannedBy) {
        for (JsonNode x : JSON.readTree(send(authed(base + "v1/alerts?tenant=t")).body()).path("alerts")) {
          if (x.path("imageId").asText().equals(ofCopy)) {
            banned = x;
          }
        }
        Thread.sleep(200);
      }
      assertThat(banned).as("an alert for the copy of the confirmed copy").isNotNull();
      assertThat(banned.path("matches").get(0).path("imageId").asText()).isEqualTo(s.copyId);
      assertThat(banned.path("matches").get(0).path("collection").asText()).isEqualTo("banned");
      assertError(send(authed(base + "v1/feedback").POST(HttpRequest.BodyPublishers.ofString("{\"tenant\":\"t\","
          + "\"imageId\":\"" + s.copyId + "\",\"action\":\"dismiss\",\"moderator\":\"it\","
          + "\"addToCollection\":\"banned\"}"))), 400, "addToCollection goes with confirm");
      // previews: the reference's and the alerted copy's, colour JPEGs of at most 320 px; none of an unknown image
      for (String id : new String[] {s.originalId, s.copyId}) {
        String path = base + "v1/images/" + URLEncoder.encode(id, StandardCharsets.UTF_8) + "/preview?tenant=t";
        HttpResponse<byte[]> pv = null;
        long until = System.currentTimeMillis() + 60_000;
        while (System.currentTimeMillis() < until && (pv == null || pv.statusCode() == 404)) {
          pv = http.send(authed(path).build(), HttpResponse.BodyHandlers.ofByteArray());
          if (pv.statusCode() == 404) {
            Thread.sleep(200);
          }
        }
        assertThat(pv.statusCode()).as("the preview of %s: %s", id, new String(pv.body(), StandardCharsets.UTF_8))
            .isEqualTo(200);
        assertThat(pv.headers().firstValue("Content-Type")).hasValue("image/jpeg");
        java.awt.image.BufferedImage shown = javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(pv.body()));
        assertThat(shown).as("a decodable JPEG").isNotNull();
        assertThat(Math.max(shown.getWidth(), shown.getHeight())).as("longer side of %s", id).isEqualTo(320);
        assertThat(shown.getColorModel().getNumColorComponents()).as("colour").isEqualTo(3);
      }
      assertError(send(authed(base + "v1/images/nobody%2Fnothing/preview?tenant=t")), 404, "no preview of");
      assertError(send(HttpRequest.newBuilder(URI.create(base + "v1/images/"
          + URLEncoder.encode(s.originalId, StandardCharsets.UTF_8) + "/preview?tenant=t"))), 401,
          "authentication required");
      HttpResponse<String> reveal = send(authed(base + "v1/audit/reveal").header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString("{\"imageId\": \"" + s.originalId + "\", \"tenant\": \"t\","
              + " \"collection\": \"protected\", \"alert\": \"" + s.copyId + "\"}")));
      assertThat(reveal.statusCode()).as(reveal.body()).isEqualTo(200);
      assertThat(JSON.readTree(reveal.body()).path("by").asText()).startsWith("token from ");
      assertError(send(authed(base + "v1/audit/reveal").POST(HttpRequest.BodyPublishers.ofString("{}"))), 400,
          "an image id is needed");

      JsonNode health = JSON.readTree(send(HttpRequest.newBuilder(URI.create(base + "health"))).body());
      assertThat(health.path("alerts").path("caughtUp").asBoolean()).isTrue();
      assertThat(health.path("alerts").path("held").asInt()).isGreaterThanOrEqualTo(1);
      assertThat(s.stack.problem()).isNull();
    }
  }

  private HttpRequest.Builder authed(String url) {
    return HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(90))
        .header("Authorization", "Bearer " + ConsoleStack.TOKEN);
  }

  private HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static void assertError(HttpResponse<String> r, int status, String reason) throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    JsonNode n = JSON.readTree(r.body());
    assertThat(n.path("status").asInt()).isEqualTo(status);
    assertThat(n.path("error").asText()).contains(reason);
    assertThat(r.body()).doesNotContain("Exception");
  }
}
