package dev.imgmatch.embedder.augment;

import java.awt.AlphaComposite;
import java.awt.BasicStroke;
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
import java.util.Random;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * The one library of picture edits (issue 18, item 4): crops, flips, turns, shears, keystones, pastes into a busy
 * canvas, downscales and pixelation, colour, grey, borders and frames, blurs, noise, captions and logos, JPEG
 * re-encodes. Pure functions of their arguments (and of {@code rnd} where they take one), RGB out. The recipes draw
 * which edits and which parameters: {@code head.TrainingViews} (the views the default head is fitted on) and
 * {@code train.Augmentations} (the families of the calibration split and of metric learning) — each gives the same
 * pictures for the same seed as before the edits moved here (checked pixel for pixel when they moved).
 */
public final class ImageEdits {
  /** The words captions are drawn from. */
  static final String[] WORDS = {"SALE", "when you see it", "lol", "MONDAY", "original content", "#repost",
      "wow", "NEW", "2026", "follow me", "©", "breaking"};

  private ImageEdits() {}

  /** Scales so that the longer side is at most {@code max} (never up). */
  public static BufferedImage fit(BufferedImage img, int max) {
    int w = img.getWidth();
    int h = img.getHeight();
    double s = Math.min(1.0, (double) max / Math.max(w, h));
    return draw(img, Math.max(1, (int) Math.round(w * s)), Math.max(1, (int) Math.round(h * s)), null, Color.BLACK);
  }

  /** {@code src} drawn (bilinear) into a new {@code w} x {@code h} RGB picture over {@code bg}, through {@code at} or stretched to fit when it is null. */
  public static BufferedImage draw(BufferedImage src, int w, int h, AffineTransform at, Color bg) {
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

  /** A plain copy in RGB. */
  public static BufferedImage copy(BufferedImage img) {
    BufferedImage out = new BufferedImage(img.getWidth(), img.getHeight(), BufferedImage.TYPE_INT_RGB);
    Graphics2D g = out.createGraphics();
    g.drawImage(img, 0, 0, null);
    g.dispose();
    return out;
  }

  /** Scaled by {@code s} (at least 8 px a side). */
  public static BufferedImage scale(BufferedImage img, double s) {
    return draw(img, Math.max(8, (int) (img.getWidth() * s)), Math.max(8, (int) (img.getHeight() * s)), null,
        Color.BLACK);
  }

  /** A crop of about {@code area} of the picture (aspect ratio jittered ±0.4 in log), placed at random. */
  public static BufferedImage crop(BufferedImage img, double area, Random rnd) {
    double aspect = Math.exp((rnd.nextDouble() - 0.5) * 0.8);
    int w = img.getWidth();
    int h = img.getHeight();
    int cw = clamp((int) Math.round(Math.sqrt(area * aspect) * w), 8, w);
    int ch = clamp((int) Math.round(Math.sqrt(area / aspect) * h), 8, h);
    int x = rnd.nextInt(w - cw + 1);
    int y = rnd.nextInt(h - ch + 1);
    return draw(img.getSubimage(x, y, cw, ch), cw, ch, null, Color.BLACK);
  }

  /** Mirrored left to right. */
  public static BufferedImage hflip(BufferedImage img) {
    return draw(img, img.getWidth(), img.getHeight(), new AffineTransform(-1, 0, 0, 1, img.getWidth(), 0), Color.BLACK);
  }

  /** Mirrored top to bottom. */
  public static BufferedImage vflip(BufferedImage img) {
    return draw(img, img.getWidth(), img.getHeight(), new AffineTransform(1, 0, 0, -1, 0, img.getHeight()),
        Color.BLACK);
  }

  /** Turned a quarter clockwise. */
  public static BufferedImage rotate90(BufferedImage img) {
    return draw(img, img.getHeight(), img.getWidth(), new AffineTransform(0, 1, -1, 0, img.getHeight(), 0),
        Color.BLACK);
  }

  /** Turned by {@code degrees} about the centre, same size, corners filled with {@code bg}. */
  public static BufferedImage rotate(BufferedImage img, double degrees, Color bg) {
    AffineTransform at = AffineTransform.getRotateInstance(Math.toRadians(degrees), img.getWidth() / 2.0,
        img.getHeight() / 2.0);
    return draw(img, img.getWidth(), img.getHeight(), at, bg);
  }

  /** Sheared by {@code sx}, {@code sy} about the centre. */
  public static BufferedImage shear(BufferedImage img, double sx, double sy) {
    int w = img.getWidth();
    int h = img.getHeight();
    AffineTransform at = new AffineTransform();
    at.translate(w / 2.0, h / 2.0);
    at.shear(sx, sy);
    at.translate(-w / 2.0, -h / 2.0);
    return draw(img, w, h, at, Color.BLACK);
  }

  /** Shrunk by {@code s}, then blown back up without interpolation: blocks. */
  public static BufferedImage pixelate(BufferedImage img, double s) {
    int w = img.getWidth();
    int h = img.getHeight();
    BufferedImage small = scale(img, s);
    BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = out.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
    g.drawImage(small, 0, 0, w, h, null);
    g.dispose();
    return out;
  }


  /** The picture as a small insert (20-55 % of the canvas width) in a larger, busy canvas. */
  public static BufferedImage paste(BufferedImage img, Random rnd) {
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

  /** A keystone: one side squeezed towards the centre line by up to {@code strength}. */
  public static BufferedImage perspective(BufferedImage img, double strength, Random rnd) {
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

  /**
   * Saturation {@code sat} around the luma, a per-channel tint, then contrast around mid-grey and brightness:
   * {@code ((l + (c - l) sat) tint - 128) contrast + 128 + bright} per channel c (a tint of 1 changes nothing).
   */
  public static BufferedImage color(BufferedImage img, double bright, double contrast, double sat, double[] tint) {
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


  /** Grey-scale (luma in all three channels). */
  public static BufferedImage gray(BufferedImage img) {
    int[] px = pixels(img);
    for (int i = 0; i < px.length; i++) {
      int p = px[i];
      int l = (int) (0.299 * (p >> 16 & 255) + 0.587 * (p >> 8 & 255) + 0.114 * (p & 255));
      px[i] = l << 16 | l << 8 | l;
    }
    return image(img.getWidth(), img.getHeight(), px);
  }

  /** Black, white (each half the time so far) or a random colour: the fill of borders and letterboxes. */
  public static Color plainColor(Random rnd) {
    return rnd.nextBoolean() ? Color.BLACK : rnd.nextBoolean() ? Color.WHITE : new Color(rnd.nextInt(1 << 24));
  }

  /** Letterboxed ({@code wide}: wider) or pillarboxed by {@code extra} of the side, centred, over {@code bg}. */
  public static BufferedImage letterbox(BufferedImage img, boolean wide, double extra, Color bg) {
    int w = img.getWidth();
    int h = img.getHeight();
    int nw = wide ? (int) (w * (1 + extra)) : w;
    int nh = wide ? h : (int) (h * (1 + extra));
    return draw(img, nw, nh, AffineTransform.getTranslateInstance((nw - w) / 2.0, (nh - h) / 2.0), bg);
  }

  /** A uniform frame of {@code m} pixels. */
  public static BufferedImage frame(BufferedImage img, int m, Color bg) {
    return draw(img, img.getWidth() + 2 * m, img.getHeight() + 2 * m, AffineTransform.getTranslateInstance(m, m), bg);
  }


  /** Box blur, separable: a horizontal then a vertical mean over 2 {@code radius} + 1 pixels (each rounded down). */
  public static BufferedImage blur(BufferedImage img, int radius) {
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

  /** Box blur over the 5 x 5 window at once (one rounding). */
  public static BufferedImage boxBlur5(BufferedImage img) {
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

  /** Gaussian noise of {@code sigma} on every channel of every pixel. */
  public static BufferedImage gaussianNoise(BufferedImage img, double sigma, Random rnd) {
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

  /** Salt and pepper: one pixel in 50 turned white or black. */
  public static BufferedImage saltAndPepper(BufferedImage img, Random rnd) {
    int[] px = pixels(img);
    for (int i = 0; i < px.length; i++) {
      if (rnd.nextInt(50) == 0) {
        px[i] = rnd.nextBoolean() ? 0xFFFFFF : 0;
      }
    }
    return image(img.getWidth(), img.getHeight(), px);
  }


  /** An opaque box in a corner or a one-word caption (the meme overlays). */
  public static BufferedImage boxOrCaption(BufferedImage img, Random rnd) {
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

  /** One or two lines of bold text in one of four colours, anywhere. */
  public static BufferedImage text(BufferedImage img, Random rnd) {
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

  /** A box or disc in a corner, opaque or half transparent: a logo or watermark. */
  public static BufferedImage logo(BufferedImage img, Random rnd) {
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

  static int[] pixels(BufferedImage img) {
    return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
  }

  static BufferedImage image(int w, int h, int[] px) {
    BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    out.setRGB(0, 0, w, h, px, 0, w);
    return out;
  }

  static int clamp(int v, int lo, int hi) {
    return Math.max(lo, Math.min(hi, v));
  }
}
