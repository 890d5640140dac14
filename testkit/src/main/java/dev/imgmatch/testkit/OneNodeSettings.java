package dev.imgmatch.testkit;

import java.util.LinkedHashMap;
import java.util.Map;

/** Broker settings a single-node cluster needs (replication factors of internal topics) plus test speed-ups. */
final class OneNodeSettings {
  private OneNodeSettings() {}

  static Map<String, String> get() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("offsets.topic.replication.factor", "1");
    m.put("offsets.topic.num.partitions", "4");
    m.put("transaction.state.log.replication.factor", "1");
    m.put("transaction.state.log.min.isr", "1");
    m.put("transaction.state.log.num.partitions", "4");
    m.put("share.coordinator.state.topic.replication.factor", "1");
    m.put("share.coordinator.state.topic.min.isr", "1");
    m.put("min.insync.replicas", "1");
    m.put("default.replication.factor", "1");
    m.put("group.initial.rebalance.delay.ms", "0");
    // lets failover tests run members with a 2 s session (the broker's default floor is 6 s): docs/OPERATIONS.md
    m.put("group.min.session.timeout.ms", "1000");
    m.put("log.cleaner.dedupe.buffer.size", String.valueOf(16 * 1024 * 1024));
    m.put("message.max.bytes", String.valueOf(22 * 1024 * 1024));
    m.put("unstable.api.versions.enable", "false");
    m.put("unstable.feature.versions.enable", "false");
    m.put("auto.create.topics.enable", "false");
    return m;
  }
}
