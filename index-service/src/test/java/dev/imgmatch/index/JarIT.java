package dev.imgmatch.index;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged jar (integration-test phase runs after package): its manifest, and {@code java -jar} in a child JVM
 * with settings from the environment, JSON or text logs, and the endpoint on the port IMGMATCH_HTTP_PORT names.
 */
class JarIT {
  @TempDir
  Path dir;

  static Path jar() throws IOException {
    try (Stream<Path> s = Files.list(Path.of("target"))) {
      return s.filter(p -> p.getFileName().toString().matches("imgmatch-index-service-.*\\.jar")
          && !p.getFileName().toString().contains("sources")).findFirst().orElseThrow();
    }
  }

  @Test
  void theManifestNamesTheMainClassAndEveryDependencyInLib() throws Exception {
    Path jar = jar();
    try (JarFile jf = new JarFile(jar.toFile())) {
      Attributes a = jf.getManifest().getMainAttributes();
      assertThat(a.getValue(Attributes.Name.MAIN_CLASS)).isEqualTo(IndexServiceApp.class.getName());
      List<String> cp = List.of(a.getValue(Attributes.Name.CLASS_PATH).split(" "));
      assertThat(cp).isNotEmpty().allMatch(e -> e.startsWith("lib/"));
      assertThat(cp).anyMatch(e -> e.contains("lucene-core")).anyMatch(e -> e.contains("kafka-clients"))
          .anyMatch(e -> e.contains("logback-classic")).anyMatch(e -> e.contains("micrometer-core"))
          .as("no CLI code, no client code").noneMatch(e -> e.contains("picocli"))
          .noneMatch(e -> e.contains("imgmatch-client"));
      assertThat(jf.stream().map(e -> e.getName())).as("no CLI code")
          .noneMatch(n -> n.startsWith("dev/imgmatch/index/cli/") && n.endsWith(".class"))
          .noneMatch(n -> n.startsWith("dev/imgmatch/index/client/") && n.endsWith(".class"))
          .noneMatch(n -> n.startsWith("META-INF/services/dev.imgmatch."));
      for (String e : cp) {
        assertThat(jar.resolveSibling(e)).as("copied by the dependency plugin").exists();
      }
      assertThat(jf.getEntry("dev/imgmatch/index/service-logback-json.xml")).isNotNull();
      assertThat(jf.getEntry("dev/imgmatch/index/service-logback-text.xml")).isNotNull();
      assertThat(jf.getEntry("logback.xml")).as("never competes with the CLI's").isNull();
    }
  }

  @Test
  void javaDashJarRunsWithEnvironmentSettingsJsonLogsAndTheEndpoint() throws Exception {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process help = new ProcessBuilder(java.toString(), "-jar", jar().toString(), "--help").redirectErrorStream(true)
        .start();
    String helpOut = new String(help.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(help.waitFor()).isZero();
    assertThat(helpOut).contains("match.threshold").contains("http.port");

    Process bad = new ProcessBuilder(java.toString(), "-jar", jar().toString(), "topic.prefix=bad prefix/")
        .redirectErrorStream(true).start();
    assertThat(new String(bad.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).contains("topic.prefix");
    assertThat(bad.waitFor()).isEqualTo(2);

    for (String format : List.of("json", "text")) {
      int port;
      try (ServerSocket free = new ServerSocket(0)) {
        port = free.getLocalPort();
      }
      ProcessBuilder pb = new ProcessBuilder(java.toString(), "-jar", jar().toString(), "http.host=127.0.0.1")
          .redirectErrorStream(true);
      Map<String, String> env = pb.environment();
      env.put("IMGMATCH_HTTP_PORT", String.valueOf(port));
      env.put("IMGMATCH_INDEX_DIR", dir.resolve(format).toString());
      env.put("IMGMATCH_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1"); // nothing there: the service never gets ready
      env.put("IMGMATCH_TOPIC_CREATE", "false");
      env.put("IMGMATCH_LOG_FORMAT", format);
      Process p = pb.start();
      try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        String first = out.readLine();
        System.out.println(format + ": " + first);
        assertThat(first).isNotNull();
        if (format.equals("json")) {
          assertThat(first).startsWith("{").contains("\"level\"").contains("\"loggerName\"");
        } else {
          assertThat(first).doesNotStartWith("{").contains("INFO");
        }
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
            + "/health")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(health.statusCode()).isEqualTo(200);
        HttpResponse<String> ready = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
            + "/ready")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(ready.statusCode()).as("no broker: not ready").isEqualTo(503);
        String settingsLine = null;
        for (String l = first; l != null && settingsLine == null; l = out.readLine()) {
          if (l.contains("index.dir")) {
            settingsLine = l;
          }
        }
        assertThat(settingsLine == null ? null : settingsLine.replace("\\/", "/"))
            .as("IMGMATCH_INDEX_DIR -> index.dir, printed at start")
            .contains("index.dir = " + dir.resolve(format));
      } finally {
        p.destroyForcibly().waitFor();
      }
    }
  }
}
