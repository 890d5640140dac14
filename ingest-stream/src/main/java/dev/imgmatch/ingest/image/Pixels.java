package dev.imgmatch.ingest.image;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBufferByte;
import java.awt.image.DataBufferInt;
import java.awt.image.PixelInterleavedSampleModel;
import java.awt.image.Raster;

/**
 * Converts whatever a decoder returns into an opaque {@link RgbImage}.
 *
 * <p>Colour: non-gray images go through {@link BufferedImage#getRGB} semantics (the colour model's
 * conversion to sRGB: palettes, 16-bit samples, CMYK already converted by the reader, ICC profiles), which
 * is also what the reference PDQ implementation reads. Fast paths read the common 8-bit interleaved layouts
 * directly with identical results. Gray images are taken at their stored values (display semantics), not
 * through Java's linear-gray colour space, which would brighten them.
 *
 * <p>Alpha: composited over a fixed background, {@code c * a + bg * (1 - a)} per channel, rounded.
 */
final class Pixels {
  private Pixels() {}

  static RgbImage toRgb(BufferedImage img, int background) {
    int w = img.getWidth();
    int h = img.getHeight();
    int[] out = new int[w * h];
    Raster r = img.getRaster();
    ColorModel cm = img.getColorModel();
    boolean plain = r.getSampleModelTranslateX() == 0 && r.getSampleModelTranslateY() == 0
        && r.getMinX() == 0 && r.getMinY() == 0;
    if (plain && img.getType() == BufferedImage.TYPE_3BYTE_BGR && r.getDataBuffer() instanceof DataBufferByte db
        && r.getSampleModel() instanceof PixelInterleavedSampleModel sm && db.getNumBanks() == 1
        && sm.getPixelStride() == 3) {
      byte[] d = db.getData();
      int[] off = sm.getBandOffsets();
      int stride = sm.getScanlineStride();
      int base = db.getOffset();
      for (int y = 0; y < h; y++) {
        int p = base + y * stride;
        int o = y * w;
        for (int x = 0; x < w; x++, p += 3) {
          out[o + x] = (d[p + off[0]] & 0xFF) << 16 | (d[p + off[1]] & 0xFF) << 8 | (d[p + off[2]] & 0xFF);
        }
      }
    } else if (plain && img.getType() == BufferedImage.TYPE_INT_RGB && r.getDataBuffer() instanceof DataBufferInt db
        && db.getOffset() == 0 && db.getData().length == w * h) {
      int[] d = db.getData();
      for (int i = 0; i < d.length; i++) {
        out[i] = d[i] & 0xFFFFFF;
      }
    } else if (cm instanceof ComponentColorModel && cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY) {
      grayToRgb(r, cm, background, out);
    } else {
      int[] row = new int[w];
      boolean alpha = cm.hasAlpha();
      for (int y = 0; y < h; y++) {
        img.getRGB(0, y, w, 1, row, 0, w);
        int o = y * w;
        if (alpha) {
          for (int x = 0; x < w; x++) {
            out[o + x] = composite(row[x] & 0xFFFFFF, row[x] >>> 24, background);
          }
        } else {
          for (int x = 0; x < w; x++) {
            out[o + x] = row[x] & 0xFFFFFF;
          }
        }
      }
    }
    return new RgbImage(w, h, out);
  }

  /**
   * {@code img} as non-premultiplied ARGB ints, alpha kept (a frame to compose on an animation's canvas): colour as
   * in {@link #toRgb}, grey at its stored values.
   */
  static int[] toArgb(BufferedImage img) {
    int w = img.getWidth();
    int h = img.getHeight();
    int[] out = new int[w * h];
    ColorModel cm = img.getColorModel();
    if (cm instanceof ComponentColorModel && cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY) {
      grayToArgb(img.getRaster(), cm, out);
      return out;
    }
    for (int y = 0; y < h; y++) {
      img.getRGB(0, y, w, 1, out, y * w, w);
    }
    return out;
  }

  private static void grayToRgb(Raster r, ColorModel cm, int background, int[] out) {
    grayToArgb(r, cm, out);
    for (int i = 0; i < out.length; i++) {
      out[i] = composite(out[i] & 0xFFFFFF, out[i] >>> 24, background);
    }
  }

  /** Grey (with or without alpha, any bit depth) to 8-bit ARGB; alpha 255 when the image has none. */
  private static void grayToArgb(Raster r, ColorModel cm, int[] out) {
    int w = r.getWidth();
    int h = r.getHeight();
    int grayMax = (1 << cm.getComponentSize(0)) - 1;
    boolean alpha = cm.hasAlpha() && r.getNumBands() > 1;
    int alphaMax = alpha ? (1 << cm.getComponentSize(1)) - 1 : 1;
    int[] g = new int[w];
    int[] a = alpha ? new int[w] : null;
    for (int y = 0; y < h; y++) {
      r.getSamples(r.getMinX(), r.getMinY() + y, w, 1, 0, g);
      if (alpha) {
        r.getSamples(r.getMinX(), r.getMinY() + y, w, 1, 1, a);
      }
      for (int x = 0; x < w; x++) {
        int v = grayMax == 255 ? g[x] : (int) ((g[x] * 255L + grayMax / 2) / grayMax);
        int av = !alpha ? 255 : alphaMax == 255 ? a[x] : (int) ((a[x] * 255L + alphaMax / 2) / alphaMax);
        out[y * w + x] = av << 24 | v << 16 | v << 8 | v;
      }
    }
  }

  static int composite(int rgb, int alpha, int background) {
    if (alpha >= 255) {
      return rgb;
    }
    int inv = 255 - alpha;
    int rr = (((rgb >> 16) & 0xFF) * alpha + ((background >> 16) & 0xFF) * inv + 127) / 255;
    int gg = (((rgb >> 8) & 0xFF) * alpha + ((background >> 8) & 0xFF) * inv + 127) / 255;
    int bb = ((rgb & 0xFF) * alpha + (background & 0xFF) * inv + 127) / 255;
    return rr << 16 | gg << 8 | bb;
  }
}
