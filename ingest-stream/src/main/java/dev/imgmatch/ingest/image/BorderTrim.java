package dev.imgmatch.ingest.image;

/**
 * Finds uniform margins (borders, letterbox / pillarbox bars, padding onto a canvas) around a picture and the
 * region inside them.
 *
 * <p>Per side, the outermost line (row or column) sets the reference colour (its mean); it and each following
 * line belong to the margin while <em>every</em> pixel of the line is within {@code tolerance} (largest channel
 * difference) of that reference, so JPEG noise on a flat bar passes but any content in the strip stops the
 * scan. A side's margin is capped at {@code maxFraction} of the side, so a picture that is legitimately dark
 * (or white) at one edge loses at most that strip, never its whole content; a picture uniform everywhere (all
 * four sides reach the cap) is not trimmed. Margins narrower than {@code minFraction} of the side (and 2 px)
 * are ignored: a trim that small changes nothing for the model. Thread-safe, allocation-free scan.
 *
 * @param tolerance largest per-channel difference from the line's reference colour (0-255)
 * @param maxFraction largest share of a side one margin may take (0 &lt; f &lt; 0.5)
 * @param minFraction smallest share of a side that counts as a margin
 */
public record BorderTrim(int tolerance, double maxFraction, double minFraction) {
  public static final BorderTrim DEFAULT = new BorderTrim(24, 0.3, 0.02);

  public BorderTrim {
    if (tolerance < 0 || tolerance > 255 || !(maxFraction > 0 && maxFraction < 0.5)
        || !(minFraction >= 0 && minFraction <= maxFraction)) {
      throw new IllegalArgumentException("bad border trim " + tolerance + " " + maxFraction + " " + minFraction);
    }
  }

  /** A region of the image: {@code [x, x + width) x [y, y + height)}. */
  public record Region(int x, int y, int width, int height) {
    public boolean isWhole(RgbImage img) {
      return x == 0 && y == 0 && width == img.width() && height == img.height();
    }
  }

  /** The region inside the detected margins, or the whole image when there are none. */
  public Region find(RgbImage img) {
    int w = img.width();
    int h = img.height();
    int capY = (int) (h * maxFraction);
    int capX = (int) (w * maxFraction);
    int top = run(img, true, false, capY);
    int bottom = run(img, true, true, capY);
    int left = run(img, false, false, capX);
    int right = run(img, false, true, capX);
    if (top >= capY && bottom >= capY && left >= capX && right >= capX) {
      return new Region(0, 0, w, h); // uniform all over: nothing to find inside
    }
    int minY = Math.max(2, (int) Math.ceil(h * minFraction));
    int minX = Math.max(2, (int) Math.ceil(w * minFraction));
    top = top >= minY ? top : 0;
    bottom = bottom >= minY ? bottom : 0;
    left = left >= minX ? left : 0;
    right = right >= minX ? right : 0;
    return new Region(left, top, w - left - right, h - top - bottom);
  }

  /** The pixels of {@code r} (the image itself when {@code r} is all of it). */
  public static RgbImage crop(RgbImage img, Region r) {
    if (r.isWhole(img)) {
      return img;
    }
    int[] out = new int[r.width() * r.height()];
    for (int y = 0; y < r.height(); y++) {
      System.arraycopy(img.pixels(), (r.y() + y) * img.width() + r.x(), out, y * r.width(), r.width());
    }
    return new RgbImage(r.width(), r.height(), out);
  }

  /**
   * How many lines from one side are uniform, at most {@code cap}.
   *
   * @param rows scan rows (top/bottom) rather than columns (left/right)
   * @param fromEnd start at the bottom / right
   */
  private int run(RgbImage img, boolean rows, boolean fromEnd, int cap) {
    int w = img.width();
    int h = img.height();
    int lines = rows ? h : w;
    int len = rows ? w : h;
    int[] px = img.pixels();
    // reference colour: mean of the outermost line
    int first = fromEnd ? lines - 1 : 0;
    long sr = 0;
    long sg = 0;
    long sb = 0;
    for (int i = 0; i < len; i++) {
      int p = rows ? px[first * w + i] : px[i * w + first];
      sr += (p >> 16) & 0xFF;
      sg += (p >> 8) & 0xFF;
      sb += p & 0xFF;
    }
    int rr = (int) (sr / len);
    int rg = (int) (sg / len);
    int rb = (int) (sb / len);
    int n = 0;
    while (n < cap) {
      int line = fromEnd ? lines - 1 - n : n;
      for (int i = 0; i < len; i++) {
        int p = rows ? px[line * w + i] : px[i * w + line];
        if (Math.abs(((p >> 16) & 0xFF) - rr) > tolerance || Math.abs(((p >> 8) & 0xFF) - rg) > tolerance
            || Math.abs((p & 0xFF) - rb) > tolerance) {
          return n;
        }
      }
      n++;
    }
    return n;
  }
}
