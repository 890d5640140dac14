package dev.imgmatch.embedder.worker;

import dev.imgmatch.avro.ImageEmbedding;
import dev.imgmatch.avro.ImageView;
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
import dev.imgmatch.schemas.Topic;
import dev.imgmatch.schemas.Topics;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
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
 * {@code ImageEmbedding} on {@code embeddings} (purpose INDEX, an upload) or on {@code probes} (purpose QUERY), or a
 * {@code Reject}; plus the offsets to commit. A record that cannot be embedded never fails its neighbours.
 *
 * <p>Failure policy, decided here in one place:
 * <ul>
 *   <li>undecodable value: reject with the decoder's reason (EMPTY_RECORD, MALFORMED_RECORD, UNKNOWN_SCHEMA);
 *   <li>unreadable pixels: reject (MALFORMED_RECORD, EMPTY_IMAGE, CORRUPT_IMAGE);
 *   <li>model failure on the batch: a built-in reference picture ({@link #PROBE}) goes through the model to tell
 *       whose failure it is.
 *       <ul>
 *         <li>the reference picture fails too: <b>the model is down</b> (engine, natives, GPU memory): the batch is
 *             retried with exponential back-off ({@link RetryPolicy}) for up to {@code embed.retry.max.ms}; nothing
 *             is rejected meanwhile ({@link ModelHealth} tells readiness and metrics). Only when the budget is spent
 *             are its records rejected with EMBEDDING_FAILED (dead letters, to redrive once the model works);
 *         <li>the reference picture passes: <b>a record's failure</b>: every record is tried alone, and one that
 *             fails alone between two calls that succeed (the reference picture passes again right after) is
 *             rejected at once with IMAGE_NOT_EMBEDDABLE (deterministic: retrying or redriving it does not help);
 *             if the reference picture fails then, the model went down: back to the back-off with the records
 *             left.
 *       </ul>
 * </ul>
 * Not thread-safe: owned by the inference thread.
 */
public final class BatchProcessor {
  private static final Logger log = LoggerFactory.getLogger(BatchProcessor.class);
  public static final String STAGE = "embedder-worker";
  /** Reject reason of a record whose outputs could not be committed even alone (after retries). */
  public static final String OUTPUT_FAILED = "OUTPUT_FAILED";
  /** Reject reason of a record the model could not embed because the model failed on every input for too long. */
  public static final String EMBEDDING_FAILED = "EMBEDDING_FAILED";
  /** Reject reason of a record the model fails on while it embeds a reference picture (deterministic). */
  public static final String IMAGE_NOT_EMBEDDABLE = "IMAGE_NOT_EMBEDDABLE";
  /** Room for a record's framing (headers, timestamps, batch overhead) under a topic's limit. */
  static final int FRAMING = 1024;

  /** What a batch produced. */
  public record Outcome(List<ProducerRecord<byte[], byte[]>> records, int embedded, int rejected, int pictures,
      Map<TopicPartition, OffsetAndMetadata> offsets, Map<String, Integer> rejectsByReason) {}

  private final Map<String, Integer> reasons = new java.util.TreeMap<>();

  private final Topics topics;
  private final PictureEmbedder embedder;
  /** The descriptor of the batch in progress ({@link PictureEmbedder#forBatch}). */
  private PictureEmbedder active;
  private final RetryPolicy retry;
  private final Waiter waiter;
  private final ModelHealth health;
  private final int maxRejectPayload;
  private final LongSupplier clock;
  /** Why a work item failed for good, by index in the current batch (filled by embedAll). */
  private final Map<Integer, Failure> failures = new HashMap<>();
  /** The model failed on every input at the last attempt (so far as this processor knows). */
  private boolean failing;
  private ExtrasAside aside;

  /**
   * A processor.
   *
   * @param retry how long a model outage is waited out before its batch's records become dead letters
   * @param waiter the back-off's clock and sleep (the worker's can be cut short; tests' advance a fake clock)
   * @param health told when the model fails and recovers (readiness, metrics)
   * @param clock wall-clock time written into the records ({@code embeddedAtMs}, rejects)
   */
  public BatchProcessor(Topics topics, PictureEmbedder embedder, RetryPolicy retry, Waiter waiter, ModelHealth health,
      int maxRejectPayload, LongSupplier clock) {
    this.topics = topics;
    this.embedder = embedder;
    this.active = embedder;
    this.retry = retry;
    this.waiter = waiter;
    this.health = health;
    this.maxRejectPayload = maxRejectPayload;
    this.clock = clock;
  }

  /**
   * Uploads' local features (unless kept) and previews go on {@code embedding-extras} beside their embeddings record
   * ({@link ExtrasAside}); null (the default of a processor made without) keeps every record whole.
   */
  public BatchProcessor extrasAside(ExtrasAside aside) {
    this.aside = aside;
    return this;
  }

  /** The back-off's time: a monotonic clock in milliseconds and a sleep. */
  public interface Waiter {
    long nowMs();

    /**
     * Sleeps {@code ms}.
     *
     * @throws Abandoned when the owner wants the batch given up now (stopping, partitions revoked)
     */
    void sleep(long ms) throws InterruptedException, Abandoned;

    /** Real time, never cut short. */
    Waiter SYSTEM = new Waiter() {
      @Override
      public long nowMs() {
        return System.nanoTime() / 1_000_000;
      }

      @Override
      public void sleep(long ms) throws InterruptedException {
        Thread.sleep(ms);
      }
    };
  }

  /** Told on the processing thread when the model fails for every input and when it works again. */
  public interface ModelHealth {
    /** A retry is granted; {@code status} says why, since when and what next (for readiness). */
    default void retrying(String status) {}

    /** The budget is spent: {@code records} become dead letters; the model is still failing. */
    default void gaveUp(int records, String status) {}

    /** The model embeds again. */
    default void recovered() {}

    ModelHealth NONE = new ModelHealth() {};
  }

  /** A back-off cut short by the owner: nothing was produced for the batch. */
  public static final class Abandoned extends Exception {
    private static final long serialVersionUID = 1L;

    public Abandoned(String why) {
      super(why);
    }
  }

  private record Work(ConsumerRecord<byte[], byte[]> source, PreparedImage prepared, List<RgbImage> pictures) {}

  /**
   * Embeds a batch.
   *
   * @throws Abandoned when the worker cut a back-off short (stopping, or partitions revoked): nothing was decided,
   *     the caller redoes the records or leaves them to the next owner
   */
  public Outcome process(List<ConsumerRecord<byte[], byte[]>> batch) throws InterruptedException, Abandoned {
    active = embedder.forBatch(); // one model version from the batch's first picture to its records
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
        Failure f = failures.get(i);
        out.add(reject(w.source(), f.reason(), f.message(), f.cause()));
        rejected++;
        continue;
      }
      ImageEmbedding e = RecordEmbedding.toRecord(w.prepared(), res, active.modelId(), active.modelVersion(),
          clock.getAsLong());
      e.setBackgroundCosine(active.backgroundCosine(RecordEmbedding.probeVectors(w.prepared(), res)));
      String id = w.prepared().getId();
      // one record per input: an upload goes to `embeddings` only (index-service matches uploads when it consumes
      // `embeddings`, so the record carries every view, e.g. a border-trimmed one, for matching, and indexes only the
      // full picture's vector); a query goes to `probes` only. An upload on `probes` would be decoded and dropped.
      Topic<String, ImageEmbedding> topic = w.prepared().getPurpose() == Purpose.INDEX ? topics.embeddings()
          : topics.probes();
      // an upload's parts used once (local features, preview) go beside it, on embedding-extras: ExtrasAside
      ExtrasAside.Split split = aside != null && w.prepared().getPurpose() == Purpose.INDEX ? aside.split(e)
          : new ExtrasAside.Split(null, topic.record(id, e));
      ProducerRecord<byte[], byte[]> extras = split.extras();
      if (extras != null && oversize(extras, topics.embeddingExtras().maxMessageBytes()) != null) {
        // not with the bounded fields (features <= MAX_LOCAL_FEATURES_BYTES, preview <= 64 KiB); if ever, the upload
        // goes on without them rather than failing its transaction
        log.warn("image {}: {}; its local features and preview are left out", id,
            oversize(extras, topics.embeddingExtras().maxMessageBytes()));
        extras = null;
        e.setExtrasAside(false); // index-service must not look for them
      }
      ProducerRecord<byte[], byte[]> produced = split.embedding();
      if (extras == null && split.extras() != null) {
        produced = again(produced, topic, e);
      }
      String tooLarge = oversize(produced, topic.maxMessageBytes());
      if (tooLarge != null && e.getPreview() != null) { // the preview is the part to do without
        e.setPreview(null);
        produced = again(produced, topic, e);
        tooLarge = oversize(produced, topic.maxMessageBytes());
      }
      if (tooLarge != null && e.getLocalFeatures() != null) { // then the local features (matching goes on without)
        e.setLocalFeatures(null);
        produced = again(produced, topic, e);
        tooLarge = oversize(produced, topic.maxMessageBytes());
      }
      if (tooLarge != null) { // a record the topic would refuse must not fail its whole transaction
        out.add(reject(w.source(), OutputFailures.RECORD_TOO_LARGE, tooLarge, null));
        rejected++;
        continue;
      }
      if (extras != null) {
        out.add(extras); // before its embeddings record: index-service finds it read when it reads that one
      }
      out.add(produced);
      embedded++;
      pictures += res.size();
    }
    return new Outcome(out, embedded, rejected, pictures, offsets, Map.copyOf(reasons));
  }

  /** The same record (topic, partition, key) with {@code e} as it is now. */
  private static ProducerRecord<byte[], byte[]> again(ProducerRecord<byte[], byte[]> r,
      Topic<String, ImageEmbedding> topic, ImageEmbedding e) {
    return new ProducerRecord<>(r.topic(), r.partition(), r.key(), topic.serializeValue(e));
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

  /** Why a work item failed for good: the reject's reason, message and exception. */
  private record Failure(String reason, String message, Throwable cause) {}

  /** Results per work item (null = failed for good, see {@link #failures}). */
  private List<List<Embedder.Embedding>> embedAll(List<Work> work) throws InterruptedException, Abandoned {
    failures.clear();
    List<List<Embedder.Embedding>> res = new ArrayList<>(Collections.nCopies(work.size(), null));
    List<Integer> todo = new ArrayList<>();
    for (int i = 0; i < work.size(); i++) {
      todo.add(i);
    }
    RetryPolicy.Outage outage = null;
    while (!todo.isEmpty()) {
      // 1. the records still to do, together
      List<RgbImage> all = new ArrayList<>();
      todo.forEach(i -> all.addAll(work.get(i).pictures()));
      Throwable failed;
      try {
        List<Embedder.Embedding> flat = active.embed(all);
        int k = 0;
        for (int i : todo) {
          res.set(i, flat.subList(k, k + work.get(i).pictures().size()));
          k += work.get(i).pictures().size();
        }
        todo.clear();
        up(outage);
        break;
      } catch (InterruptedException e) {
        throw e;
      } catch (Exception | OutOfMemoryError e) {
        failed = e;
      }
      // 2. the model, or one of the records? The reference picture tells.
      if (probe()) {
        up(outage);
        outage = null;
        // a record is refused only when it fails alone between two calls that succeed (the one before it and the
        // reference picture after it), so a model that comes back or goes down meanwhile is not taken for the record
        log.warn("model failed on a batch of {} pictures but not on the reference picture: trying the {} record(s) "
            + "alone ({})", all.size(), todo.size(), failed.toString());
        for (Iterator<Integer> it = todo.iterator(); it.hasNext(); ) {
          int i = it.next();
          try {
            res.set(i, active.embed(work.get(i).pictures()));
            it.remove();
          } catch (InterruptedException e) {
            throw e;
          } catch (Exception | OutOfMemoryError e) {
            if (!probe()) { // the model went down meanwhile: back off with the records left
              failed = e;
              break;
            }
            failures.put(i, notEmbeddable(work.get(i), e));
            it.remove();
          }
        }
        if (todo.isEmpty()) {
          break;
        }
      }
      // 3. the model fails on everything: wait and retry the records left, within the budget
      long now = waiter.nowMs();
      if (outage == null) {
        outage = retry.begin(now);
      }
      long delay = outage.next(now);
      if (delay < 0) {
        String why = "the model failed on every input, a reference picture too, for " + outage.elapsedMs(now) / 1000
            + " s (" + outage.retries() + " retries, embed.retry.max.ms " + outage.budgetMs() + ")";
        log.error("giving up on {} records: {}; last failure: {}", todo.size(), why, failed.toString());
        failing = true;
        health.gaveUp(todo.size(), why + ": " + failed);
        for (int i : todo) {
          failures.put(i, new Failure(EMBEDDING_FAILED, why + "; once the model works again, "
              + "`imgmatch rejects --redrive --reason " + EMBEDDING_FAILED + "` submits it again", failed));
        }
        return res;
      }
      String status = "model failing on every input (a reference picture too) for " + outage.elapsedMs(now) / 1000
          + " s of the " + outage.budgetMs() / 1000 + " s budget: retry " + outage.retries() + " of a batch of "
          + todo.size() + " records in " + delay + " ms; " + failed;
      log.warn("{}", status);
      failing = true;
      health.retrying(status);
      waiter.sleep(delay);
    }
    return res;
  }

  /** The model just embedded something: if it was failing (this batch or an earlier one), it has recovered. */
  private void up(RetryPolicy.Outage outage) {
    if (outage != null) {
      log.info("the model works again after {} ms and {} retries", outage.elapsedMs(waiter.nowMs()),
          outage.retries());
    }
    if (failing) {
      failing = false;
      health.recovered();
    }
  }

  /** True when the model embeds the built-in reference picture (it works; a failure was the record's). */
  private boolean probe() throws InterruptedException {
    try {
      List<Embedder.Embedding> r = active.embed(List.of(PROBE));
      return r.size() == 1;
    } catch (InterruptedException e) {
      throw e;
    } catch (Exception | OutOfMemoryError e) {
      log.warn("the model fails on the reference picture too: {}", e.toString());
      return false;
    }
  }

  private static Failure notEmbeddable(Work w, Throwable cause) {
    StringBuilder views = new StringBuilder();
    List<ImageView> vs = w.prepared().getViews();
    for (int v = 0; v < vs.size(); v++) {
      ImageView iv = vs.get(v);
      views.append(v == 0 ? "" : ", ").append(iv.getName()).append(' ').append(w.pictures().get(v).width()).append('x')
          .append(w.pictures().get(v).height()).append(' ').append(iv.getEncoding());
    }
    return new Failure(IMAGE_NOT_EMBEDDABLE, "the model fails on " + w.prepared().getId() + " (views: " + views
        + ") while it embeds a reference picture: " + cause, cause);
  }

  /** The reference picture of {@link #probe()}: a small smooth colour gradient, decoded like any view. */
  static final RgbImage PROBE = probePicture();

  private static RgbImage probePicture() {
    int w = 32;
    int h = 32;
    byte[] px = new byte[w * h * 3];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int o = (y * w + x) * 3;
        px[o] = (byte) (x * 8);
        px[o + 1] = (byte) (y * 8);
        px[o + 2] = (byte) (128 + (x + y) * 2);
      }
    }
    return new RgbImage(w, h, px);
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
