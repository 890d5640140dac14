package dev.imgmatch.schemas;

/** Bounds every stage agrees on, so that no stage emits what the next one must refuse. */
public final class Limits {
  /**
   * Most dimensions of a descriptor the index accepts (Lucene's HNSW vector formats stop at 1024). An embedder whose
   * head would emit more refuses to start; index-service refuses such vectors and reports them on its readiness.
   */
  public static final int MAX_VECTOR_DIMENSION = 1024;

  private Limits() {}
}
