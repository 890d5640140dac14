package dev.imgmatch.index;

import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ingest thread's Kafka transactions: alerts and the rejects of embeddings and deletions, committed with the
 * offsets of the records they came from (A). One is always open between {@link #begin()} and a commit or abort.
 * Not thread-safe (the ingest thread only; {@link #trouble()} may be read from any thread).
 */
final class AlertTransactions implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AlertTransactions.class);

  /** Runs a transactional call, retrying it while it times out (see {@link IndexService#retryOnTimeout}). */
  @FunctionalInterface
  interface Retrying {
    void run(String what, Runnable call);
  }

  /**
   * Fenced this many times in a row (each time after a fresh producer took the transactional id back), it is not a
   * coordinator's abort but another live process with this transactional id: fatal.
   */
  static final int MAX_FENCED_IN_A_ROW = 3;

  private final java.util.function.Supplier<Producer<byte[], byte[]>> producers;
  private Producer<byte[], byte[]> producer;
  private final Retrying retrying;
  /** The producer was fenced: {@link #abortFailed} replaces it. */
  private boolean fenced;
  private int fencedInARow;
  /** The first failed send of the open transaction (it cannot commit). */
  private final AtomicReference<Throwable> sendFailure = new AtomicReference<>();
  /** Offsets in the last committed transaction; null when none since the shards were (re)opened. */
  private Map<TopicPartition, OffsetAndMetadata> lastOffsets;
  /** Whether the open transaction holds any output. */
  private boolean hasOutput;
  private int failuresInARow;
  private KafkaException lastFailure;
  /** Why the last transaction failed, while recovery goes on; null when the last one committed. */
  private volatile String trouble;

  /** @param producers makes the transactional producer; called again when one was fenced (see {@link #commit}) */
  AlertTransactions(java.util.function.Supplier<Producer<byte[], byte[]>> producers, Retrying retrying) {
    this.producers = producers;
    this.producer = producers.get();
    this.retrying = retrying;
  }

  /** Fences an earlier incarnation with this transactional id (aborting what it left open) and opens one. */
  void start() {
    retrying.run("initialising the alerts transactions", producer::initTransactions);
    producer.beginTransaction();
  }

  /**
   * Sends an output in the open transaction. Any failure dooms the transaction: it is aborted at the next commit
   * and its records read again. Outputs are sized before they are sent (rejects carry a capped payload, alerts are
   * checked), so one record cannot fail every retry.
   */
  void send(ProducerRecord<byte[], byte[]> rec) {
    hasOutput = true;
    try {
      producer.send(rec, (md, e) -> {
        if (e != null && sendFailure.compareAndSet(null, e)) {
          log.warn("cannot produce to {} in the alerts transaction: {}", rec.topic(), e.toString());
        }
      });
    } catch (KafkaException e) {
      if (sendFailure.compareAndSet(null, e)) {
        log.warn("cannot produce to {} in the alerts transaction: {}", rec.topic(), e.toString());
      }
    }
  }

  /**
   * Commits the open transaction with {@code offsets} (of {@code group}) and opens the next. Nothing is done when
   * nothing was sent and no offset moved. False when the transaction failed for a reason that dooms only it: call
   * {@link #abortFailed()}. Authorization errors are thrown: they are fatal. So is fencing, {@value
   * #MAX_FENCED_IN_A_ROW} times in a row: once is what Kafka 4.3 answers a commit that raced with the coordinator
   * aborting the transaction on its own (transactions v2, KAFKA-20785: e.g. a broker restarted after an outage longer
   * than the transaction timeout), recovered from with a new producer; again and again is another live process
   * with this transactional id.
   */
  boolean commit(Map<TopicPartition, OffsetAndMetadata> offsets, ConsumerGroupMetadata group) {
    if (!hasOutput && offsets.equals(lastOffsets)) {
      return true;
    }
    try {
      Throwable failed = sendFailure.get();
      if (failed != null) {
        throw new KafkaException("an output of this transaction was not sent: " + failed, failed);
      }
      if (!offsets.isEmpty()) {
        retrying.run("committing alert offsets", () -> producer.sendOffsetsToTransaction(offsets, group));
      }
      retrying.run("committing alerts", producer::commitTransaction);
      // InvalidProducerEpochException (the coordinator aborted the transaction on its own, e.g. at its timeout during
      // a broker outage) is not fatal: abortTransaction() reinitialises the producer (Kafka's javadoc), so it is
      // recovered from like any other failed transaction below
    } catch (org.apache.kafka.common.errors.ProducerFencedException e) {
      if (++fencedInARow > MAX_FENCED_IN_A_ROW) {
        throw e;
      }
      fenced = true;
      lastFailure = e;
      return false;
    } catch (org.apache.kafka.common.errors.AuthorizationException
        | org.apache.kafka.common.errors.UnsupportedVersionException e) {
      throw e;
    } catch (KafkaException e) {
      lastFailure = e;
      return false;
    }
    lastOffsets = offsets;
    hasOutput = false;
    failuresInARow = 0;
    fencedInARow = 0;
    trouble = null;
    producer.beginTransaction();
    return true;
  }

  /**
   * Aborts the transaction {@link #commit} could not commit and opens the next; returns how long to wait before
   * reading again: 0.5 s doubling to 30 s between failures in a row (readiness says why meanwhile).
   */
  long abortFailed() {
    failuresInARow++;
    KafkaException cause = lastFailure;
    trouble = String.valueOf(cause);
    long backoffMs = Math.min(30_000L, 500L << Math.min(6, failuresInARow - 1));
    log.error("alerts transaction failed ({} in a row): {}; aborting it, rolling the shards back to their last commit"
        + " and reading again from there in {} ms", failuresInARow, cause, backoffMs);
    if (fenced) {
      replaceProducer();
    } else {
      retrying.run("aborting the alerts transaction", producer::abortTransaction);
    }
    reset();
    producer.beginTransaction();
    return backoffMs;
  }

  /** Drops the open transaction (partitions lost to another member: what it holds may be theirs now). */
  void dropAndBegin() {
    if (fenced) {
      replaceProducer();
    } else {
      abortQuietly();
    }
    reset();
    producer.beginTransaction();
  }

  /**
   * A fenced producer can do nothing more: a new one takes the transactional id back (initTransactions bumps the
   * epoch; what the old one left open is aborted already).
   */
  private void replaceProducer() {
    log.warn("the alerts producer was fenced ({} in a row: a commit raced with the coordinator aborting the transaction"
        + " on its own, or another process uses this transactional id); starting a new one", fencedInARow);
    try {
      producer.close(java.time.Duration.ZERO);
    } catch (RuntimeException e) {
      log.debug("closing the fenced producer: {}", e.toString());
    }
    producer = producers.get();
    retrying.run("initialising the alerts transactions again", producer::initTransactions);
    fenced = false;
  }

  private void reset() {
    sendFailure.set(null);
    hasOutput = false;
    lastOffsets = null;
  }

  /** Aborts after a fatal error, ignoring what fails. */
  void abortQuietly() {
    try {
      producer.abortTransaction();
    } catch (RuntimeException e) {
      log.debug("abort after a failure: {}", e.toString());
    }
  }

  /** Why the last transaction failed while recovery goes on; null when the last one committed. */
  String trouble() {
    return trouble;
  }

  /**
   * Aborts the open transaction (what it holds is read again by the next owner, as after a crash), then closes the
   * producer. Kafka 4.3's producer, closed with a transaction open — even an empty one, as one always is here between
   * commits — waited out the whole close timeout: 10 s more on every index-service stop (each restart or scale-in,
   * and every test that stops the service); aborted first, it closes at once.
   */
  @Override
  public void close() {
    abortQuietly();
    producer.close(java.time.Duration.ofSeconds(10));
  }
}
