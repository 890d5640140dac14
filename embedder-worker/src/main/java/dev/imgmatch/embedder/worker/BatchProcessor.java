package dev.imgmatch.embedder.worker;

import dev.imgmatch.avro.ImageEmbedding;
import dev.imgmatch.avro.PreparedImage;
import dev.imgmatch.avro.Purpose;
import dev.imgmatch.avro.Reject;
import dev.imgmatch.common.OutputFailures;
import dev.imgmatch.embedder.Embedder;
import dev.imgmatch.embedder.PictureEmbedder;
import dev.imgmatch.embedder.model.RgbImage;
import dev.imgmatch.schemas.Limits;
import dev.imgmatch.schemas.RecordDecodingException;
import dev.imgmatch.schemas.Rejects;
import dev.imgmatch.schemas.Topics;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns one micro-batch of prepared records into what the worker produces in one transaction: for each record, an
 * {@code ImageEmbedding} on {@code probes} (always) and on {@code embeddings} (purpose INDEX), or a {@code Reject};
 * plus the offsets to commit. A record that cannot be embedded never fails its neighbours.
 *
 * <p>Failure policy, decided here in one place:
 * <ul>
 *   <li>undecodable value: reject with the decoder's reason (EMPTY_RECORD, MALFORMED_RECORD, UNKNOWN_SCHEMA);
 *   <li>unreadable pixels: reject (MALFORMED_RECORD, EMPTY_IMAGE, CORRUPT_IMAGE);
 *   <li>model failure on the batch: retried up to {@code attempts} times with doubling back-off (transient), then
 *       every record is tried alone and those that still fail are rejected with EMBEDDING_FAILED.
 * </ul>
 * Not thread-safe: owned by the inference thread.
 */
public final class BatchProcessor {
  private static final Logger log = LoggerFactory.getLogger(BatchProcessor.class);
  public static final String STAGE = "embedder-worker";
  /** Reject reason of a record whose outputs could not be committed even alone (after retries). */
  public static final String OUTPUT_FAILED = "OUTPUT_FAILED";
  /** Room for a record's framing (headers, timestamps, batch overhead) under a topic's limit. */
  static final int FRAMING = 1024;

  /** What a batch produced. */
  public record Outcome(List<ProducerRecord<byte[], byte[]>> records, int embedded, int rejected, int pictures,
      Map<TopicPartition, OffsetAndMetadata> offsets, Map<String, Integer> rejectsByReason) {}

  private final Map<String, Integer> reasons = new java.util.TreeMap<>();

  private final Topics topics;
  private final PictureEmbedder embedder;
  private final int attempts;
  private final long backoffMs;
  private final int maxRejectPayload;
  private final LongSupplier clock;
  /** Why a work item failed for good, by index in the current batch (filled by embedAll). */
  private final Map<Integer, Exception> failures = new HashMap<>();

  public BatchProcessor(Topics topics, PictureEmbedder embedder, int attempts, long backoffMs, int maxRejectPayload,
      LongSupplier clock) {
    this.topics = topics;
    this.embedder = embedder;
    this.attempts = attempts;
    this.backoffMs = backoffMs;
    this.maxRejectPayload = maxRejectPayload;
    this.clock = clock;
  }

  private record Work(ConsumerRecord<byte[], byte[]> source, PreparedImage prepared, List<RgbImage> pictures) {}

  public Outcome process(List<ConsumerRecord<byte[], byte[]>> batch) throws InterruptedException {
    List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>();
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    List<Work> work = new ArrayList<>();
    reasons.clear();
    int rejected = 0;
    for (ConsumerRecord<byte[], byte[]> r : batch) {
      offsets.merge(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1),
          (a, b) -> a.offset() >= b.offset() ? a : b);
      PreparedImage p;
      try {
        p = topics.prepared().deserializeValue(r.value());
        if (p == null) {
          throw new RecordDecodingException(RecordDecodingException.Reason.EMPTY_RECORD,
              "expected a PreparedImage record but the value is null", null);
        }
      } catch (RecordDecodingException e) {
        out.add(reject(r, e.reasonCode(), e.getMessage(), e));
        rejected++;
        continue;
      }
      String over = Limits.tooLarge("id", p.getId(), p.getTenant(), p.getCollection(), p.getSource(),
          p.getAttributes());
      if (over != null) { // any producer can write to `prepared`: what travels on is bounded here too
        out.add(reject(r, Limits.FIELD_TOO_LARGE, over, null));
        rejected++;
        continue;
      }
      try {
        work.add(new Work(r, p, RecordEmbedding.pictures(p)));
      } catch (RecordEmbedding.BadPictureException e) {
        out.add(reject(r, e.reasonCode(), e.getMessage(), e));
        rejected++;
      }
    }
    int embedded = 0;
    int pictures = 0;
    List<List<Embedder.Embedding>> results = embedAll(work);
    for (int i = 0; i < work.size(); i++) {
      Work w = work.get(i);
      List<Embedder.Embedding> res = results.get(i);
      if (res == null) {
        out.add(reject(w.source(), "EMBEDDING_FAILED", "the model failed on " + w.prepared().getId() + " after "
            + attempts + " attempts (see exception)", failures.get(i)));
        rejected++;
        continue;
      }
      ImageEmbedding e = RecordEmbedding.toRecord(w.prepared(), res, embedder.modelId(), embedder.modelVersion(),
          clock.getAsLong());
      String id = w.prepared().getId();
      List<ProducerRecord<byte[], byte[]>> produced = new ArrayList<>(2);
      if (w.prepared().getPurpose() == Purpose.INDEX) {
        // uploads are matched when index-service consumes `embeddings`, so the record carries every view (e.g. a
        // border-trimmed one) for matching; index-service indexes only the full picture's vector
        produced.add(topics.embeddings().record(id, e));
      }
      produced.add(topics.probes().record(id, e));
      // both topics take the same size (Topics), and the records are the same: one check
      String tooLarge = oversize(produced.get(0), Math.min(topics.embeddings().maxMessageBytes(),
          topics.probes().maxMessageBytes()));
      if (tooLarge != null) { // a record the topic would refuse must not fail its whole transaction
        out.add(reject(w.source(), OutputFailures.RECORD_TOO_LARGE, tooLarge, null));
        rejected++;
        continue;
      }
      out.addAll(produced);
      embedded++;
      pictures += res.size();
    }
    return new Outcome(out, embedded, rejected, pictures, offsets, Map.copyOf(reasons));
  }

  /** Null when the record fits within {@code max} bytes with room for its framing; else why not. */
  private static String oversize(ProducerRecord<byte[], byte[]> r, int max) {
    long size = (r.key() == null ? 0 : r.key().length) + (r.value() == null ? 0 : r.value().length) + FRAMING;
    return size > max ? "the " + r.topic() + " record would take " + size + " bytes, more than the topic's " + max
        : null;
  }

  /**
   * A reject (and the offsets) for one record alone, for a record whose outputs could not be committed even in a
   * transaction of their own ({@code EmbedderWorker} isolates it first).
   */
  public Outcome rejectOnly(ConsumerRecord<byte[], byte[]> r, String reason, String message) {
    reasons.clear();
    ProducerRecord<byte[], byte[]> rej = reject(r, reason, message, null);
    return new Outcome(List.of(rej), 0, 1, 0, Map.of(new TopicPartition(r.topic(), r.partition()),
        new OffsetAndMetadata(r.offset() + 1)), Map.copyOf(reasons));
  }

  /** Results per work item (null = failed for good). */
  private List<List<Embedder.Embedding>> embedAll(List<Work> work) throws InterruptedException {
    failures.clear();
    List<List<Embedder.Embedding>> res = new ArrayList<>();
    if (work.isEmpty()) {
      return res;
    }
    List<RgbImage> all = new ArrayList<>();
    work.forEach(w -> all.addAll(w.pictures()));
    Exception last = null;
    for (int a = 1; a <= attempts; a++) {
      try {
        List<Embedder.Embedding> flat = embedder.embed(all);
        int k = 0;
        for (Work w : work) {
          res.add(flat.subList(k, k + w.pictures().size()));
          k += w.pictures().size();
        }
        return res;
      } catch (InterruptedException e) {
        throw e;
      } catch (Exception e) {
        last = e;
        log.warn("model failed on a batch of {} pictures (attempt {}/{}): {}", all.size(), a, attempts, e.toString());
        if (a < attempts) {
          Thread.sleep(backoffMs << (a - 1));
        }
      }
    }
    if (work.size() == 1) {
      failures.put(0, last);
      res.add(null);
      return res;
    }
    log.warn("isolating the {} records of the failed batch", work.size());
    for (int i = 0; i < work.size(); i++) {
      try {
        res.add(embedder.embed(work.get(i).pictures()));
      } catch (Exception e) {
        failures.put(i, e);
        res.add(null);
      }
    }
    return res;
  }

  private ProducerRecord<byte[], byte[]> reject(ConsumerRecord<byte[], byte[]> r, String reason, String message,
      Throwable cause) {
    log.warn("rejecting {}/{}@{}: {} {}", r.topic(), r.partition(), r.offset(), reason, message);
    reasons.merge(reason, 1, Integer::sum);
    Reject rej = Rejects.of(reason, message, STAGE, r.topic(), r.partition(), r.offset(), r.key(), r.value(), cause,
        maxRejectPayload, clock.getAsLong());
    return topics.rejects().record(Rejects.key(r.key()), rej);
  }
}
