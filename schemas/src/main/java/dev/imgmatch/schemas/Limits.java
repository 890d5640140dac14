package dev.imgmatch.schemas;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Bounds every stage agrees on, so that no stage emits what the next one must refuse, and no producer can make a
 * record that grows beyond what a downstream topic carries. Enforced where a record enters (ingest-stream for
 * uploads and image queries, index-service for id and vector queries and deletions): a record over a bound is
 * rejected with {@link #FIELD_TOO_LARGE}, never cut silently and never passed on.
 */
public final class Limits {
  /**
   * Most dimensions of a descriptor the index accepts (Lucene's HNSW vector formats stop at 1024). An embedder whose
   * head would emit more refuses to start; index-service refuses such vectors and reports them on its readiness.
   */
  public static final int MAX_VECTOR_DIMENSION = 1024;
  /**
   * Largest encoded image ingest-stream accepts by default ({@code ingest.max.image.bytes}), and the most an inline
   * image may have: an {@code uploads} or {@code queries} record must fit {@link Topics#MAX_MESSAGE_BYTES}.
   */
  public static final int MAX_IMAGE_BYTES = 20 * 1024 * 1024;
  /** Reject reason code of a record with a field over its bound. */
  public static final String FIELD_TOO_LARGE = "FIELD_TOO_LARGE";
  /** Image and query ids, and record keys (UTF-8 bytes). */
  public static final int MAX_ID_BYTES = 512;
  /** Tenant and collection names (UTF-8 bytes). */
  public static final int MAX_NAME_BYTES = 256;
  /** {@code source}, reference URIs and reply topic names (UTF-8 bytes). */
  public static final int MAX_SOURCE_BYTES = 2048;
  /** Entries of {@code attributes}. */
  public static final int MAX_ATTRIBUTES = 64;
  /** All keys and values of {@code attributes} together (UTF-8 bytes). */
  public static final int MAX_ATTRIBUTES_BYTES = 16 * 1024;
  /**
   * A colour preview (the JPEG of {@code PreparedImage.preview}, {@code ImageEmbedding.preview}, {@code
   * ImagePreview.jpeg}): a larger one is left out (the record goes on without it), never cut. A 320-px JPEG at
   * quality 0.8 takes 10-40 KB.
   */
  public static final int MAX_PREVIEW_BYTES = 64 * 1024;

  private Limits() {}

  /** UTF-8 length of a string (0 for null), without allocating for ASCII-only strings. */
  public static int utf8Length(CharSequence s) {
    if (s == null) {
      return 0;
    }
    int n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        n++;
      } else {
        return n + s.subSequence(i, s.length()).toString().getBytes(StandardCharsets.UTF_8).length;
      }
    }
    return n;
  }

  /**
   * Null when the fields that travel downstream fit their bounds; else which one does not, in words.
   *
   * @param idField the id's name in the schema ({@code imageId}, {@code queryId})
   */
  public static String tooLarge(String idField, CharSequence id, CharSequence tenant, CharSequence collection,
      CharSequence source, Map<? extends CharSequence, ? extends CharSequence> attributes) {
    String why = over(idField, id, MAX_ID_BYTES);
    why = why != null ? why : over("tenant", tenant, MAX_NAME_BYTES);
    why = why != null ? why : over("collection", collection, MAX_NAME_BYTES);
    why = why != null ? why : over("source", source, MAX_SOURCE_BYTES);
    if (why != null || attributes == null) {
      return why;
    }
    if (attributes.size() > MAX_ATTRIBUTES) {
      return "attributes has " + attributes.size() + " entries, more than " + MAX_ATTRIBUTES;
    }
    long bytes = 0;
    for (var e : attributes.entrySet()) {
      bytes += utf8Length(e.getKey()) + utf8Length(e.getValue());
    }
    return bytes > MAX_ATTRIBUTES_BYTES
        ? "attributes take " + bytes + " bytes, more than " + MAX_ATTRIBUTES_BYTES : null;
  }

  /** Null when {@code value} has at most {@code max} UTF-8 bytes; else the reason. */
  public static String over(String field, CharSequence value, int max) {
    int n = utf8Length(value);
    return n > max ? field + " has " + n + " bytes, more than " + max : null;
  }
}
