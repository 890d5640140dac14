package dev.imgmatch.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.streams.StreamsConfig;
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
    assertThat(s).doesNotContain("secret!").doesNotContain("pw\n").contains("ingest.max.image.bytes = 10")
        .contains("kafka.sasl.jaas.config = [hidden]");
  }

  /** Every client configuration Kafka itself declares: producer, consumer, admin and Kafka Streams. */
  private static final Map<String, ConfigDef> KAFKA_DEFS = Map.of("producer", ProducerConfig.configDef(),
      "consumer", ConsumerConfig.configDef(), "admin", AdminClientConfig.configDef(), "streams",
      StreamsConfig.configDef());

  private static Set<String> kafkaKeys(boolean passwords) {
    Set<String> keys = new TreeSet<>();
    KAFKA_DEFS.values().forEach(d -> d.configKeys().values().stream()
        .filter(k -> (k.type == ConfigDef.Type.PASSWORD) == passwords).forEach(k -> keys.add(k.name)));
    return keys;
  }

  @Test
  void everyKeyKafkaDeclaresAPasswordIsMaskedUnderEveryPrefixTheServicesPassItWith() {
    Set<String> passwords = kafkaKeys(true);
    assertThat(passwords).as("Kafka's own list, read from its ConfigDefs")
        .contains("sasl.jaas.config", "ssl.key.password", "ssl.keystore.password", "ssl.truststore.password",
            "ssl.keystore.key", "sasl.oauthbearer.client.credentials.client.secret",
            "sasl.oauthbearer.assertion.private.key.passphrase");
    // as given to a client, a service (kafka.*), Kafka Streams' per-client prefixes, and a broker listener
    List<String> prefixes = List.of("", "kafka.", "kafka.producer.", "kafka.main.consumer.", "kafka.restore.consumer.",
        "kafka.global.consumer.", "kafka.consumer.", "kafka.admin.", "listener.name.sasl_ssl.plain.");
    for (String key : passwords) {
      for (String prefix : prefixes) {
        assertThat(Settings.isSecret(prefix + key)).as(prefix + key).isTrue();
        assertThat(Settings.describe(Map.of(prefix + key, "s3cr3t-value"))).as(prefix + key)
            .isEqualTo("  " + prefix + key + " = [hidden]\n");
      }
    }
  }

  @Test
  void passphrasesTokensAndOtherCredentialsAreMaskedToo() {
    for (String key : List.of("kafka.ssl.key.passphrase", "some.private.key.passphrase", "kafka.sasl.oauthbearer.token",
        "bearer.auth.token", "basic.auth.user.info", "schema.registry.basic.auth.user.info", "api.key", "aws.secret.access.key",
        "kafka.sasl.login.password", "db.passwd", "kafka.ssl.keystore.key", "private.key", "client.credentials",
        "IMGMATCH_KAFKA_SASL_JAAS_CONFIG", "my.apiKey", "clientSecret")) {
      assertThat(Settings.isSecret(key)).as(key).isTrue();
    }
  }

  @Test
  void harmlessKafkaKeysStayVisible() {
    // every Kafka client key that Kafka does not declare a password: none is masked (key.serializer,
    // sasl.oauthbearer.token.endpoint.url, ...client.credentials.client.id, ssl.keystore.location...)
    for (String key : kafkaKeys(false)) {
      assertThat(Settings.isSecret(key)).as(key).isFalse();
      assertThat(Settings.isSecret("kafka." + key)).as("kafka." + key).isFalse();
    }
  }

  @Test
  void aPasswordInsideAUrlIsMaskedWhateverTheKey() {
    assertThat(Settings.mask("debian.mirrors", "https://bob:hunter2@mirror.example/debian,http://plain.example/"))
        .isEqualTo("https://bob:[hidden]@mirror.example/debian,http://plain.example/");
    assertThat(Settings.mask("kafka.sasl.oauthbearer.token.endpoint.url", "https://idp.example/token"))
        .isEqualTo("https://idp.example/token");
    assertThat(Settings.describe(Map.of("u", "http://alice:pw@h:1/x"))).doesNotContain("pw@");
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

  @Test
  void aRemovedSettingIsRefusedWithItsReplacement() {
    Map<String, String> removed = Map.of("old.key", "set new.key instead");
    Settings.refuseRemoved(Map.of("other", "1"), removed);
    assertThatThrownBy(() -> Settings.refuseRemoved(Map.of("old.key", "x"), removed))
        .isInstanceOf(ConfigException.class).hasMessageContaining("old.key")
        .hasMessageContaining("no longer exists: set new.key instead");
  }
}
