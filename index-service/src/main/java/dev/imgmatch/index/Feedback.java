package dev.imgmatch.index;

import dev.imgmatch.avro.CollectionSettings;
import dev.imgmatch.avro.Decision;
import dev.imgmatch.avro.ReviewAction;
import dev.imgmatch.avro.ReviewDecision;
import dev.imgmatch.avro.ReviewedMatch;
import dev.imgmatch.avro.SettingsKind;
import dev.imgmatch.schemas.RecordDecodingException;
import dev.imgmatch.schemas.Topic;
import dev.imgmatch.schemas.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What moderators and operators decided, applied to matching (thread {@code index-feedback}): the tenants' "not a
 * copy" lists from {@code review-decisions} (a dismissed pair never alerts again: the same upload, or a later upload
 * of the same file or within {@code feedback.pdq.max.distance} of it, against the same matched image or bank entry),
 * and the collections' run-time settings from {@code collection-settings} (kind COLLECTION: a disabled collection's
 * images raise no alert as matches; its own thresholds replace {@code match.threshold} and
 * {@code match.review.threshold} for matches against it; a tenant's own record wins over tenant {@code *}'s).
 *
 * <p>Every instance reads both topics whole at start, without a consumer group, and keeps what they say in memory
 * (a dismissal takes some 150 bytes: a million take ~150 MB), then applies each new record as soon as it reads it
 * (well within a second). Matching waits for the first reading at start ({@code bank.catchup.timeout.ms}). A record
 * that does not decode is skipped and counted (each instance reads every record: a reject per instance would be a
 * duplicate).
 */
public final class Feedback implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Feedback.class);
  private static final char SEP = '\u001f';

  /** A dismissed upload: what identifies a later upload as the same (its file, or its picture by PDQ). */
  private record Dismissed(byte[] sha256, byte[] pdq, int quality) {}

  private final Topic<String, ReviewDecision> decisions;
  private final Topic<String, CollectionSettings> settingsTopic;
  private final Properties props = new Properties();
  private final int pdqMaxDistance;
  private final int pdqMinQuality;
  /** upload tenant + U+001E + the matched hit's uid -> the uploads dismissed against it. */
  private final Map<String, List<Dismissed>> dismissed = new ConcurrentHashMap<>();
  /** kind-less key tenant + U+001F + collection -> settings. */
  private final Map<String, CollectionSettings> collections = new ConcurrentHashMap<>();
  private final CountDownLatch caughtUp = new CountDownLatch(1);
  private final AtomicLong dismissals = new AtomicLong();
  private final AtomicLong skipped = new AtomicLong();
  private volatile boolean running = true;
  private volatile KafkaConsumer<byte[], byte[]> consumer;

  public Feedback(Topic<String, ReviewDecision> decisions, Topic<String, CollectionSettings> settings,
      Map<String, Object> kafka, int pdqMaxDistance, int pdqMinQuality) {
    this.decisions = decisions;
    this.settingsTopic = settings;
    this.pdqMaxDistance = pdqMaxDistance;
    this.pdqMinQuality = pdqMinQuality;
    props.putAll(kafka);
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.remove(ConsumerConfig.GROUP_ID_CONFIG);
    props.remove(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
    Object base = props.get(ConsumerConfig.CLIENT_ID_CONFIG);
    props.put(ConsumerConfig.CLIENT_ID_CONFIG, base == null ? "index-feedback" : base + "-feedback");
  }

  /** Reads both topics until {@link #stop}: all of them first, then what is new. */
  public void run() {
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(props)) {
      consumer = c;
      List<TopicPartition> parts = new ArrayList<>();
      for (String topic : List.of(decisions.name(), settingsTopic.name())) {
        List<PartitionInfo> infos = c.partitionsFor(topic, Duration.ofSeconds(30));
        if (infos == null || infos.isEmpty()) {
          log.warn("topic {} does not exist: no review decisions or collection settings from it (restart once it"
              + " exists)", topic);
          continue;
        }
        infos.forEach(i -> parts.add(new TopicPartition(i.topic(), i.partition())));
      }
      c.assign(parts);
      c.seekToBeginning(parts);
      Map<TopicPartition, Long> ends = c.endOffsets(parts);
      while (running) {
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
          if (r.topic().equals(decisions.name())) {
            applyDecision(r);
          } else {
            applySettings(r);
          }
        }
        if (caughtUp.getCount() > 0 && parts.stream().allMatch(tp -> c.position(tp) >= ends.get(tp))) {
          log.info("feedback: {} dismissed pair(s), {} collection setting(s), up to date", dismissals.get(),
              collections.size());
          caughtUp.countDown();
        }
      }
    } catch (WakeupException e) {
      if (running) {
        throw e;
      }
    } finally {
      consumer = null;
      caughtUp.countDown();
    }
  }

  private void applyDecision(ConsumerRecord<byte[], byte[]> r) {
    ReviewDecision d;
    try {
      d = decisions.deserializeValue(r.value());
    } catch (RecordDecodingException | NullPointerException e) {
      skip(r, e.getMessage());
      return;
    }
    if (d.getAction() != ReviewAction.DISMISS && d.getAction() != ReviewAction.CONFIRM) {
      return; // a newer build's action
    }
    if (d.getSha256() == null && d.getPdq() == null) {
      skip(r, "a dismissal of " + d.getImageId() + " without the upload's SHA-256 or PDQ");
      return;
    }
    Dismissed x = new Dismissed(d.getSha256() == null ? null : d.getSha256().bytes().clone(),
        d.getPdq() == null ? null : d.getPdq().getHash().bytes().clone(),
        d.getPdq() == null ? 0 : d.getPdq().getQuality());
    boolean dismiss = d.getAction() == ReviewAction.DISMISS;
    int lifted = 0;
    for (ReviewedMatch m : d.getMatches()) {
      String uid = m.getBank() != null
          ? Hit.BANK_UID + m.getTenant() + SEP + m.getBank() + SEP + m.getImageId()
          : IndexedImage.uid(m.getTenant(), m.getImageId());
      String key = d.getTenant() + '\u001e' + uid;
      if (dismiss) {
        dismissed.computeIfAbsent(key, k -> new java.util.concurrent.CopyOnWriteArrayList<>()).add(x);
        dismissals.incrementAndGet();
      } else { // a confirmation overrides an earlier dismissal of the same pair (the latest decision wins)
        List<Dismissed> list = dismissed.get(key);
        if (list != null) {
          for (Dismissed old : List.copyOf(list)) {
            if (same(x.sha256(), x.pdq(), x.quality(), old) && list.remove(old)) {
              lifted++;
              dismissals.decrementAndGet();
            }
          }
        }
      }
    }
    if (dismiss) {
      log.info("feedback: {} dismissed {} (tenant {}) against {} match(es): not a copy", d.getModerator(),
          d.getImageId(), d.getTenant(), d.getMatches().size());
    } else if (lifted > 0) {
      log.info("feedback: {} confirmed {} (tenant {}): {} earlier dismissal(s) of the pair lifted", d.getModerator(),
          d.getImageId(), d.getTenant(), lifted);
    }
  }

  private void applySettings(ConsumerRecord<byte[], byte[]> r) {
    Topics.SettingsKey sk = Topics.parseSettingsKey(settingsTopic, r.key());
    if (sk == null || !sk.kind().equals(SettingsKind.COLLECTION.name())) {
      return; // banks' settings are BankIndex's; a malformed key is reported there
    }
    String k = sk.tenant() + SEP + sk.name();
    if (r.value() == null) {
      collections.remove(k);
      return;
    }
    try {
      CollectionSettings s = settingsTopic.deserializeValue(r.value());
      String why = invalid(s);
      if (why != null) {
        skip(r, why);
        return;
      }
      collections.put(k, s);
      log.info("collection '{}' (tenant '{}'): {}, match threshold {}, review threshold {}", sk.name(), sk.tenant(),
          s.getEnabled() ? "enabled" : "disabled", s.getMatchThreshold() == null ? "default" : s.getMatchThreshold(),
          s.getReviewThreshold() == null ? "default" : s.getReviewThreshold());
    } catch (RecordDecodingException e) {
      skip(r, e.reasonCode() + " " + e.getMessage());
    }
  }

  /** Why collection settings cannot be applied, or null. */
  static String invalid(CollectionSettings s) {
    Float m = s.getMatchThreshold();
    Float v = s.getReviewThreshold();
    if (m != null && !(m >= 0 && m <= 1) || v != null && !(v >= 0 && v <= 1)) {
      return "thresholds must lie in 0-1, got match " + m + ", review " + v;
    }
    if (m != null && v != null && v > m) {
      return "review threshold " + v + " above the match threshold " + m;
    }
    return null;
  }

  private void skip(ConsumerRecord<byte[], byte[]> r, String why) {
    skipped.incrementAndGet();
    log.warn("feedback record {}-{}@{} skipped: {}", r.topic(), r.partition(), r.offset(), why);
  }

  /** The settings of {@code collection} for images matched by an upload of {@code tenant}, or null. */
  public CollectionSettings collectionSettings(String tenant, String collection) {
    CollectionSettings s = collections.get(tenant + SEP + collection);
    return s != null ? s : collections.get(BankIndex.ALL_TENANTS + SEP + collection);
  }

  /**
   * The decision for hit {@code h} of an upload (tenant, SHA-256, PDQ and its quality), or null when it raises
   * nothing: below the thresholds (the collection's own, else the policy's), its collection disabled, or the pair
   * dismissed.
   */
  public Decision decide(MatchPolicy policy, String tenant, byte[] sha256, byte[] pdq, int quality, Hit h) {
    Decision d;
    CollectionSettings s = h.isBank() ? null : collectionSettings(tenant, h.collection());
    if (s == null) {
      d = policy.decide(h.score());
    } else if (!s.getEnabled()) {
      return null;
    } else {
      double match = s.getMatchThreshold() != null ? s.getMatchThreshold() : policy.matchThreshold();
      double review = s.getReviewThreshold() != null ? s.getReviewThreshold()
          : Math.min(policy.reviewThreshold(), match);
      d = h.score() >= match - 1e-6 ? Decision.MATCH : h.score() >= review - 1e-6 ? Decision.REVIEW : null;
    }
    if (d == null || !policy.alerts(d)) {
      return d;
    }
    return dismissed(tenant, sha256, pdq, quality, h) ? null : d;
  }

  /** True when a moderator of {@code tenant} dismissed this upload (or the same file or picture) against the hit. */
  boolean dismissed(String tenant, byte[] sha256, byte[] pdq, int quality, Hit h) {
    List<Dismissed> list = dismissed.get(tenant + '\u001e' + h.uid());
    if (list == null) {
      return false;
    }
    for (Dismissed x : list) {
      if (same(sha256, pdq, quality, x)) {
        return true;
      }
    }
    return false;
  }

  /** The same file (SHA-256), or the same picture (PDQ within the distance, both of sufficient quality). */
  private boolean same(byte[] sha256, byte[] pdq, int quality, Dismissed x) {
    if (sha256 != null && x.sha256() != null && java.util.Arrays.equals(sha256, x.sha256())) {
      return true;
    }
    return pdq != null && x.pdq() != null && quality >= pdqMinQuality && x.quality() >= pdqMinQuality
        && Pdq.hamming(pdq, x.pdq()) <= pdqMaxDistance;
  }

  public boolean awaitCaughtUp(long timeout, TimeUnit unit) throws InterruptedException {
    return caughtUp.await(timeout, unit);
  }

  /** Dismissed pairs held, and records skipped. */
  public long dismissals() {
    return dismissals.get();
  }

  public long skipped() {
    return skipped.get();
  }

  public void stop() {
    running = false;
    caughtUp.countDown();
    KafkaConsumer<byte[], byte[]> c = consumer;
    if (c != null) {
      c.wakeup();
    }
  }

  @Override
  public void close() {
    stop();
  }
}
