package dev.imgmatch.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.imgmatch.avro.PixelEncoding;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IngestConfigTest {
  @Test
  void defaultsAreExactlyOnceWithTheDocumentedLimits() {
    IngestConfig c = new IngestConfig(Map.of());
    assertThat(c.streamsProps()).containsEntry(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, "exactly_once_v2")
        .containsEntry(StreamsConfig.APPLICATION_ID_CONFIG, "imgmatch.ingest")
        .containsEntry(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:9092");
    assertThat(c.adminProps()).containsEntry("bootstrap.servers", "localhost:9092");
    assertThat(c.imageLimits().maxBytes()).isEqualTo(20 * 1024 * 1024);
    assertThat(c.imageLimits().maxPixels()).isEqualTo(50_000_000L);
    assertThat(c.viewSpec().width()).isEqualTo(224);
    assertThat(c.viewSpec().encoding()).isEqualTo(PixelEncoding.RGB8);
    assertThat(c.matchRules()).isEqualTo(dev.imgmatch.common.MatchRules.parse("uploads:protected,banned"));
    assertThat(c.matchRules().watched()).containsExactlyInAnyOrder("protected", "banned");
    assertThat(c.referenceRoots()).isEmpty();
    assertThat(c.topics().prefix()).isEqualTo("imgmatch.");
    assertThat(c.uploadViews()).containsExactly("full", "trim", "inset", "depixel");
    assertThat(c.queryViews()).containsExactly("full", "hflip", "center80", "trim", "inset", "depixel");
    assertThat(c.borderTrim()).isEqualTo(dev.imgmatch.ingest.image.BorderTrim.DEFAULT);
    assertThat(c.frameLimits()).isEqualTo(dev.imgmatch.ingest.image.FrameLimits.defaults());
    assertThat(c.frameLimits().maxFrames()).isEqualTo(8);
  }

  @Test
  void theMatchRulesAreIndexServicesSettingAndTheOldCollectionListIsRefused() {
    assertThat(IngestConfig.MATCH_RULES).isEqualTo("match.rules");
    assertThat(new IngestConfig(Map.of(IngestConfig.MATCH_RULES, "uploads:protected,banned,uploads")).matchRules()
        .alerts("uploads", "uploads")).isTrue();
    assertThatThrownBy(() -> new IngestConfig(Map.of(IngestConfig.MATCH_RULES, "nonsense")))
        .isInstanceOf(ConfigException.class).hasMessageContaining(IngestConfig.MATCH_RULES)
        .hasMessageContaining("rule 'nonsense' is not 'source:target[,target...]'");
    assertThatThrownBy(() -> new IngestConfig(Map.of("ingest.exact.alert.collections", "protected,banned")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("ingest.exact.alert.collections")
        .hasMessageContaining("no longer exists").hasMessageContaining("set match.rules");
    // from the environment too (IMGMATCH_INGEST_EXACT_ALERT_COLLECTIONS)
    assertThatThrownBy(() -> IngestConfig.load(null, Map.of("IMGMATCH_INGEST_EXACT_ALERT_COLLECTIONS", "protected"),
        Map.of())).isInstanceOf(ConfigException.class).hasMessageContaining("set match.rules");
  }

  @Test
  void frameSettingsAreBoundedSoThatAPreparedRecordFitsItsTopic() {
    assertThat(new IngestConfig(Map.of(IngestConfig.FRAMES_MAX, "1")).frameLimits().enabled()).isFalse();
    assertThat(new IngestConfig(Map.of(IngestConfig.FRAMES_MAX_PIXELS, "0")).frameLimits().enabled()).isFalse();
    assertThat(new IngestConfig(Map.of(IngestConfig.FRAMES_MAX, "64")).frameLimits().maxFrames()).isEqualTo(64);
    for (String bad : new String[] {"0", "65"}) {
      assertThatThrownBy(() -> new IngestConfig(Map.of(IngestConfig.FRAMES_MAX, bad)))
          .isInstanceOf(ConfigException.class).hasMessageContaining(IngestConfig.FRAMES_MAX);
    }
    // 64 views of 512x512 RGB8 (768 KiB each) would not fit a 21 MiB record
    assertThatThrownBy(() -> new IngestConfig(Map.of(IngestConfig.FRAMES_MAX, "64", IngestConfig.VIEW_WIDTH, "512",
        IngestConfig.VIEW_HEIGHT, "512"))).isInstanceOf(ConfigException.class)
        .hasMessageContaining(IngestConfig.FRAMES_MAX).hasMessageContaining("prepared record");
  }

  @Test
  void theApplicationIdAndSoTheGroupTransactionalIdsAndInternalTopicsLieInsideTheTopicPrefix() {
    IngestConfig c = new IngestConfig(Map.of(IngestConfig.TOPIC_PREFIX, "tenant-a."));
    assertThat(c.streamsProps()).containsEntry(StreamsConfig.APPLICATION_ID_CONFIG, "tenant-a.ingest");
    assertThat(c.describe()).contains("application.id = tenant-a.ingest").doesNotContain("WARNING");
    assertThat(new IngestConfig(Map.of(IngestConfig.TOPIC_PREFIX, "a.", IngestConfig.APPLICATION_ID, " ")).streamsProps())
        .containsEntry(StreamsConfig.APPLICATION_ID_CONFIG, "a.ingest");
    IngestConfig outside = new IngestConfig(Map.of(IngestConfig.TOPIC_PREFIX, "a.", IngestConfig.APPLICATION_ID, "ingest-a"));
    assertThat(outside.streamsProps()).containsEntry(StreamsConfig.APPLICATION_ID_CONFIG, "ingest-a");
    assertThat(outside.describe()).contains("WARNING: application.id = ingest-a does not start with topic.prefix 'a.'");
    for (String key : IngestConfig.DEF.names()) {
      assertThat(dev.imgmatch.common.Settings.isSecret(key)).as(key + " is not a secret").isFalse();
    }
  }

  @Test
  void viewListsStartWithFullAndNameKnownViewsOnce() {
    assertThat(new IngestConfig(Map.of(IngestConfig.UPLOAD_VIEWS, "full")).uploadViews()).containsExactly("full");
    assertThat(IngestConfig.load(null, Map.of("IMGMATCH_INGEST_QUERY_VIEWS", "full,trim"), Map.of()).queryViews())
        .containsExactly("full", "trim");
    for (String bad : new String[] {"hflip,full", "full,rot90", "full,trim,trim", ""}) {
      assertThatThrownBy(() -> new IngestConfig(Map.of(IngestConfig.QUERY_VIEWS, bad)))
          .as(bad).isInstanceOf(ConfigException.class).hasMessageContaining(IngestConfig.QUERY_VIEWS);
    }
    assertThatThrownBy(() -> new IngestConfig(Map.of(IngestConfig.TRIM_MIN_FRACTION, "0.4")))
        .isInstanceOf(ConfigException.class).hasMessageContaining(IngestConfig.TRIM_MIN_FRACTION);
  }

  @Test
  void theInsetsOwnFeaturesAreNoneEdgedOrAllAndTheOldTrueAndFalseStillMeanAllAndNone() {
    assertThat(new IngestConfig(Map.of()).getString(IngestConfig.LOCAL_INSET)).isEqualTo("edged");
    assertThat(LocalFeaturePrep.InsetFeatures.of("edged")).isEqualTo(LocalFeaturePrep.InsetFeatures.EDGED);
    assertThat(LocalFeaturePrep.InsetFeatures.of(" ALL ")).isEqualTo(LocalFeaturePrep.InsetFeatures.ALL);
    assertThat(LocalFeaturePrep.InsetFeatures.of("true")).isEqualTo(LocalFeaturePrep.InsetFeatures.ALL);
    assertThat(LocalFeaturePrep.InsetFeatures.of("false")).isEqualTo(LocalFeaturePrep.InsetFeatures.NONE);
    assertThat(new IngestConfig(Map.of(IngestConfig.LOCAL_INSET, "none")).localFeatures().usesInset()).isFalse();
    assertThat(new IngestConfig(Map.of()).localFeatures().usesInset()).isTrue();
    assertThatThrownBy(() -> new IngestConfig(Map.of(IngestConfig.LOCAL_INSET, "sometimes")))
        .isInstanceOf(ConfigException.class).hasMessageContaining(IngestConfig.LOCAL_INSET);
  }

  @Test
  void fileEnvironmentAndOverridesStackAndKafkaSettingsPassThrough(@TempDir Path tmp) throws Exception {
    Path file = tmp.resolve("ingest.properties");
    Files.writeString(file, "ingest.max.pixels=1000000\ningest.view.width=256\nkafka.sasl.jaas.config=secret!\n");
    IngestConfig c = IngestConfig.load(file, Map.of("IMGMATCH_INGEST_VIEW_WIDTH", "299",
        "IMGMATCH_KAFKA_SECURITY_PROTOCOL", "SASL_SSL"), Map.of(IngestConfig.PROCESSING_GUARANTEE, "at_least_once"));
    assertThat(c.imageLimits().maxPixels()).isEqualTo(1_000_000L);
    assertThat(c.viewSpec().width()).isEqualTo(299);
    assertThat(c.adminProps()).containsEntry("security.protocol", "SASL_SSL");
    assertThat(c.streamsProps()).containsEntry("security.protocol", "SASL_SSL")
        .containsEntry(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, "at_least_once");
    assertThat(c.describe()).contains("kafka.sasl.jaas.config = [hidden]").doesNotContain("secret!")
        .contains("ingest.view.width = 299");
  }

  @Test
  void invalidValuesAndContradictionsFailAtStartNamingTheKey() {
    assertThatThrownBy(() -> new IngestConfig(Map.of(IngestConfig.PROCESSING_GUARANTEE, "exactly_once")))
        .isInstanceOf(ConfigException.class).hasMessageContaining(IngestConfig.PROCESSING_GUARANTEE);
    assertThatThrownBy(() -> new IngestConfig(Map.of(IngestConfig.MIN_WIDTH, "5000", IngestConfig.MAX_SIDE, "4000")))
        .isInstanceOf(ConfigException.class).hasMessageContaining(IngestConfig.MIN_WIDTH);
    assertThatThrownBy(() -> new IngestConfig(Map.of(IngestConfig.MAX_PIXELS, "100")))
        .isInstanceOf(ConfigException.class).hasMessageContaining(IngestConfig.MAX_PIXELS);
    assertThatThrownBy(() -> new IngestConfig(Map.of(IngestConfig.SUBSAMPLE_MIN_SIDE, "100")))
        .isInstanceOf(ConfigException.class).hasMessageContaining(IngestConfig.SUBSAMPLE_MIN_SIDE);
    assertThatThrownBy(() -> new IngestConfig(Map.of(IngestConfig.REFERENCE_ROOTS, "relative/dir")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("absolute");
    assertThatThrownBy(() -> new IngestConfig(Map.of(IngestConfig.BACKGROUND, "white")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("#RRGGBB");
    assertThatThrownBy(() -> new IngestConfig(Map.of(IngestConfig.TOPIC_PREFIX, "bad prefix")))
        .isInstanceOf(ConfigException.class).hasMessageContaining(IngestConfig.TOPIC_PREFIX);
  }

  @Test
  void serviceSettingsComeFromTheEnvironment() {
    IngestConfig d = new IngestConfig(Map.of());
    assertThat(d.getString(IngestConfig.HTTP_HOST)).isEqualTo("0.0.0.0");
    assertThat(d.getInt(IngestConfig.HTTP_PORT)).isEqualTo(8080);
    assertThat(d.getString(IngestConfig.LOG_FORMAT)).isEqualTo("json");
    IngestConfig c = IngestConfig.load(null, Map.of("IMGMATCH_KAFKA_BOOTSTRAP_SERVERS", "broker:9093",
        "IMGMATCH_HTTP_PORT", "-1", "IMGMATCH_STATE_DIR", "/var/lib/ingest", "IMGMATCH_LOG_FORMAT", "text"), Map.of());
    assertThat(c.streamsProps()).containsEntry(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "broker:9093")
        .containsEntry(StreamsConfig.STATE_DIR_CONFIG, "/var/lib/ingest");
    assertThat(c.getInt(IngestConfig.HTTP_PORT)).isEqualTo(-1);
    assertThat(c.getString(IngestConfig.LOG_FORMAT)).isEqualTo("text");
    assertThatThrownBy(() -> new IngestConfig(Map.of(IngestConfig.HTTP_PORT, "-2")))
        .isInstanceOf(ConfigException.class).hasMessageContaining(IngestConfig.HTTP_PORT);
    assertThatThrownBy(() -> new IngestConfig(Map.of(IngestConfig.LOG_FORMAT, "xml")))
        .isInstanceOf(ConfigException.class).hasMessageContaining(IngestConfig.LOG_FORMAT);
  }
}
