package dev.imgmatch.ingest.pdq;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The pictures of the in-repository PDQ oracle ({@code src/test/resources/pdq/reference-hashes.csv}): generated with
 * integer arithmetic and {@link BufferedImage#setRGB} only (no Java2D rendering, no codec), so every JDK on every CPU
 * produces the same pixels, and the hashes the reference implementation computed for them once stay the expected
 * values. Sizes cover the cases PDQ's code distinguishes: tiny, odd, thin, square, large (the Jarosz window grows
 * with the size), a flat picture (quality 0), stripes, noise, smooth gradients, and shapes.
 *
 * <p>Do not change a picture: the recorded hashes describe exactly these pixels. Add new ones at the end and record
 * their reference hashes (the README beside the CSV says how).
 */
public final class OracleImages {
  /** One picture and its name in the CSV. */
  public record Named(String name, BufferedImage image) {}

  private OracleImages() {}

  /** Every recorded picture, in CSV order. */
  public static List<Named> all() {
    List<Named> out = new ArrayList<>();
    out.add(new Named("flat-grey-64x64", flat(64, 64, 0x808080)));
    out.add(new Named("gradient-256x256", gradient(256, 256)));
    out.add(new Named("gradient-37x501", gradient(37, 501)));
    out.add(new Named("stripes-v-300x200", stripes(300, 200, 17, true)));
    out.add(new Named("stripes-h-200x300", stripes(200, 300, 23, false)));
    out.add(new Named("checker-512x384", checker(512, 384, 48)));
    int[][] sizes = {{5, 5}, {16, 16}, {63, 65}, {128, 128}, {640, 480}, {1000, 33}, {33, 1000}, {1024, 1024},
        {1500, 1001}, {97, 211}};
    long seed = 20261202L;
    for (int[] s : sizes) {
      out.add(new Named("shapes-" + s[0] + "x" + s[1], shapes(s[0], s[1], seed++)));
    }
    for (int i = 0; i < 6; i++) {
      out.add(new Named("noise-" + i + "-160x120", noise(160, 120, seed++, 1 + i * 2)));
    }
    for (int i = 0; i < 10; i++) {
      out.add(new Named("scene-" + i + "-400x300", shapes(400, 300, seed++)));
    }
    return out;
  }

  /**
   * Pictures whose hash bits are decided by float rounding, not by their content: a flat picture, pure gradients,
   * periodic stripes and checkers (most DCT coefficients tie exactly with the median) and a 16x16 picture (each
   * sample is one pixel). Two correct implementations that sum in a different order disagree on them; imgmatch's
   * filter computes only the rows and columns decimation samples, so its order differs from the reference's.
   */
  public static final java.util.Set<String> DEGENERATE = java.util.Set.of("flat-grey-64x64", "gradient-256x256",
      "gradient-37x501", "stripes-v-300x200", "stripes-h-200x300", "checker-512x384", "shapes-16x16");

  static BufferedImage flat(int w, int h, int rgb) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.setRGB(x, y, rgb);
      }
    }
    return img;
  }

  static BufferedImage gradient(int w, int h) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int r = x * 255 / Math.max(1, w - 1);
        int g = y * 255 / Math.max(1, h - 1);
        int b = (x + y) * 255 / Math.max(1, w + h - 2);
        img.setRGB(x, y, r << 16 | g << 8 | b);
      }
    }
    return img;
  }

  static BufferedImage stripes(int w, int h, int period, boolean vertical) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int t = (vertical ? x : y) % period;
        int v = t < period / 2 ? 230 : 25;
        img.setRGB(x, y, v << 16 | (v / 2) << 8 | (255 - v));
      }
    }
    return img;
  }

  static BufferedImage checker(int w, int h, int cell) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        boolean on = ((x / cell) + (y / cell)) % 2 == 0;
        img.setRGB(x, y, on ? 0xF0E0D0 : 0x102030);
      }
    }
    return img;
  }

  /** Per-pixel seeded noise averaged over {@code blur} x {@code blur} cells (coarser with larger blur). */
  static BufferedImage noise(int w, int h, long seed, int blur) {
    Random r = new Random(seed);
    int cw = (w + blur - 1) / blur;
    int ch = (h + blur - 1) / blur;
    int[] cells = new int[cw * ch];
    for (int i = 0; i < cells.length; i++) {
      cells[i] = r.nextInt(1 << 24);
    }
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.setRGB(x, y, cells[(y / blur) * cw + x / blur]);
      }
    }
    return img;
  }

  /** A gradient background with filled ellipses and rectangles at seeded places, in seeded colours. */
  static BufferedImage shapes(int w, int h, long seed) {
    Random r = new Random(seed);
    int c0 = r.nextInt(1 << 24);
    int c1 = r.nextInt(1 << 24);
    int[] px = new int[w * h];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int t = (x + y) * 256 / Math.max(1, w + h - 2);
        px[y * w + x] = mix(c0, c1, t);
      }
    }
    for (int i = 0; i < 10; i++) {
      int color = r.nextInt(1 << 24);
      int cx = r.nextInt(w);
      int cy = r.nextInt(h);
      int rx = 1 + r.nextInt(Math.max(1, w / 3));
      int ry = 1 + r.nextInt(Math.max(1, h / 3));
      boolean ellipse = i % 2 == 0;
      for (int y = Math.max(0, cy - ry); y < Math.min(h, cy + ry); y++) {
        for (int x = Math.max(0, cx - rx); x < Math.min(w, cx + rx); x++) {
          long dx = x - cx;
          long dy = y - cy;
          if (!ellipse || dx * dx * ry * ry + dy * dy * rx * rx <= (long) rx * rx * ry * ry) {
            px[y * w + x] = color;
          }
        }
      }
    }
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    img.setRGB(0, 0, w, h, px, 0, w);
    return img;
  }

  private static int mix(int a, int b, int t) {
    int out = 0;
    for (int shift = 0; shift <= 16; shift += 8) {
      int ca = a >> shift & 0xFF;
      int cb = b >> shift & 0xFF;
      out |= (ca + (cb - ca) * t / 256) << shift;
    }
    return out;
  }
}
