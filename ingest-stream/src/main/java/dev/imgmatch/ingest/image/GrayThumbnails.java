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
    int[] size = fitted(img, longSide);
    return new GrayThumb(size[0], size[1], grey(img, longSide));
  }

  /**
   * The grey pixels (luma, one byte each, row-major) of {@code img} area-averaged so that its longer side is at most
   * {@code longSide}, aspect kept, never enlarged; {@link #fitted} gives the size. No bound on the side (local
   * features take 512 px).
   */
  public static byte[] grey(RgbImage img, int longSide) {
    int[] size = fitted(img, longSide);
    int w = size[0];
    int h = size[1];
    int[] px = Resize.to(img, w, h).pixels();
    byte[] g = new byte[px.length];
    for (int i = 0; i < px.length; i++) {
      int p = px[i];
      g[i] = (byte) Math.round(0.299f * ((p >> 16) & 0xFF) + 0.587f * ((p >> 8) & 0xFF) + 0.114f * (p & 0xFF));
    }
    return g;
  }

  /** Width and height of {@code img} fitted into {@code longSide}, aspect kept, never enlarged, at least 1. */
  public static int[] fitted(RgbImage img, int longSide) {
    double s = Math.min(1.0, (double) longSide / Math.max(img.width(), img.height()));
    return new int[] {Math.max(1, Math.min(longSide, (int) Math.round(img.width() * s))),
        Math.max(1, Math.min(longSide, (int) Math.round(img.height() * s)))};
  }
}
