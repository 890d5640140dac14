package dev.imgmatch.cli.samples;

import java.awt.AlphaComposite;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.Polygon;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.Random;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Pictures the demo and tests make themselves (no committed data): each seed gives a distinct scene with
 * structure (gradient sky, hills, shapes, a sun, lines) and texture (value noise), plus the edits a copier makes.
 * Deterministic for a seed; only java.awt is used.
 */
public final class SampleImages {
  private SampleImages() {}

  /**
   * An original picture of w x h for this seed. Two kinds of scene alternate with the seed (a landscape, an
   * abstract composition), so a set of pictures varies more than one template with different colours. (Periodic
   * patterns were tried and left out: a small rotation shifts their phase everywhere, which no image signal
   * survives, and such pictures are rare among uploads.)
   */
  public static BufferedImage original(long seed, int w, int h) {
    return Math.floorMod(seed, 2L) == 0 ? landscape(seed, w, h) : abstractComposition(seed, w, h);
  }

  /** Many overlapping translucent discs and bars on a radial gradient. */
  static BufferedImage abstractComposition(long seed, int w, int h) {
    Random r = new Random(seed);
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setPaint(new java.awt.RadialGradientPaint(r.nextInt(w), r.nextInt(h), Math.max(w, h) * (0.4f + r.nextFloat()),
        new float[] {0f, 1f}, new Color[] {hsb(r, r.nextFloat(), 0.2f, 0.6f, 1f), hsb(r, r.nextFloat(), 0.2f, 0.05f, 0.4f)}));
    g.fillRect(0, 0, w, h);
    int n = 20 + r.nextInt(30);
    for (int i = 0; i < n; i++) {
      Color c = hsb(r, r.nextFloat(), 0.5f, 0.3f, 1f);
      g.setColor(new Color(c.getRed(), c.getGreen(), c.getBlue(), 90 + r.nextInt(150)));
      int s = w / 30 + r.nextInt(w / 4);
      if (r.nextBoolean()) {
        g.fill(new Ellipse2D.Double(r.nextInt(w) - s / 2.0, r.nextInt(h) - s / 2.0, s, s));
      } else {
        g.rotate(r.nextDouble() * Math.PI, r.nextInt(w), r.nextInt(h));
        g.fillRect(r.nextInt(w), r.nextInt(h), s, s / 4 + 2);
        g.setTransform(new AffineTransform());
      }
    }
    g.dispose();
    addTexture(img, r);
    return img;
  }

  /** A landscape: gradient sky, layered hills, a sun, shapes and lines. */
  static BufferedImage landscape(long seed, int w, int h) {
    Random r = new Random(seed);
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    Color top = hsb(r, 0.55f, 0.25f, 0.5f, 0.9f);
    Color bottom = hsb(r, r.nextFloat(), 0.2f, 0.7f, 1f);
    g.setPaint(new GradientPaint(0, 0, top, r.nextInt(w), h, bottom));
    g.fillRect(0, 0, w, h);
    // hills: layered polygons
    for (int layer = 0; layer < 3; layer++) {
      Polygon p = new Polygon();
      p.addPoint(0, h);
      int base = h / 2 + layer * h / 8 + r.nextInt(h / 8);
      for (int x = 0; x <= w; x += Math.max(4, w / 24)) {
        p.addPoint(x, base - (int) (Math.sin(x * (0.005 + r.nextDouble() * 0.02) + r.nextDouble() * 6) * h / 10)
            - r.nextInt(Math.max(1, h / 30)));
      }
      p.addPoint(w, h);
      g.setColor(hsb(r, r.nextFloat(), 0.4f, 0.2f + layer * 0.15f, 0.7f));
      g.fillPolygon(p);
    }
    // sun or moon
    int rad = w / 12 + r.nextInt(w / 10);
    g.setColor(hsb(r, 0.12f, 0.8f, 0.9f, 1f));
    g.fill(new Ellipse2D.Double(r.nextInt(w - rad), r.nextInt(h / 3), rad, rad));
    // shapes: houses, trees, boxes
    int n = 6 + r.nextInt(10);
    for (int i = 0; i < n; i++) {
      g.setColor(hsb(r, r.nextFloat(), 0.3f, 0.3f, 1f));
      int sw = w / 20 + r.nextInt(w / 6);
      int sh = h / 20 + r.nextInt(h / 6);
      int x = r.nextInt(w);
      int y = h / 3 + r.nextInt(2 * h / 3);
      switch (r.nextInt(3)) {
        case 0 -> g.fillRect(x, y, sw, sh);
        case 1 -> g.fill(new Ellipse2D.Double(x, y, sw, sh));
        default -> g.fillPolygon(new int[] {x, x + sw / 2, x + sw}, new int[] {y + sh, y, y + sh}, 3);
      }
    }
    g.setStroke(new BasicStroke(1 + r.nextInt(4)));
    for (int i = 0; i < 5; i++) {
      g.setColor(hsb(r, r.nextFloat(), 0.2f, 0.1f, 0.9f));
      g.drawLine(r.nextInt(w), r.nextInt(h), r.nextInt(w), r.nextInt(h));
    }
    g.dispose();
    addTexture(img, r);
    return img;
  }

  private static Color hsb(Random r, float hue, float jitter, float minB, float maxB) {
    float hh = (hue + (r.nextFloat() - 0.5f) * jitter + 1f) % 1f;
    return Color.getHSBColor(hh, 0.3f + r.nextFloat() * 0.6f, minB + r.nextFloat() * (maxB - minB));
  }

  /** Value noise at two scales, +-18 levels: photographic-looking texture, stable under resizing. */
  private static void addTexture(BufferedImage img, Random r) {
    int w = img.getWidth();
    int h = img.getHeight();
    int gs = 9;
    double[][] coarse = grid(r, gs);
    double[][] fine = grid(r, gs * 4);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        double v = 12 * sample(coarse, x / (double) w, y / (double) h) + 6 * sample(fine, x / (double) w, y / (double) h);
        int rgb = img.getRGB(x, y);
        img.setRGB(x, y, (clamp(((rgb >> 16) & 255) + v) << 16) | (clamp(((rgb >> 8) & 255) + v) << 8)
            | clamp((rgb & 255) + v));
      }
    }
  }

  private static double[][] grid(Random r, int n) {
    double[][] g = new double[n + 1][n + 1];
    for (double[] row : g) {
      for (int i = 0; i < row.length; i++) {
        row[i] = r.nextDouble() * 2 - 1;
      }
    }
    return g;
  }

  private static double sample(double[][] g, double fx, double fy) {
    int n = g.length - 1;
    double x = fx * n;
    double y = fy * n;
    int x0 = Math.min((int) x, n - 1);
    int y0 = Math.min((int) y, n - 1);
    double tx = x - x0;
    double ty = y - y0;
    double a = g[y0][x0] * (1 - tx) + g[y0][x0 + 1] * tx;
    double b = g[y0 + 1][x0] * (1 - tx) + g[y0 + 1][x0 + 1] * tx;
    return a * (1 - ty) + b * ty;
  }

  private static int clamp(double v) {
    return (int) Math.max(0, Math.min(255, Math.round(v)));
  }

  /** The edits a copier makes; each keeps the picture recognisable. */
  public enum Edit {
    RESCALE_JPEG, CROP, CAPTION, BORDER, COLOR, ROTATE_SMALL, GRAY;
  }

  /** Applies one edit (deterministic for the seed). */
  public static BufferedImage edit(BufferedImage src, Edit e, long seed) {
    Random r = new Random(seed);
    int w = src.getWidth();
    int h = src.getHeight();
    return switch (e) {
      case RESCALE_JPEG -> scale(src, 0.4 + r.nextDouble() * 0.2);
      case CROP -> {
        double f = 0.82 + r.nextDouble() * 0.1;
        int cw = (int) (w * f);
        int ch = (int) (h * f);
        yield copy(src.getSubimage(r.nextInt(w - cw + 1), r.nextInt(h - ch + 1), cw, ch));
      }
      case CAPTION -> {
        BufferedImage out = copy(src);
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, Math.max(10, h / 14)));
        g.setColor(Color.WHITE);
        g.drawString("so true lol #" + r.nextInt(100), w / 20, h - h / 12);
        g.dispose();
        yield out;
      }
      case BORDER -> {
        int pad = w / 12;
        BufferedImage out = new BufferedImage(w + 2 * pad, h + pad, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setColor(r.nextBoolean() ? Color.BLACK : Color.WHITE);
        g.fillRect(0, 0, out.getWidth(), out.getHeight());
        g.drawImage(src, pad, pad / 2, null);
        g.dispose();
        yield out;
      }
      case COLOR -> {
        BufferedImage out = copy(src);
        double gain = 0.8 + r.nextDouble() * 0.4;
        int bias = r.nextInt(30) - 15;
        for (int y = 0; y < h; y++) {
          for (int x = 0; x < w; x++) {
            int rgb = out.getRGB(x, y);
            out.setRGB(x, y, (clamp(((rgb >> 16) & 255) * gain + bias) << 16)
                | (clamp(((rgb >> 8) & 255) * gain + bias) << 8) | clamp((rgb & 255) * gain + bias * 0.5));
          }
        }
        yield out;
      }
      case ROTATE_SMALL -> {
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.setTransform(AffineTransform.getRotateInstance(Math.toRadians(3 + r.nextInt(5)), w / 2.0, h / 2.0));
        g.drawImage(src, 0, 0, null);
        g.dispose();
        yield out;
      }
      case GRAY -> {
        BufferedImage gray = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        Graphics2D g = gray.createGraphics();
        g.drawImage(src, 0, 0, null);
        g.dispose();
        yield copy(gray);
      }
    };
  }

  public static BufferedImage scale(BufferedImage src, double f) {
    int w = Math.max(1, (int) Math.round(src.getWidth() * f));
    int h = Math.max(1, (int) Math.round(src.getHeight() * f));
    BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = out.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BICUBIC);
    g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
    g.drawImage(src.getScaledInstance(w, h, java.awt.Image.SCALE_AREA_AVERAGING), 0, 0, null);
    g.dispose();
    return out;
  }

  private static BufferedImage copy(BufferedImage src) {
    BufferedImage out = new BufferedImage(src.getWidth(), src.getHeight(), BufferedImage.TYPE_INT_RGB);
    Graphics2D g = out.createGraphics();
    g.setComposite(AlphaComposite.Src);
    g.drawImage(src, 0, 0, null);
    g.dispose();
    return out;
  }

  /** JPEG bytes at the given quality (0-1). */
  public static byte[] jpeg(BufferedImage img, float quality) {
    Iterator<ImageWriter> it = ImageIO.getImageWritersByFormatName("jpeg");
    ImageWriter wr = it.next();
    try (ByteArrayOutputStream bos = new ByteArrayOutputStream();
        MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bos)) {
      ImageWriteParam p = wr.getDefaultWriteParam();
      p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
      p.setCompressionQuality(quality);
      wr.setOutput(out);
      wr.write(null, new IIOImage(img, null, null), p);
      out.flush();
      return bos.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      wr.dispose();
    }
  }

  public static byte[] png(BufferedImage img) {
    try (ByteArrayOutputStream bos = new ByteArrayOutputStream()) {
      ImageIO.write(img, "png", bos);
      return bos.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
