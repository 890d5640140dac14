package dev.imgmatch.ingest.image;

import java.util.Objects;

/**
 * An opaque sRGB picture, one {@code int} per pixel ({@code 0xRRGGBB}), row-major, no padding. This is the
 * canonical form every decoder output is converted to before hashing and resizing.
 *
 * @param width pixels per row
 * @param height rows
 * @param pixels {@code width * height} packed pixels; owned by this image, never mutated after creation
 */
public record RgbImage(int width, int height, int[] pixels) {

  public RgbImage {
    Objects.requireNonNull(pixels, "pixels");
    if (width < 1 || height < 1 || (long) width * height != pixels.length) {
      throw new IllegalArgumentException("a " + width + "x" + height + " image needs " + (long) width * height
          + " pixels, got " + pixels.length);
    }
  }

  public int rgb(int x, int y) {
    return pixels[y * width + x];
  }

  /**
   * This image as it should be displayed given its EXIF orientation tag (1-8, TIFF/EXIF 2.3 table):
   * 1 as stored, 2 mirrored left-right, 3 rotated 180, 4 mirrored top-bottom, 5 transposed,
   * 6 rotated 90 clockwise, 7 transversed, 8 rotated 90 counter-clockwise. Any other value: as stored.
   */
  public RgbImage oriented(int exifOrientation) {
    if (exifOrientation < 2 || exifOrientation > 8) {
      return this;
    }
    final int w = width;
    final int h = height;
    boolean swap = exifOrientation >= 5;
    int ow = swap ? h : w;
    int oh = swap ? w : h;
    int[] out = new int[pixels.length];
    for (int y = 0; y < oh; y++) {
      int row = y * ow;
      for (int x = 0; x < ow; x++) {
        int sx;
        int sy;
        switch (exifOrientation) {
          case 2 -> { sx = w - 1 - x; sy = y; }
          case 3 -> { sx = w - 1 - x; sy = h - 1 - y; }
          case 4 -> { sx = x; sy = h - 1 - y; }
          case 5 -> { sx = y; sy = x; }
          case 6 -> { sx = y; sy = h - 1 - x; }
          case 7 -> { sx = w - 1 - y; sy = h - 1 - x; }
          default -> { sx = w - 1 - y; sy = x; } // 8
        }
        out[row + x] = pixels[sy * w + sx];
      }
    }
    return new RgbImage(ow, oh, out);
  }
}
