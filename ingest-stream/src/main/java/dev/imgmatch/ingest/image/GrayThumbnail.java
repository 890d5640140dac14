package dev.imgmatch.ingest.image;

/**
 * A small greyscale copy of an image, as index-service's geometric verification compares them: area-averaged
 * ({@link Resize}) so that the longer side is at most {@code longSide} pixels, aspect kept, never enlarged; luma
 * 0.299 R + 0.587 G + 0.114 B, one byte per pixel, row-major.
 *
 * @param gray {@code width * height} bytes
 */
public record GrayThumbnail(int width, int height, byte[] gray) {
  /** The longest side the Avro {@code Thumbnail} (and index-service's stored field) allows. */
  public static final int MAX_SIDE = 255;

  public GrayThumbnail {
    if (width < 1 || height < 1 || width > MAX_SIDE || height > MAX_SIDE || gray.length != width * height) {
      throw new IllegalArgumentException("thumbnail " + width + "x" + height + " with " + gray.length + " bytes");
    }
  }

  /** The thumbnail of {@code img} whose longer side is {@code longSide} (1-255), or less for a smaller image. */
  public static GrayThumbnail of(RgbImage img, int longSide) {
    if (longSide < 1 || longSide > MAX_SIDE) {
      throw new IllegalArgumentException("thumbnail side must be 1-" + MAX_SIDE + ", got " + longSide);
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
    return new GrayThumbnail(w, h, g);
  }
}
