package dev.imgmatch.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SettingsTest {
  @Test
  void fileThenEnvironmentThenOverrides(@TempDir Path dir) throws Exception {
    Path f = Files.writeString(dir.resolve("svc.properties"), "a.b=file\nc=file\nd=file\n");
    Map<String, String> m = Settings.load(f, Map.of("IMGMATCH_C", "env", "IMGMATCH_D", "env",
        "OTHER", "ignored"), Map.of("d", "override"));
    assertThat(m).containsEntry("a.b", "file").containsEntry("c", "env").containsEntry("d", "override")
        .doesNotContainKey("other");
  }

  @Test
  void environmentNamesMapToDottedKeys() {
    assertThat(Settings.fromEnv(Map.of("IMGMATCH_KAFKA_SECURITY_PROTOCOL", "SASL_SSL", "IMGMATCH_MY__KEY", "v")))
        .containsEntry("kafka.security.protocol", "SASL_SSL").containsEntry("my_key", "v");
  }

  @Test
  void prefixedEntriesPassThrough() {
    assertThat(Settings.withPrefix(Map.of("kafka.sasl.mechanism", "PLAIN", "ingest.x", "1"), "kafka."))
        .containsExactly(Map.entry("sasl.mechanism", "PLAIN"));
  }

  @Test
  void secretsAreMaskedInTheStartupLog() {
    String s = Settings.describe(Map.of("kafka.sasl.jaas.config", "secret!", "kafka.ssl.keystore.password", "pw",
        "ingest.max.image.bytes", "10"));
    assertThat(s).doesNotContain("secret!").doesNotContain("pw\n").contains("ingest.max.image.bytes = 10");
  }

  @Test
  void aMissingFileIsAClearError(@TempDir Path dir) {
    assertThatThrownBy(() -> Settings.readFile(dir.resolve("nope.properties"))).hasMessageContaining("nope.properties")
        .hasMessageContaining("does not exist");
  }

  @Test
  void serviceCommandLinesParseConfigOverridesAndHelp() {
    Settings.Args a = Settings.Args.parse("--config", "svc.properties", "http.port=9090", "kafka.sasl.jaas.config=x=y");
    assertThat(a.configFile()).isEqualTo(Path.of("svc.properties"));
    assertThat(a.overrides()).containsExactly(Map.entry("http.port", "9090"), Map.entry("kafka.sasl.jaas.config", "x=y"));
    assertThat(a.help()).isFalse();
    assertThat(Settings.Args.parse("-h").help()).isTrue();
    assertThatThrownBy(() -> Settings.Args.parse("--verbose")).hasMessageContaining("'--verbose'");
    assertThatThrownBy(() -> Settings.Args.parse("=x")).hasMessageContaining("'=x'");
  }

  @Test
  void aServiceReportsABadArgumentUnderItsNameInsteadOfThrowing() {
    java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
    java.io.PrintStream err = new java.io.PrintStream(buf, true, java.nio.charset.StandardCharsets.UTF_8);
    assertThat(Settings.Args.parseOrReport("svc", err, "--verbose")).isNull();
    assertThat(buf.toString(java.nio.charset.StandardCharsets.UTF_8)).startsWith("svc: unexpected argument '--verbose'");
    assertThat(Settings.Args.parseOrReport("svc", err, "a=b").overrides()).containsExactly(Map.entry("a", "b"));
  }
}
