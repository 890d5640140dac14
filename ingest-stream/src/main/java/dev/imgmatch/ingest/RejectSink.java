package dev.imgmatch.ingest;

import dev.imgmatch.avro.Md5;
import dev.imgmatch.avro.Reject;
import dev.imgmatch.avro.Sha256;
import dev.imgmatch.ingest.image.RejectReason;
import dev.imgmatch.schemas.Rejects;
import dev.imgmatch.schemas.Topics;
import java.time.Clock;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Turns a failed input record into a {@link Reject} forwarded to the rejects sink, and counts it. */
final class RejectSink {
  static final String STAGE = "ingest-stream";
  private static final Logger log = LoggerFactory.getLogger(RejectSink.class);

  private final Topics topics;
  private final String sinkName;
  private final int maxPayloadBytes;
  private final IngestCounters counters;
  private final Clock clock;

  RejectSink(Topics topics, String sinkName, int maxPayloadBytes, IngestCounters counters, Clock clock) {
    this.topics = topics;
    this.sinkName = sinkName;
    this.maxPayloadBytes = maxPayloadBytes;
    this.counters = counters;
    this.clock = clock;
  }

  void reject(ProcessorContext<byte[], byte[]> ctx, Record<byte[], byte[]> in, String reasonCode, String message,
      Throwable cause) {
    reject(ctx, in, reasonCode, message, cause, null);
  }

  /**
   * A reject of the record {@code in}; {@code digests} are those of its image file's bytes when they were read
   * before the failure (null otherwise): the reject carries them, so that a file can be looked up in hash lists.
   */
  void reject(ProcessorContext<byte[], byte[]> ctx, Record<byte[], byte[]> in, String reasonCode, String message,
      Throwable cause, ImagePreparer.Digests digests) {
    RecordMetadata m = ctx.recordMetadata().orElse(null);
    String topic = m == null ? "" : m.topic();
    int partition = m == null ? -1 : m.partition();
    long offset = m == null ? -1 : m.offset();
    Reject r = Rejects.of(reasonCode, message, STAGE, topic, partition, offset, in.key(), in.value(), cause,
        maxPayloadBytes, clock.millis());
    if (digests != null) {
      r.setSha256(new Sha256(digests.sha256()));
      r.setMd5(new Md5(digests.md5()));
    }
    log.info("rejected {}/{}@{}: {} {}", topic, partition, offset, reasonCode, message);
    ctx.forward(in.withKey(Rejects.key(in.key())).withValue(topics.rejects().serializeValue(r)), sinkName);
    counters.rejected(reasonCode);
  }

  /** A failure that is ingest-stream's fault: logged with its stack trace, the record still kept. */
  void internalError(ProcessorContext<byte[], byte[]> ctx, Record<byte[], byte[]> in, Throwable e) {
    internalError(ctx, in, e, null);
  }

  /** As {@link #internalError(ProcessorContext, Record, Throwable)}, with the image's digests when known. */
  void internalError(ProcessorContext<byte[], byte[]> ctx, Record<byte[], byte[]> in, Throwable e,
      ImagePreparer.Digests digests) {
    String code = RejectReason.INTERNAL_ERROR.name();
    log.error("unexpected failure processing a record; it goes to the rejects topic as " + code, e);
    reject(ctx, in, code, "unexpected failure in ingest-stream: " + e, e, digests);
  }
}
