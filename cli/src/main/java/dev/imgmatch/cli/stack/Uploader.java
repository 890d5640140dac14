package dev.imgmatch.cli.stack;

import dev.imgmatch.avro.ImageSubmission;
import dev.imgmatch.avro.InlineImage;
import dev.imgmatch.schemas.Topic;
import dev.imgmatch.schemas.Topics;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** Produces image submissions (inline bytes) to the uploads topic; used by upload, demo, scan and eval. */
public final class Uploader implements AutoCloseable {
  /** Inline images above this are refused before sending (ingest-stream's default limit). */
  public static final int MAX_INLINE_BYTES = 20 * 1024 * 1024;

  private final KafkaProducer<byte[], byte[]> producer;
  private final Topic<String, ImageSubmission> uploads;

  public Uploader(Map<String, Object> clientProps, Topics topics) {
    Map<String, Object> p = new HashMap<>(clientProps);
    p.put("max.request.size", MAX_INLINE_BYTES + 1024 * 1024);
    p.put("enable.idempotence", true);
    p.put("acks", "all");
    p.put("linger.ms", 5);
    this.producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    this.uploads = topics.uploads();
  }

  public String topic() {
    return uploads.name();
  }

  /** Sends one image; the future completes when the broker has it. */
  public Future<RecordMetadata> send(String id, String tenant, String collection, String source, byte[] bytes,
      String fileName, Map<String, String> attributes) {
    if (bytes.length > MAX_INLINE_BYTES) {
      throw new IllegalArgumentException(fileName + ": " + bytes.length + " bytes is over the " + MAX_INLINE_BYTES
          + "-byte inline limit");
    }
    ImageSubmission s = ImageSubmission.newBuilder().setImageId(id).setTenant(tenant).setCollection(collection)
        .setImage(InlineImage.newBuilder().setData(ByteBuffer.wrap(bytes)).setFileName(fileName).build())
        .setSource(source).setAttributes(attributes).setSubmittedAtMs(System.currentTimeMillis()).build();
    return producer.send(uploads.record(id, s));
  }

  public void flush() {
    producer.flush();
  }

  @Override
  public void close() {
    producer.close();
  }
}
