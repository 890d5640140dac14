package dev.imgmatch.ingest.image;

import dev.imgmatch.common.GrayThumb;

/**
 * Makes the greyscale thumbnail index-service's geometric verification compares ({@link GrayThumb}): area-averaged
 * ({@link Resize}) so that the longer side is at most {@code longSide} pixels, aspect kept, never enlarged; luma
 * 0.299 R + 0.587 G + 0.114 B, one byte per pixel, row-major.
 */
public final class GrayThumbnails {
  private GrayThumbnails() {}

  /** The thumbnail of {@code img} whose longer side is {@code longSide} (1-255), or less for a smaller image. */
  public static GrayThumb of(RgbImage img, int longSide) {
    if (longSide < 1 || longSide > GrayThumb.MAX_SIDE) {
      throw new IllegalArgumentException("thumbnail side must be 1-" + GrayThumb.MAX_SIDE + ", got " + longSide);
    }
    double s = Math.min(1.0, (double) longSide / Math.max(img.width(), img.height()));
    int w = Math.max(1, Math.min(longSide, (int) Math.round(img.width() * s)));
    int h = Math.max(1, Math.min(longSide, (int) Math.round(img.height() * s)));
    int[] px = Resize.to(img, w, h).pixels();
    byte[] g = new byte[px.length];
    for (int i = 0; i < px.length; i++) {
      int p = px[i];
      g[i] = (byte) Math.round(0.299f * ((p >> 16) & 0xFF) + 0.587f * ((p >> 8) & 0xFF) + 0.114f * (p & 0xFF));
    }
    return new GrayThumb(w, h, g);
  }
}
