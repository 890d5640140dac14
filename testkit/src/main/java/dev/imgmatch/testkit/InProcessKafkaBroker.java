package dev.imgmatch.testkit;

import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.apache.kafka.metadata.bootstrap.BootstrapMetadata;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * A real one-node KRaft cluster (combined broker + controller) inside this JVM, from Kafka's own
 * test kit. The kit's default metadata version is an unreleased testing one; we bootstrap with the
 * latest production metadata version and every production feature at its latest production level,
 * as a real 4.3 cluster would have (without that, transaction.version stays 0 and EOS v2 breaks).
 */
final class InProcessKafkaBroker extends KafkaBroker {
  private final KafkaClusterTestKit cluster;

  private InProcessKafkaBroker(KafkaClusterTestKit cluster) {
    this.cluster = cluster;
  }

  static InProcessKafkaBroker start() throws Exception {
    return new InProcessKafkaBroker(startCluster(SecurityProtocol.PLAINTEXT, Map.of()));
  }

  /**
   * Formats and starts a one-node cluster whose broker and controller listeners both speak {@code protocol},
   * with {@link OneNodeSettings} and then {@code settings} as broker settings.
   */
  static KafkaClusterTestKit startCluster(SecurityProtocol protocol, Map<String, String> settings) throws Exception {
    Map<String, Short> features = new HashMap<>();
    for (Feature f : Feature.PRODUCTION_FEATURES) {
      if (f != Feature.KRAFT_VERSION) {
        features.put(f.featureName(), f.latestProduction());
      }
    }
    BootstrapMetadata bootstrap =
        BootstrapMetadata.fromVersions(MetadataVersion.latestProduction(), features, "imgmatch-testkit");
    TestKitNodes nodes = new TestKitNodes.Builder(bootstrap)
        .setCombined(true)
        .setNumBrokerNodes(1)
        .setNumControllerNodes(1)
        .setBrokerSecurityProtocol(protocol)
        .setControllerSecurityProtocol(protocol)
        .build();
    KafkaClusterTestKit.Builder builder = new KafkaClusterTestKit.Builder(nodes);
    OneNodeSettings.get().forEach(builder::setConfigProp);
    settings.forEach(builder::setConfigProp);
    KafkaClusterTestKit cluster = builder.build();
    try {
      cluster.format();
      cluster.startup();
      cluster.waitForReadyBrokers();
    } catch (Exception e) {
      cluster.close();
      throw e;
    }
    return cluster;
  }

  @Override
  public String bootstrapServers() {
    return cluster.bootstrapServers();
  }

  @Override
  public Kind kind() {
    return Kind.IN_PROCESS;
  }

  @Override
  public void close() throws Exception {
    cluster.close();
  }
}
