package dev.imgmatch.console;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The OpenAPI file describes exactly the routes the server registers: none missing, none invented. */
class OpenApiRoutesTest {
  @Test
  void everyRouteIsDescribedAndEveryDescribedPathIsARoute() throws Exception {
    Set<String> described = new TreeSet<>();
    JsonNode api = HttpIo.JSON.readTree(StaticFiles.get("openapi.json"));
    assertThat(api.path("openapi").asText()).startsWith("3.1");
    api.path("paths").properties().forEach(p -> p.getValue().fieldNames().forEachRemaining(m -> {
      if (Set.of("get", "put", "post", "delete", "patch", "head", "options").contains(m)) {
        described.add(m.toUpperCase(java.util.Locale.ROOT) + " " + p.getKey());
      }
    }));
    try (ConsoleServer s = ConsoleServer.startDetached(new ConsoleConfig(Map.of(ConsoleConfig.PORT, 0)),
        (r, t) -> new CompletableFuture<>())) {
      assertThat(described).isEqualTo(new TreeSet<>(s.routes()));
    }
  }

  @Test
  void everyReferenceResolves() throws Exception {
    String text = new String(StaticFiles.get("openapi.json"), java.nio.charset.StandardCharsets.UTF_8);
    JsonNode api = HttpIo.JSON.readTree(text);
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"\\$ref\": \"#/([^\"]+)\"").matcher(text);
    int refs = 0;
    while (m.find()) {
      refs++;
      assertThat(api.at("/" + m.group(1)).isMissingNode()).as(m.group(1)).isFalse();
    }
    assertThat(refs).isGreaterThan(10);
  }
}
