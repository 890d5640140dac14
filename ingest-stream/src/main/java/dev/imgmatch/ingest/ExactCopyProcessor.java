package dev.imgmatch.ingest;

import dev.imgmatch.avro.Decision;
import dev.imgmatch.avro.Deletion;
import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.avro.MatchedImage;
import dev.imgmatch.avro.PreparedImage;
import dev.imgmatch.common.MatchRules;
import dev.imgmatch.schemas.RecordDecodingException;
import dev.imgmatch.schemas.Topics;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Stage 2 of uploads, partitioned by (SHA-256, tenant): the exact-copy fast path. The store remembers, per
 * key, the first sighting of those exact bytes; a later upload with another id gets
 * {@code exactDuplicateOf} = that id, and when {@code match.rules} match the upload's collection S against the
 * first sighting's collection T ({@link MatchRules#alerts}: T is a target of S; by default uploads against
 * {@code protected} and {@code banned}), an immediate {@code MatchAlert} (detector {@code exact}, MATCH, score 1).
 * index-service reads the same rules and leaves exactly those pairs out of its own alerts. The watched collections
 * are the targets of the rules ({@link MatchRules#watched}): a sighting in a watched collection replaces an
 * unwatched one, so alerts keep working when a protected work is registered after users already uploaded it.
 *
 * <p>The store is bounded and follows takedowns: a deletion of a watched first sighting (routed here to every
 * partition by {@link TakedownRouter}, with the header {@value #TAKEDOWN_HEADER}) removes it, found through the
 * by-image store, so its exact copies stop alerting; first sightings seen only in unwatched collections are pruned
 * after {@code ingest.exact.retention.ms} by a wall-clock punctuator.
 */
final class ExactCopyProcessor implements Processor<byte[], byte[], byte[], byte[]> {
  static final String DETECTOR = "exact";
  /** Marks a takedown routed through the by-SHA-256 topic (its value is the {@code Deletion}). */
  static final String TAKEDOWN_HEADER = "imgmatch-takedown";

  /**
   * @param retentionMs how long unwatched first sightings are kept (0 = forever)
   * @param intervalMs how often the store is scanned for them
   */
  record Pruning(long retentionMs, long intervalMs) {}

  private final Topics topics;
  private final String storeName;
  private final String byImageStoreName;
  private final MatchRules rules;
  private final Set<String> watched;
  private final Pruning pruning;
  private final RejectSink rejects;
  private final IngestCounters counters;
  private final Clock clock;
  private final String preparedSink;
  private final String alertSink;
  private ProcessorContext<byte[], byte[]> context;
  private KeyValueStore<String, byte[]> store;
  private KeyValueStore<String, String> byImage;

  ExactCopyProcessor(Topics topics, String storeName, String byImageStoreName, MatchRules rules, Pruning pruning,
      RejectSink rejects, IngestCounters counters, Clock clock, String preparedSink, String alertSink) {
    this.topics = topics;
    this.storeName = storeName;
    this.byImageStoreName = byImageStoreName;
    this.rules = rules;
    this.watched = rules.watched();
    this.pruning = pruning;
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
    this.byImage = context.getStateStore(byImageStoreName);
    if (pruning.retentionMs() > 0) {
      context.schedule(Duration.ofMillis(pruning.intervalMs()), PunctuationType.WALL_CLOCK_TIME, ts -> prune());
    }
  }

  /** Removes unwatched first sightings older than the retention; returns how many. */
  int prune() {
    long cutoff = clock.millis() - pruning.retentionMs();
    List<String> old = new ArrayList<>();
    try (KeyValueIterator<String, byte[]> it = store.all()) {
      while (it.hasNext()) {
        var kv = it.next();
        FirstSighting f = FirstSighting.decode(kv.value);
        if (!watched.contains(f.collection()) && f.seenAtMs() < cutoff) {
          old.add(kv.key);
        }
      }
    }
    old.forEach(store::delete);
    if (!old.isEmpty()) {
      counters.add("exact.pruned", old.size());
    }
    return old.size();
  }

  private static String imageKey(String tenant, String imageId) {
    return tenant + ":" + imageId;
  }

  /** A takedown: forget the first sighting it names, if this partition holds it and it predates the request. */
  private void takedown(Record<byte[], byte[]> record) {
    Deletion d;
    try {
      d = topics.deletions().deserializeValue(record.value());
    } catch (RecordDecodingException e) {
      return; // the router forwards only decodable deletions; index-service reports malformed ones
    }
    String ik = imageKey(d.getTenant(), d.getImageId());
    String key = byImage.get(ik);
    if (key == null) {
      return; // not a watched first sighting, or held by another partition
    }
    byte[] stored = store.get(key);
    FirstSighting first = stored == null ? null : FirstSighting.decode(stored);
    if (first != null && first.imageId().equals(d.getImageId()) && first.seenAtMs() <= d.getRequestedAtMs()) {
      store.delete(key);
      counters.increment("exact.takedown");
    }
    byImage.delete(ik);
  }

  @Override
  public void process(Record<byte[], byte[]> record) {
    if (record.headers().lastHeader(TAKEDOWN_HEADER) != null) {
      try {
        takedown(record);
      } catch (RuntimeException e) {
        rejects.internalError(context, record, e);
      }
      return;
    }
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
        if (watched.contains(p.getCollection())) {
          byImage.put(imageKey(p.getTenant(), p.getId()), key);
        }
      }
      if (first != null && !first.imageId().equals(p.getId())) {
        p.setExactDuplicateOf(first.imageId());
        counters.increment("exact.duplicate");
        if (rules.alerts(p.getCollection(), first.collection())) {
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
        .setSha256(p.getSha256())
        .setMd5(p.getMd5())
        .setPdq(p.getPdq())
        .build();
  }

  /**
   * Sends every decodable deletion on to the by-SHA-256 topic, marked with {@value #TAKEDOWN_HEADER}, to every
   * partition (the sink's partitioner). Malformed deletions are left to index-service, which reports them.
   */
  static final class TakedownRouter implements Processor<byte[], byte[], byte[], byte[]> {
    private final Topics topics;
    private final String sink;
    private final String originalsSink;
    private ProcessorContext<byte[], byte[]> context;

    TakedownRouter(Topics topics, String sink, String originalsSink) {
      this.topics = topics;
      this.sink = sink;
      this.originalsSink = originalsSink;
    }

    @Override
    public void init(ProcessorContext<byte[], byte[]> context) {
      this.context = context;
    }

    @Override
    public void process(Record<byte[], byte[]> record) {
      Deletion d;
      try {
        d = topics.deletions().deserializeValue(record.value());
        if (d == null || d.getImageId() == null || d.getTenant() == null) {
          return;
        }
      } catch (RecordDecodingException e) {
        return;
      }
      // the kept original goes too: a taken-down image is never re-embedded
      context.forward(new Record<byte[], byte[]>(topics.originals().serializeKey(Topics.originalKey(d.getTenant(),
          d.getImageId())), null, record.timestamp()), originalsSink);
      Record<byte[], byte[]> out = record.withHeaders(new org.apache.kafka.common.header.internals.RecordHeaders(
          new org.apache.kafka.common.header.Header[] {
              new org.apache.kafka.common.header.internals.RecordHeader(TAKEDOWN_HEADER, new byte[] {1})}));
      context.forward(out, sink);
    }
  }
}
