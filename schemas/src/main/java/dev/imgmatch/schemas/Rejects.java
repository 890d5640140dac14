package dev.imgmatch.schemas;

import dev.imgmatch.avro.Reject;
import java.util.Arrays;

/** Builds dead-letter records the same way in every stage. */
public final class Rejects {
  /** Original values larger than this are cut in the reject (the size is kept). */
  public static final int DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;
  /** The reason message and the exception text are cut to this many characters. */
  public static final int MAX_MESSAGE_CHARS = 4096;
  /** Bytes of the original key kept (in the reject and as its record key): a key is an id, never more. */
  public static final int MAX_KEY_BYTES = Limits.MAX_ID_BYTES;

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
    byte[] k = key(key);
    return Reject.newBuilder()
        .setReasonCode(reasonCode)
        .setMessage(cut(message == null ? reasonCode : message))
        .setStage(stage)
        .setSourceTopic(topic == null ? "" : topic)
        .setSourcePartition(partition)
        .setSourceOffset(offset)
        .setOriginalKey(k == null ? null : java.nio.ByteBuffer.wrap(k))
        .setOriginalValue(kept == null || maxPayloadBytes == 0 ? null : java.nio.ByteBuffer.wrap(kept))
        .setOriginalValueSize(value == null ? -1 : value.length)
        .setException(cause == null ? null : cut(cause.getClass().getName() + ": " + cause.getMessage()))
        .setRejectedAtMs(nowMs)
        .build();
  }

  /** The key a reject keeps of {@code key} (its record key too): the first {@link #MAX_KEY_BYTES} bytes. */
  public static byte[] key(byte[] key) {
    return key == null || key.length <= MAX_KEY_BYTES ? key : Arrays.copyOf(key, MAX_KEY_BYTES);
  }

  private static String cut(String s) {
    return s.length() <= MAX_MESSAGE_CHARS ? s : s.substring(0, MAX_MESSAGE_CHARS) + "... (" + s.length() + " chars)";
  }

  /** A reject for a record that failed to decode. */
  public static Reject ofDecodingFailure(RecordDecodingException e, String stage, String topic, int partition,
      long offset, byte[] key, byte[] value, long nowMs) {
    return of(e.reasonCode(), e.getMessage(), stage, topic, partition, offset, key, value, e,
        DEFAULT_MAX_PAYLOAD_BYTES, nowMs);
  }
}
