package dev.imgmatch.ingest.image;

/**
 * Finds a picture pasted into a larger one — a photo inside a meme template, a screenshot of a page showing an
 * image, a copy pasted small onto a canvas — as the largest compact region of detail surrounded by flatter
 * picture. Its crop (the {@code inset} view) meets the pasted work's descriptor at the work's own framing, where the
 * whole picture's descriptor is dominated by the canvas (docs/BENCHMARKS.md, "Pasted copies: the inset").
 *
 * <p>On a copy of the picture shrunk so that its longer side is at most {@value #WORK_SIDE} px (bounded cost
 * whatever the upload's size), blocks of {@code max(4, side / 32)} px are <em>detailed</em> when the standard
 * deviation of their grey level exceeds {@code minDeviation}. The block mask is opened (eroded, then dilated, by one
 * block in every direction), which removes lines one or two blocks wide — the edges of flat shapes, rules, borders,
 * thin text — and keeps solid areas of detail. Of the 8-connected areas left, the one with the most blocks whose
 * bounding box covers between {@code minShare} and {@code maxShare} of the picture and is at least half filled is
 * the inset, provided that at most {@code maxOutsideDetail} of the blocks outside its box are detailed (it sits on a
 * flatter canvas): a picture that is detailed nearly everywhere (most photos) has none, nor has a flat one. Its box
 * is then moved to the pasted picture's own straight edges where all four are found ({@link #edges}): the detail stops
 * short of a sky or a flat wall. Deterministic and thread-safe.
 *
 * @param minDeviation grey-level standard deviation (0-255) above which a block is detailed
 * @param minShare smallest share of the picture's area the inset's bounding box may cover
 * @param maxShare largest share (above it the whole picture's descriptor already sees the region)
 * @param maxOutsideDetail largest share of detailed blocks outside the inset's box
 */
public record InsetFinder(double minDeviation, double minShare, double maxShare, double maxOutsideDetail) {
  public static final InsetFinder DEFAULT = new InsetFinder(10, 0.01, 0.6, 0.3);
  /** Longer side of the copy the blocks are measured on. */
  static final int WORK_SIDE = 256;
  /** Fewest blocks across a side for the search to mean anything (smaller pictures have no inset). */
  static final int MIN_BLOCKS = 5;

  public InsetFinder {
    if (!(minDeviation >= 0 && minDeviation <= 255) || !(minShare > 0 && minShare <= maxShare && maxShare < 1)
        || !(maxOutsideDetail >= 0 && maxOutsideDetail <= 1)) {
      throw new IllegalArgumentException("bad inset finder " + minDeviation + " " + minShare + " " + maxShare + " "
          + maxOutsideDetail);
    }
  }

  /**
   * A pasted picture found: its region in the image's pixels, and whether its box is its own four straight edges
   * ({@link #edges}) rather than the box of its detailed blocks.
   */
  public record Found(BorderTrim.Region region, boolean edged) {}

  /** The inset's region in {@code img}'s pixels, or null when it has none. */
  public BorderTrim.Region find(RgbImage img) {
    Found f = locate(img);
    return f == null ? null : f.region();
  }

  /** The inset of {@code img} and whether its edges were found, or null when it has none. */
  public Found locate(RgbImage img) {
    int longer = Math.max(img.width(), img.height());
    RgbImage work = img;
    if (longer > WORK_SIDE) {
      double s = WORK_SIDE / (double) longer;
      work = Resize.to(img, Math.max(1, (int) Math.round(img.width() * s)),
          Math.max(1, (int) Math.round(img.height() * s)));
    }
    int w = work.width();
    int h = work.height();
    int b = Math.max(4, Math.max(w, h) / 32);
    int bw = w / b;
    int bh = h / b;
    if (bw < MIN_BLOCKS || bh < MIN_BLOCKS) {
      return null;
    }
    boolean[] detailed = detailed(work, b, bw, bh);
    int[] best = largestArea(open(detailed, bw, bh), bw, bh);
    if (best == null || outsideDetail(detailed, bw, bh, best) > maxOutsideDetail) {
      return null;
    }
    // block box -> pixels of the work copy (refined to the pasted picture's edges) -> pixels of img
    Box box = edges(work, best[0] * b, best[1] * b, Math.min(w, (best[2] + 1) * b), Math.min(h, (best[3] + 1) * b),
        b);
    double sx = img.width() / (double) w;
    double sy = img.height() / (double) h;
    int x0 = (int) Math.floor(box.x0() * sx);
    int y0 = (int) Math.floor(box.y0() * sy);
    int x1 = Math.min(img.width(), (int) Math.ceil(box.x1() * sx));
    int y1 = Math.min(img.height(), (int) Math.ceil(box.y1() * sy));
    return new Found(new BorderTrim.Region(x0, y0, x1 - x0, y1 - y0), box.edged());
  }

  /** A box of the work copy (ends exclusive), and whether its sides are the pasted picture's four edges. */
  record Box(int x0, int y0, int x1, int y1, boolean edged) {}

  /** Smallest colour step (largest of the channels' differences, 0-255) between two pixels that counts on an edge. */
  static final int EDGE_STEP = 12;
  /** Least share of a side's pixels whose step across it reaches {@link #EDGE_STEP}. */
  static final double EDGE_SHARE = 0.6;
  /**
   * How many times the mean step across the side the mean step three and four pixels outside it must be: the canvas
   * beyond a pasted picture is flatter than the picture's edge is sharp (JPEG's ringing and the resize spread the step
   * over a pixel or two, hence a few pixels out).
   */
  static final double EDGE_CONTRAST = 3.0;

  /**
   * The box (work-copy pixels) of the pasted picture whose detail the blocks found at {@code x0, y0, x1, y1}: the
   * block box only covers the picture's detailed part — its sky, a flat wall, a dark corner are not detailed, and the
   * opening trims another block — so each side is moved to the pasted picture's own straight edge (a side along which
   * {@link #EDGE_SHARE} of the pixels step by {@link #EDGE_STEP} or more, and the canvas just outside is
   * {@link #EDGE_CONTRAST} times flatter), the nearest found looking outward from a block inside the box up to the
   * box's size beyond it, left and right first (along the box's height), then top and bottom, twice. The block box
   * stays unless all four sides are found: a picture turned or sheared on its canvas, or pasted with no edge of its
   * own, keeps what its detail says (measured in docs/BENCHMARKS.md, "Pasted copies: the inset's edges").
   */
  static Box edges(RgbImage work, int x0, int y0, int x1, int y1, int block) {
    int[] box = {x0, y0, x1, y1};
    boolean[] found = new boolean[4];
    for (int pass = 0; pass < 2; pass++) {
      for (int vertical = 1; vertical >= 0; vertical--) {
        boolean v = vertical == 1;
        int lo = v ? 0 : 1; // box[lo]: left or top; box[lo + 2]: right or bottom
        int a = v ? box[1] : box[0]; // the span the side runs along
        int e = v ? box[3] : box[2];
        int reach = box[lo + 2] - box[lo] + 2 * block;
        int start = side(work, v, box[lo], a, e, -1, block, reach);
        int end = side(work, v, box[lo + 2], a, e, 1, block, reach);
        found[lo] = start >= 0;
        found[lo + 2] = end >= 0;
        if (start >= 0 && end >= 0 && end - start >= 2 * block) {
          box[lo] = start;
          box[lo + 2] = end;
        }
      }
    }
    return found[0] && found[1] && found[2] && found[3] ? new Box(box[0], box[1], box[2], box[3], true)
        : new Box(x0, y0, x1, y1, false);
  }

  /**
   * The edge nearest to boundary {@code at} (between pixel rows or columns {@code at - 1} and {@code at}; {@code
   * vertical}: columns) along {@code [a, e)}, outward in direction {@code dir} (-1: left or up), looked for from
   * {@code inward} pixels inside to {@code outward} pixels outside, at the strongest boundary within two of the first
   * one that qualifies; -1 when none does.
   */
  private static int side(RgbImage img, boolean vertical, int at, int a, int e, int dir, int inward, int outward) {
    int n = vertical ? img.width() : img.height();
    if (e - a < 2) {
      return -1;
    }
    for (int k = 0; k <= inward + outward; k++) {
      int i = at - dir * inward + dir * k;
      if (i < 1 || i >= n) {
        break;
      }
      if (isEdge(img, vertical, i, a, e, dir)) {
        int best = i;
        for (int q = Math.max(1, i - 2); q <= Math.min(n - 1, i + 2); q++) {
          best = meanStep(img, vertical, q, a, e) > meanStep(img, vertical, best, a, e) ? q : best;
        }
        return best;
      }
    }
    return -1;
  }

  /** Whether boundary {@code i} along {@code [a, e)} is a pasted picture's edge, its outside towards {@code dir}. */
  private static boolean isEdge(RgbImage img, boolean vertical, int i, int a, int e, int dir) {
    int n = vertical ? img.width() : img.height();
    int steps = 0;
    for (int j = a; j < e; j++) {
      steps += step(img, vertical, i, j) >= EDGE_STEP ? 1 : 0;
    }
    if (steps < EDGE_SHARE * (e - a)) {
      return false;
    }
    double outside = 0;
    int lines = 0;
    for (int k = 3; k <= 4; k++) {
      int o = i + dir * k;
      if (o >= 1 && o < n) {
        outside += meanStep(img, vertical, o, a, e);
        lines++;
      }
    }
    return lines == 0 || meanStep(img, vertical, i, a, e) >= EDGE_CONTRAST * outside / lines;
  }

  /** The mean {@link #step} across boundary {@code i} along {@code [a, e)}. */
  private static double meanStep(RgbImage img, boolean vertical, int i, int a, int e) {
    long sum = 0;
    for (int j = a; j < e; j++) {
      sum += step(img, vertical, i, j);
    }
    return sum / (double) (e - a);
  }

  /** The largest channel difference across boundary {@code i} (between {@code i - 1} and {@code i}) at {@code j}. */
  private static int step(RgbImage img, boolean vertical, int i, int j) {
    int w = img.width();
    int[] px = img.pixels();
    int p = vertical ? px[j * w + i] : px[i * w + j];
    int q = vertical ? px[j * w + i - 1] : px[(i - 1) * w + j];
    return Math.max(Math.abs(((p >> 16) & 0xFF) - ((q >> 16) & 0xFF)),
        Math.max(Math.abs(((p >> 8) & 0xFF) - ((q >> 8) & 0xFF)), Math.abs((p & 0xFF) - (q & 0xFF))));
  }

  /** Per block (row-major, {@code bw x bh}): whether its grey level varies by more than {@code minDeviation}. */
  private boolean[] detailed(RgbImage work, int b, int bw, int bh) {
    int w = work.width();
    int[] px = work.pixels();
    boolean[] out = new boolean[bw * bh];
    double n = (double) b * b;
    for (int by = 0; by < bh; by++) {
      for (int bx = 0; bx < bw; bx++) {
        long sum = 0;
        long sq = 0;
        for (int y = by * b; y < by * b + b; y++) {
          for (int x = bx * b; x < bx * b + b; x++) {
            int p = px[y * w + x];
            int g = (((p >> 16) & 0xFF) * 299 + ((p >> 8) & 0xFF) * 587 + (p & 0xFF) * 114) / 1000;
            sum += g;
            sq += (long) g * g;
          }
        }
        double mean = sum / n;
        double var = sq / n - mean * mean;
        out[by * bw + bx] = Math.sqrt(Math.max(0, var)) > minDeviation;
      }
    }
    return out;
  }

  /** The share of the blocks outside {@code box} that are detailed (0 when the box is the whole picture). */
  private static double outsideDetail(boolean[] detailed, int bw, int bh, int[] box) {
    int outside = 0;
    int set = 0;
    for (int y = 0; y < bh; y++) {
      for (int x = 0; x < bw; x++) {
        if (x < box[0] || x > box[2] || y < box[1] || y > box[3]) {
          outside++;
          set += detailed[y * bw + x] ? 1 : 0;
        }
      }
    }
    return outside == 0 ? 0 : set / (double) outside;
  }

  /** {@code mask} eroded, then dilated, by the 3 x 3 square of blocks (outside the picture counts as not set). */
  static boolean[] open(boolean[] mask, int bw, int bh) {
    boolean[] eroded = new boolean[mask.length];
    for (int y = 1; y < bh - 1; y++) {
      for (int x = 1; x < bw - 1; x++) {
        boolean all = true;
        for (int dy = -1; dy <= 1 && all; dy++) {
          for (int dx = -1; dx <= 1 && all; dx++) {
            all = mask[(y + dy) * bw + x + dx];
          }
        }
        eroded[y * bw + x] = all;
      }
    }
    boolean[] out = new boolean[mask.length];
    for (int y = 0; y < bh; y++) {
      for (int x = 0; x < bw; x++) {
        if (!eroded[y * bw + x]) {
          continue;
        }
        for (int dy = Math.max(0, y - 1); dy <= Math.min(bh - 1, y + 1); dy++) {
          for (int dx = Math.max(0, x - 1); dx <= Math.min(bw - 1, x + 1); dx++) {
            out[dy * bw + dx] = true;
          }
        }
      }
    }
    return out;
  }

  /**
   * The bounding box {minX, minY, maxX, maxY} (blocks, inclusive) of the 8-connected area of {@code mask} with the
   * most blocks among those whose box covers {@code [minShare, maxShare]} of the picture and is at least half
   * filled; ties go to the first found in row-major order. Null when none qualifies.
   */
  private int[] largestArea(boolean[] mask, int bw, int bh) {
    int[] label = new int[mask.length];
    int[] queue = new int[mask.length];
    int[] best = null;
    int bestCount = 0;
    int next = 0;
    for (int start = 0; start < mask.length; start++) {
      if (!mask[start] || label[start] != 0) {
        continue;
      }
      next++;
      int head = 0;
      int tail = 0;
      queue[tail++] = start;
      label[start] = next;
      int minX = Integer.MAX_VALUE;
      int minY = Integer.MAX_VALUE;
      int maxX = -1;
      int maxY = -1;
      while (head < tail) {
        int c = queue[head++];
        int cx = c % bw;
        int cy = c / bw;
        minX = Math.min(minX, cx);
        maxX = Math.max(maxX, cx);
        minY = Math.min(minY, cy);
        maxY = Math.max(maxY, cy);
        for (int y = Math.max(0, cy - 1); y <= Math.min(bh - 1, cy + 1); y++) {
          for (int x = Math.max(0, cx - 1); x <= Math.min(bw - 1, cx + 1); x++) {
            int i = y * bw + x;
            if (mask[i] && label[i] == 0) {
              label[i] = next;
              queue[tail++] = i;
            }
          }
        }
      }
      int count = tail;
      long box = (long) (maxX - minX + 1) * (maxY - minY + 1);
      double share = box / (double) (bw * bh);
      if (share >= minShare && share <= maxShare && count * 2 >= box && count > bestCount) {
        best = new int[] {minX, minY, maxX, maxY};
        bestCount = count;
      }
    }
    return best;
  }
}
