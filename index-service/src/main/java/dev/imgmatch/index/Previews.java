package dev.imgmatch.index;

import dev.imgmatch.avro.ImageEmbedding;
import dev.imgmatch.avro.ImagePreview;
import dev.imgmatch.schemas.Limits;
import dev.imgmatch.schemas.Topic;
import dev.imgmatch.schemas.Topics;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The colour previews index-service publishes for the review console (the JPEG an upload carries in {@code
 * ImageEmbedding.preview}): on {@code reference-previews} for every image indexed into a collection some match rule
 * targets ({@code match.rules}' watched collections), on {@code previews} for an upload that raised an alert, never
 * for other uploads (nothing is kept of an upload that matches nothing). A takedown is a tombstone on both. The
 * records go into the alerts transaction of the record that caused them, so each is written once. Pure: makes the
 * records, sends nothing.
 */
final class Previews {
  private final boolean enabled;
  private final Set<String> watched;
  private final Topic<String, ImagePreview> uploads;
  private final Topic<String, ImagePreview> references;

  /**
   * @param enabled {@code preview.enabled}: false writes nothing (tombstones included)
   * @param watched the collections whose images are references ({@code MatchRules.watched()})
   */
  Previews(boolean enabled, Set<String> watched, Topics topics) {
    this.enabled = enabled;
    this.watched = Set.copyOf(watched);
    this.uploads = topics.previews();
    this.references = topics.referencePreviews();
  }

  static Previews from(IndexServiceConfig cfg) {
    return new Previews(cfg.getBoolean(IndexServiceConfig.PREVIEW_ENABLED), cfg.policy().rules().watched(),
        cfg.topics());
  }

  boolean enabled() {
    return enabled;
  }

  /** Whether an image of {@code collection} is a reference (its preview is kept while it is indexed). */
  boolean isReference(String collection) {
    return watched.contains(collection);
  }

  /**
   * What to write for a new indexed image: its reference preview, when it is a reference and carries a usable one;
   * else null.
   */
  ProducerRecord<byte[], byte[]> forReference(ImageEmbedding e, long nowMs) {
    return enabled && isReference(e.getCollection().toString()) ? record(references, e, nowMs) : null;
  }

  /** What to write for an upload that raised an alert: its preview when it carries a usable one; else null. */
  ProducerRecord<byte[], byte[]> forAlertedUpload(ImageEmbedding e, long nowMs) {
    return enabled ? record(uploads, e, nowMs) : null;
  }

  /** The tombstones of a takedown: one per previews topic (none when previews are off). */
  List<ProducerRecord<byte[], byte[]>> tombstones(String tenant, String imageId) {
    if (!enabled) {
      return List.of();
    }
    String key = Topics.previewKey(tenant, imageId);
    return List.of(new ProducerRecord<>(uploads.name(), uploads.serializeKey(key), null),
        new ProducerRecord<>(references.name(), references.serializeKey(key), null));
  }

  private static ProducerRecord<byte[], byte[]> record(Topic<String, ImagePreview> topic, ImageEmbedding e,
      long nowMs) {
    ByteBuffer jpeg = e.getPreview();
    if (jpeg == null || jpeg.remaining() == 0 || jpeg.remaining() > Limits.MAX_PREVIEW_BYTES) {
      return null;
    }
    int[] size = jpegSize(jpeg);
    if (size == null) {
      return null;
    }
    ImagePreview p = ImagePreview.newBuilder()
        .setTenant(e.getTenant())
        .setImageId(e.getId())
        .setCollection(e.getCollection())
        .setJpeg(jpeg.duplicate())
        .setWidth(size[0])
        .setHeight(size[1])
        .setCreatedAtMs(nowMs)
        .build();
    return topic.record(Topics.previewKey(e.getTenant().toString(), e.getId().toString()), p);
  }

  /**
   * Width and height of a JPEG, from its header only (no pixels decoded); null when the bytes are not a JPEG whose
   * size is 1-1024 pixels a side (any producer can write {@code prepared}: such a preview is left out).
   */
  static int[] jpegSize(ByteBuffer jpeg) {
    ByteBuffer b = jpeg.duplicate();
    if (b.remaining() < 4 || (b.get(b.position()) & 0xFF) != 0xFF || (b.get(b.position() + 1) & 0xFF) != 0xD8) {
      return null;
    }
    byte[] bytes = new byte[b.remaining()];
    b.get(bytes);
    Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName("jpeg");
    if (!readers.hasNext()) {
      return null;
    }
    ImageReader reader = readers.next();
    try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
      reader.setInput(in, true, true);
      int w = reader.getWidth(0);
      int h = reader.getHeight(0);
      return w >= 1 && h >= 1 && w <= 1024 && h <= 1024 ? new int[] {w, h} : null;
    } catch (IOException | RuntimeException ex) {
      return null;
    } finally {
      reader.dispose();
    }
  }
}
