package dev.imgmatch.embedder.model;

/**
 * Decoded sRGB pixels: 3 bytes per pixel (R, G, B), row-major, no padding, as in {@code PixelEncoding.RGB8}.
 *
 * @param width width in pixels
 * @param height height in pixels
 * @param rgb width*height*3 bytes
 */
public record RgbImage(int width, int height, byte[] rgb) {
  public RgbImage {
    if (width < 1 || height < 1) {
      throw new IllegalArgumentException("image size " + width + "x" + height + " is empty");
    }
    if ((long) width * height * 3 != rgb.length) {
      throw new IllegalArgumentException("RGB8 picture of " + width + "x" + height + " needs " + (long) width * height * 3
          + " bytes, got " + rgb.length);
    }
  }
}
