package dev.imgmatch.ingest.image;

/**
 * Finds uniform margins (borders, letterbox / pillarbox bars, padding onto a canvas) around a picture and the
 * region inside them.
 *
 * <p>Per side, the outermost line (row or column) sets the reference colour (its mean); it and each following
 * line belong to the margin while <em>every</em> pixel of the line is within {@code tolerance} (largest channel
 * difference) of that reference, so JPEG noise on a flat bar passes but any content in the strip stops the
 * scan. The run must then end at an <em>edge</em> (a straight line where most pixels change at once, as where
 * a bar meets the picture), not at an object's silhouette on a plain background nor where a sky gradient
 * drifts past the tolerance; a run over half the side is content (a uniform or mostly dark picture). A side's
 * margin is capped at {@code maxFraction} of the side, so a picture that is legitimately dark (or white) at one
 * edge loses at most that strip, never its content. Margins narrower than {@code minFraction} of the side (and
 * 2 px) are ignored: a trim that small changes nothing for the model. Thread-safe.
 *
 * @param tolerance largest per-channel difference from the line's reference colour (0-255)
 * @param maxFraction largest share of a side one margin may take (0 &lt; f &lt; 0.5)
 * @param minFraction smallest share of a side that counts as a margin
 */
public record BorderTrim(int tolerance, double maxFraction, double minFraction) {
  public static final BorderTrim DEFAULT = new BorderTrim(10, 0.3, 0.02);
  /** How far past a uniform run the edge may lie (one 16x16 JPEG MCU of ringing). */
  static final int EDGE_LINES = 16;

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

    /** Intersection over union with {@code o} (0: disjoint, 1: the same region). */
    public double iou(Region o) {
      long w = Math.max(0, Math.min(x + width, o.x + o.width) - Math.max(x, o.x));
      long h = Math.max(0, Math.min(y + height, o.y + o.height) - Math.max(y, o.y));
      double inter = (double) w * h;
      return inter / ((double) width * height + (double) o.width * o.height - inter);
    }
  }

  /** The region inside the detected margins, or the whole image when there are none. */
  public Region find(RgbImage img) {
    int w = img.width();
    int h = img.height();
    int top = margin(img, true, false);
    int bottom = margin(img, true, true);
    int left = margin(img, false, false);
    int right = margin(img, false, true);
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
   * The margin on one side: the uniform lines ({@link #uniformRun}) when they end at an edge, capped at
   * {@code maxFraction} of the side; 0 when the uniform run ends without an edge (a background around an
   * object, a sky drifting in colour) or covers half the side.
   *
   * @param rows scan rows (top/bottom) rather than columns (left/right)
   * @param fromEnd start at the bottom / right
   */
  private int margin(RgbImage img, boolean rows, boolean fromEnd) {
    int lines = rows ? img.height() : img.width();
    int limit = lines / 2;
    int[] ref = new int[3];
    int n = uniformRun(img, rows, fromEnd, limit, ref);
    if (n == 0 || n >= limit || !edgeAfter(img, rows, fromEnd, n, ref)) {
      return 0;
    }
    return Math.min(n, (int) (lines * maxFraction));
  }

  /** How many lines from one side are uniform (at most {@code limit}); {@code ref} receives their colour. */
  private int uniformRun(RgbImage img, boolean rows, boolean fromEnd, int limit, int[] ref) {
    int w = img.width();
    int lines = rows ? img.height() : img.width();
    int len = rows ? w : img.height();
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
    ref[0] = (int) (sr / len);
    ref[1] = (int) (sg / len);
    ref[2] = (int) (sb / len);
    int n = 0;
    while (n < limit) {
      int line = fromEnd ? lines - 1 - n : n;
      for (int i = 0; i < len; i++) {
        if (deviation(rows ? px[line * w + i] : px[i * w + line], ref) > tolerance) {
          return n;
        }
      }
      n++;
    }
    return n;
  }

  /**
   * Whether the uniform run of {@code n} lines ends at an edge: within {@value #EDGE_LINES} lines past it (JPEG
   * ringing and anti-aliasing soften the first ones), a line where at least half of the pixels differ from
   * the margin colour by more than {@code max(2 x tolerance, 32)}. A border or letterbox bar meets the content
   * along a straight line; a background meets an object along its silhouette (a few pixels per line), and a
   * gradient (sky) crosses the tolerance gradually.
   */
  private boolean edgeAfter(RgbImage img, boolean rows, boolean fromEnd, int n, int[] ref) {
    int w = img.width();
    int lines = rows ? img.height() : img.width();
    int len = rows ? w : img.height();
    int[] px = img.pixels();
    int edge = Math.max(2 * tolerance, 32);
    for (int k = n; k < Math.min(lines, n + EDGE_LINES); k++) {
      int line = fromEnd ? lines - 1 - k : k;
      int differing = 0;
      for (int i = 0; i < len; i++) {
        if (deviation(rows ? px[line * w + i] : px[i * w + line], ref) > edge) {
          differing++;
        }
      }
      if (2 * differing >= len) {
        return true;
      }
    }
    return false;
  }

  private static int deviation(int p, int[] ref) {
    return Math.max(Math.abs(((p >> 16) & 0xFF) - ref[0]),
        Math.max(Math.abs(((p >> 8) & 0xFF) - ref[1]), Math.abs((p & 0xFF) - ref[2])));
  }
}
