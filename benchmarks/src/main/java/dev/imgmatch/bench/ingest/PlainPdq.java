package dev.imgmatch.bench.ingest;

import java.awt.image.BufferedImage;
import java.util.Arrays;

/**
 * The baseline: PDQ written the straightforward way, as the reference implementation does it (luminance
 * through {@link BufferedImage#getRGB(int, int)} per pixel, all four box-filter passes over the full image,
 * columns walked with a stride, the 16x64 DCT matrix, median by sorting). Same arithmetic as ours, so the
 * same hash; it exists only to be timed in the same run as the optimised path.
 */
final class PlainPdq {
  private static final float[][] DCT = new float[16][64];

  static {
    double scale = Math.sqrt(2.0 / 64);
    for (int i = 0; i < 16; i++) {
      for (int j = 0; j < 64; j++) {
        DCT[i][j] = (float) (scale * Math.cos((Math.PI / 2 / 64) * (i + 1) * (2 * j + 1)));
      }
    }
  }

  private PlainPdq() {}

  /** 64 hex digits and the quality, as "hex,quality". */
  static String hash(BufferedImage img) {
    int h = img.getHeight();
    int w = img.getWidth();
    float[] a = new float[w * h];
    float[] b = new float[w * h];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int rgb = img.getRGB(x, y);
        a[y * w + x] = 0.299f * ((rgb >> 16) & 0xFF) + 0.587f * ((rgb >> 8) & 0xFF) + 0.114f * (rgb & 0xFF);
      }
    }
    int wr = (w + 127) / 128;
    int wc = (h + 127) / 128;
    for (int pass = 0; pass < 2; pass++) {
      for (int y = 0; y < h; y++) {
        box(a, y * w, b, y * w, w, 1, wr);
      }
      for (int x = 0; x < w; x++) {
        box(b, x, a, x, h, w, wc);
      }
    }
    float[][] g = new float[64][64];
    for (int i = 0; i < 64; i++) {
      int yi = (int) (((i + 0.5) * h) / 64);
      for (int j = 0; j < 64; j++) {
        g[i][j] = a[yi * w + (int) (((j + 0.5) * w) / 64)];
      }
    }
    int sum = 0;
    for (int i = 0; i < 63; i++) {
      for (int j = 0; j < 64; j++) {
        sum += Math.abs((int) (((g[i][j] - g[i + 1][j]) * 100) / 255));
      }
    }
    for (int i = 0; i < 64; i++) {
      for (int j = 0; j < 63; j++) {
        sum += Math.abs((int) (((g[i][j] - g[i][j + 1]) * 100) / 255));
      }
    }
    int quality = Math.min(100, sum / 90);
    float[][] t = new float[16][64];
    for (int i = 0; i < 16; i++) {
      for (int j = 0; j < 64; j++) {
        float s = 0;
        for (int k = 0; k < 64; k++) {
          s += DCT[i][k] * g[k][j];
        }
        t[i][j] = s;
      }
    }
    float[] c = new float[256];
    for (int i = 0; i < 16; i++) {
      for (int j = 0; j < 16; j++) {
        float s = 0;
        for (int k = 0; k < 64; k++) {
          s += t[i][k] * DCT[j][k];
        }
        c[i * 16 + j] = s;
      }
    }
    float[] sorted = c.clone();
    Arrays.sort(sorted);
    float median = sorted[127];
    StringBuilder hex = new StringBuilder(64);
    for (int word = 15; word >= 0; word--) {
      int v = 0;
      for (int bit = 0; bit < 16; bit++) {
        if (c[word * 16 + bit] > median) {
          v |= 1 << bit;
        }
      }
      hex.append(String.format("%04x", v));
    }
    return hex + "," + quality;
  }

  private static void box(float[] in, int inOff, float[] out, int outOff, int n, int stride, int win) {
    int half = (win + 2) / 2;
    int li = 0;
    int ri = 0;
    int oi = 0;
    float sum = 0;
    int count = 0;
    for (int i = 0; i < half - 1; i++, ri += stride) {
      sum += in[inOff + ri];
      count++;
    }
    for (int i = 0; i < win - half + 1; i++, ri += stride, oi += stride) {
      sum += in[inOff + ri];
      count++;
      out[outOff + oi] = sum / count;
    }
    for (int i = 0; i < n - win; i++, li += stride, ri += stride, oi += stride) {
      sum += in[inOff + ri];
      sum -= in[inOff + li];
      out[outOff + oi] = sum / count;
    }
    for (int i = 0; i < half - 1; i++, li += stride, oi += stride) {
      sum -= in[inOff + li];
      count--;
      out[outOff + oi] = sum / count;
    }
  }
}
