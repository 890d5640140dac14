package dev.imgmatch.cli.scan;

import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.client.TopicReader;
import dev.imgmatch.common.KafkaResources;
import dev.imgmatch.schemas.RecordDecodingException;
import dev.imgmatch.schemas.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Every alert of a pipeline run, read once all of them are committed, rather than whatever arrived within some
 * waiting time. index-service commits its consumer offsets on {@code embeddings} in the same transaction as the
 * alerts of the records before them, and ingest-stream's exact-copy alerts are committed with the prepared records
 * the embedder then reads: so once index-service's committed offsets leave no {@code embeddings} record unread, every
 * alert of those records is committed, and reading {@code match-alerts} ({@code read_committed}) to its end reads
 * them all.
 */
public final class CommittedAlerts implements AutoCloseable {
  private final Map<String, Object> client;
  private final Topics topics;
  private final String indexGroup;
  private final Admin admin;
  private final KafkaConsumer<byte[], byte[]> embeddings;

  /**
   * @param client Kafka client settings (at least bootstrap.servers)
   * @param topics the deployment's topics; index-service's group is named after their prefix ({@link KafkaResources})
   */
  public CommittedAlerts(Map<String, Object> client, Topics topics) {
    this.client = Map.copyOf(client);
    this.topics = topics;
    this.indexGroup = topics.prefix() + KafkaResources.INDEX_GROUP;
    this.admin = Admin.create(new HashMap<>(client));
    Map<String, Object> p = new HashMap<>(client);
    p.put("isolation.level", "read_committed");
    p.put("enable.auto.commit", false);
    this.embeddings = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  /**
   * True when index-service's committed offsets leave no committed {@code embeddings} record unread (transaction
   * markers and aborted records are not records). Call once everything uploaded has been processed.
   *
   * @param within how long to spend reading what lies between the committed offsets and the end
   */
  public boolean indexCaughtUp(Duration within) throws InterruptedException {
    String topic = topics.embeddings().name();
    List<TopicPartition> parts = embeddings.partitionsFor(topic, Duration.ofSeconds(30)).stream()
        .map(pi -> new TopicPartition(topic, pi.partition())).toList();
    Map<TopicPartition, OffsetAndMetadata> committed;
    try {
      committed = admin.listConsumerGroupOffsets(indexGroup).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      return false; // asked again by the caller's loop
    }
    embeddings.assign(parts);
    for (TopicPartition p : parts) {
      OffsetAndMetadata c = committed.get(p);
      if (c == null) {
        embeddings.seekToBeginning(List.of(p));
      } else {
        embeddings.seek(p, c.offset());
      }
    }
    Map<TopicPartition, Long> end = embeddings.endOffsets(parts); // read_committed: the last stable offsets
    long deadline = System.nanoTime() + within.toNanos();
    while (parts.stream().anyMatch(p -> embeddings.position(p) < end.get(p))) {
      if (!embeddings.poll(Duration.ofMillis(100)).isEmpty()) {
        return false; // a record index-service has not committed yet
      }
      if (System.nanoTime() > deadline) {
        return false;
      }
    }
    return true;
  }

  /** Every committed alert on {@code match-alerts}, in partition order. */
  public List<MatchAlert> readAll() {
    List<MatchAlert> out = new ArrayList<>();
    TopicReader.read(client, topics.matchAlerts().name(), false, r -> {
      try {
        out.add(topics.matchAlerts().deserializeValue(r.value()));
      } catch (RecordDecodingException e) {
        System.err.println("imgmatch: unreadable alert at " + r.partition() + "@" + r.offset() + ": " + e.getMessage());
      }
    });
    return out;
  }

  @Override
  public void close() {
    try {
      embeddings.close();
    } finally {
      admin.close();
    }
  }
}
