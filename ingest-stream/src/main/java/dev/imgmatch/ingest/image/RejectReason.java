package dev.imgmatch.ingest.image;

/**
 * Why ingest refused an image; the name is the reject reason code written to the dead-letter topic
 * (docs/modules/ingest-stream.md lists them with examples).
 */
public enum RejectReason {
  /** Zero bytes where an image was expected. */
  EMPTY_IMAGE,
  /** The encoded file is larger than {@code ingest.max.image.bytes}. */
  IMAGE_TOO_LARGE,
  /** The bytes are not one of the accepted formats. */
  UNSUPPORTED_FORMAT,
  /** The header declares more pixels (or a longer side) than allowed: refused before decoding (bomb). */
  TOO_MANY_PIXELS,
  /** A JPEG with more scans than {@code ImageLimits.MAX_JPEG_SCANS}: a progressive decompression bomb. */
  TOO_MANY_SCANS,
  /** Smaller than {@code ingest.min.width} x {@code ingest.min.height}. */
  IMAGE_TOO_SMALL,
  /** The file is damaged: bad checksum, truncated, or the decoder failed or warned. */
  CORRUPT_IMAGE,
  /** Decoding took longer than {@code ingest.decode.timeout.ms}. */
  DECODE_TIMEOUT,
  /** A reference outside the allowed roots, or references are disabled. */
  REFERENCE_NOT_ALLOWED,
  /** An allowed reference that cannot be read (missing file, I/O error). */
  REFERENCE_UNREADABLE,
  /** A well-formed record that breaks a rule of its contract (e.g. a blank id or tenant). */
  INVALID_RECORD,
  /** An id, name, source or the attributes are over their bound ({@code dev.imgmatch.schemas.Limits}). */
  FIELD_TOO_LARGE,
  /** A bug or an unexpected failure inside ingest-stream; the record is kept in the rejects topic. */
  INTERNAL_ERROR
}
