package dev.imgmatch.common;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

/**
 * The Kafka resources of one imgmatch deployment are all named after its topic prefix: its topics
 * ({@code <prefix>uploads}, ...), Kafka Streams' application id and internal topics ({@code <prefix>ingest},
 * {@code <prefix>ingest-exact-copies-changelog}), consumer groups ({@code <prefix>embedder},
 * {@code <prefix>index-service}, {@code <prefix>index-service-queries}) and transactional ids
 * ({@code <prefix>embedder-<host>}, Kafka Streams' {@code <prefix>ingest-<uuid>-<n>}). So a deployment confined by
 * the PREFIXED ACLs of {@link #acls} on its prefix cannot touch another deployment's resources: that is the
 * boundary between mutually hostile tenants (docs/SECURITY.md).
 */
public final class KafkaResources {
  private KafkaResources() {}

  /** Default name suffixes of the services' Kafka resources (after the topic prefix). */
  public static final String INGEST_APPLICATION = "ingest";
  public static final String EMBEDDER_GROUP = "embedder";
  public static final String INDEX_GROUP = "index-service";

  /**
   * {@code settings} with {@code key} set to {@code <topic prefix><suffix>} when it is absent or blank; the topic
   * prefix is the value of {@code prefixKey}, or {@code defaultPrefix} when that is absent.
   */
  public static Map<String, Object> withDerivedName(Map<String, ?> settings, String key, String suffix,
      String prefixKey, String defaultPrefix) {
    Map<String, Object> m = new HashMap<>(settings);
    Object v = m.get(key);
    if (v == null || String.valueOf(v).isBlank()) {
      Object prefix = m.get(prefixKey);
      m.put(key, (prefix == null ? defaultPrefix : String.valueOf(prefix)) + suffix);
    }
    return m;
  }

  /**
   * One line per resource named outside {@code prefix} (what the PREFIXED ACLs of {@link #acls} do not cover), for
   * the start-up log; empty when every name starts with the prefix.
   *
   * @param names setting key -> resource name, e.g. {@code group.id -> my-group}
   */
  public static List<String> outsidePrefix(String prefix, Map<String, String> names) {
    List<String> out = new ArrayList<>();
    names.forEach((key, name) -> {
      if (name != null && !name.isEmpty() && !name.startsWith(prefix)) {
        out.add(key + " = " + name + " does not start with topic.prefix '" + prefix + "': PREFIXED ACLs on the "
            + "prefix do not cover it (docs/SECURITY.md)");
      }
    });
    return out;
  }

  /** One PREFIXED allow rule: resource type, the operations granted. */
  private record Rule(ResourceType type, List<AclOperation> operations) {}

  /**
   * Everything a deployment's services need, and nothing on the cluster: topics (create the missing ones and
   * Streams' changelog, read, write, describe them and their configs), consumer groups (read: join, commit,
   * fetch offsets; implies describe) and transactional ids (write: transactions; implies describe). Idempotent
   * producers need no cluster right (KIP-679: Write on a topic suffices).
   */
  private static final List<Rule> RULES = List.of(
      new Rule(ResourceType.TOPIC, List.of(AclOperation.CREATE, AclOperation.DESCRIBE, AclOperation.DESCRIBE_CONFIGS,
          AclOperation.READ, AclOperation.WRITE)),
      new Rule(ResourceType.GROUP, List.of(AclOperation.READ)),
      new Rule(ResourceType.TRANSACTIONAL_ID, List.of(AclOperation.WRITE)));

  /**
   * The ACLs that let {@code principal} (e.g. {@code User:tenant-a}) run a whole deployment whose topic prefix is
   * {@code prefix}, and nothing else: every rule is PREFIXED on the prefix, none is on the cluster.
   */
  public static List<AclBinding> acls(String principal, String prefix) {
    if (prefix == null || prefix.isEmpty()) {
      throw new IllegalArgumentException("a deployment confined by ACLs needs a topic prefix");
    }
    List<AclBinding> out = new ArrayList<>();
    for (Rule r : RULES) {
      for (AclOperation op : r.operations()) {
        out.add(new AclBinding(new ResourcePattern(r.type(), prefix, PatternType.PREFIXED),
            new AccessControlEntry(principal, "*", op, AclPermissionType.ALLOW)));
      }
    }
    return out;
  }

  /**
   * The same ACLs as {@code kafka-acls.sh} command lines (one per resource type), e.g. for docs/SECURITY.md.
   *
   * @param bootstrap the {@code --bootstrap-server} argument
   * @param adminConfig the {@code --command-config} file of an administrator's client settings
   */
  public static List<String> kafkaAclsCommands(String principal, String prefix, String bootstrap, String adminConfig) {
    acls(principal, prefix); // same checks
    Map<ResourceType, String> option = new LinkedHashMap<>();
    option.put(ResourceType.TOPIC, "--topic");
    option.put(ResourceType.GROUP, "--group");
    option.put(ResourceType.TRANSACTIONAL_ID, "--transactional-id");
    List<String> out = new ArrayList<>();
    for (Rule r : RULES) {
      StringBuilder sb = new StringBuilder("kafka-acls.sh --bootstrap-server ").append(bootstrap)
          .append(" --command-config ").append(adminConfig).append(" --add --allow-principal ").append(principal)
          .append(" --resource-pattern-type prefixed ").append(option.get(r.type())).append(' ').append(prefix);
      for (AclOperation op : r.operations()) {
        sb.append(" --operation ").append(camel(op));
      }
      out.add(sb.toString());
    }
    return out;
  }

  /** {@code DESCRIBE_CONFIGS} as kafka-acls.sh spells it: {@code DescribeConfigs}. */
  private static String camel(AclOperation op) {
    StringBuilder sb = new StringBuilder();
    for (String w : op.name().split("_")) {
      sb.append(w.charAt(0)).append(w.substring(1).toLowerCase(java.util.Locale.ROOT));
    }
    return sb.toString();
  }
}
