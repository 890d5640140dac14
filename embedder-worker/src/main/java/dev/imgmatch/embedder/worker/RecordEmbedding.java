package dev.imgmatch.embedder.worker;

import dev.imgmatch.avro.ImageEmbedding;
import dev.imgmatch.avro.ImageView;
import dev.imgmatch.avro.PreparedImage;
import dev.imgmatch.avro.Purpose;
import dev.imgmatch.avro.ViewVector;
import dev.imgmatch.embedder.Embedder;
import dev.imgmatch.embedder.model.ImageOps;
import dev.imgmatch.embedder.model.RgbImage;
import dev.imgmatch.schemas.Limits;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/** Pure conversions between the prepared records and what the model sees and produces. */
public final class RecordEmbedding {
  private RecordEmbedding() {}

  /** A picture that cannot be turned into pixels: the record is rejected with {@link #reasonCode}. */
  public static final class BadPictureException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    private final String reasonCode;

    BadPictureException(String reasonCode, String message, Throwable cause) {
      super(message, cause);
      this.reasonCode = reasonCode;
    }

    public String reasonCode() {
      return reasonCode;
    }
  }

  /** Every view of the record as pixels, 'full' first. */
  public static List<RgbImage> pictures(PreparedImage p) {
    List<ImageView> views = p.getViews();
    if (views == null || views.isEmpty()) {
      throw new BadPictureException("MALFORMED_RECORD", "prepared record " + p.getId() + " has no views", null);
    }
    List<RgbImage> out = new ArrayList<>(views.size());
    for (ImageView v : views) {
      out.add(picture(p.getId(), v));
    }
    return out;
  }

  /** Decodes one view whatever its PixelEncoding. */
  public static RgbImage picture(String id, ImageView v) {
    byte[] bytes = bytes(v.getPixels());
    if (bytes.length == 0) {
      throw new BadPictureException("EMPTY_IMAGE", "view '" + v.getName() + "' of " + id + " has no pixels", null);
    }
    try {
      RgbImage img = switch (v.getEncoding()) {
        case RGB8 -> new RgbImage(v.getWidth(), v.getHeight(), bytes);
        case PNG, JPEG -> ImageOps.decode(bytes);
      };
      return img;
    } catch (IllegalArgumentException e) {
      throw new BadPictureException("CORRUPT_IMAGE", "view '" + v.getName() + "' (" + v.getEncoding() + ", "
          + v.getWidth() + "x" + v.getHeight() + ") of " + id + ": " + e.getMessage(), e);
    }
  }

  private static byte[] bytes(ByteBuffer b) {
    ByteBuffer d = b.duplicate();
    byte[] out = new byte[d.remaining()];
    d.get(out);
    return out;
  }

  /** The embedding record of a prepared record whose views gave {@code results} (same order). */
  public static ImageEmbedding toRecord(PreparedImage p, List<Embedder.Embedding> results, String modelId,
      String modelVersion, long nowMs) {
    List<ViewVector> extra = new ArrayList<>();
    for (int i = 1; i < results.size(); i++) {
      extra.add(ViewVector.newBuilder().setView(p.getViews().get(i).getName()).setVector(floats(results.get(i).vector()))
          .build());
    }
    return ImageEmbedding.newBuilder()
        .setId(p.getId())
        .setPurpose(p.getPurpose())
        .setTenant(p.getTenant())
        .setCollection(p.getCollection())
        .setSource(p.getSource())
        .setAttributes(p.getAttributes())
        .setModelId(modelId)
        .setModelVersion(modelVersion)
        .setVector(floats(results.get(0).vector()))
        .setExtraViews(extra)
        .setSha256(p.getSha256())
        .setMd5(p.getMd5())
        .setPdq(p.getPdq())
        .setPdqDihedral(p.getPdqDihedral())
        .setPdqTrim(p.getPdqTrim())
        .setThumbnail(p.getThumbnail())
        .setPreview(preview(p))
        .setLocalFeatures(localFeatures(p))
        .setClassScores(results.get(0).classScores())
        .setExactDuplicateOf(p.getExactDuplicateOf())
        .setQuery(p.getQuery())
        .setSubmittedAtMs(p.getSubmittedAtMs())
        .setPreparedAtMs(p.getPreparedAtMs())
        .setEmbeddedAtMs(nowMs)
        .setWidth(p.getWidth())
        .setHeight(p.getHeight())
        .build();
  }

  /** The name of the reference-only view (embedded for the index, never a probe's view). */
  static final String SMALL_VIEW = "small";
  /**
   * The name of the view of a picture pasted into the image, whose descriptor only nominates references for local
   * verification in index-service: it scores nothing, so it does not raise the probe's background cosine either.
   */
  static final String INSET_VIEW = "inset";

  /**
   * The vectors of the views a picture is scored with (its background cosine is taken over them): every view but
   * the reference-only 'small' one and the nominating 'inset' one.
   */
  static List<float[]> probeVectors(PreparedImage p, List<Embedder.Embedding> results) {
    List<float[]> out = new ArrayList<>(results.size());
    for (int i = 0; i < results.size(); i++) {
      String name = p.getViews().get(i).getName().toString();
      if (i == 0 || !(SMALL_VIEW.equals(name) || INSET_VIEW.equals(name))) {
        out.add(results.get(i).vector());
      }
    }
    return out;
  }

  /** The most bytes of local features passed on: 4096 keypoints (local-features' bound; index-service checks the rest). */
  static final int MAX_LOCAL_FEATURES_BYTES = 7 + 4096 * 132;

  /** The image's local features passed on, or null when absent or larger than any valid encoding. */
  static java.nio.ByteBuffer localFeatures(PreparedImage p) {
    java.nio.ByteBuffer b = p.getLocalFeatures();
    return b == null || b.remaining() > MAX_LOCAL_FEATURES_BYTES ? null : b;
  }

  /**
   * The upload's colour preview passed on: uploads only, and only within {@link Limits#MAX_PREVIEW_BYTES} (any
   * producer can write {@code prepared}: a larger one is left out, the record goes on without it).
   */
  static ByteBuffer preview(PreparedImage p) {
    ByteBuffer b = p.getPreview();
    return p.getPurpose() == Purpose.INDEX && b != null && b.remaining() > 0
        && b.remaining() <= Limits.MAX_PREVIEW_BYTES ? b : null;
  }

  private static List<Float> floats(float[] v) {
    List<Float> l = new ArrayList<>(v.length);
    for (float x : v) {
      l.add(x);
    }
    return l;
  }
}
