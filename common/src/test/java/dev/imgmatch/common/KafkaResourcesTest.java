package dev.imgmatch.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.Test;

class KafkaResourcesTest {
  @Test
  void aNameLeftEmptyIsDerivedFromTheTopicPrefix() {
    assertThat(KafkaResources.withDerivedName(Map.of("topic.prefix", "a."), "group.id", "embedder", "topic.prefix",
        "imgmatch.")).containsEntry("group.id", "a.embedder");
    assertThat(KafkaResources.withDerivedName(Map.of("group.id", " "), "group.id", "embedder", "topic.prefix",
        "imgmatch.")).containsEntry("group.id", "imgmatch.embedder");
    assertThat(KafkaResources.withDerivedName(Map.of("group.id", "mine"), "group.id", "embedder", "topic.prefix",
        "imgmatch.")).containsEntry("group.id", "mine");
  }

  @Test
  void namesOutsideThePrefixAreReported() {
    assertThat(KafkaResources.outsidePrefix("a.", Map.of("group.id", "a.x", "query.group.id", ""))).isEmpty();
    assertThat(KafkaResources.outsidePrefix("a.", Map.of("group.id", "ab.x")))
        .containsExactly("group.id = ab.x does not start with topic.prefix 'a.': PREFIXED ACLs on the prefix do not "
            + "cover it (docs/SECURITY.md)");
  }

  @Test
  void theTenantAclsArePrefixedAllowRulesAndNoneIsOnTheCluster() {
    var acls = KafkaResources.acls("User:tenant-a", "a.");
    assertThat(acls).hasSize(7).allSatisfy(b -> {
      assertThat(b.pattern().patternType()).isEqualTo(PatternType.PREFIXED);
      assertThat(b.pattern().name()).isEqualTo("a.");
      assertThat(b.pattern().resourceType()).isNotEqualTo(ResourceType.CLUSTER);
      assertThat(b.entry().principal()).isEqualTo("User:tenant-a");
      assertThat(b.entry().permissionType()).isEqualTo(AclPermissionType.ALLOW);
      assertThat(b.entry().operation()).isNotIn(AclOperation.ALL, AclOperation.ALTER, AclOperation.DELETE,
          AclOperation.ALTER_CONFIGS);
    });
    assertThat(acls.stream().filter(b -> b.pattern().resourceType() == ResourceType.TOPIC).map(AclBinding::entry)
        .map(e -> e.operation())).containsExactly(AclOperation.CREATE, AclOperation.DESCRIBE,
            AclOperation.DESCRIBE_CONFIGS, AclOperation.READ, AclOperation.WRITE);
    assertThatThrownBy(() -> KafkaResources.acls("User:x", "")).hasMessageContaining("prefix");
  }

  @Test
  void theKafkaAclsCommandsInDocsSecurityAreTheOnesTheTestsEnforce() throws Exception {
    var commands = KafkaResources.kafkaAclsCommands("User:tenant-a", "a.", "kafka:9093", "admin.properties");
    assertThat(commands).hasSize(3);
    assertThat(commands.get(0)).isEqualTo("kafka-acls.sh --bootstrap-server kafka:9093 --command-config admin.properties"
        + " --add --allow-principal User:tenant-a --resource-pattern-type prefixed --topic a. --operation Create"
        + " --operation Describe --operation DescribeConfigs --operation Read --operation Write");
    Path doc = Path.of("..", "docs", "SECURITY.md");
    String text = Files.readString(doc).replace("\\\n", "");
    for (String c : commands) {
      assertThat(text.replaceAll(" +", " ")).as("docs/SECURITY.md lists " + c).contains(c);
    }
  }
}
