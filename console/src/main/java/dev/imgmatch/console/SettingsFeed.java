package dev.imgmatch.console;

import dev.imgmatch.avro.CollectionSettings;
import dev.imgmatch.schemas.RecordDecodingException;
import dev.imgmatch.schemas.Topic;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The run-time settings of collections and banks (the compacted {@code collection-settings}, a handful of records),
 * read whole and followed by thread {@code console-settings} for {@code GET /v1/collections}.
 */
final class SettingsFeed extends TopicFollower {
  private static final Logger log = LoggerFactory.getLogger(SettingsFeed.class);

  private final Topic<String, CollectionSettings> topic;
  private final Map<String, CollectionSettings> byKey = new ConcurrentHashMap<>();

  SettingsFeed(Map<String, Object> kafka, Topic<String, CollectionSettings> topic) {
    super("console-settings", "imgmatch-console-settings", kafka, List.of(topic.name()));
    this.topic = topic;
  }

  SettingsFeed start() {
    startThread();
    return this;
  }

  /** Every record held, by kind, name and tenant. */
  List<CollectionSettings> all() {
    List<CollectionSettings> out = new ArrayList<>(byKey.values());
    out.sort(Comparator.comparing((CollectionSettings s) -> s.getKind().name())
        .thenComparing(s -> s.getName().toString()).thenComparing(s -> s.getTenant().toString()));
    return out;
  }

  @Override
  void onRecord(ConsumerRecord<byte[], byte[]> r) {
    String key;
    try {
      key = topic.deserializeKey(r.key());
    } catch (RuntimeException e) {
      return;
    }
    if (r.value() == null) {
      byKey.remove(key);
      return;
    }
    try {
      byKey.put(key, topic.deserializeValue(r.value()));
    } catch (RecordDecodingException e) {
      log.warn("unreadable settings at {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), e.getMessage());
    }
  }
}
