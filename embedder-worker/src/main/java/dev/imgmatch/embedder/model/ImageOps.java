package dev.imgmatch.embedder.model;

import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import javax.imageio.ImageIO;

/**
 * Pixel plumbing shared by the worker, the CLI and the benchmark: decoding, conversion and the resize to the model
 * input. The resize is part of the model version ({@link #RESIZE_METHOD}): first 2x2 box averaging while the picture
 * is at least twice the target (an anti-aliased, cheap area filter), then bilinear sampling with half-pixel centres
 * to the exact target size; the aspect ratio is not kept (nsfwjs was trained on squashed pictures).
 */
public final class ImageOps {
  /** Names the resize; change it when the resize changes (it is part of every model version). */
  public static final String RESIZE_METHOD = "box2-bilinear-hp";

  private ImageOps() {}

  /**
   * Decodes an encoded picture (PNG, JPEG, and whatever ImageIO readers are on the classpath).
   *
   * @throws IllegalArgumentException when the bytes are not a decodable picture
   */
  public static RgbImage decode(byte[] bytes) {
    BufferedImage img;
    try {
      img = ImageIO.read(new ByteArrayInputStream(bytes));
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("cannot decode picture of " + bytes.length + " bytes: " + e.getMessage(), e);
    }
    if (img == null) {
      throw new IllegalArgumentException("no image reader recognises these " + bytes.length + " bytes");
    }
    return fromBufferedImage(img);
  }

  /** Any BufferedImage as RGB8 (alpha composited on white). */
  public static RgbImage fromBufferedImage(BufferedImage img) {
    int w = img.getWidth();
    int h = img.getHeight();
    BufferedImage rgb = img;
    if (img.getType() != BufferedImage.TYPE_INT_RGB) {
      rgb = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
      Graphics2D g = rgb.createGraphics();
      g.setColor(java.awt.Color.WHITE);
      g.fillRect(0, 0, w, h);
      g.drawImage(img, 0, 0, null);
      g.dispose();
    }
    int[] row = new int[w];
    byte[] out = new byte[w * h * 3];
    for (int y = 0; y < h; y++) {
      rgb.getRGB(0, y, w, 1, row, 0, w);
      for (int x = 0; x < w; x++) {
        int p = row[x];
        int o = (y * w + x) * 3;
        out[o] = (byte) (p >> 16);
        out[o + 1] = (byte) (p >> 8);
        out[o + 2] = (byte) p;
      }
    }
    return new RgbImage(w, h, out);
  }

  /** RGB8 to a BufferedImage (tests, tools). */
  public static BufferedImage toBufferedImage(RgbImage img) {
    BufferedImage out = new BufferedImage(img.width(), img.height(), BufferedImage.TYPE_INT_RGB);
    byte[] b = img.rgb();
    for (int y = 0; y < img.height(); y++) {
      for (int x = 0; x < img.width(); x++) {
        int o = (y * img.width() + x) * 3;
        out.setRGB(x, y, (b[o] & 255) << 16 | (b[o + 1] & 255) << 8 | (b[o + 2] & 255));
      }
    }
    return out;
  }

  /**
   * Resizes to {@code w x h} and normalises: writes {@code (p/255 - mean[c]) / std[c]} as HWC floats into
   * {@code dst} at {@code offset} (w*h*3 values).
   */
  public static void toModelInput(RgbImage img, int w, int h, float[] mean, float[] std, float[] dst, int offset) {
    int sw = img.width();
    int sh = img.height();
    float[] src = new float[sw * sh * 3];
    byte[] b = img.rgb();
    for (int i = 0; i < src.length; i++) {
      src[i] = b[i] & 255;
    }
    while (sw >= 2 * w && sh >= 2 * h) { // box-halve both axes
      int nw = sw / 2;
      int nh = sh / 2;
      float[] half = new float[nw * nh * 3];
      for (int y = 0; y < nh; y++) {
        int r0 = (2 * y) * sw;
        int r1 = (2 * y + 1) * sw;
        for (int x = 0; x < nw; x++) {
          int a = (r0 + 2 * x) * 3;
          int c = (r1 + 2 * x) * 3;
          int o = (y * nw + x) * 3;
          for (int k = 0; k < 3; k++) {
            half[o + k] = 0.25f * (src[a + k] + src[a + 3 + k] + src[c + k] + src[c + 3 + k]);
          }
        }
      }
      src = half;
      sw = nw;
      sh = nh;
    }
    float sx = (float) sw / w;
    float sy = (float) sh / h;
    float[] scale = new float[3];
    float[] shift = new float[3];
    for (int k = 0; k < 3; k++) {
      scale[k] = 1f / (255f * std[k]);
      shift[k] = -mean[k] / std[k];
    }
    for (int y = 0; y < h; y++) {
      float fy = Math.max(0f, (y + 0.5f) * sy - 0.5f);
      int y0 = Math.min((int) fy, sh - 1);
      int y1 = Math.min(y0 + 1, sh - 1);
      float dy = fy - y0;
      for (int x = 0; x < w; x++) {
        float fx = Math.max(0f, (x + 0.5f) * sx - 0.5f);
        int x0 = Math.min((int) fx, sw - 1);
        int x1 = Math.min(x0 + 1, sw - 1);
        float dx = fx - x0;
        int p00 = (y0 * sw + x0) * 3;
        int p01 = (y0 * sw + x1) * 3;
        int p10 = (y1 * sw + x0) * 3;
        int p11 = (y1 * sw + x1) * 3;
        int o = offset + (y * w + x) * 3;
        for (int k = 0; k < 3; k++) {
          float top = src[p00 + k] + (src[p01 + k] - src[p00 + k]) * dx;
          float bot = src[p10 + k] + (src[p11 + k] - src[p10 + k]) * dx;
          float v = top + (bot - top) * dy;
          dst[o + k] = v * scale[k] + shift[k];
        }
      }
    }
  }
}
