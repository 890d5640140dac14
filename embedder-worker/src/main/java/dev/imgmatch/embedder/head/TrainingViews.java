package dev.imgmatch.embedder.head;

import java.awt.AlphaComposite;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Seeded augmented views of training photos, for fitting descriptor heads: every photo yields itself plus views made
 * of 1-3 random edits from crops, flips, small and right-angle rotations, colour/contrast/saturation changes,
 * grey-scale, downscale + JPEG at low quality, borders, blur, noise, captions and opaque boxes. The same seed gives
 * the same views (Java2D and the JDK's JPEG codec, so within one JDK build).
 *
 * <p>Also makes procedurally generated pictures (gradients, shapes, noise) for tests and benchmarks; no head is
 * ever fitted on them.
 */
public final class TrainingViews {
  /** Names the augmentation recipe; part of a fitted head's cache key and provenance. */
  public static final String RECIPE = "views-2";

  private TrainingViews() {}

  /** {@code perImage} views of {@code photo} (the first is the photo itself, downscaled to at most 320 px). */
  public static List<BufferedImage> views(BufferedImage photo, int perImage, Random rnd) {
    BufferedImage base = fit(photo, 320);
    List<BufferedImage> out = new ArrayList<>(perImage);
    out.add(base);
    for (int v = 1; v < perImage; v++) {
      BufferedImage img = base;
      int edits = 1 + rnd.nextInt(3);
      for (int e = 0; e < edits; e++) {
        img = edit(img, rnd);
      }
      out.add(img);
    }
    return out;
  }

  static BufferedImage edit(BufferedImage img, Random rnd) {
    return switch (rnd.nextInt(12)) {
      case 0, 1 -> crop(img, 0.35 + 0.6 * rnd.nextDouble(), rnd);
      case 2 -> flip(img);
      case 3 -> rotate(img, (rnd.nextBoolean() ? 1 : -1) * (3 + 17 * rnd.nextDouble()));
      case 4 -> rnd.nextInt(4) == 0 ? rotate90(img) : color(img, rnd);
      case 5 -> color(img, rnd);
      case 6 -> rnd.nextBoolean() ? gray(img) : color(img, rnd);
      case 7, 8 -> jpeg(scale(img, 0.15 + 0.5 * rnd.nextDouble()), 15 + rnd.nextInt(70));
      case 9 -> border(img, rnd);
      case 10 -> rnd.nextBoolean() ? blur(img) : noise(img, rnd);
      default -> overlay(img, rnd);
    };
  }

  static BufferedImage fit(BufferedImage img, int max) {
    int w = img.getWidth();
    int h = img.getHeight();
    double s = Math.min(1.0, (double) max / Math.max(w, h));
    return draw(img, Math.max(1, (int) Math.round(w * s)), Math.max(1, (int) Math.round(h * s)), null, Color.BLACK);
  }

  private static BufferedImage draw(BufferedImage src, int w, int h, AffineTransform at, Color bg) {
    BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = out.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
    g.setColor(bg);
    g.fillRect(0, 0, w, h);
    if (at == null) {
      g.drawImage(src, 0, 0, w, h, null);
    } else {
      g.drawImage(src, at, null);
    }
    g.dispose();
    return out;
  }

  static BufferedImage crop(BufferedImage img, double area, Random rnd) {
    double aspect = Math.exp((rnd.nextDouble() - 0.5) * 0.8);
    int w = img.getWidth();
    int h = img.getHeight();
    int cw = clamp((int) Math.round(Math.sqrt(area * aspect) * w), 8, w);
    int ch = clamp((int) Math.round(Math.sqrt(area / aspect) * h), 8, h);
    int x = rnd.nextInt(w - cw + 1);
    int y = rnd.nextInt(h - ch + 1);
    return copy(img.getSubimage(x, y, cw, ch));
  }

  static BufferedImage flip(BufferedImage img) {
    AffineTransform at = new AffineTransform(-1, 0, 0, 1, img.getWidth(), 0);
    return draw(img, img.getWidth(), img.getHeight(), at, Color.BLACK);
  }

  static BufferedImage rotate(BufferedImage img, double degrees) {
    AffineTransform at = AffineTransform.getRotateInstance(Math.toRadians(degrees), img.getWidth() / 2.0,
        img.getHeight() / 2.0);
    return draw(img, img.getWidth(), img.getHeight(), at, Color.BLACK);
  }

  static BufferedImage rotate90(BufferedImage img) {
    AffineTransform at = new AffineTransform(0, 1, -1, 0, img.getHeight(), 0);
    return draw(img, img.getHeight(), img.getWidth(), at, Color.BLACK);
  }

  static BufferedImage scale(BufferedImage img, double s) {
    return draw(img, Math.max(8, (int) (img.getWidth() * s)), Math.max(8, (int) (img.getHeight() * s)), null,
        Color.BLACK);
  }

  static BufferedImage color(BufferedImage img, Random rnd) {
    double bright = (rnd.nextDouble() - 0.5) * 80;
    double contrast = 0.6 + 0.8 * rnd.nextDouble();
    double sat = rnd.nextDouble() * 1.8;
    int[] px = pixels(img);
    for (int i = 0; i < px.length; i++) {
      int p = px[i];
      double r = p >> 16 & 255;
      double g = p >> 8 & 255;
      double b = p & 255;
      double l = 0.299 * r + 0.587 * g + 0.114 * b;
      r = l + (r - l) * sat;
      g = l + (g - l) * sat;
      b = l + (b - l) * sat;
      r = (r - 128) * contrast + 128 + bright;
      g = (g - 128) * contrast + 128 + bright;
      b = (b - 128) * contrast + 128 + bright;
      px[i] = clamp((int) r, 0, 255) << 16 | clamp((int) g, 0, 255) << 8 | clamp((int) b, 0, 255);
    }
    return image(img.getWidth(), img.getHeight(), px);
  }

  static BufferedImage gray(BufferedImage img) {
    int[] px = pixels(img);
    for (int i = 0; i < px.length; i++) {
      int p = px[i];
      int l = (int) (0.299 * (p >> 16 & 255) + 0.587 * (p >> 8 & 255) + 0.114 * (p & 255));
      px[i] = l << 16 | l << 8 | l;
    }
    return image(img.getWidth(), img.getHeight(), px);
  }

  static BufferedImage border(BufferedImage img, Random rnd) {
    int w = img.getWidth();
    int h = img.getHeight();
    boolean wide = rnd.nextBoolean();
    double extra = 0.1 + 0.6 * rnd.nextDouble();
    int nw = wide ? (int) (w * (1 + extra)) : w;
    int nh = wide ? h : (int) (h * (1 + extra));
    Color bg = rnd.nextBoolean() ? Color.BLACK : rnd.nextBoolean() ? Color.WHITE : new Color(rnd.nextInt(1 << 24));
    AffineTransform at = AffineTransform.getTranslateInstance((nw - w) / 2.0, (nh - h) / 2.0);
    return draw(img, nw, nh, at, bg);
  }

  static BufferedImage blur(BufferedImage img) {
    int w = img.getWidth();
    int h = img.getHeight();
    int[] src = pixels(img);
    int[] out = new int[src.length];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int r = 0;
        int g = 0;
        int b = 0;
        int n = 0;
        for (int dy = -2; dy <= 2; dy++) {
          int yy = clamp(y + dy, 0, h - 1);
          for (int dx = -2; dx <= 2; dx++) {
            int p = src[yy * w + clamp(x + dx, 0, w - 1)];
            r += p >> 16 & 255;
            g += p >> 8 & 255;
            b += p & 255;
            n++;
          }
        }
        out[y * w + x] = (r / n) << 16 | (g / n) << 8 | (b / n);
      }
    }
    return image(w, h, out);
  }

  static BufferedImage noise(BufferedImage img, Random rnd) {
    double sigma = 5 + 20 * rnd.nextDouble();
    int[] px = pixels(img);
    for (int i = 0; i < px.length; i++) {
      int p = px[i];
      int r = clamp((int) ((p >> 16 & 255) + rnd.nextGaussian() * sigma), 0, 255);
      int g = clamp((int) ((p >> 8 & 255) + rnd.nextGaussian() * sigma), 0, 255);
      int b = clamp((int) ((p & 255) + rnd.nextGaussian() * sigma), 0, 255);
      px[i] = r << 16 | g << 8 | b;
    }
    return image(img.getWidth(), img.getHeight(), px);
  }

  private static int[] pixels(BufferedImage img) {
    return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
  }

  private static BufferedImage image(int w, int h, int[] px) {
    BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    out.setRGB(0, 0, w, h, px, 0, w);
    return out;
  }

  static BufferedImage overlay(BufferedImage img, Random rnd) {
    BufferedImage out = copy(img);
    Graphics2D g = out.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    int w = out.getWidth();
    int h = out.getHeight();
    if (rnd.nextBoolean()) {
      g.setColor(new Color(rnd.nextInt(1 << 24)));
      int bw = (int) (w * (0.1 + 0.2 * rnd.nextDouble()));
      int bh = (int) (h * (0.1 + 0.2 * rnd.nextDouble()));
      g.fillRect(rnd.nextBoolean() ? 0 : w - bw, rnd.nextBoolean() ? 0 : h - bh, bw, bh);
    } else {
      g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, Math.max(8, h / (6 + rnd.nextInt(8)))));
      g.setColor(rnd.nextBoolean() ? Color.WHITE : Color.YELLOW);
      g.setStroke(new BasicStroke(2));
      g.setComposite(AlphaComposite.SrcOver);
      String[] words = {"SALE", "when you see it", "lol", "MONDAY", "original content", "#repost", "wow"};
      g.drawString(words[rnd.nextInt(words.length)], w / 10, rnd.nextBoolean() ? h / 6 : h - h / 10);
    }
    g.dispose();
    return out;
  }

  static BufferedImage jpeg(BufferedImage img, int quality) {
    try {
      ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
      ByteArrayOutputStream bos = new ByteArrayOutputStream();
      try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bos)) {
        writer.setOutput(out);
        ImageWriteParam p = writer.getDefaultWriteParam();
        p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
        p.setCompressionQuality(quality / 100f);
        writer.write(null, new IIOImage(img, null, null), p);
      } finally {
        writer.dispose();
      }
      return ImageIO.read(new ByteArrayInputStream(bos.toByteArray()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A procedurally generated picture: gradient background, random shapes, some noise. */
  public static BufferedImage synthetic(Random rnd, int w, int h) {
    BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = out.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setPaint(new java.awt.GradientPaint(0, 0, new Color(rnd.nextInt(1 << 24)), w, h, new Color(rnd.nextInt(1 << 24))));
    g.fillRect(0, 0, w, h);
    int shapes = 3 + rnd.nextInt(12);
    for (int i = 0; i < shapes; i++) {
      g.setColor(new Color(rnd.nextInt(256), rnd.nextInt(256), rnd.nextInt(256), 120 + rnd.nextInt(136)));
      int x = rnd.nextInt(w);
      int y = rnd.nextInt(h);
      int sw = 8 + rnd.nextInt(w / 2);
      int sh = 8 + rnd.nextInt(h / 2);
      switch (rnd.nextInt(3)) {
        case 0 -> g.fillOval(x - sw / 2, y - sh / 2, sw, sh);
        case 1 -> g.fillRect(x - sw / 2, y - sh / 2, sw, sh);
        default -> {
          g.setStroke(new BasicStroke(1 + rnd.nextInt(8)));
          g.drawLine(x, y, rnd.nextInt(w), rnd.nextInt(h));
        }
      }
    }
    g.dispose();
    return rnd.nextInt(3) == 0 ? noise(out, rnd) : out;
  }

  private static BufferedImage copy(BufferedImage img) {
    BufferedImage out = new BufferedImage(img.getWidth(), img.getHeight(), BufferedImage.TYPE_INT_RGB);
    Graphics2D g = out.createGraphics();
    g.drawImage(img, 0, 0, null);
    g.dispose();
    return out;
  }

  private static int clamp(int v, int lo, int hi) {
    return Math.max(lo, Math.min(hi, v));
  }
}
