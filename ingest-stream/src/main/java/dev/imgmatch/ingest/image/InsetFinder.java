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
 * flatter canvas): a picture that is detailed nearly everywhere (most photos) has none, nor has a flat one. Deterministic and
 * thread-safe.
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

  /** The inset's region in {@code img}'s pixels, or null when it has none. */
  public BorderTrim.Region find(RgbImage img) {
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
    // block box -> pixels of the work copy -> pixels of img
    double sx = img.width() / (double) w;
    double sy = img.height() / (double) h;
    int x0 = (int) Math.floor(best[0] * b * sx);
    int y0 = (int) Math.floor(best[1] * b * sy);
    int x1 = Math.min(img.width(), (int) Math.ceil((best[2] + 1) * b * sx));
    int y1 = Math.min(img.height(), (int) Math.ceil((best[3] + 1) * b * sy));
    return new BorderTrim.Region(x0, y0, x1 - x0, y1 - y0);
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
