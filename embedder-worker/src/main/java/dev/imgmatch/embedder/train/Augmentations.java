package dev.imgmatch.embedder.train;

import dev.imgmatch.embedder.augment.ImageEdits;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

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

  /** One edit of the given family with random parameters (the edits themselves: {@link ImageEdits}). */
  public static BufferedImage edit(BufferedImage img, Family f, Random rnd) {
    int w = img.getWidth();
    int h = img.getHeight();
    return switch (f) {
      case HFLIP -> ImageEdits.hflip(img);
      case VFLIP -> ImageEdits.vflip(img);
      case ROT90 -> {
        int q = 1 + rnd.nextInt(3);
        BufferedImage r = img;
        for (int i = 0; i < q; i++) {
          r = ImageEdits.rotate90(r);
        }
        yield r;
      }
      case ROT_SMALL -> {
        double deg = (rnd.nextBoolean() ? 1 : -1) * (2 + 18 * rnd.nextDouble());
        yield ImageEdits.rotate(img, deg, rnd.nextBoolean() ? Color.BLACK : Color.WHITE);
      }
      case CROP_HEAVY -> ImageEdits.crop(img, 0.3 + 0.3 * rnd.nextDouble(), rnd);
      case CROP -> ImageEdits.crop(img, 0.6 + 0.35 * rnd.nextDouble(), rnd);
      case PASTE_SMALL -> ImageEdits.paste(img, rnd);
      case TINY -> {
        double s = Math.max(24.0 / Math.max(w, h), 0.08 + 0.2 * rnd.nextDouble());
        yield ImageEdits.jpeg(ImageEdits.scale(img, s), 40 + rnd.nextInt(50));
      }
      case PIXELATE -> ImageEdits.pixelate(img, Math.max(12.0 / Math.max(w, h), 0.05 + 0.15 * rnd.nextDouble()));
      case BLUR -> ImageEdits.blur(img, 1 + rnd.nextInt(4));
      case NOISE -> {
        double sigma = 4 + 22 * rnd.nextDouble();
        yield rnd.nextInt(4) == 0 ? ImageEdits.saltAndPepper(img, rnd) : ImageEdits.gaussianNoise(img, sigma, rnd);
      }
      case COLOR -> {
        double bright = (rnd.nextDouble() - 0.5) * 100;
        double contrast = 0.5 + rnd.nextDouble();
        double sat = rnd.nextDouble() * 2;
        double[] tint = {1 + (rnd.nextDouble() - 0.5) * 0.3, 1 + (rnd.nextDouble() - 0.5) * 0.3,
            1 + (rnd.nextDouble() - 0.5) * 0.3};
        yield ImageEdits.color(img, bright, contrast, sat, tint);
      }
      case GRAY -> ImageEdits.gray(img);
      case TEXT -> ImageEdits.text(img, rnd);
      case BORDER -> {
        Color bg = ImageEdits.plainColor(rnd);
        if (rnd.nextInt(3) == 0) { // uniform frame
          yield ImageEdits.frame(img, (int) (Math.min(w, h) * (0.04 + 0.15 * rnd.nextDouble())), bg);
        }
        boolean wide = rnd.nextBoolean(); // letterbox / pillarbox to another aspect ratio
        yield ImageEdits.letterbox(img, wide, 0.1 + 0.7 * rnd.nextDouble(), bg);
      }
      case LOGO -> ImageEdits.logo(img, rnd);
      case JPEG_LOW -> ImageEdits.jpeg(img, 5 + rnd.nextInt(26));
      case SHEAR -> {
        double sx = (rnd.nextDouble() - 0.5) * 0.6;
        double sy = (rnd.nextDouble() - 0.5) * 0.3;
        yield ImageEdits.shear(img, sx, sy);
      }
      case PERSPECTIVE -> ImageEdits.perspective(img, 0.05 + 0.2 * rnd.nextDouble(), rnd);
    };
  }

  /** Scales so that the longer side is at most {@code max}. */
  public static BufferedImage fit(BufferedImage img, int max) {
    return ImageEdits.fit(img, max);
  }

  /** JPEG re-encode at {@code quality} (1-100), decoded back. */
  public static BufferedImage jpeg(BufferedImage img, int quality) {
    return ImageEdits.jpeg(img, quality);
  }
}
