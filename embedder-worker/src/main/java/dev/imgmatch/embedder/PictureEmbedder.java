package dev.imgmatch.embedder;

import dev.imgmatch.embedder.model.RgbImage;
import java.util.List;

/**
 * What the worker needs from a descriptor: pictures in, one {@link Embedder.Embedding} per picture out, in order.
 * {@link Embedder} is the real one; tests of pure worker logic may substitute their own.
 */
public interface PictureEmbedder extends AutoCloseable {
  String modelId();

  String modelVersion();

  int dim();

  /**
   * Embeds a batch.
   *
   * @throws Exception when the batch could not be embedded (the caller retries, then isolates records)
   */
  List<Embedder.Embedding> embed(List<RgbImage> images) throws Exception;

  /**
   * The highest cosine between any of {@code views} (this descriptor's vectors of one picture) and the background set
   * (module docs: embedder-worker, "Background set"), or null when this descriptor has none loaded.
   */
  default Float backgroundCosine(List<float[]> views) {
    return null;
  }

  /**
   * The descriptor one batch uses from its first picture to its records' model version: itself, or for a worker that
   * serves the version {@code ./imgmatch reindex} switched to, the one it serves now.
   */
  default PictureEmbedder forBatch() {
    return this;
  }

  @Override
  void close();
}
