package dev.imgmatch.schemas;

import org.apache.kafka.common.errors.SerializationException;

/**
 * Bytes that could not be turned into a record. Typed so that callers route the record to the
 * dead-letter topic with {@link #reason()} as its reason code, instead of crashing.
 *
 * <p>It extends Kafka's {@link SerializationException} so that a Kafka Streams
 * {@code DeserializationExceptionHandler} sees it as what it is.
 */
public final class RecordDecodingException extends SerializationException {
  private static final long serialVersionUID = 1L;

  /** Why decoding failed; the name is the reject reason code. */
  public enum Reason {
    /** A null or empty value where a record was expected. */
    EMPTY_RECORD,
    /** Not Avro single-object encoding (wrong or missing header), or a truncated / corrupt body. */
    MALFORMED_RECORD,
    /** Well-formed header, but the schema fingerprint is not one this build knows. */
    UNKNOWN_SCHEMA
  }

  private final Reason reason;

  public RecordDecodingException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }

  /** The reject reason code (upper snake case). */
  public String reasonCode() {
    return reason.name();
  }
}
