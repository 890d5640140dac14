package dev.imgmatch.index;

import dev.imgmatch.common.GrayThumb;
import java.util.Map;
import java.util.Objects;

/**
 * One image as a shard stores it (built from an {@code ImageEmbedding} with purpose INDEX).
 *
 * @param vector L2-normalised descriptor of {@code modelVersion}; its dimension comes from the model
 * @param sha256 32 bytes
 * @param pdq 32 bytes (PDQ's big-endian layout)
 * @param thumbnail its greyscale thumbnail for {@link Verifier}, or null (thumbnails off, older records)
 * @param smallVector the descriptor of the image shrunk small (ingest's {@code small} view, same model and
 *     dimension), searched beside {@code vector} so that tiny and pasted-small copies meet it; null for most images
 * @param localFeatures its encoded local features (module local-features) when it is a reference of
 *     {@code index.local.collections} sent with them; null otherwise
 * @param background its embedding's {@code backgroundCosine} (the embedder's background set, for the margin when
 *     the image is judged retroactively), or null (no background set, older records, another model version)
 * @param mosaic ingest-stream found a mosaic grid in the image (its record carries a {@code depixel} view): a pixelated
 *     upload, which a reference arriving later looks for by its layout ({@link Retroactive}); false for older records
 */
public record IndexedImage(String tenant, String imageId, String collection, String source,
    Map<String, String> attributes, String modelVersion, float[] vector, byte[] sha256, byte[] pdq, int pdqQuality,
    long submittedAtMs, GrayThumb thumbnail, float[] smallVector, byte[] md5, byte[] localFeatures, Float background,
    boolean mosaic) {

  public IndexedImage {
    Objects.requireNonNull(tenant, "tenant");
    Objects.requireNonNull(imageId, "imageId");
    Objects.requireNonNull(collection, "collection");
    Objects.requireNonNull(modelVersion, "modelVersion");
    Objects.requireNonNull(vector, "vector");
    Objects.requireNonNull(sha256, "sha256");
    Objects.requireNonNull(pdq, "pdq");
    attributes = attributes == null ? Map.of() : Map.copyOf(attributes);
    if (smallVector != null && smallVector.length != vector.length) {
      throw new IllegalArgumentException("image " + imageId + ": small view dimension " + smallVector.length
          + ", full view " + vector.length);
    }
  }

  /** Not a mosaic. */
  public IndexedImage(String tenant, String imageId, String collection, String source,
      Map<String, String> attributes, String modelVersion, float[] vector, byte[] sha256, byte[] pdq, int pdqQuality,
      long submittedAtMs, GrayThumb thumbnail, float[] smallVector, byte[] md5, byte[] localFeatures,
      Float background) {
    this(tenant, imageId, collection, source, attributes, modelVersion, vector, sha256, pdq, pdqQuality,
        submittedAtMs, thumbnail, smallVector, md5, localFeatures, background, false);
  }

  /** Without a background cosine. */
  public IndexedImage(String tenant, String imageId, String collection, String source,
      Map<String, String> attributes, String modelVersion, float[] vector, byte[] sha256, byte[] pdq, int pdqQuality,
      long submittedAtMs, GrayThumb thumbnail, float[] smallVector, byte[] md5, byte[] localFeatures) {
    this(tenant, imageId, collection, source, attributes, modelVersion, vector, sha256, pdq, pdqQuality,
        submittedAtMs, thumbnail, smallVector, md5, localFeatures, null);
  }

  /** Without local features. */
  public IndexedImage(String tenant, String imageId, String collection, String source,
      Map<String, String> attributes, String modelVersion, float[] vector, byte[] sha256, byte[] pdq, int pdqQuality,
      long submittedAtMs, GrayThumb thumbnail, float[] smallVector, byte[] md5) {
    this(tenant, imageId, collection, source, attributes, modelVersion, vector, sha256, pdq, pdqQuality,
        submittedAtMs, thumbnail, smallVector, md5, null);
  }

  /** The same image without its local features (an image of a collection that does not keep them). */
  public IndexedImage withoutLocalFeatures() {
    return localFeatures == null ? this : new IndexedImage(tenant, imageId, collection, source, attributes,
        modelVersion, vector, sha256, pdq, pdqQuality, submittedAtMs, thumbnail, smallVector, md5, null, background,
        mosaic);
  }

  /** Without an MD5 (images indexed before ImageEmbedding v5 carried one, and tests). */
  public IndexedImage(String tenant, String imageId, String collection, String source,
      Map<String, String> attributes, String modelVersion, float[] vector, byte[] sha256, byte[] pdq, int pdqQuality,
      long submittedAtMs, GrayThumb thumbnail, float[] smallVector) {
    this(tenant, imageId, collection, source, attributes, modelVersion, vector, sha256, pdq, pdqQuality,
        submittedAtMs, thumbnail, smallVector, null);
  }

  /** Without a small-view descriptor. */
  public IndexedImage(String tenant, String imageId, String collection, String source,
      Map<String, String> attributes, String modelVersion, float[] vector, byte[] sha256, byte[] pdq, int pdqQuality,
      long submittedAtMs, GrayThumb thumbnail) {
    this(tenant, imageId, collection, source, attributes, modelVersion, vector, sha256, pdq, pdqQuality,
        submittedAtMs, thumbnail, null);
  }

  /** Without a thumbnail. */
  public IndexedImage(String tenant, String imageId, String collection, String source,
      Map<String, String> attributes, String modelVersion, float[] vector, byte[] sha256, byte[] pdq, int pdqQuality,
      long submittedAtMs) {
    this(tenant, imageId, collection, source, attributes, modelVersion, vector, sha256, pdq, pdqQuality,
        submittedAtMs, null, null);
  }

  /** The same image in another collection. */
  public IndexedImage withCollection(String c) {
    return new IndexedImage(tenant, imageId, c, source, attributes, modelVersion, vector, sha256, pdq, pdqQuality,
        submittedAtMs, thumbnail, smallVector, md5, localFeatures, background, mosaic);
  }

  /** The unique document key: tenant and id (ids are unique within a tenant only). */
  public String uid() {
    return uid(tenant, imageId);
  }

  public static String uid(String tenant, String imageId) {
    return tenant + '\u001f' + imageId;
  }
}
