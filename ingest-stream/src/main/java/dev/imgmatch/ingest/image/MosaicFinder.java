package dev.imgmatch.ingest.image;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;

/**
 * Finds a pixelated picture (a mosaic: the picture shrunk, then blown back up without interpolation, so that it is
 * made of flat blocks) and gives back the small picture its blocks are. A mosaic is a common way to dodge a matcher:
 * the blocks' sharp edges make the model see a grid, not the picture, and move its PDQ hash and keypoints too. Its
 * blocks, one pixel each, are the picture at the size it was shrunk to: a tiny copy, which the pipeline knows how to
 * match (the references' small views).
 *
 * <p>How: the picture's horizontal and vertical differences of grey level, summed per column and per row. A mosaic's
 * differences are all on the block boundaries, which stand out as peaks a block apart (blocks of a non-integer width
 * alternate between two widths); a photograph, a drawing or a screenshot has its edges everywhere. In each direction
 * the candidate block widths are the strongest peaks (up to {@value #MAX_CANDIDATE_WIDTHS}) of the profile's
 * autocorrelation from {@code minBlock} pixels on, the first (shortest) of its peaks, and half of each (a JPEG grid
 * meeting the blocks can double the autocorrelation's period), each refined with the grid's phase to the comb of
 * boundaries holding
 * the most differences, and the narrowest comb holding nine tenths of the most any holds is the grid's. The picture is
 * a mosaic when, in both directions, that comb holds at least {@code minCombShare} of all the differences (counting a
 * pixel either side of a boundary for blocks of 8 pixels and more, where JPEG smears an edge) and at least twice what
 * a comb of its density holds of evenly spread differences ({@value #MIN_CONTRAST_WIDE} times for blocks of 8 pixels
 * and more, but JPEG's own 8), its differences are spread over its teeth (the strongest
 * tenth of them holds at most {@value #MAX_STRONGEST_TENTH}: a drawing's few strong edges fit many combs, a grid's
 * boundaries carry the picture's changes wherever it is not flat), and it cuts the picture into at least
 * {@code minCells} blocks. Bounded work: a picture longer than {@value #WORK_SIDE} pixels is looked at shrunk by a whole
 * factor; the profiles are one pass over its pixels, each comb search about 24 n² / width additions (n ≤
 * {@value #WORK_SIDE}): 2-3 ms per picture on average on this project's machine, at most a few tens of ms.
 *
 * @param minBlock smallest block side, in pixels
 * @param minCells fewest blocks across and down
 * @param minCombShare least share of the picture's grey-level differences that lies on the block boundaries
 */
public record MosaicFinder(int minBlock, int minCells, double minCombShare) {
  public static final MosaicFinder DEFAULT = new MosaicFinder(4, 6, 0.42);

  public MosaicFinder {
    if (minBlock < 2 || minCells < 2 || !(minCombShare > 0 && minCombShare <= 1)) {
      throw new IllegalArgumentException("bad mosaic finder " + minBlock + " " + minCells + " " + minCombShare);
    }
  }

  /** How many candidate block widths (the profile's strongest autocorrelation peaks) get their comb measured. */
  static final int MAX_CANDIDATE_WIDTHS = 4;

  /** The most of a grid's boundary differences its strongest tenth of boundaries may hold. */
  static final double MAX_STRONGEST_TENTH = 0.6;

  /**
   * How many times what a comb of its density holds of evenly spread differences the grid's comb must hold, for
   * blocks narrower than 8 pixels (a tooth one pixel wide).
   */
  static final double MIN_CONTRAST = 2.0;

  /**
   * The same for blocks of 8 pixels and more, whose teeth are three pixels wide (JPEG smears an edge) while a sharp
   * boundary fills one of them: a mosaic mostly of sky or wall, whose flat blocks leave the boundaries little to hold,
   * misses twice (measured on the calibration splits). Not for narrower blocks, where JPEG's own 8-pixel grid, seen at
   * half its width, passes at this factor, nor for blocks of {@value #JPEG_BLOCK} pixels (within 0.05), which may be
   * JPEG's own grid: a heavily compressed JPEG is a mosaic of those.
   */
  static final double MIN_CONTRAST_WIDE = 1.6;

  /** JPEG's block side, in pixels. */
  static final int JPEG_BLOCK = 8;

  /** Longer side above which a picture is shrunk by a whole factor (area averaging, {@link Resize}) before its grid is looked for. */
  static final int WORK_SIDE = 640;

  /**
   * The mosaic's blocks as a picture (one pixel per block, its mean colour), or null when {@code img} is none. A
   * picture larger than {@value #WORK_SIDE} pixels is looked at shrunk by a whole factor: its blocks stay blocks.
   */
  public RgbImage find(RgbImage img) {
    img = workingSize(img);
    int w = img.width();
    int h = img.height();
    if (w < minBlock * minCells || h < minBlock * minCells) {
      return null;
    }
    long[] cols = new long[w]; // cols[x]: differences between columns x-1 and x
    long[] rows = new long[h];
    int[] p = img.pixels();
    int[] above = new int[w]; // the previous row's grey levels
    int[] line = new int[w];
    for (int y = 0; y < h; y++) {
      int row = y * w;
      for (int x = 0; x < w; x++) {
        line[x] = luma(p[row + x]);
      }
      for (int x = 1; x < w; x++) {
        cols[x] += Math.abs(line[x] - line[x - 1]);
      }
      if (y > 0) {
        long sum = 0;
        for (int x = 0; x < w; x++) {
          sum += Math.abs(line[x] - above[x]);
        }
        rows[y] = sum;
      }
      int[] t = above;
      above = line;
      line = t;
    }
    int[] xs = boundaries(cols);
    if (xs == null) {
      return null;
    }
    int[] ys = boundaries(rows);
    if (ys == null) {
      return null;
    }
    return blocks(img, xs, ys);
  }

  /**
   * {@code img}, or, when it is longer than {@value #WORK_SIDE} pixels, {@code img} shrunk by the least whole factor
   * that brings it there (area averaging): each block of a mosaic shrinks alike and stays a block.
   */
  public static RgbImage workingSize(RgbImage img) {
    int longer = Math.max(img.width(), img.height());
    if (longer <= WORK_SIDE) {
      return img;
    }
    int f = (longer + WORK_SIDE - 1) / WORK_SIDE;
    return Resize.to(img, (img.width() + f - 1) / f, (img.height() + f - 1) / f);
  }

  /** 0-255 grey level of a packed RGB pixel (integer Rec. 601 weights). */
  static int luma(int rgb) {
    return (77 * ((rgb >> 16) & 0xFF) + 150 * ((rgb >> 8) & 0xFF) + 29 * (rgb & 0xFF)) >> 8;
  }

  /**
   * The block boundaries of a difference profile ({@code d[i]}: between positions i-1 and i) with 0 and the length at
   * the ends, or null when the profile is not a mosaic's. The block width comes from the profile's autocorrelation
   * (its first strong peak), is refined to a fraction of a pixel with the phase (blocks of a non-integer width
   * alternate between two), and the comb of boundaries it gives must hold most of the profile's differences.
   */
  int[] boundaries(long[] d) {
    int n = d.length;
    double total = 0;
    for (long v : d) {
      total += v;
    }
    int maxTau = n / minCells;
    if (total == 0 || maxTau < minBlock) {
      return null; // flat, or too small for the blocks asked for
    }
    // the profile's autocorrelation (of its deviations from its mean, per overlapping pair, over its variance) at every
    // lag a block width can have, summed with its neighbours: a non-integer width spreads its peak over two lags
    double mean = total / (n - 1);
    double variance = 0;
    for (int i = 1; i < n; i++) {
      variance += (d[i] - mean) * (d[i] - mean);
    }
    variance /= n - 1;
    if (variance <= 0) {
      return null;
    }
    double[] rho = new double[maxTau + 2];
    for (int tau = minBlock - 1; tau <= maxTau + 1; tau++) {
      double sum = 0;
      for (int i = 1; i + tau < n; i++) {
        sum += (d[i] - mean) * (d[i + tau] - mean);
      }
      rho[tau] = sum / Math.max(1, n - 1 - tau) / variance;
    }
    double[] smooth = new double[maxTau + 1];
    double top = 0;
    for (int tau = minBlock; tau <= maxTau; tau++) {
      smooth[tau] = rho[tau - 1] + rho[tau] + rho[tau + 1];
      top = Math.max(top, smooth[tau]);
    }
    if (top <= 0) {
      return null;
    }
    // candidate widths: the lags where it peaks at half its highest or more, the strongest few; each one's best comb.
    // The narrowest comb holding nine tenths of the most any holds wins (a comb of twice the width holds half the
    // boundaries, one of half the width holds them all but with empty teeth between).
    List<Integer> lags = new ArrayList<>();
    for (int tau = minBlock; tau <= maxTau; tau++) {
      if (smooth[tau] >= 0.5 * top && (tau == minBlock || smooth[tau] >= smooth[tau - 1])
          && (tau == maxTau || smooth[tau] >= smooth[tau + 1])) {
        lags.add(tau);
      }
    }
    lags.sort((x, y) -> Double.compare(smooth[y], smooth[x]));
    // and half of each: where JPEG's 8-pixel grid meets blocks of about 12, every other boundary (those on JPEG's own)
    // stays sharp and the rest smear, so the autocorrelation peaks at twice the width — whose comb holds only half the
    // boundaries. Half a width's comb holds all of them (a true width's half only adds empty teeth, which the spread
    // test below weighs), so where both hold about as much the narrower wins, as between any two candidates.
    List<Integer> widths = new ArrayList<>(lags.subList(0, Math.min(MAX_CANDIDATE_WIDTHS, lags.size())));
    // and the first of the peaks: a grid's autocorrelation peaks at every multiple of its width, and where the picture's
    // own structure lifts the longer lags, the width itself can be fifth or sixth in strength
    int first = Collections.min(lags);
    if (!widths.contains(first)) {
      widths.add(first);
    }
    for (int tau : List.copyOf(widths)) {
      int half = Math.round(tau / 2f);
      if (half >= minBlock && !widths.contains(half) && smooth[half] > 0) {
        widths.add(half);
      }
    }
    double[] comb = null;
    double mostHeld = 0;
    List<double[]> combs = new ArrayList<>();
    for (int tau : widths) {
      double[] c = comb(d, tau);
      combs.add(c);
      mostHeld = Math.max(mostHeld, c[2]);
    }
    for (double[] c : combs) {
      if (c[2] >= 0.9 * mostHeld && (comb == null || c[0] < comb[0])) {
        comb = c;
      }
    }
    if (comb == null) {
      return null;
    }
    double bestWidth = comb[0];
    int bestPhase = (int) comb[1];
    double share = comb[2] / total;
    int reach = bestWidth >= 8 ? 1 : 0;
    double contrast = reach == 0 || Math.abs(bestWidth - JPEG_BLOCK) <= 0.05 ? MIN_CONTRAST : MIN_CONTRAST_WIDE;
    if (share < minCombShare || share < contrast * (2 * reach + 1) / bestWidth) {
      return null;
    }
    // the comb's teeth, each at the pixel where its differences peak (the strongest of the pixel it rounds to and, for
    // blocks of 8 pixels and more, the two beside it)
    List<Integer> teeth = new ArrayList<>();
    for (double at = bestPhase + bestWidth; at < n - 0.5; at += bestWidth) {
      int c = (int) Math.round(at);
      int peak = Math.max(1, c - reach);
      for (int j = peak; j <= Math.min(n - 1, c + reach); j++) {
        peak = d[j] > d[peak] ? j : peak;
      }
      teeth.add(peak);
    }
    // and the boundaries spread over them: a grid's teeth carry the picture's changes everywhere it is not flat, a
    // drawing's few strong edges, which fit many combs, sit in a few teeth (a tooth counts the strongest of its pixel
    // and the two beside it: it rounds to one of two pixels)
    List<Long> strength = new ArrayList<>();
    for (int t : teeth) {
      strength.add(Math.max(d[t], Math.max(d[Math.max(1, t - 1)], d[Math.min(n - 1, t + 1)])));
    }
    strength.sort(Comparator.reverseOrder());
    long all = strength.stream().mapToLong(Long::longValue).sum();
    long strongestTenth = strength.stream().limit(Math.max(1, (strength.size() + 9) / 10)).mapToLong(Long::longValue)
        .sum();
    if (all == 0 || strongestTenth > MAX_STRONGEST_TENTH * all) {
      return null;
    }
    // the boundaries, with the picture's ends
    int[] out = new int[teeth.size() + 2];
    int count = 0;
    out[count++] = 0;
    for (int t : teeth) {
      if (t > out[count - 1]) {
        out[count++] = t;
      }
    }
    if (out[count - 1] < n) {
      out[count++] = n;
    }
    return count - 1 >= minCells ? Arrays.copyOf(out, count) : null;
  }

  /**
   * The comb of boundaries (width within a pixel of {@code lag}, to a fraction of a pixel; integer phase) holding the
   * most of {@code d}: {width, phase, differences held}. A pixel either side of a tooth counts for widths of 8 and more.
   */
  private double[] comb(long[] d, int lag) {
    int n = d.length;
    double[] best = {lag, 0, -1};
    double step = Math.max(0.002, 0.25 * lag / n);
    for (double width = Math.max(minBlock, lag - 1.0); width <= lag + 1.0; width += step) {
      int reach = width >= 8 ? 1 : 0;
      for (int phase = 0; phase < (int) Math.ceil(width); phase++) {
        double sum = 0;
        for (double at = phase + width; at < n - 0.5; at += width) {
          int c = (int) Math.round(at);
          for (int j = Math.max(1, c - reach); j <= Math.min(n - 1, c + reach); j++) {
            sum += d[j];
          }
        }
        if (sum > best[2]) {
          best = new double[] {width, phase, sum};
        }
      }
    }
    return best;
  }

  /** The mean colour of each block (the middle of it: a pixel is left out at each boundary) as one pixel. */
  static RgbImage blocks(RgbImage img, int[] xs, int[] ys) {
    int cw = xs.length - 1;
    int ch = ys.length - 1;
    int[] out = new int[cw * ch];
    for (int by = 0; by < ch; by++) {
      for (int bx = 0; bx < cw; bx++) {
        out[by * cw + bx] = mean(img, inner(xs, bx, true), inner(xs, bx, false), inner(ys, by, true),
            inner(ys, by, false));
      }
    }
    return new RgbImage(cw, ch, out);
  }

  /** The mean colour (rounded) of the pixels of {@code img} in [x0, x1) x [y0, y1), a non-empty box. */
  private static int mean(RgbImage img, int x0, int x1, int y0, int y1) {
    int[] p = img.pixels();
    long r = 0;
    long g = 0;
    long b = 0;
    for (int y = y0; y < y1; y++) {
      for (int x = x0; x < x1; x++) {
        int v = p[y * img.width() + x];
        r += (v >> 16) & 0xFF;
        g += (v >> 8) & 0xFF;
        b += v & 0xFF;
      }
    }
    long n = (long) (x1 - x0) * (y1 - y0);
    return (int) ((r + n / 2) / n) << 16 | (int) ((g + n / 2) / n) << 8 | (int) ((b + n / 2) / n);
  }

  /** Start (or end, exclusive) of block {@code i}'s middle: one pixel in from a boundary the block is wide enough for. */
  private static int inner(int[] edges, int i, boolean start) {
    int a = edges[i];
    int b = edges[i + 1];
    if (b - a <= 2) {
      return start ? a : b;
    }
    return start ? (i == 0 ? a : a + 1) : (i + 2 == edges.length ? b : b - 1);
  }
}
