package dev.imgmatch.ingest;

import dev.imgmatch.avro.PixelEncoding;
import dev.imgmatch.ingest.image.Resize;
import dev.imgmatch.ingest.image.RgbImage;
import dev.imgmatch.schemas.Limits;

/**
 * Makes the small colour preview moderators judge an alert by (the {@code preview} of {@code PreparedImage}): the
 * decoded, oriented image area-averaged ({@link Resize}) so that its longer side is at most {@code longSide} pixels,
 * aspect kept, never enlarged, then encoded as a baseline JPEG. A preview over {@code maxBytes} is left out, never
 * cut: the record goes on without it.
 *
 * @param longSide longer side in pixels, 1-{@value #MAX_SIDE}
 * @param quality JPEG quality, 0.1-1.0
 * @param maxBytes largest JPEG kept, at most {@link Limits#MAX_PREVIEW_BYTES}
 */
public record ColourPreviews(int longSide, double quality, int maxBytes) {
  /** The largest longer side a preview may have. */
  public static final int MAX_SIDE = 1024;

  public ColourPreviews {
    if (longSide < 1 || longSide > MAX_SIDE) {
      throw new IllegalArgumentException("preview size must be 1-" + MAX_SIDE + " pixels, got " + longSide);
    }
    if (!(quality >= 0.1 && quality <= 1.0)) {
      throw new IllegalArgumentException("preview JPEG quality must be 0.1-1.0, got " + quality);
    }
    if (maxBytes < 1 || maxBytes > Limits.MAX_PREVIEW_BYTES) {
      throw new IllegalArgumentException("preview byte limit must be 1-" + Limits.MAX_PREVIEW_BYTES + ", got "
          + maxBytes);
    }
  }

  /**
   * A preview made, or why not.
   *
   * @param jpeg the JPEG, or null when it took more than the limit
   * @param width its width in pixels
   * @param height its height in pixels
   * @param bytes the JPEG's size (also when it was left out)
   */
  public record Preview(byte[] jpeg, int width, int height, int bytes) {
    public boolean tooLarge() {
      return jpeg == null;
    }
  }

  /** The size of the preview of a {@code width} x {@code height} image: {width, height}. */
  public static int[] dimensions(int width, int height, int longSide) {
    double s = Math.min(1.0, (double) longSide / Math.max(width, height));
    int w = Math.max(1, Math.min(longSide, (int) Math.round(width * s)));
    int h = Math.max(1, Math.min(longSide, (int) Math.round(height * s)));
    return new int[] {w, h};
  }

  /** The preview of {@code oriented} (the picture as displayed). */
  public Preview of(RgbImage oriented) {
    int[] d = dimensions(oriented.width(), oriented.height(), longSide);
    RgbImage small = Resize.to(oriented, d[0], d[1]);
    byte[] jpeg = ViewEncoder.encode(small, PixelEncoding.JPEG, (int) Math.round(quality * 100));
    return new Preview(jpeg.length > maxBytes ? null : jpeg, d[0], d[1], jpeg.length);
  }
}
