package dev.imgmatch.index;

import dev.imgmatch.avro.Deletion;
import dev.imgmatch.avro.ImageEmbedding;
import dev.imgmatch.avro.IndexOp;
import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.avro.Purpose;
import dev.imgmatch.common.OutputFailures;
import dev.imgmatch.schemas.RecordDecodingException;
import dev.imgmatch.schemas.Topics;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the ingest thread does with one record: an embedding is matched against what is indexed (unless its alert
 * was committed before: a replay, or a replica whose owner alerts) and then indexed; a deletion is applied to every
 * shard kept here. Alerts and rejects go into the open {@link AlertTransactions transaction}.
 */
final class Indexer {
  private static final Logger log = LoggerFactory.getLogger(Indexer.class);

  private final IndexService service;
  private final IndexServiceConfig cfg;
  private final Topics topics;
  private final MatchPolicy policy;
  private final LocalShards shards;
  private final IndexMetrics metrics;
  private final AlertTransactions tx;
  /** Per shard kept: records before this offset had their alerts committed already (A); MAX_VALUE: a replica. */
  private final Map<Integer, Long> alertsFrom;
  /** Per deletions partition: the next offset whose malformed record is still to be reported (by shard 0's owner). */
  private final Map<Integer, Long> deletionsReported;
  private final BooleanSupplier reportsDeletions;
  private final Retroactive retroactive;
  private final Previews previews;
  /** {@code index.local.collections}, read once (every indexed image is checked against it). */
  private final Set<String> localCollections;
  private BankRetroactive bankRetroactive; // made on first use: the bank index opens after this
  /** Checks in progress, by shard (ingest thread only). */
  private final Map<Integer, RetroJob> retroJobs = new java.util.HashMap<>();
  /** Where a check goes on after a resume, by shard: {operation offset, next entry position}. */
  private final Map<Integer, long[]> retroResume = new java.util.concurrent.ConcurrentHashMap<>();
  private long lastHoldLogNanos;
  private volatile ExtrasReader extras;

  /** The image as stored: its local features only in the collections that keep them ({@code index.local.collections}). */
  private IndexedImage keepsLocal(IndexedImage img) {
    return img.localFeatures() != null && !localCollections.contains(img.collection()) ? img.withoutLocalFeatures() : img;
  }

  Indexer(IndexService service, AlertTransactions tx, Map<Integer, Long> alertsFrom,
      Map<Integer, Long> deletionsReported, BooleanSupplier reportsDeletions) {
    this.service = service;
    this.cfg = service.config();
    this.topics = cfg.topics();
    this.policy = service.policy();
    this.shards = service.shards();
    this.metrics = service.metrics();
    this.tx = tx;
    this.alertsFrom = alertsFrom;
    this.deletionsReported = deletionsReported;
    this.reportsDeletions = reportsDeletions;
    this.retroactive = new Retroactive(shards, policy, cfg.getInt(IndexServiceConfig.RETROACTIVE_DAYS),
        cfg.getInt(IndexServiceConfig.RETROACTIVE_MAX_CANDIDATES), service::feedback);
    this.previews = Previews.from(cfg);
    this.localCollections = Set.copyOf(cfg.getList(IndexServiceConfig.LOCAL_COLLECTIONS));
  }

  /** A record of a replica (or one whose result is not needed now): never held. */
  void onEmbedding(ConsumerRecord<byte[], byte[]> r) throws IOException {
    tryEmbedding(r);
  }

  /**
   * Indexes (and matches) one embeddings record.
   *
   * @return false when the record must be read again later (a hash-list import whose entries this instance has not
   *     read yet: {@link #banksAdded}); the shard's offset is then unchanged
   */
  boolean tryEmbedding(ConsumerRecord<byte[], byte[]> r) throws IOException {
    Optional<ShardIndex> maybe = shards.get(r.partition());
    if (maybe.isEmpty()) {
      return true; // revoked while the batch was in flight: the new owner reads it
    }
    ShardIndex shard = maybe.get();
    if (r.offset() < shard.embeddingsOffset()) {
      return true; // already in the index
    }
    // its alert (or reject) was committed before a crash or a roll-back: index it again, raise nothing
    long alertsDone = alertsFrom.getOrDefault(r.partition(), -1L);
    boolean replay = r.offset() < alertsDone;
    if (alertsDone == Long.MAX_VALUE) {
      metrics.replicated(); // a replica: its owner matches and alerts
    } else if (replay) {
      metrics.replayed();
    }
    try {
      ImageEmbedding e = topics.embeddings().deserializeValue(r.value());
      if (e.getIndexOp() != null) {
        if (!applyOp(shard, e, r, !replay && alertsDone != Long.MAX_VALUE)) {
          return false;
        }
        shard.setEmbeddingsOffset(r.offset() + 1);
        shard.noteEmbeddingTimestamp(r.timestamp());
        return true;
      }
      service.noteDimension(e);
      if (e.getPurpose() != Purpose.INDEX) {
        throw new InvalidRecordException(Records.INVALID_EMBEDDING,
            "image " + e.getId() + " has purpose " + e.getPurpose() + " on the embeddings topic (only INDEX is indexed)");
      }
      if (e.getExtrasAside() && !replay) { // the owner, matching it once: its local features and preview
        withExtras(e, r);
      }
      IndexedImage img = Records.toIndexed(e);
      shards.checkDimension(img.modelVersion(), img.vector().length);
      if (!replay) {
        match(shard, e, img, r);
      }
      // a reference new to the index may alert the uploads of the last days that copy it (once: not a re-upload)
      boolean retro = !replay && retroactive.applies(img.collection())
          && shards.lookup(SearchFilter.tenantOnly(img.tenant(), java.util.Set.of()), img.imageId()).isEmpty();
      if (shards.upsert(shard, keepsLocal(img))) {
        metrics.indexed();
        if (!replay) { // the owner, once: a replay's preview was committed with its offset (replicas replay)
          sendPreview(previews.forReference(e, System.currentTimeMillis()), "reference");
        }
        if (retro) {
          long t0 = System.nanoTime();
          for (MatchAlert a : retroactive.alertsFor(e, img, System.currentTimeMillis(),
              why -> log.warn("reference {}: extra view skipped for the retroactive search: {}", img.imageId(), why))) {
            sendAlert(a, r);
          }
          metrics.matchSearch(System.nanoTime() - t0);
        }
      } else {
        log.info("image {} of tenant {} not indexed: a deletion or a newer upload of it came first", img.imageId(),
            img.tenant());
      }
    } catch (RecordDecodingException e) {
      rejectUnlessReplay(replay, e.reasonCode(), e.getMessage(), r, e);
    } catch (InvalidRecordException e) {
      rejectUnlessReplay(replay, e.reasonCode(), e.getMessage(), r, null);
    } catch (IllegalArgumentException e) {
      rejectUnlessReplay(replay, Records.INVALID_EMBEDDING, e.getMessage(), r, e);
    }
    shard.setEmbeddingsOffset(r.offset() + 1);
    shard.noteEmbeddingTimestamp(r.timestamp());
    return true;
  }

  /** Puts back into {@code e} what the embedder wrote beside it on {@code embedding-extras} (when found). */
  private void withExtras(ImageEmbedding e, ConsumerRecord<byte[], byte[]> r) {
    ExtrasReader xr = extras;
    dev.imgmatch.avro.ImageExtras x = xr == null ? null : xr.find(r, e);
    metrics.extras(x != null);
    if (x != null) {
      if (x.getLocalFeatures() != null) {
        e.setLocalFeatures(x.getLocalFeatures());
      }
      if (x.getPreview() != null) {
        e.setPreview(x.getPreview());
      }
    }
  }

  /** The ingest thread's reader of {@code embedding-extras} (null until it runs). */
  void extras(ExtrasReader reader) {
    this.extras = reader;
  }

  /**
   * A change {@code ./imgmatch reindex} or {@code bank import} wrote into this partition (never matched): owner and
   * replicas apply it at the same place in the partition, so every copy of the shard ends the same.
   *
   * @param alerts whether this instance raises the record's alerts (the owner, not a replay)
   * @return false: read it again later
   */
  private boolean applyOp(ShardIndex shard, ImageEmbedding e, ConsumerRecord<byte[], byte[]> r, boolean alerts)
      throws IOException {
    IndexOp op = e.getIndexOp();
    switch (op.getKind()) {
      case ADD_VECTORS -> {
        IndexedImage v;
        try {
          v = Records.toIndexed(e);
          Records.require(v.modelVersion().equals(op.getVersion()), Records.INVALID_EMBEDDING, "image " + e.getId()
              + ": descriptors of version " + v.modelVersion() + " in an ADD_VECTORS of " + op.getVersion());
          shards.checkDimension(v.modelVersion(), v.vector().length);
        } catch (InvalidRecordException | IllegalArgumentException x) {
          log.warn("reindex record {} at {}-{} skipped: {}", e.getId(), r.partition(), r.offset(), x.getMessage());
          metrics.reindexSkipped();
          return true;
        }
        if (shards.addVersion(shard, v)) {
          metrics.reindexed();
        } else {
          metrics.reindexSkipped(); // deleted since, or never indexed
        }
      }
      case RETIRE_OTHERS -> {
        shard.versions().startRetiring(op.getVersion()); // done a bounded step at a time between polls: IngestLoop
        log.info("shard {}: retiring the model versions other than {} (requested by {})", shard.shard(),
            op.getVersion(), op.getRequestedBy());
      }
      case BANKS_ADDED -> {
        return banksAdded(shard, op, r, alerts);
      }
      case SET_COLLECTION -> {
        if (op.getTenant() == null || op.getImageId() == null || op.getCollection() == null
            || op.getCollection().isBlank()) {
          log.warn("SET_COLLECTION at {}-{} without tenant, image id or collection: skipped", r.partition(),
              r.offset());
          metrics.reindexSkipped();
          return true;
        }
        Optional<IndexedImage> was = shard.versions().setCollection(
            IndexedImage.uid(op.getTenant(), op.getImageId()), op.getCollection());
        if (was.isPresent()) {
          log.info("shard {}: image {} of tenant {} moved from {} into {} (requested by {})", shard.shard(),
              op.getImageId(), op.getTenant(), was.get().collection(), op.getCollection(), op.getRequestedBy());
        }
      }
      default -> {
        log.warn("index operation {} at {}-{} not known to this build: skipped", op.getKind(), r.partition(),
            r.offset());
        metrics.reindexSkipped();
      }
    }
    return true;
  }

  /** How long one attempt waits for the bank index before the record is left to a later poll. */
  private static final long BANK_HOLD_MS = 500;

  /**
   * A hash-list import's end ({@link BankRetroactive}): the owner alerts the uploads that copy what it added, then
   * the shard's matching sees the entries. False while this instance's bank index has not read them yet.
   */
  private boolean banksAdded(ShardIndex shard, IndexOp op, ConsumerRecord<byte[], byte[]> r, boolean alerts)
      throws IOException {
    if (op.getBankOffsets() == null) {
      log.warn("BANKS_ADDED at {}-{} without bank offsets: skipped", r.partition(), r.offset());
      metrics.reindexSkipped();
      return true;
    }
    Map<Integer, Long> to = new java.util.HashMap<>();
    for (int p = 0; p < op.getBankOffsets().size(); p++) {
      to.put(p, op.getBankOffsets().get(p));
    }
    BankRetroactive retro = bankRetroactive();
    if (alerts && retro.enabled()) {
      BankIndex banks = service.banks();
      try {
        if (!banks.awaitVisible(to, BANK_HOLD_MS)) {
          if (System.nanoTime() - lastHoldLogNanos > 10_000_000_000L) {
            lastHoldLogNanos = System.nanoTime();
            log.info("shard {}: the hash-list import at offset {} waits until the bank index has read its entries"
                + " ({} records to go)", shard.shard(), r.offset(), banks.behind(to));
          }
          return false;
        }
      } catch (InterruptedException x) {
        Thread.currentThread().interrupt();
        return false;
      }
      RetroJob job = retroJobs.get(shard.shard());
      if (job == null || job.offset != r.offset()) {
        long[] resumed = retroResume.remove(shard.shard());
        job = new RetroJob(r.offset(), resumed != null && resumed[0] == r.offset() ? resumed[1] : Long.MIN_VALUE);
        retroJobs.put(shard.shard(), job);
      }
      BankRetroactive.Step st = retro.step(shard, shard.bankHorizon(), to, job.after, r.timestamp(),
          System.currentTimeMillis(), retro.maxAlerts() - job.alerts);
      for (MatchAlert a : st.alerts()) {
        sendAlert(a, r);
      }
      job.after = st.next();
      job.alerts += st.alerts().size();
      job.entries += st.entries();
      job.probed += st.uploadsProbed();
      if (!st.done()) {
        return false; // the next step at the next turn; the position reached is committed with the shard's offset
      }
      retroJobs.remove(shard.shard());
      log.info("shard {}: hash-list import (by {}): entries added {}, uploads probed by PDQ {}, retroactive alerts {}"
          + " in {} ms{}", shard.shard(), op.getRequestedBy(), job.entries, job.probed, job.alerts,
          (System.nanoTime() - job.startedNanos) / 1_000_000, job.alerts < retro.maxAlerts() ? ""
              : " (the most " + IndexServiceConfig.BANK_RETROACTIVE_MAX_ALERTS + " allows: later matches left out)");
    }
    shard.advanceBankHorizon(to);
    return true;
  }

  /** A hash-list import's retroactive check in progress on a shard (one step per loop turn). */
  private static final class RetroJob {
    final long offset;
    final long startedNanos = System.nanoTime();
    long after;
    int alerts;
    int entries;
    long probed;

    RetroJob(long offset, long after) {
      this.offset = offset;
      this.after = after;
    }
  }

  /** Prefix of the retroactive check's state in committed offset metadata. */
  private static final String RETRO_STATE = "bankretro=";

  /**
   * The state of the check in progress on shard {@code p}, committed with its offset ({@code bankretro=<offset of
   * the operation>:<next entry position>}), or null.
   */
  String retroProgress(int p) {
    RetroJob job = retroJobs.get(p);
    return job == null ? null : RETRO_STATE + job.offset + ":" + job.after;
  }

  /**
   * What was committed with shard {@code p}'s offset {@code committedOffset}: a check in progress at that offset goes
   * on from its position; anything else (and {@code extra} null) forgets the shard's check.
   */
  void resumeRetro(int p, long committedOffset, String extra) {
    retroJobs.remove(p);
    retroResume.remove(p);
    if (extra != null && extra.startsWith(RETRO_STATE)) {
      String[] parts = extra.substring(RETRO_STATE.length()).split(":", 2);
      try {
        long offset = Long.parseLong(parts[0]);
        if (parts.length == 2 && offset == committedOffset) {
          retroResume.put(p, new long[] {offset, Long.parseLong(parts[1])});
          log.info("shard {}: the retroactive check of the hash-list import at offset {} goes on from entry"
              + " position {}", p, offset, parts[1]);
        }
      } catch (NumberFormatException e) {
        log.warn("shard {}: unreadable retroactive check state '{}' ignored (the check starts over)", p, extra);
      }
    }
  }

  private BankRetroactive bankRetroactive() {
    if (bankRetroactive == null) {
      bankRetroactive = new BankRetroactive(service.banks(), policy, cfg.getInt(IndexServiceConfig.RETROACTIVE_DAYS),
          cfg.getInt(IndexServiceConfig.BANK_RETROACTIVE_MAX_ALERTS),
          cfg.getInt(IndexServiceConfig.BANK_RETROACTIVE_STEP_ENTRIES), service.feedback());
    }
    return bankRetroactive;
  }

  private void rejectUnlessReplay(boolean replay, String code, String message, ConsumerRecord<byte[], byte[]> r,
      Throwable cause) {
    if (!replay) {
      tx.send(service.reject(code, message, r, cause)); // with the offsets of the record it refuses: once, like alerts
    }
  }

  /** Matches a new upload against what is indexed (before it is indexed itself) and raises its alert. */
  private void match(ShardIndex shard, ImageEmbedding e, IndexedImage img, ConsumerRecord<byte[], byte[]> r)
      throws IOException {
    Set<String> targets = policy.targetsOf(img.collection());
    if (targets.isEmpty()) {
      return;
    }
    SearchFilter f = SearchFilter.tenantOnly(img.tenant(), policy.sharedCollections()).withCollections(targets)
        .excluding(img.uid());
    // every view the embedder sent (full + extra views, e.g. a trimmed border): k candidates each, best cosine
    Probe p = Records.uploadProbe(e, img, f, policy.knnK(),
        why -> log.warn("upload {}: extra view skipped for matching: {}", img.imageId(), why));
    long t0 = System.nanoTime();
    List<Hit> hits = shards.search(p, policy);
    List<Hit> bankHits = service.banks().match(img.tenant(), Records.bankProbeHashes(e),
        e.getPdq() == null ? 0 : e.getPdq().getQuality(), e.getMd5() == null ? null : e.getMd5().bytes(),
        e.getSha256() == null ? null : e.getSha256().bytes(), shard.bankHorizon());
    if (!bankHits.isEmpty()) {
      List<Hit> all = new ArrayList<>(hits);
      all.addAll(bankHits);
      all.sort((x, y) -> Double.compare(y.score(), x.score()));
      hits = all;
    }
    metrics.matchSearch(System.nanoTime() - t0);
    Feedback fb = service.feedback();
    Optional<MatchAlert> alert = Alerts.alertFor(e, hits, policy,
        h -> fb.decide(policy, img.tenant(), img.sha256(), img.pdq(), img.pdqQuality(), h), System.currentTimeMillis());
    if (alert.isPresent() && sendAlert(alert.get(), r)) {
      // the upload's preview beside its alert, for the reviewer; nothing is kept of an upload that matches nothing
      sendPreview(previews.forAlertedUpload(e, System.currentTimeMillis()), "upload");
    }
  }

  /** Sends a preview record in the open transaction (none when null: previews off, or none carried). */
  private void sendPreview(ProducerRecord<byte[], byte[]> rec, String kind) {
    if (rec != null) {
      tx.send(rec);
      metrics.preview(kind);
    }
  }

  /**
   * Sends an alert in the open transaction (refused with a reject when larger than its topic takes).
   *
   * @return whether it was sent
   */
  private boolean sendAlert(MatchAlert a, ConsumerRecord<byte[], byte[]> r) {
    ProducerRecord<byte[], byte[]> rec = topics.matchAlerts().record(a.getImageId(), a);
    int size = rec.value().length + (rec.key() == null ? 0 : rec.key().length);
    if (size > topics.matchAlerts().maxMessageBytes() - 1024) { // checked here: in a transaction it would doom it
      rejectUnlessReplay(false, OutputFailures.RECORD_TOO_LARGE, "the alert of " + a.getImageId() + " takes " + size + " bytes, more"
          + " than " + topics.matchAlerts().name() + " takes", r, null);
      return false;
    }
    tx.send(rec);
    metrics.alert(a.getDecision(), a.getAlertedAtMs() - a.getSubmittedAtMs());
    log.info("{}alert {} for {} ({}): {} match(es), best {} score {}", a.getRetroactive() ? "retroactive " : "",
        a.getDecision(), a.getImageId(), a.getTenant(), a.getMatches().size(), a.getMatches().get(0).getImageId(),
        a.getScore());
    return true;
  }

  void onDeletion(ConsumerRecord<byte[], byte[]> r) throws IOException {
    boolean report = reportsDeletions.getAsBoolean() && r.offset() >= deletionsReported.getOrDefault(r.partition(), 0L);
    if (report) {
      deletionsReported.put(r.partition(), r.offset() + 1);
    }
    Deletion d = null;
    try {
      d = topics.deletions().deserializeValue(r.value());
      Records.require(d.getImageId() != null && !d.getImageId().isBlank(), Records.INVALID_DELETION,
          "deletion with an empty image id");
      Records.require(d.getTenant() != null && !d.getTenant().isBlank(), Records.INVALID_DELETION,
          "deletion of " + d.getImageId() + " without a tenant");
    } catch (RecordDecodingException e) {
      rejectUnlessReplay(!report, e.reasonCode(), e.getMessage(), r, e);
      d = null;
    } catch (InvalidRecordException e) {
      rejectUnlessReplay(!report, e.reasonCode(), e.getMessage(), r, null);
      d = null;
    }
    for (ShardIndex s : shards.all()) {
      if (r.offset() >= s.deletionOffset(r.partition())) {
        if (d != null) {
          shards.delete(s, d.getTenant(), d.getImageId(), d.getRequestedAtMs());
        }
        s.setDeletionOffset(r.partition(), r.offset() + 1);
      }
    }
    if (d != null) {
      log.info("deleted {} of tenant {} ({})", d.getImageId(), d.getTenant(), d.getReason());
      if (report) { // the reporting instance (shard 0's owner), with the deletion's offset: once per takedown
        for (ProducerRecord<byte[], byte[]> t : previews.tombstones(d.getTenant(), d.getImageId())) {
          sendPreview(t, "tombstone");
        }
      }
    }
  }

  /**
   * Commits every shard with the offsets it reflects; call right after {@link AlertTransactions#commit} succeeded, so that
   * no shard commit is ahead of the alerts Kafka holds.
   */
  void commitShards() throws IOException {
    long grace = cfg.getLong(IndexServiceConfig.TOMBSTONE_GRACE_MS);
    for (ShardIndex s : shards.all()) {
      if (s.lastEmbeddingTimestamp() > grace) {
        s.versions().prunePending(s.lastEmbeddingTimestamp() - grace);
        int pruned = s.pruneTombstones(s.lastEmbeddingTimestamp() - grace);
        if (pruned > 0) {
          log.info("shard {}: dropped {} tombstone(s) of deletions requested over {} ms before its latest embedding",
              s.shard(), pruned, grace);
        }
      }
      if (s.needsCommit()) {
        s.commit(topics.embeddings().name());
      }
    }
  }
}
