package dev.imgmatch.client;

import dev.imgmatch.avro.ImageSubmission;
import dev.imgmatch.avro.InlineImage;
import dev.imgmatch.schemas.Limits;
import dev.imgmatch.schemas.Topic;
import dev.imgmatch.schemas.Topics;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Produces image submissions (inline bytes) to the uploads topic; used by upload, demo, scan and eval.
 *
 * <p>Refuses before sending what ingest-stream would reject for its size: an image over {@link #MAX_INLINE_BYTES},
 * an id, tenant, collection, source or attributes over their bounds in {@link Limits} (an
 * {@link IllegalArgumentException}, nothing sent). Idempotent, {@code acks=all}. Thread-safe (one Kafka producer).
 */
public final class Uploader implements AutoCloseable {
  /** Inline images above this are refused before sending (ingest-stream's default limit, {@link Limits#MAX_IMAGE_BYTES}). */
  public static final int MAX_INLINE_BYTES = Limits.MAX_IMAGE_BYTES;

  private final KafkaProducer<byte[], byte[]> producer;
  private final Topic<String, ImageSubmission> uploads;

  public Uploader(Map<String, Object> clientProps, Topics topics) {
    Map<String, Object> p = new HashMap<>(clientProps);
    p.put("max.request.size", Topics.MAX_MESSAGE_BYTES); // the image and the record's other fields
    p.put("enable.idempotence", true);
    p.put("acks", "all");
    p.put("linger.ms", 5);
    this.producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    this.uploads = topics.uploads();
  }

  /** The uploads topic's full name. */
  public String topic() {
    return uploads.name();
  }

  /**
   * Sends one image; the future completes when the broker has it.
   *
   * @param collection {@code protected}, {@code banned}, {@code uploads}, ...
   * @param source where the image comes from (may be null)
   * @throws IllegalArgumentException when the image or a field is over its limit (nothing is sent)
   */
  public Future<RecordMetadata> send(String id, String tenant, String collection, String source, byte[] bytes,
      String fileName, Map<String, String> attributes) {
    return send(id, tenant, collection, source, bytes, fileName, attributes, System.currentTimeMillis());
  }

  /**
   * Sends one image with its submission time given rather than read from the clock: what index-service orders
   * uploads by where they tie ("submitted before" in retroactive matching, newer first among equal candidates). A
   * batch sent in one loop shares milliseconds on the clock; {@code ./imgmatch scan} gives each file its own, in
   * path order.
   *
   * @param submittedAtMs the submission time, ms since the epoch
   * @throws IllegalArgumentException when the image or a field is over its limit (nothing is sent)
   */
  public Future<RecordMetadata> send(String id, String tenant, String collection, String source, byte[] bytes,
      String fileName, Map<String, String> attributes, long submittedAtMs) {
    if (bytes.length > MAX_INLINE_BYTES) {
      throw new IllegalArgumentException(fileName + ": " + bytes.length + " bytes is over the " + MAX_INLINE_BYTES
          + "-byte inline limit");
    }
    String tooLarge = Limits.tooLarge("imageId", id, tenant, collection, source, attributes);
    if (tooLarge != null) {
      throw new IllegalArgumentException(fileName + ": " + tooLarge);
    }
    ImageSubmission s = ImageSubmission.newBuilder().setImageId(id).setTenant(tenant).setCollection(collection)
        .setImage(InlineImage.newBuilder().setData(ByteBuffer.wrap(bytes)).setFileName(fileName).build())
        .setSource(source).setAttributes(attributes).setSubmittedAtMs(submittedAtMs).build();
    return producer.send(uploads.record(id, s));
  }

  /** Waits until every image sent so far is on the broker (or failed). */
  public void flush() {
    producer.flush();
  }

  @Override
  public void close() {
    producer.close();
  }
}
