package dev.imgmatch.ingest;

import dev.imgmatch.avro.Decision;
import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.avro.MatchedImage;
import dev.imgmatch.avro.PreparedImage;
import dev.imgmatch.schemas.RecordDecodingException;
import dev.imgmatch.schemas.Topics;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Stage 2 of uploads, partitioned by (SHA-256, tenant): the exact-copy fast path. The store remembers, per
 * key, the first sighting of those exact bytes; a later upload with another id gets
 * {@code exactDuplicateOf} = that id, and when the first sighting is in a watched collection (default
 * {@code protected}, {@code banned}) and the upload is in another, an immediate {@code MatchAlert}
 * (detector {@code exact}, MATCH, score 1). A sighting in a watched collection replaces an unwatched one, so
 * alerts keep working when a protected work is registered after users already uploaded it.
 */
final class ExactCopyProcessor implements Processor<byte[], byte[], byte[], byte[]> {
  static final String DETECTOR = "exact";

  private final Topics topics;
  private final String storeName;
  private final Set<String> watched;
  private final RejectSink rejects;
  private final IngestCounters counters;
  private final Clock clock;
  private final String preparedSink;
  private final String alertSink;
  private ProcessorContext<byte[], byte[]> context;
  private KeyValueStore<String, byte[]> store;

  ExactCopyProcessor(Topics topics, String storeName, Set<String> watched, RejectSink rejects,
      IngestCounters counters, Clock clock, String preparedSink, String alertSink) {
    this.topics = topics;
    this.storeName = storeName;
    this.watched = watched;
    this.rejects = rejects;
    this.counters = counters;
    this.clock = clock;
    this.preparedSink = preparedSink;
    this.alertSink = alertSink;
  }

  @Override
  public void init(ProcessorContext<byte[], byte[]> context) {
    this.context = context;
    this.store = context.getStateStore(storeName);
  }

  @Override
  public void process(Record<byte[], byte[]> record) {
    PreparedImage p;
    try {
      p = topics.prepared().deserializeValue(record.value());
      if (p == null) {
        throw new RecordDecodingException(RecordDecodingException.Reason.EMPTY_RECORD, "null prepared record", null);
      }
    } catch (RecordDecodingException e) {
      rejects.reject(context, record, e.reasonCode(), e.getMessage(), e);
      return;
    }
    try {
      String key = FirstSighting.key(p.getTenant(), p.getSha256().bytes());
      byte[] stored = store.get(key);
      FirstSighting first = stored == null ? null : FirstSighting.decode(stored);
      if (first == null || (!watched.contains(first.collection()) && watched.contains(p.getCollection()))) {
        store.put(key, new FirstSighting(p.getId(), p.getCollection(), clock.millis()).encode());
      }
      if (first != null && !first.imageId().equals(p.getId())) {
        p.setExactDuplicateOf(first.imageId());
        counters.increment("exact.duplicate");
        if (watched.contains(first.collection()) && !first.collection().equals(p.getCollection())) {
          MatchAlert alert = alert(p, first);
          context.forward(record.withKey(topics.matchAlerts().serializeKey(p.getId()))
              .withValue(topics.matchAlerts().serializeValue(alert)), alertSink);
          counters.increment("exact.alert");
        }
      }
      context.forward(record.withKey(topics.prepared().serializeKey(p.getId()))
          .withValue(topics.prepared().serializeValue(p)), preparedSink);
    } catch (RuntimeException e) {
      rejects.internalError(context, record, e);
    }
  }

  private MatchAlert alert(PreparedImage p, FirstSighting first) {
    MatchedImage m = MatchedImage.newBuilder()
        .setImageId(first.imageId())
        .setTenant(p.getTenant())
        .setCollection(first.collection())
        .setSource(null)
        .setScore(1f)
        .setExact(true)
        .setPdqDistance(0)
        .setCosine(null)
        .setAttributes(Map.of())
        .build();
    return MatchAlert.newBuilder()
        .setImageId(p.getId())
        .setTenant(p.getTenant())
        .setCollection(p.getCollection())
        .setSource(p.getSource())
        .setAttributes(p.getAttributes())
        .setDecision(Decision.MATCH)
        .setScore(1f)
        .setDetector(DETECTOR)
        .setMatches(List.of(m))
        .setModelVersion(null)
        .setSubmittedAtMs(p.getSubmittedAtMs())
        .setAlertedAtMs(clock.millis())
        .build();
  }
}
