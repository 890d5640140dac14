package dev.imgmatch.testkit;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.Random;

/** Seeded photo-like pictures for local-feature tests: a smooth multi-scale colour ground, shapes, strokes, words, noise. */
public final class TexturedPictures {
  private TexturedPictures() {}

  public static BufferedImage random(Random rnd, int w, int h) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    // a photo-like ground: random colour grids at three scales, smoothly enlarged and blended
    for (int octave = 0; octave < 3; octave++) {
      int cells = 4 << (2 * octave);
      BufferedImage grid = new BufferedImage(cells, Math.max(2, cells * h / w), BufferedImage.TYPE_INT_ARGB);
      for (int y = 0; y < grid.getHeight(); y++) {
        for (int x = 0; x < grid.getWidth(); x++) {
          grid.setRGB(x, y, ((octave == 0 ? 255 : 110) << 24) | rnd.nextInt(1 << 24));
        }
      }
      g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BICUBIC);
      g.drawImage(grid, 0, 0, w, h, null);
    }
    for (int i = 0; i < 25; i++) {
      g.setColor(new Color(rnd.nextInt(1 << 24)));
      int x = rnd.nextInt(w);
      int y = rnd.nextInt(h);
      int a = 8 + rnd.nextInt(w / 4);
      int b = 8 + rnd.nextInt(h / 4);
      switch (rnd.nextInt(4)) {
        case 0 -> g.fillRect(x, y, a, b);
        case 1 -> g.fillOval(x, y, a, b);
        case 2 -> {
          g.setStroke(new BasicStroke(1 + rnd.nextInt(5)));
          g.drawLine(x, y, rnd.nextInt(w), rnd.nextInt(h));
        }
        default -> {
          g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 12 + rnd.nextInt(28)));
          g.drawString(Long.toString(rnd.nextLong(), 36), x, y);
        }
      }
    }
    g.dispose();
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int rgb = img.getRGB(x, y);
        int n = rnd.nextInt(9) - 4;
        int r = clamp(((rgb >> 16) & 0xff) + n);
        int gg = clamp(((rgb >> 8) & 0xff) + n);
        int bb = clamp((rgb & 0xff) + n);
        img.setRGB(x, y, (r << 16) | (gg << 8) | bb);
      }
    }
    return img;
  }

  /**
   * Grey levels (row by row, one byte each) of a w x h picture of {@code count} smooth random blobs on mid grey, each
   * of radius {@code minRadius} plus up to {@code extraRadius} and of contrast up to ±100: a photo-like layout (for
   * layout matching's tests and benchmarks), drawn from {@code rnd}.
   */
  public static byte[] blobs(Random rnd, int w, int h, int count, double minRadius, double extraRadius) {
    double[][] blobs = new double[count][];
    for (int i = 0; i < count; i++) {
      blobs[i] = new double[] {rnd.nextDouble() * w, rnd.nextDouble() * h, minRadius + rnd.nextDouble() * extraRadius,
          rnd.nextDouble() * 200 - 100};
    }
    byte[] g = new byte[w * h];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        double v = 128;
        for (double[] b : blobs) {
          double d2 = (x - b[0]) * (x - b[0]) + (y - b[1]) * (y - b[1]);
          v += b[3] * Math.exp(-d2 / (2 * b[2] * b[2]));
        }
        g[y * w + x] = (byte) Math.max(0, Math.min(255, Math.round(v)));
      }
    }
    return g;
  }

  /** Grey levels {@code g} (w x h, row by row) with each {@code block} x {@code block} block replaced by its mean. */
  public static byte[] pixelatedGrey(byte[] g, int w, int h, int block) {
    byte[] out = new byte[w * h];
    for (int by = 0; by < h; by += block) {
      for (int bx = 0; bx < w; bx += block) {
        int sum = 0;
        int n = 0;
        for (int y = by; y < Math.min(h, by + block); y++) {
          for (int x = bx; x < Math.min(w, bx + block); x++) {
            sum += g[y * w + x] & 0xFF;
            n++;
          }
        }
        for (int y = by; y < Math.min(h, by + block); y++) {
          for (int x = bx; x < Math.min(w, bx + block); x++) {
            out[y * w + x] = (byte) Math.round((double) sum / n);
          }
        }
      }
    }
    return out;
  }

  /** {@code picture} shrunk to {@code frac} of the canvas's width and pasted at a random place of {@code canvas}. */
  public static BufferedImage pasted(BufferedImage picture, BufferedImage canvas, double frac, Random rnd) {
    BufferedImage out = new BufferedImage(canvas.getWidth(), canvas.getHeight(), BufferedImage.TYPE_INT_RGB);
    Graphics2D g = out.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    g.drawImage(canvas, 0, 0, null);
    int pw = (int) (canvas.getWidth() * frac);
    int ph = (int) Math.round((double) pw * picture.getHeight() / picture.getWidth());
    g.drawImage(picture, rnd.nextInt(Math.max(1, canvas.getWidth() - pw)),
        rnd.nextInt(Math.max(1, canvas.getHeight() - ph)), pw, ph, null);
    g.dispose();
    return out;
  }

  private static int clamp(int v) {
    return Math.max(0, Math.min(255, v));
  }
}
