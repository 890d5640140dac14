package dev.imgmatch.ingest.image;

/**
 * Separable resize of an {@link RgbImage} to an exact size, aspect ratio not kept. Per axis: area averaging
 * when shrinking (each output pixel is the coverage-weighted mean of the source pixels under it: no aliasing,
 * like OpenCV's INTER_AREA) and bilinear interpolation when enlarging (pixel centres aligned, edges clamped).
 */
public final class Resize {
  private Resize() {}

  /** Source taps of one output sample along one axis. */
  private record Taps(int[] start, float[][] weights) {}

  public static RgbImage to(RgbImage src, int width, int height) {
    if (src.width() == width && src.height() == height) {
      return src;
    }
    Taps tx = taps(src.width(), width);
    Taps ty = taps(src.height(), height);
    int sw = src.width();
    int sh = src.height();
    int[] px = src.pixels();
    // horizontal pass: sh rows x width, 3 float channels
    float[] tmp = new float[sh * width * 3];
    for (int y = 0; y < sh; y++) {
      int row = y * sw;
      int o = y * width * 3;
      for (int x = 0; x < width; x++) {
        float r = 0;
        float g = 0;
        float b = 0;
        int s = tx.start[x];
        float[] w = tx.weights[x];
        for (int k = 0; k < w.length; k++) {
          int p = px[row + s + k];
          r += w[k] * ((p >> 16) & 0xFF);
          g += w[k] * ((p >> 8) & 0xFF);
          b += w[k] * (p & 0xFF);
        }
        tmp[o++] = r;
        tmp[o++] = g;
        tmp[o++] = b;
      }
    }
    int[] out = new int[width * height];
    int stride = width * 3;
    for (int y = 0; y < height; y++) {
      int s = ty.start[y];
      float[] w = ty.weights[y];
      for (int x = 0; x < width; x++) {
        float r = 0;
        float g = 0;
        float b = 0;
        int base = x * 3;
        for (int k = 0; k < w.length; k++) {
          int i = (s + k) * stride + base;
          r += w[k] * tmp[i];
          g += w[k] * tmp[i + 1];
          b += w[k] * tmp[i + 2];
        }
        out[y * width + x] = clamp(r) << 16 | clamp(g) << 8 | clamp(b);
      }
    }
    return new RgbImage(width, height, out);
  }

  private static int clamp(float v) {
    int i = Math.round(v);
    return i < 0 ? 0 : Math.min(255, i);
  }

  private static Taps taps(int in, int out) {
    int[] start = new int[out];
    float[][] weights = new float[out][];
    double scale = (double) in / out;
    if (scale >= 1) { // shrink: area coverage of [o * scale, (o + 1) * scale)
      for (int o = 0; o < out; o++) {
        double lo = o * scale;
        double hi = lo + scale;
        int first = (int) Math.floor(lo);
        int last = Math.min(in - 1, (int) Math.ceil(hi) - 1);
        float[] w = new float[last - first + 1];
        for (int i = first; i <= last; i++) {
          double cover = Math.min(hi, i + 1) - Math.max(lo, i);
          w[i - first] = (float) (Math.max(0, cover) / scale);
        }
        start[o] = first;
        weights[o] = w;
      }
    } else { // enlarge: bilinear between the two nearest source centres
      for (int o = 0; o < out; o++) {
        double c = (o + 0.5) * scale - 0.5;
        int i0 = (int) Math.floor(c);
        double f = c - i0;
        if (i0 < 0) {
          i0 = 0;
          f = 0;
        }
        if (i0 >= in - 1) {
          i0 = in - 1;
          f = 0;
        }
        start[o] = i0;
        weights[o] = f == 0 ? new float[] {1f} : new float[] {(float) (1 - f), (float) f};
      }
    }
    return new Taps(start, weights);
  }
}
