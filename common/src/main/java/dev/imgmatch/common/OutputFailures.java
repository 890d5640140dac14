package dev.imgmatch.common;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * Which producer failures belong to one record, and the reject reason each gets (pure logic). Every stage asks here:
 * such a failure drops that one output (reported as a reject), any other stops before committing.
 */
public final class OutputFailures {
  public static final String RECORD_TOO_LARGE = "OUTPUT_TOO_LARGE";
  public static final String TOPIC_UNAVAILABLE = "OUTPUT_TOPIC_UNAVAILABLE";
  public static final String NOT_AUTHORIZED = "OUTPUT_NOT_AUTHORIZED";
  public static final String UNSERIALIZABLE = "OUTPUT_UNSERIALIZABLE";

  private OutputFailures() {}

  /**
   * The reject reason when the failure is about this record and retrying it would fail again — too large for the
   * producer or the topic, an invalid, unknown or forbidden topic (a client's reply topic), a serialization error —
   * else null: the cluster, not the record. A timeout waiting for a topic's metadata is null too: it is what a
   * missing topic and an unreachable cluster both look like (a broker killed mid-stream must not turn good records
   * into rejects); a stage that sends to topics named by clients tells them apart with {@link #isMetadataTimeout}
   * and a look at the cluster.
   */
  public static String reason(Throwable e) {
    Throwable c = unwrap(e);
    if (c instanceof RecordTooLargeException || c instanceof RecordBatchTooLargeException) {
      return RECORD_TOO_LARGE;
    }
    if (c instanceof InvalidTopicException || c instanceof UnknownTopicOrPartitionException) {
      return TOPIC_UNAVAILABLE;
    }
    if (c instanceof AuthorizationException) {
      return NOT_AUTHORIZED;
    }
    if (c instanceof SerializationException) {
      return UNSERIALIZABLE;
    }
    return null;
  }

  /** A timeout waiting for a topic's metadata: a missing topic, or a cluster that does not answer. */
  public static boolean isMetadataTimeout(Throwable e) {
    Throwable c = unwrap(e);
    return c instanceof TimeoutException && String.valueOf(c.getMessage()).contains("not present in metadata");
  }

  /** True when {@link #reason} has one. */
  public static boolean isRecordSpecific(Throwable e) {
    return reason(e) != null;
  }

  public static String keyText(byte[] key) {
    if (key == null) {
      return "null";
    }
    String s = new String(key, 0, Math.min(key.length, 64), StandardCharsets.UTF_8);
    return key.length > 64 ? s + "..." : s;
  }

  /** The Kafka API error under wrappers (ExecutionException, a plain KafkaException around it). */
  private static Throwable unwrap(Throwable e) {
    Throwable c = e;
    while (c.getCause() != null && (c instanceof java.util.concurrent.ExecutionException
        || (c instanceof org.apache.kafka.common.KafkaException && !(c instanceof ApiException)))) {
      c = c.getCause();
    }
    return c;
  }
}
