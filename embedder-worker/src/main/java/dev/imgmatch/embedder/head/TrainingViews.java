package dev.imgmatch.embedder.head;

import dev.imgmatch.embedder.augment.ImageEdits;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

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
      case 0, 1 -> ImageEdits.crop(img, 0.35 + 0.6 * rnd.nextDouble(), rnd);
      case 2 -> ImageEdits.hflip(img);
      case 3 -> ImageEdits.rotate(img, (rnd.nextBoolean() ? 1 : -1) * (3 + 17 * rnd.nextDouble()), Color.BLACK);
      case 4 -> rnd.nextInt(4) == 0 ? ImageEdits.rotate90(img) : color(img, rnd);
      case 5 -> color(img, rnd);
      case 6 -> rnd.nextBoolean() ? ImageEdits.gray(img) : color(img, rnd);
      case 7, 8 -> ImageEdits.jpeg(ImageEdits.scale(img, 0.15 + 0.5 * rnd.nextDouble()), 15 + rnd.nextInt(70));
      case 9 -> {
        boolean wide = rnd.nextBoolean();
        double extra = 0.1 + 0.6 * rnd.nextDouble();
        yield ImageEdits.letterbox(img, wide, extra, ImageEdits.plainColor(rnd));
      }
      case 10 -> rnd.nextBoolean() ? ImageEdits.boxBlur5(img) : noise(img, rnd);
      default -> ImageEdits.boxOrCaption(img, rnd);
    };
  }

  /** Brightness ±40, contrast 0.6-1.4, saturation 0-1.8, no tint. */
  private static BufferedImage color(BufferedImage img, Random rnd) {
    double bright = (rnd.nextDouble() - 0.5) * 80;
    double contrast = 0.6 + 0.8 * rnd.nextDouble();
    double sat = rnd.nextDouble() * 1.8;
    return ImageEdits.color(img, bright, contrast, sat, NO_TINT);
  }

  private static final double[] NO_TINT = {1, 1, 1};

  /** Gaussian noise of sigma 5-25. */
  private static BufferedImage noise(BufferedImage img, Random rnd) {
    return ImageEdits.gaussianNoise(img, 5 + 20 * rnd.nextDouble(), rnd);
  }

  static BufferedImage fit(BufferedImage img, int max) {
    return ImageEdits.fit(img, max);
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
}
