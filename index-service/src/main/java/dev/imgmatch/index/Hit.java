package dev.imgmatch.index;

import dev.imgmatch.avro.MatchedImage;
import dev.imgmatch.common.GrayThumb;
import java.util.List;
import java.util.Map;

/**
 * One indexed image found by a probe, with every signal measured against it (whichever signal found it).
 *
 * @param pdqDistance smallest Hamming distance over the probe's hashes; null when either PDQ is below quality
 * @param cosine best cosine over the probe's vectors; null when the image has no vector of the probe's version
 * @param similarity the fused similarity of the pair by {@link MatchPolicy#score}, on its own
 * @param score the decision score: {@code similarity} less the margin term against the best competing work
 *     ({@link MatchPolicy#rank}); equal to {@code similarity} until ranked
 * @param sha256 the indexed image's SHA-256 (to tell copies of one work apart from different works)
 * @param pdq its PDQ hash, or null when absent or below the minimum quality
 * @param vector its stored descriptor of the probe's model version, or null
 * @param thumbnail its stored greyscale thumbnail ({@link Verifier}), or null (also when the policy verifies nothing:
 *     the stored field is then not read)
 * @param local the RANSAC placement of this reference inside the probe (local verification of the references that
 *     share the most rare visual words with a probe the global signals did not decide: {@link LocalCandidates},
 *     {@link LocalShards#search}); null when not verified
 */
public record Hit(String uid, String imageId, String tenant, String collection, String source,
    Map<String, String> attributes, long submittedAtMs, boolean exact, Integer pdqDistance, Float cosine,
    double similarity, double score, int shard, byte[] sha256, byte[] pdq, float[] vector, GrayThumb thumbnail,
    Hit.Placement local) {

  /**
   * Where local verification placed the reference inside the probe: its inliers, the part of the probe they lie in
   * ({x0, y0, x1, y1}, fractions of the probe's width and height), and the image ids of the references placed on the
   * same part with fewer inliers (its near-duplicates: {@link MatchPolicy#placeLocally}).
   */
  public record Placement(int inliers, float[] box, List<String> nearDuplicates) {
    public Placement(int inliers, float[] box) {
      this(inliers, box, List.of());
    }

    /** The same placement, also standing for {@code others} placed on its spot with fewer inliers. */
    public Placement withNearDuplicates(List<String> others) {
      return new Placement(inliers, box, List.copyOf(others));
    }
  }

  /** Inliers of the local placement; 0 when the hit was not verified locally. */
  public int localInliers() {
    return local == null ? 0 : local.inliers();
  }

  /** Not verified by local features. */
  public Hit(String uid, String imageId, String tenant, String collection, String source,
      Map<String, String> attributes, long submittedAtMs, boolean exact, Integer pdqDistance, Float cosine,
      double similarity, double score, int shard, byte[] sha256, byte[] pdq, float[] vector, GrayThumb thumbnail) {
    this(uid, imageId, tenant, collection, source, attributes, submittedAtMs, exact, pdqDistance, cosine, similarity,
        score, shard, sha256, pdq, vector, thumbnail, null);
  }

  /** Without a thumbnail. */
  public Hit(String uid, String imageId, String tenant, String collection, String source,
      Map<String, String> attributes, long submittedAtMs, boolean exact, Integer pdqDistance, Float cosine,
      double similarity, double score, int shard, byte[] sha256, byte[] pdq, float[] vector) {
    this(uid, imageId, tenant, collection, source, attributes, submittedAtMs, exact, pdqDistance, cosine, similarity,
        score, shard, sha256, pdq, vector, null);
  }

  /** The uid prefix of a hash-list bank entry's hit ({@link #bankEntry}); no indexed image's uid starts with it. */
  static final String BANK_UID = "bank\u001f";

  /**
   * The hit of an entry of a hash-list bank ({@link BankIndex}): no image behind it, so no vector, thumbnail or shard;
   * {@code collection} is the bank's name and {@link #toAvro} sets the match's {@code bank}.
   */
  public static Hit bankEntry(String bank, String tenant, String entryId, String source, Map<String, String> attributes,
      boolean exact, Integer pdqDistance, double score, byte[] sha256, byte[] pdq) {
    return new Hit(BANK_UID + tenant + '\u001f' + bank + '\u001f' + entryId, entryId, tenant, bank, source, attributes,
        0L, exact, pdqDistance, null, score, score, -1, sha256, pdq, null);
  }

  /** True for the hit of a hash-list bank entry. */
  public boolean isBank() {
    return uid.startsWith(BANK_UID);
  }

  /** The same hit with another decision score. */
  public Hit withScore(double s) {
    return new Hit(uid, imageId, tenant, collection, source, attributes, submittedAtMs, exact, pdqDistance, cosine,
        similarity, s, shard, sha256, pdq, vector, thumbnail, local);
  }

  /** The same hit with the placement its local verification found. */
  public Hit withPlacement(Placement p) {
    return new Hit(uid, imageId, tenant, collection, source, attributes, submittedAtMs, exact, pdqDistance, cosine,
        similarity, score, shard, sha256, pdq, vector, thumbnail, p);
  }

  public MatchedImage toAvro() {
    return MatchedImage.newBuilder()
        .setImageId(imageId)
        .setTenant(tenant)
        .setCollection(collection)
        .setSource(source)
        .setScore((float) score)
        .setExact(exact)
        .setPdqDistance(pdqDistance)
        .setCosine(cosine)
        .setAttributes(Map.copyOf(attributes))
        .setLocalInliers(local != null && local.inliers() > 0 ? local.inliers() : null)
        .setNearDuplicates(local == null ? List.of() : local.nearDuplicates())
        .setBank(isBank() ? collection : null)
        .build();
  }
}
