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
    int[] px = src.pixels();
    // one output row at a time: its vertical pass into planar float rows of the source's width (the inner loops run
    // over contiguous memory, which the JIT vectorises; three rows stay in cache where whole planes of every output
    // row did not, and nothing the size of the picture is allocated), then its horizontal taps
    float[] r = new float[sw];
    float[] g = new float[sw];
    float[] b = new float[sw];
    int[] out = new int[width * height];
    for (int y = 0; y < height; y++) {
      java.util.Arrays.fill(r, 0f);
      java.util.Arrays.fill(g, 0f);
      java.util.Arrays.fill(b, 0f);
      vertical(px, sw, ty.start[y], ty.weights[y], r, g, b, 0);
      horizontal(tx, r, g, b, 0, out, y * width, width);
    }
    return new RgbImage(width, height, out);
  }

  /**
   * {@link #to} laid out as first written — the vertical pass of every output row into whole planar planes, then
   * the horizontal taps of every row: the reference {@link #to}'s reuse of three rows is tested against (the same
   * pixels, bit for bit).
   */
  static RgbImage toWholePlanes(RgbImage src, int width, int height) {
    if (src.width() == width && src.height() == height) {
      return src;
    }
    Taps tx = taps(src.width(), width);
    Taps ty = taps(src.height(), height);
    int sw = src.width();
    int[] px = src.pixels();
    float[] r = new float[height * sw];
    float[] g = new float[height * sw];
    float[] b = new float[height * sw];
    for (int y = 0; y < height; y++) {
      vertical(px, sw, ty.start[y], ty.weights[y], r, g, b, y * sw);
    }
    int[] out = new int[width * height];
    for (int y = 0; y < height; y++) {
      horizontal(tx, r, g, b, y * sw, out, y * width, width);
    }
    return new RgbImage(width, height, out);
  }

  /** Adds source rows {@code s, s+1, ...} weighted by {@code w} into planar rows {@code r, g, b} from {@code o}. */
  private static void vertical(int[] px, int sw, int s, float[] w, float[] r, float[] g, float[] b, int o) {
    for (int k = 0; k < w.length; k++) {
      float wk = w[k];
      int row = (s + k) * sw;
      for (int x = 0; x < sw; x++) {
        int p = px[row + x];
        r[o + x] += wk * ((p >> 16) & 0xFF);
        g[o + x] += wk * ((p >> 8) & 0xFF);
        b[o + x] += wk * (p & 0xFF);
      }
    }
  }

  /** One output row from planar rows {@code r, g, b} (from {@code o}) by the horizontal taps, into {@code out}. */
  private static void horizontal(Taps tx, float[] r, float[] g, float[] b, int o, int[] out, int outRow, int width) {
    for (int x = 0; x < width; x++) {
      int s = o + tx.start[x];
      float[] w = tx.weights[x];
      float rr = 0;
      float gg = 0;
      float bb = 0;
      for (int k = 0; k < w.length; k++) {
        rr += w[k] * r[s + k];
        gg += w[k] * g[s + k];
        bb += w[k] * b[s + k];
      }
      out[outRow + x] = clamp(rr) << 16 | clamp(gg) << 8 | clamp(bb);
    }
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
