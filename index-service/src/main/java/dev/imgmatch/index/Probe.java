package dev.imgmatch.index;

import dev.imgmatch.common.GrayThumb;
import dev.imgmatch.local.LocalFeatures;
import java.util.List;

/**
 * What to look up: descriptors (the full view first, then any extra views of a query image), PDQ hashes (the
 * 8 dihedral variants for queries), the SHA-256, and what may be returned.
 *
 * @param modelVersion the descriptors' version; only the vector field of that version is searched
 * @param vectors one or more L2-normalised descriptors (may be empty)
 * @param pdqHashes one or more 32-byte PDQ hashes (may be empty); the smallest distance counts
 * @param pdqQuality quality of the probe's PDQ; below the policy minimum PDQ is not used
 * @param sha256 32 bytes, or null
 * @param k how many results the caller wants from each signal (kNN neighbours per vector)
 * @param thumbnail the probe's greyscale thumbnail, or null: without it candidates are not verified
 * @param local the probe's local features, or null: without them no reference is looked for inside it
 * @param background the probe's background cosine (its embedding's {@code backgroundCosine}): how similar the most
 *     similar picture of the embedder's background set is; a competitor in the margin ({@link MatchPolicy#rank}).
 *     Null: none
 * @param nominators descriptors that only choose candidates for local verification (the {@code inset} view: a
 *     picture pasted into the probe): their nearest references are placed inside the probe by local features
 *     ({@link LocalShards#search}) but their similarities score nothing — as scoring views they raised every
 *     competitor's similarity too and cost copies their margin (docs/BENCHMARKS.md, "Pasted copies: the inset")
 * @param mosaic ingest-stream found a mosaic grid in the probe (it carries a {@code depixel} view): a pixelated
 *     picture, also matched by its coarse layout ({@link Layout})
 * @param side the longer side in pixels of the decoded upload or query, or null when unknown (records written before
 *     ImageEmbedding v12, probes made from the index): a tiny probe is also judged by its layout ({@link Layout#tiny})
 */
public record Probe(String modelVersion, List<float[]> vectors, List<byte[]> pdqHashes, int pdqQuality,
    byte[] sha256, SearchFilter filter, int k, GrayThumb thumbnail, LocalFeatures local, Float background,
    List<float[]> nominators, boolean mosaic, Integer side) {
  public Probe {
    vectors = List.copyOf(vectors);
    pdqHashes = List.copyOf(pdqHashes);
    nominators = List.copyOf(nominators);
    if (k < 1) {
      throw new IllegalArgumentException("k must be >= 1, got " + k);
    }
  }

  /**
   * The dot product in one fixed order (a plain loop into a double): the same bits on every run. Lucene's
   * {@code VectorUtil.dotProduct} with the vector API rounds differently once the JIT compiles it (one fixed pair gave
   * 8.901615 for its first 23,689 calls and 8.901616 after), which made scores — and a pair exactly at a threshold —
   * differ between runs; decisions are taken on these values, so they must not. (kNN search keeps Lucene's.)
   */
  public static float dot(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return (float) s;
  }

  /**
   * The best cosine of any of the probe's views (of the candidate's dimension) with the candidate's full descriptor
   * or its small-view one; null when no view is comparable (no full descriptor, or other dimensions).
   *
   * @param small the candidate's small-view descriptor, or null when it has none
   */
  public Float bestCosine(float[] full, float[] small) {
    if (full == null) {
      return null;
    }
    Float best = null;
    for (float[] q : vectors) {
      if (q.length == full.length) {
        float c = dot(q, full);
        if (small != null) {
          c = Math.max(c, dot(q, small));
        }
        best = best == null ? c : Math.max(best, c);
      }
    }
    return best;
  }

  /** Its size unknown. */
  public Probe(String modelVersion, List<float[]> vectors, List<byte[]> pdqHashes, int pdqQuality, byte[] sha256,
      SearchFilter filter, int k, GrayThumb thumbnail, LocalFeatures local, Float background,
      List<float[]> nominators, boolean mosaic) {
    this(modelVersion, vectors, pdqHashes, pdqQuality, sha256, filter, k, thumbnail, local, background, nominators,
        mosaic, null);
  }

  /** Not a mosaic. */
  public Probe(String modelVersion, List<float[]> vectors, List<byte[]> pdqHashes, int pdqQuality, byte[] sha256,
      SearchFilter filter, int k, GrayThumb thumbnail, LocalFeatures local, Float background,
      List<float[]> nominators) {
    this(modelVersion, vectors, pdqHashes, pdqQuality, sha256, filter, k, thumbnail, local, background, nominators,
        false);
  }

  /** Without nominators. */
  public Probe(String modelVersion, List<float[]> vectors, List<byte[]> pdqHashes, int pdqQuality, byte[] sha256,
      SearchFilter filter, int k, GrayThumb thumbnail, LocalFeatures local, Float background) {
    this(modelVersion, vectors, pdqHashes, pdqQuality, sha256, filter, k, thumbnail, local, background, List.of());
  }

  /** Without a background cosine. */
  public Probe(String modelVersion, List<float[]> vectors, List<byte[]> pdqHashes, int pdqQuality, byte[] sha256,
      SearchFilter filter, int k, GrayThumb thumbnail, LocalFeatures local) {
    this(modelVersion, vectors, pdqHashes, pdqQuality, sha256, filter, k, thumbnail, local, null);
  }

  /** Without local features. */
  public Probe(String modelVersion, List<float[]> vectors, List<byte[]> pdqHashes, int pdqQuality, byte[] sha256,
      SearchFilter filter, int k, GrayThumb thumbnail) {
    this(modelVersion, vectors, pdqHashes, pdqQuality, sha256, filter, k, thumbnail, null);
  }

  /** Without a thumbnail (no verification). */
  public Probe(String modelVersion, List<float[]> vectors, List<byte[]> pdqHashes, int pdqQuality, byte[] sha256,
      SearchFilter filter, int k) {
    this(modelVersion, vectors, pdqHashes, pdqQuality, sha256, filter, k, null);
  }
}
