package dev.imgmatch.embedder.head;

/**
 * The seam between the model's raw pooled features and the vector that gets indexed: a pure function from a
 * {@link #inputDim()}-d feature vector to an L2-normalised {@link #outputDim()}-d descriptor (cosine = dot product).
 *
 * <p>Heads are versioned artifacts: {@link #version()} names the head and a digest of its parameters, and is part of
 * every embedding's model version, so vectors of different heads are never compared. Today's heads are
 * {@link LinearHead}s (centring, optionally followed by a projection such as PCA-whitening); a metric-learned
 * projection (issue 7) plugs in as another implementation or simply as another {@link LinearHead} file.
 * Implementations must be immutable and thread-safe.
 */
public interface DescriptorHead {
  /** Short kind + parameter digest, e.g. {@code pcaw256-3f9a0c1e2b4d}. */
  String version();

  int inputDim();

  int outputDim();

  /** The L2-normalised descriptor of one feature vector (a new array). */
  float[] apply(float[] features);

  /** Scales {@code v} to unit length in place (a zero vector stays zero). */
  static float[] l2normalize(float[] v) {
    double s = 0;
    for (float x : v) {
      s += (double) x * x;
    }
    if (s > 0) {
      float inv = (float) (1.0 / Math.sqrt(s));
      for (int i = 0; i < v.length; i++) {
        v[i] *= inv;
      }
    }
    return v;
  }
}
