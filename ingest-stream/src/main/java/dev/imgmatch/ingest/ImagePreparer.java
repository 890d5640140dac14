package dev.imgmatch.ingest;

import dev.imgmatch.avro.ImageView;
import dev.imgmatch.ingest.image.BorderTrim;
import dev.imgmatch.ingest.image.DecodedImage;
import dev.imgmatch.common.GrayThumb;
import dev.imgmatch.ingest.image.FrameLimits;
import dev.imgmatch.ingest.image.FrameReader;
import dev.imgmatch.ingest.image.GrayThumbnails;
import dev.imgmatch.ingest.image.ImageDecoder;
import dev.imgmatch.ingest.image.ImageRejectedException;
import dev.imgmatch.ingest.image.InsetFinder;
import dev.imgmatch.ingest.image.RgbImage;
import dev.imgmatch.ingest.pdq.PdqHasher;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The one code path from image bytes to fingerprints and model-ready pixels, shared by the stream and
 * {@code ./imgmatch hash}: validate and decode ({@link ImageDecoder}), apply EXIF orientation, SHA-256 of the
 * bytes, PDQ of the oriented pixels, and on request the resized view; for the stream also the views of a multi-frame
 * image's further frames ({@link FrameReader}). Thread-safe (per-thread PDQ buffers).
 */
public final class ImagePreparer {
  private final ImageDecoder decoder;
  private final ViewEncoder views;
  private final int thumbnailSize;
  /** Colour previews of uploads, or null when off. */
  private final ColourPreviews previews;
  private final FrameReader frames;
  /** Local-feature extraction, or null when off. */
  private final LocalFeaturePrep local;
  private final ThreadLocal<PdqHasher> hashers = ThreadLocal.withInitial(PdqHasher::new);

  /** With the default verification thumbnail ({@link IngestConfig#DEFAULT_THUMBNAIL_SIZE}) and frame limits. */
  public ImagePreparer(ImageDecoder decoder, ViewEncoder views) {
    this(decoder, views, IngestConfig.DEFAULT_THUMBNAIL_SIZE, FrameLimits.defaults());
  }

  /**
   * @param thumbnailSize longer side of the verification thumbnail; 0 = none
   * @param frameLimits how much of a multi-frame image {@link #fingerprint(byte[], boolean)} looks at
   */
  public ImagePreparer(ImageDecoder decoder, ViewEncoder views, int thumbnailSize, FrameLimits frameLimits) {
    this(decoder, views, thumbnailSize, frameLimits, null);
  }

  /** @param previews how uploads' colour previews are made ({@link #preview}); null = none */
  public ImagePreparer(ImageDecoder decoder, ViewEncoder views, int thumbnailSize, FrameLimits frameLimits,
      ColourPreviews previews) {
    this(decoder, views, thumbnailSize, frameLimits, previews, null);
  }

  /** @param local local-feature extraction ({@link Rendered#localFeatures}); null = none */
  public ImagePreparer(ImageDecoder decoder, ViewEncoder views, int thumbnailSize, FrameLimits frameLimits,
      ColourPreviews previews, LocalFeaturePrep local) {
    this.local = local;
    this.decoder = decoder;
    this.views = views;
    this.thumbnailSize = thumbnailSize;
    this.previews = previews;
    this.frames = new FrameReader(decoder.limits(), frameLimits);
  }

  public static ImagePreparer of(IngestConfig cfg) {
    return new ImagePreparer(new ImageDecoder(cfg.imageLimits()), new ViewEncoder(cfg.viewSpec(), cfg.borderTrim(), cfg.getInt(IngestConfig.SMALL_VIEW_SIDE)),
        cfg.thumbnailSize(), cfg.frameLimits(), cfg.previews(), cfg.localFeatures());
  }

  /**
   * What ingest knows about one accepted image.
   *
   * @param sha256 SHA-256 of the encoded bytes (32 bytes)
   * @param md5 MD5 of the encoded bytes (16 bytes): what hash-sharing programmes list files by
   * @param decoded the decode (format, declared size, orientation, stored pixels)
   * @param oriented the pixels as displayed
   * @param pdq PDQ of {@code oriented}, with its DCT for the dihedral variants
   * @param frames the further frames of a multi-frame image kept as views ({@link ViewEncoder#frame}), and how the
   *     look went; no frames when not asked for
   */
  public record Fingerprint(byte[] sha256, byte[] md5, DecodedImage decoded, RgbImage oriented, PdqHasher.Result pdq,
      FrameReader.Result<ImageView> frames) {}

  /** SHA-256 and MD5 of a file's bytes, computed once before decoding (a reject carries them too). */
  public record Digests(byte[] sha256, byte[] md5) {
    public static Digests of(byte[] bytes) {
      return new Digests(digest("SHA-256", bytes), digest("MD5", bytes));
    }
  }

  /** Decodes, orients and fingerprints {@code bytes}: the first frame only. */
  public Fingerprint fingerprint(byte[] bytes) throws ImageRejectedException {
    return fingerprint(bytes, false);
  }

  /**
   * Decodes, orients and fingerprints {@code bytes}; with {@code frames}, also renders the views of a multi-frame
   * image's further frames (animated GIF, APNG, animated WebP, multi-page TIFF: {@link FrameReader}), which share the
   * decode deadline with the first frame. A damaged later frame never rejects the image: the frames before it are
   * kept ({@link FrameReader.Result#stopped()}).
   */
  public Fingerprint fingerprint(byte[] bytes, boolean frames) throws ImageRejectedException {
    return fingerprint(bytes, Digests.of(bytes), frames);
  }

  /** As {@link #fingerprint(byte[], boolean)}, with the file's digests already computed. */
  public Fingerprint fingerprint(byte[] bytes, Digests digests, boolean frames) throws ImageRejectedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(decoder.limits().decodeTimeoutMs());
    DecodedImage decoded = decoder.decode(bytes);
    RgbImage oriented = decoded.oriented();
    PdqHasher.Result pdq = hashers.get().compute(oriented);
    FrameReader.Result<ImageView> more = frames
        ? this.frames.read(bytes, decoded, deadline, (index, picture) -> views.frame(index, picture))
        : FrameReader.Result.none(1, null);
    return new Fingerprint(digests.sha256(), digests.md5(), decoded, oriented, pdq, more);
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
   * @param thumbnail the greyscale verification thumbnail of the oriented image (of a mosaic found only once a keystone
   *     was undone, of the picture unwarped: {@link ViewEncoder.Mosaic#unwarped()}), or null when they are off
   * @param localFeatures the image's encoded local features (module local-features), or null (off, or no keypoint)
   */
  public record Rendered(List<ImageView> views, PdqHasher.Result trimmedPdq, GrayThumb thumbnail,
      byte[] localFeatures) {}

  /**
   * The named views of a fingerprinted image ({@code full} first; {@code trim} only when it has margins), then one
   * {@code frame<i>} view per further frame kept, and, with {@code trim}, the PDQ inside the border (one border search
   * serves both).
   */
  public Rendered render(Fingerprint f, List<String> names) {
    return render(f, names, false);
  }

  /**
   * As {@link #render(Fingerprint, List)}, with the local features of a reference ({@code reference}: an image of
   * the reference collections) or of a probe (every other upload and query) when they are on.
   */
  public Rendered render(Fingerprint f, List<String> names, boolean reference) {
    BorderTrim.Region margin = names.contains(ViewEncoder.TRIM) ? views.margin(f.oriented()) : null;
    boolean localInset = local != null && !reference && local.usesInset();
    InsetFinder.Found found = names.contains(ViewEncoder.INSET) || localInset
        ? views.locateInset(f.oriented(), margin) : null;
    BorderTrim.Region inset = found == null ? null : found.region();
    ViewEncoder.Mosaic mosaic = names.contains(ViewEncoder.DEPIXEL) ? views.mosaic(f.oriented(), margin) : null;
    List<ImageView> rendered = views.render(f.oriented(), names, margin, inset, mosaic);
    if (!f.frames().kept().isEmpty()) {
      rendered = new ArrayList<>(rendered);
      for (FrameReader.Kept<ImageView> k : f.frames().kept()) {
        rendered.add(k.value());
      }
    }
    return new Rendered(rendered,
        margin == null ? null : hashers.get().compute(BorderTrim.crop(f.oriented(), margin)),
        thumbnailSize == 0 ? null : GrayThumbnails.of(
            mosaic != null && mosaic.unwarped() != null ? mosaic.unwarped() : f.oriented(), thumbnailSize),
        local == null ? null : local.of(f.oriented(), reference, localInset && local.takes(found) ? inset : null));
  }

  /**
   * The colour preview of an upload (for the review console: {@link ColourPreviews}), made from the oriented pixels
   * the fingerprint decoded; null when previews are off. Never for queries: nothing of a query image is kept.
   */
  public ColourPreviews.Preview preview(Fingerprint f) {
    return previews == null ? null : previews.of(f.oriented());
  }

  public ImageDecoder decoder() {
    return decoder;
  }

  public static byte[] sha256(byte[] bytes) {
    return digest("SHA-256", bytes);
  }

  private static byte[] digest(String algorithm, byte[] bytes) {
    try {
      return MessageDigest.getInstance(algorithm).digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has " + algorithm, e);
    }
  }
}
