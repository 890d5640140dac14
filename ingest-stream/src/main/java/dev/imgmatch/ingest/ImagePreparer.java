package dev.imgmatch.ingest;

import dev.imgmatch.avro.ImageView;
import dev.imgmatch.ingest.image.BorderTrim;
import dev.imgmatch.ingest.image.DecodedImage;
import dev.imgmatch.common.GrayThumb;
import dev.imgmatch.ingest.image.GrayThumbnails;
import dev.imgmatch.ingest.image.ImageDecoder;
import dev.imgmatch.ingest.image.ImageRejectedException;
import dev.imgmatch.ingest.image.RgbImage;
import dev.imgmatch.ingest.pdq.PdqHasher;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;

/**
 * The one code path from image bytes to fingerprints and model-ready pixels, shared by the stream and
 * {@code ./imgmatch hash}: validate and decode ({@link ImageDecoder}), apply EXIF orientation, SHA-256 of the
 * bytes, PDQ of the oriented pixels, and on request the resized view. Thread-safe (per-thread PDQ buffers).
 */
public final class ImagePreparer {
  private final ImageDecoder decoder;
  private final ViewEncoder views;
  private final int thumbnailSize;
  private final ThreadLocal<PdqHasher> hashers = ThreadLocal.withInitial(PdqHasher::new);

  /** With the default verification thumbnail ({@link IngestConfig#DEFAULT_THUMBNAIL_SIZE}). */
  public ImagePreparer(ImageDecoder decoder, ViewEncoder views) {
    this(decoder, views, IngestConfig.DEFAULT_THUMBNAIL_SIZE);
  }

  /** @param thumbnailSize longer side of the verification thumbnail; 0 = none */
  public ImagePreparer(ImageDecoder decoder, ViewEncoder views, int thumbnailSize) {
    this.decoder = decoder;
    this.views = views;
    this.thumbnailSize = thumbnailSize;
  }

  public static ImagePreparer of(IngestConfig cfg) {
    return new ImagePreparer(new ImageDecoder(cfg.imageLimits()), new ViewEncoder(cfg.viewSpec(), cfg.borderTrim(), cfg.getInt(IngestConfig.SMALL_VIEW_SIDE)),
        cfg.thumbnailSize());
  }

  /**
   * What ingest knows about one accepted image.
   *
   * @param sha256 SHA-256 of the encoded bytes (32 bytes)
   * @param decoded the decode (format, declared size, orientation, stored pixels)
   * @param oriented the pixels as displayed
   * @param pdq PDQ of {@code oriented}, with its DCT for the dihedral variants
   */
  public record Fingerprint(byte[] sha256, DecodedImage decoded, RgbImage oriented, PdqHasher.Result pdq) {}

  /** Decodes, orients and fingerprints {@code bytes}. */
  public Fingerprint fingerprint(byte[] bytes) throws ImageRejectedException {
    DecodedImage decoded = decoder.decode(bytes);
    RgbImage oriented = decoded.oriented();
    PdqHasher.Result pdq = hashers.get().compute(oriented);
    return new Fingerprint(sha256(bytes), decoded, oriented, pdq);
  }

  /** The 'full' model view of a fingerprinted image. */
  public ImageView fullView(Fingerprint f) {
    return views.full(f.oriented());
  }

  /**
   * The model views of an image and the PDQ inside its border.
   *
   * @param trimmedPdq PDQ of the picture inside the uniform border, or null (no {@code trim} view asked for, or no
   *     border): a copy with a border or letterbox added keeps its original's PDQ there (dev queries with a border:
   *     mean distance to the original 80.8 → 14.7)
   * @param thumbnail the greyscale verification thumbnail of the oriented image, or null when they are off
   */
  public record Rendered(List<ImageView> views, PdqHasher.Result trimmedPdq, GrayThumb thumbnail) {}

  /**
   * The named views of a fingerprinted image ({@code full} first; {@code trim} only when it has margins) and, with
   * {@code trim}, the PDQ inside the border (one border search serves both).
   */
  public Rendered render(Fingerprint f, List<String> names) {
    BorderTrim.Region margin = names.contains(ViewEncoder.TRIM) ? views.margin(f.oriented()) : null;
    List<ImageView> rendered = views.render(f.oriented(), names, margin);
    return new Rendered(rendered,
        margin == null ? null : hashers.get().compute(BorderTrim.crop(f.oriented(), margin)),
        thumbnailSize == 0 ? null : GrayThumbnails.of(f.oriented(), thumbnailSize));
  }

  public ImageDecoder decoder() {
    return decoder;
  }

  public static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }
}
