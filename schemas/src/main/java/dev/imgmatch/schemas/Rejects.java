package dev.imgmatch.schemas;

import dev.imgmatch.avro.Reject;
import java.util.Arrays;

/** Builds dead-letter records the same way in every stage. */
public final class Rejects {
  /** Original values larger than this are cut in the reject (the size is kept). */
  public static final int DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

  private Rejects() {}

  /**
   * A reject for a record read from {@code topic}/{@code partition}/{@code offset}.
   *
   * @param maxPayloadBytes cut the original value to this many bytes (0 = leave it out)
   */
  public static Reject of(String reasonCode, String message, String stage, String topic, int partition, long offset,
      byte[] key, byte[] value, Throwable cause, int maxPayloadBytes, long nowMs) {
    byte[] kept = value == null ? null
        : value.length <= maxPayloadBytes ? value : Arrays.copyOf(value, Math.max(0, maxPayloadBytes));
    return Reject.newBuilder()
        .setReasonCode(reasonCode)
        .setMessage(message == null ? reasonCode : message)
        .setStage(stage)
        .setSourceTopic(topic == null ? "" : topic)
        .setSourcePartition(partition)
        .setSourceOffset(offset)
        .setOriginalKey(key == null ? null : java.nio.ByteBuffer.wrap(key))
        .setOriginalValue(kept == null || maxPayloadBytes == 0 ? null : java.nio.ByteBuffer.wrap(kept))
        .setOriginalValueSize(value == null ? -1 : value.length)
        .setException(cause == null ? null : cause.getClass().getName() + ": " + cause.getMessage())
        .setRejectedAtMs(nowMs)
        .build();
  }

  /** A reject for a record that failed to decode. */
  public static Reject ofDecodingFailure(RecordDecodingException e, String stage, String topic, int partition,
      long offset, byte[] key, byte[] value, long nowMs) {
    return of(e.reasonCode(), e.getMessage(), stage, topic, partition, offset, key, value, e,
        DEFAULT_MAX_PAYLOAD_BYTES, nowMs);
  }
}
