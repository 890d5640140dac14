package dev.imgmatch.embedder.train;

import java.awt.AlphaComposite;
import java.awt.Color;
import java.awt.Font;
import java.awt.GradientPaint;
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
 * Seeded edits of pictures for metric learning, covering more than the dev split's families: flips (both axes),
 * right-angle rotations, small rotations, heavy crops (30-60 % of the area) and mild ones, pasting into a larger
 * canvas as a small picture, tiny and pixelated copies, blur, noise, brightness/contrast/saturation/hue, grey-scale,
 * captions, borders/letterbox, logo boxes, low-quality JPEG, shear/perspective-like warps, and random chains of 2-3
 * edits. The same seed gives the same views (within one JDK build: Java2D and its JPEG codec).
 */
public final class Augmentations {
  /** Names the recipe; part of a trained head's provenance (and so of its version). */
  public static final String RECIPE = "aug-1";

  /** Every edit family, in the order {@link #edit} draws them. */
  public enum Family {
    HFLIP, VFLIP, ROT90, ROT_SMALL, CROP_HEAVY, CROP, PASTE_SMALL, TINY, PIXELATE, BLUR, NOISE, COLOR, GRAY, TEXT,
    BORDER, LOGO, JPEG_LOW, SHEAR, PERSPECTIVE
  }

  private static final String[] WORDS = {"SALE", "when you see it", "lol", "MONDAY", "original content", "#repost",
      "wow", "NEW", "2026", "follow me", "©", "breaking"};

  private Augmentations() {}

  /**
   * {@code n} views of {@code photo}: the first is the photo itself (fitted to 320 px), every other one a chain of 1-3
   * random edits (about half of them chains of 2-3), each ending with a JPEG re-encode most of the time.
   */
  public static List<BufferedImage> views(BufferedImage photo, int n, Random rnd) {
    BufferedImage base = fit(photo, 320);
    List<BufferedImage> out = new ArrayList<>(n);
    out.add(base);
    for (int v = 1; v < n; v++) {
      out.add(randomChain(base, rnd));
    }
    return out;
  }

  /** A random chain of 1-3 edits, then (usually) a JPEG re-encode at quality 30-90. */
  public static BufferedImage randomChain(BufferedImage base, Random rnd) {
    return randomEdit(base, rnd).image();
  }

  /** An edited picture and the families of its edits, in order, e.g. {@code crop_heavy+text+jpeg_reencode}. */
  public record Edited(BufferedImage image, String families) {}

  /** {@link #randomChain} (same draws from {@code rnd}), naming the edits. */
  public static Edited randomEdit(BufferedImage base, Random rnd) {
    int edits = rnd.nextBoolean() ? 1 : 2 + rnd.nextInt(2);
    BufferedImage img = base;
    List<String> names = new ArrayList<>();
    for (int e = 0; e < edits; e++) {
      Family f = Family.values()[rnd.nextInt(Family.values().length)];
      img = edit(img, f, rnd);
      names.add(f.name().toLowerCase(java.util.Locale.ROOT));
    }
    if (rnd.nextInt(4) != 0) {
      img = jpeg(img, 30 + rnd.nextInt(61));
    }
    return new Edited(img, String.join("+", names));
  }

  /** One edit of the given family with random parameters. */
  public static BufferedImage edit(BufferedImage img, Family f, Random rnd) {
    int w = img.getWidth();
    int h = img.getHeight();
    return switch (f) {
      case HFLIP -> draw(img, w, h, new AffineTransform(-1, 0, 0, 1, w, 0), Color.BLACK);
      case VFLIP -> draw(img, w, h, new AffineTransform(1, 0, 0, -1, 0, h), Color.BLACK);
      case ROT90 -> {
        int q = 1 + rnd.nextInt(3);
        BufferedImage r = img;
        for (int i = 0; i < q; i++) {
          r = draw(r, r.getHeight(), r.getWidth(), new AffineTransform(0, 1, -1, 0, r.getHeight(), 0), Color.BLACK);
        }
        yield r;
      }
      case ROT_SMALL -> {
        double deg = (rnd.nextBoolean() ? 1 : -1) * (2 + 18 * rnd.nextDouble());
        AffineTransform at = AffineTransform.getRotateInstance(Math.toRadians(deg), w / 2.0, h / 2.0);
        yield draw(img, w, h, at, rnd.nextBoolean() ? Color.BLACK : Color.WHITE);
      }
      case CROP_HEAVY -> crop(img, 0.3 + 0.3 * rnd.nextDouble(), rnd);
      case CROP -> crop(img, 0.6 + 0.35 * rnd.nextDouble(), rnd);
      case PASTE_SMALL -> paste(img, rnd);
      case TINY -> {
        double s = Math.max(24.0 / Math.max(w, h), 0.08 + 0.2 * rnd.nextDouble());
        yield jpeg(scale(img, s), 40 + rnd.nextInt(50));
      }
      case PIXELATE -> {
        double s = Math.max(12.0 / Math.max(w, h), 0.05 + 0.15 * rnd.nextDouble());
        BufferedImage small = scale(img, s);
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
        g.drawImage(small, 0, 0, w, h, null);
        g.dispose();
        yield out;
      }
      case BLUR -> blur(img, 1 + rnd.nextInt(4));
      case NOISE -> noise(img, 4 + 22 * rnd.nextDouble(), rnd);
      case COLOR -> color(img, rnd);
      case GRAY -> gray(img);
      case TEXT -> text(img, rnd);
      case BORDER -> border(img, rnd);
      case LOGO -> logo(img, rnd);
      case JPEG_LOW -> jpeg(img, 5 + rnd.nextInt(26));
      case SHEAR -> {
        double sx = (rnd.nextDouble() - 0.5) * 0.6;
        double sy = (rnd.nextDouble() - 0.5) * 0.3;
        AffineTransform at = new AffineTransform();
        at.translate(w / 2.0, h / 2.0);
        at.shear(sx, sy);
        at.translate(-w / 2.0, -h / 2.0);
        yield draw(img, w, h, at, Color.BLACK);
      }
      case PERSPECTIVE -> perspective(img, 0.05 + 0.2 * rnd.nextDouble(), rnd);
    };
  }

  /** Scales so that the longer side is at most {@code max}. */
  public static BufferedImage fit(BufferedImage img, int max) {
    int w = img.getWidth();
    int h = img.getHeight();
    double s = Math.min(1.0, (double) max / Math.max(w, h));
    return draw(img, Math.max(1, (int) Math.round(w * s)), Math.max(1, (int) Math.round(h * s)), null, Color.BLACK);
  }

  static BufferedImage draw(BufferedImage src, int w, int h, AffineTransform at, Color bg) {
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
    return draw(img.getSubimage(x, y, cw, ch), cw, ch, null, Color.BLACK);
  }

  static BufferedImage scale(BufferedImage img, double s) {
    return draw(img, Math.max(8, (int) (img.getWidth() * s)), Math.max(8, (int) (img.getHeight() * s)), null,
        Color.BLACK);
  }

  /** The picture as a small insert (20-55 % of the canvas width) in a larger, busy canvas. */
  static BufferedImage paste(BufferedImage img, Random rnd) {
    int cw = 320;
    int ch = 200 + rnd.nextInt(160);
    BufferedImage out = new BufferedImage(cw, ch, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = out.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    g.setPaint(new GradientPaint(0, 0, new Color(rnd.nextInt(1 << 24)), cw, ch, new Color(rnd.nextInt(1 << 24))));
    g.fillRect(0, 0, cw, ch);
    for (int i = 0; i < 6; i++) {
      g.setColor(new Color(rnd.nextInt(256), rnd.nextInt(256), rnd.nextInt(256), 80 + rnd.nextInt(150)));
      g.fillRect(rnd.nextInt(cw), rnd.nextInt(ch), 10 + rnd.nextInt(cw / 2), 10 + rnd.nextInt(ch / 3));
    }
    double frac = 0.2 + 0.35 * rnd.nextDouble();
    int pw = Math.max(8, (int) (cw * frac));
    int ph = Math.max(8, (int) Math.round((double) pw * img.getHeight() / img.getWidth()));
    if (ph > ch - 4) {
      ph = ch - 4;
      pw = Math.max(8, (int) Math.round((double) ph * img.getWidth() / img.getHeight()));
    }
    g.drawImage(img, rnd.nextInt(Math.max(1, cw - pw)), rnd.nextInt(Math.max(1, ch - ph)), pw, ph, null);
    g.dispose();
    return out;
  }

  static BufferedImage perspective(BufferedImage img, double strength, Random rnd) {
    int w = img.getWidth();
    int h = img.getHeight();
    int[] src = pixels(img);
    int[] out = new int[w * h];
    boolean horizontal = rnd.nextBoolean();
    boolean flip = rnd.nextBoolean();
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        // one side squeezed towards the centre line: a keystone
        double t = horizontal ? (double) x / (w - 1 + 1e-9) : (double) y / (h - 1 + 1e-9);
        if (flip) {
          t = 1 - t;
        }
        double k = 1 + strength * t * 2;
        double sx = horizontal ? x : (x - w / 2.0) * k + w / 2.0;
        double sy = horizontal ? (y - h / 2.0) * k + h / 2.0 : y;
        int ix = (int) Math.round(sx);
        int iy = (int) Math.round(sy);
        out[y * w + x] = ix >= 0 && ix < w && iy >= 0 && iy < h ? src[iy * w + ix] : 0;
      }
    }
    return image(w, h, out);
  }

  static BufferedImage color(BufferedImage img, Random rnd) {
    double bright = (rnd.nextDouble() - 0.5) * 100;
    double contrast = 0.5 + rnd.nextDouble();
    double sat = rnd.nextDouble() * 2;
    double[] tint = {1 + (rnd.nextDouble() - 0.5) * 0.3, 1 + (rnd.nextDouble() - 0.5) * 0.3,
        1 + (rnd.nextDouble() - 0.5) * 0.3};
    int[] px = pixels(img);
    for (int i = 0; i < px.length; i++) {
      int p = px[i];
      double r = p >> 16 & 255;
      double g = p >> 8 & 255;
      double b = p & 255;
      double l = 0.299 * r + 0.587 * g + 0.114 * b;
      r = ((l + (r - l) * sat) * tint[0] - 128) * contrast + 128 + bright;
      g = ((l + (g - l) * sat) * tint[1] - 128) * contrast + 128 + bright;
      b = ((l + (b - l) * sat) * tint[2] - 128) * contrast + 128 + bright;
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
    Color bg = rnd.nextBoolean() ? Color.BLACK : rnd.nextBoolean() ? Color.WHITE : new Color(rnd.nextInt(1 << 24));
    if (rnd.nextInt(3) == 0) { // uniform frame
      int m = (int) (Math.min(w, h) * (0.04 + 0.15 * rnd.nextDouble()));
      return draw(img, w + 2 * m, h + 2 * m, AffineTransform.getTranslateInstance(m, m), bg);
    }
    boolean wide = rnd.nextBoolean(); // letterbox / pillarbox to another aspect ratio
    double extra = 0.1 + 0.7 * rnd.nextDouble();
    int nw = wide ? (int) (w * (1 + extra)) : w;
    int nh = wide ? h : (int) (h * (1 + extra));
    return draw(img, nw, nh, AffineTransform.getTranslateInstance((nw - w) / 2.0, (nh - h) / 2.0), bg);
  }

  static BufferedImage blur(BufferedImage img, int radius) {
    int w = img.getWidth();
    int h = img.getHeight();
    int[] src = pixels(img);
    int[] tmp = new int[src.length];
    int[] out = new int[src.length];
    boxPass(src, tmp, w, h, radius, true);
    boxPass(tmp, out, w, h, radius, false);
    return image(w, h, out);
  }

  private static void boxPass(int[] src, int[] dst, int w, int h, int r, boolean horizontal) {
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int sr = 0;
        int sg = 0;
        int sb = 0;
        for (int d = -r; d <= r; d++) {
          int p = horizontal ? src[y * w + clamp(x + d, 0, w - 1)] : src[clamp(y + d, 0, h - 1) * w + x];
          sr += p >> 16 & 255;
          sg += p >> 8 & 255;
          sb += p & 255;
        }
        int n = 2 * r + 1;
        dst[y * w + x] = (sr / n) << 16 | (sg / n) << 8 | (sb / n);
      }
    }
  }

  static BufferedImage noise(BufferedImage img, double sigma, Random rnd) {
    int[] px = pixels(img);
    boolean saltPepper = rnd.nextInt(4) == 0;
    for (int i = 0; i < px.length; i++) {
      int p = px[i];
      if (saltPepper) {
        if (rnd.nextInt(50) == 0) {
          px[i] = rnd.nextBoolean() ? 0xFFFFFF : 0;
        }
        continue;
      }
      int r = clamp((int) ((p >> 16 & 255) + rnd.nextGaussian() * sigma), 0, 255);
      int g = clamp((int) ((p >> 8 & 255) + rnd.nextGaussian() * sigma), 0, 255);
      int b = clamp((int) ((p & 255) + rnd.nextGaussian() * sigma), 0, 255);
      px[i] = r << 16 | g << 8 | b;
    }
    return image(img.getWidth(), img.getHeight(), px);
  }

  static BufferedImage text(BufferedImage img, Random rnd) {
    BufferedImage out = draw(img, img.getWidth(), img.getHeight(), null, Color.BLACK);
    Graphics2D g = out.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    int w = out.getWidth();
    int h = out.getHeight();
    int lines = 1 + rnd.nextInt(2);
    for (int i = 0; i < lines; i++) {
      g.setFont(new Font(rnd.nextBoolean() ? Font.SANS_SERIF : Font.SERIF, Font.BOLD,
          Math.max(8, h / (5 + rnd.nextInt(10)))));
      g.setColor(new Color[] {Color.WHITE, Color.YELLOW, Color.BLACK, Color.RED}[rnd.nextInt(4)]);
      g.drawString(WORDS[rnd.nextInt(WORDS.length)], rnd.nextInt(Math.max(1, w / 3)),
          Math.max(10, rnd.nextInt(Math.max(1, h))));
    }
    g.dispose();
    return out;
  }

  static BufferedImage logo(BufferedImage img, Random rnd) {
    BufferedImage out = draw(img, img.getWidth(), img.getHeight(), null, Color.BLACK);
    Graphics2D g = out.createGraphics();
    int w = out.getWidth();
    int h = out.getHeight();
    int bw = (int) (w * (0.08 + 0.22 * rnd.nextDouble()));
    int bh = (int) (h * (0.08 + 0.22 * rnd.nextDouble()));
    int x = rnd.nextBoolean() ? 0 : w - bw;
    int y = rnd.nextBoolean() ? 0 : h - bh;
    if (rnd.nextBoolean()) {
      g.setComposite(AlphaComposite.getInstance(AlphaComposite.SRC_OVER, 0.5f + 0.5f * rnd.nextFloat()));
    }
    g.setColor(new Color(rnd.nextInt(1 << 24)));
    if (rnd.nextBoolean()) {
      g.fillRect(x, y, bw, bh);
    } else {
      g.fillOval(x, y, bw, bh);
    }
    g.dispose();
    return out;
  }

  /** JPEG re-encode at {@code quality} (1-100), decoded back. */
  public static BufferedImage jpeg(BufferedImage img, int quality) {
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

  private static int[] pixels(BufferedImage img) {
    return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
  }

  private static BufferedImage image(int w, int h, int[] px) {
    BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    out.setRGB(0, 0, w, h, px, 0, w);
    return out;
  }

  private static int clamp(int v, int lo, int hi) {
    return Math.max(lo, Math.min(hi, v));
  }
}
