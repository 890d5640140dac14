package dev.imgmatch.common;

import dev.imgmatch.avro.Thumbnail;
import java.nio.ByteBuffer;

/**
 * The small greyscale copy of an image that index-service verifies candidates with (Avro {@code Thumbnail}):
 * made by ingest-stream, carried by embedder-worker, stored and compared by index-service.
 *
 * @param gray {@code width * height} luma bytes, row-major
 */
public record GrayThumb(int width, int height, byte[] gray) {
  /** Sides above this do not fit the stored form's one-byte header. */
  public static final int MAX_SIDE = 255;

  public GrayThumb {
    if (width < 1 || height < 1 || width > MAX_SIDE || height > MAX_SIDE || gray == null
        || gray.length != width * height) {
      throw new IllegalArgumentException("a thumbnail needs 1-" + MAX_SIDE + " pixels a side and width*height bytes,"
          + " got " + width + "x" + height + " with " + (gray == null ? 0 : gray.length) + " bytes");
    }
  }

  /** The thumbnail of a record, or null when it has none. */
  public static GrayThumb fromAvro(Thumbnail t) {
    if (t == null) {
      return null;
    }
    ByteBuffer b = t.getGray().duplicate();
    byte[] g = new byte[b.remaining()];
    b.get(g);
    return new GrayThumb(t.getWidth(), t.getHeight(), g);
  }

  public Thumbnail toAvro() {
    return new Thumbnail(width, height, ByteBuffer.wrap(gray));
  }

  /** The stored form: width, height (one unsigned byte each), then the pixels. */
  public byte[] encode() {
    byte[] out = new byte[2 + gray.length];
    out[0] = (byte) width;
    out[1] = (byte) height;
    System.arraycopy(gray, 0, out, 2, gray.length);
    return out;
  }

  /** Reads {@link #encode}'s form from {@code length} bytes at {@code offset}; null when there are fewer than 2. */
  public static GrayThumb decode(byte[] bytes, int offset, int length) {
    if (bytes == null || length < 2) {
      return null;
    }
    int w = bytes[offset] & 0xFF;
    int h = bytes[offset + 1] & 0xFF;
    byte[] g = new byte[length - 2];
    System.arraycopy(bytes, offset + 2, g, 0, g.length);
    return new GrayThumb(w, h, g);
  }
}
