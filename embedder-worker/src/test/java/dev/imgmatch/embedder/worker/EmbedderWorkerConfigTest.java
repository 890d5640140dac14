package dev.imgmatch.embedder.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

class EmbedderWorkerConfigTest {
  @Test
  void defaultsAreValidAndKafkaSettingsPassThrough() {
    EmbedderWorkerConfig c = new EmbedderWorkerConfig(Map.of("kafka.bootstrap.servers", "b:9092",
        "kafka.security.protocol", "SASL_SSL", "kafka.sasl.jaas.config", "secret!", "group.id", "g"));
    assertThat(c.kafka()).containsEntry("bootstrap.servers", "b:9092").containsEntry("security.protocol", "SASL_SSL");
    assertThat(c.topics().prepared().name()).isEqualTo("imgmatch.prepared");
    assertThat(c.transactionalId()).startsWith("g-");
    assertThat(c.describe()).contains("batch.max.records = 16").contains("kafka.sasl.jaas.config = [hidden]")
        .doesNotContain("secret!");
    assertThat(c.embedderOptions().model()).isNull();
    assertThat(c.embedderOptions().head()).isEqualTo("learned-whiten");
  }

  @Test
  void theProducerCompressesWithZstdUnlessKafkaSettingsSayOtherwiseAndStaysTransactional() {
    EmbedderWorkerConfig d = new EmbedderWorkerConfig(Map.of("group.id", "g"));
    Map<String, Object> p = EmbedderWorker.producerProperties(d, d.topics());
    assertThat(p).containsEntry("compression.type", "zstd").containsEntry("enable.idempotence", true)
        .containsEntry("acks", "all").containsEntry("transactional.id", d.transactionalId());
    EmbedderWorkerConfig o = new EmbedderWorkerConfig(Map.of("group.id", "g", "kafka.compression.type", "lz4",
        "kafka.acks", "1", "kafka.enable.idempotence", "false"));
    Map<String, Object> q = EmbedderWorker.producerProperties(o, o.topics());
    assertThat(q).as("an operator's choice of compression is kept").containsEntry("compression.type", "lz4");
    assertThat(q).as("exactly-once is not negotiable").containsEntry("acks", "all")
        .containsEntry("enable.idempotence", true);
    assertThat((Integer) q.get("max.request.size")).isGreaterThanOrEqualTo(
        dev.imgmatch.schemas.Topics.SMALL_MESSAGE_BYTES);
  }

  @Test
  void theGroupAndTransactionalIdLieInsideTheTopicPrefix() {
    EmbedderWorkerConfig d = new EmbedderWorkerConfig(Map.of());
    assertThat(d.getString(EmbedderWorkerConfig.GROUP_ID)).isEqualTo("imgmatch.embedder");
    assertThat(d.transactionalId()).startsWith("imgmatch.embedder-");
    EmbedderWorkerConfig a = new EmbedderWorkerConfig(Map.of("topic.prefix", "tenant-a."));
    assertThat(a.getString(EmbedderWorkerConfig.GROUP_ID)).isEqualTo("tenant-a.embedder");
    assertThat(a.transactionalId()).startsWith("tenant-a.embedder-");
    assertThat(a.describe()).doesNotContain("WARNING");
    EmbedderWorkerConfig outside = new EmbedderWorkerConfig(Map.of("topic.prefix", "a.", "transactional.id", "tx-1"));
    assertThat(outside.describe()).contains("WARNING: transactional.id = tx-1 does not start with topic.prefix 'a.'")
        .doesNotContain("WARNING: group.id");
    for (String key : EmbedderWorkerConfig.DEF.names()) {
      assertThat(dev.imgmatch.common.Settings.isSecret(key)).as(key + " is not a secret").isFalse();
    }
  }

  @Test
  void queueMustHoldABatch() {
    assertThatThrownBy(() -> new EmbedderWorkerConfig(Map.of("batch.max.records", "32", "queue.capacity", "8")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("queue.capacity (8) must be >= batch.max.records (32)");
  }

  @Test
  void valuesAreValidatedWithTheKeyInTheMessage() {
    assertThatThrownBy(() -> new EmbedderWorkerConfig(Map.of("batch.max.records", "0")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("batch.max.records");
    assertThatThrownBy(() -> new EmbedderWorkerConfig(Map.of("model.pixel.std", "1,2")))
        .hasMessageContaining("model.pixel.std");
    assertThatThrownBy(() -> new EmbedderWorkerConfig(Map.of("model.path", "/m")))
        .hasMessageContaining("model.id");
  }

  @Test
  void aCustomSavedModelIsDescribedBySettings() {
    EmbedderWorkerConfig c = new EmbedderWorkerConfig(Map.of("model.path", "/models/x", "model.id", "x",
        "model.output.scores", "", "model.input.width", "299", "model.input.height", "299",
        "model.pixel.mean", "0.485,0.456,0.406", "model.pixel.std", "0.229,0.224,0.225"));
    var spec = c.embedderOptions().model();
    assertThat(spec.id()).isEqualTo("x");
    assertThat(spec.scoresOutput()).isNull();
    assertThat(spec.classNames()).isEmpty();
    assertThat(spec.width()).isEqualTo(299);
    assertThat(spec.mean()[0]).isEqualTo(0.485f);
    assertThat(spec.preprocessing()).contains("299x299");
  }

  @Test
  void aModelOutageIsRetriedForTenMinutesByDefaultFromOneSecondDoublingToAMinute() {
    assertThat(new EmbedderWorkerConfig(Map.of()).embedRetry()).isEqualTo(new RetryPolicy(1_000, 60_000, 600_000));
    assertThat(new EmbedderWorkerConfig(Map.of("embed.retry.max.ms", "0")).embedRetry().budgetMs()).isZero();
    assertThatThrownBy(() -> new EmbedderWorkerConfig(Map.of("embed.retry.backoff.ms", "5000",
        "embed.retry.backoff.max.ms", "1000"))).isInstanceOf(ConfigException.class)
        .hasMessageContaining("embed.retry.backoff.max.ms");
  }

  @Test
  void theSettingsTableListsEveryKey() {
    assertThat(EmbedderWorkerConfig.markdownTable()).contains("| `queue.capacity` | int | `64` |");
  }

  @Test
  void topicSettingsHaveTheServicesCommonNamesAndTheOldOnesStillWork() {
    EmbedderWorkerConfig now = new EmbedderWorkerConfig(Map.of("topic.create", "false", "topic.partitions", "6"));
    assertThat(now.getBoolean(EmbedderWorkerConfig.TOPIC_CREATE)).isFalse();
    assertThat(now.getInt(EmbedderWorkerConfig.TOPIC_PARTITIONS)).isEqualTo(6);
    EmbedderWorkerConfig old = new EmbedderWorkerConfig(Map.of("topics.create", "false", "topics.replication", "3"));
    assertThat(old.getBoolean(EmbedderWorkerConfig.TOPIC_CREATE)).isFalse();
    assertThat(old.getShort(EmbedderWorkerConfig.TOPIC_REPLICATION)).isEqualTo((short) 3);
    EmbedderWorkerConfig both = new EmbedderWorkerConfig(Map.of("topics.partitions", "2", "topic.partitions", "4"));
    assertThat(both.getInt(EmbedderWorkerConfig.TOPIC_PARTITIONS)).as("the new name wins").isEqualTo(4);
  }

  @Test
  void environmentVariablesMapToSettings() {
    EmbedderWorkerConfig c = new EmbedderWorkerConfig(dev.imgmatch.common.Settings.load(null, Map.of(
        "IMGMATCH_KAFKA_BOOTSTRAP_SERVERS", "k1:9092,k2:9092", "IMGMATCH_HTTP_PORT", "9464",
        "IMGMATCH_CACHE_DIR", "/var/cache/imgmatch", "IMGMATCH_LOG_FORMAT", "text", "PATH", "/bin"), Map.of()));
    assertThat(c.getString("kafka.bootstrap.servers")).isEqualTo("k1:9092,k2:9092");
    assertThat(c.getInt(EmbedderWorkerConfig.HTTP_PORT)).isEqualTo(9464);
    assertThat(c.getString(EmbedderWorkerConfig.HTTP_HOST)).isEqualTo("0.0.0.0");
    assertThat(c.getString(EmbedderWorkerConfig.CACHE_DIR)).isEqualTo("/var/cache/imgmatch");
    assertThat(c.getString(EmbedderWorkerConfig.LOG_FORMAT)).isEqualTo("text");
    assertThat(new EmbedderWorkerConfig(Map.of()).getInt(EmbedderWorkerConfig.HTTP_PORT)).isEqualTo(8080);
    assertThatThrownBy(() -> new EmbedderWorkerConfig(Map.of("http.port", "-2"))).isInstanceOf(ConfigException.class);
    assertThatThrownBy(() -> new EmbedderWorkerConfig(Map.of("log.format", "xml"))).isInstanceOf(ConfigException.class);
  }
}
