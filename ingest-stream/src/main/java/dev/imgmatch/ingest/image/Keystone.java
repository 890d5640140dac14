package dev.imgmatch.ingest.image;

import java.util.Arrays;

/**
 * Undoes a keystone: a picture squeezed towards its centre line more at one side than at the other (a perspective
 * warp seen front on), its outside filled with black. A warp made <em>after</em> a pixelating bends the mosaic's grid
 * out of {@link MosaicFinder}'s reach, and the black wedges hold much of its layout; stretched back, column by column,
 * the blocks line up again and the picture is the one that was pixelated.
 *
 * <p>How ({@link #columns}): each column's run of black fill from the top and from the bottom (every channel at most
 * {@value #FILL_LEVEL}: JPEG lifts black a little), each side's runs fitted by a quadratic in the column (least squares,
 * points more than a few pixels off dropped and the fit redone: dark content beside the fill lengthens a run), and
 * every column's rows between the two fitted edges stretched over the whole height (nearest pixel: blocks stay flat).
 * It is a keystone only when both fits hold at least {@value #MIN_FIT} of the columns, the fill's depth varies across
 * them by at least {@value #MIN_VARIATION} of the height (a letterbox's bars do not vary) and at least
 * a third of the height is left everywhere. {@link #rows} does the same across. The generator of the
 * calibration split ({@code ImageEdits.perspective}) squeezes exactly so; a true perspective also foreshortens along
 * the squeeze, which this leaves. Bounded work: the fill runs (at most one pass over the pixels, for a black picture;
 * a few pixels per line for most), and one pass over the pixels only when the fill fits.
 */
public final class Keystone {
  private Keystone() {}

  /** The highest value of every channel of a fill pixel. */
  static final int FILL_LEVEL = 28;

  /** Least share of the columns whose fill run lies on each fitted edge. */
  static final double MIN_FIT = 0.7;

  /** Least variation of the fitted fill's depth across the columns, as a share of the height. */
  static final double MIN_VARIATION = 0.04;

  /** Least share of the height left between the fitted edges in every column. */
  static final double MIN_KEPT = 1 / 3.0;

  /** How far (pixels) a run may lie off the fit and still count, in the first rounds and in the last. */
  private static final double[] TOLERANCE = {8, 8, 3, 3};

  /**
   * {@code img} with each column's picture between the fitted edges of its black fill stretched over the whole height,
   * or null when the fill at its top and bottom is no keystone's.
   */
  public static RgbImage columns(RgbImage img) {
    return unwarp(img, false);
  }

  /** As {@link #columns}, across: each row's picture between the fill at its left and right, or null. */
  public static RgbImage rows(RgbImage img) {
    return unwarp(img, true);
  }

  /** {@link #columns} ({@code across} false) or {@link #rows}: the lines are columns or rows. */
  private static RgbImage unwarp(RgbImage img, boolean across) {
    int w = img.width();
    int[] p = img.pixels();
    int lines = across ? img.height() : w;
    int length = across ? w : img.height(); // pixels along a line
    int step = across ? 1 : w; // from one pixel of a line to the next
    int stride = across ? w : 1; // from one line to the next
    double[] head = new double[lines];
    double[] tail = new double[lines];
    int deepest = 0;
    for (int i = 0; i < lines; i++) {
      int first = i * stride;
      int t = 0;
      while (t < length && fill(p[first + t * step])) {
        t++;
      }
      int b = 0;
      while (b < length - t && fill(p[first + (length - 1 - b) * step])) {
        b++;
      }
      head[i] = t;
      tail[i] = b;
      deepest = Math.max(deepest, t + b);
    }
    if (deepest < MIN_VARIATION * length || lines < 8) {
      return null; // no fill to speak of: most pictures stop here
    }
    double[] fh = fit(head);
    double[] ft = fit(tail);
    if (fh == null || ft == null) {
      return null;
    }
    double[] from = new double[lines];
    double[] span = new double[lines];
    double least = length;
    double most = 0;
    for (int i = 0; i < lines; i++) {
      from[i] = Math.max(0, fh[0] + fh[1] * i + fh[2] * i * i);
      double to = length - Math.max(0, ft[0] + ft[1] * i + ft[2] * i * i);
      span[i] = to - from[i];
      least = Math.min(least, span[i]);
      most = Math.max(most, span[i]);
    }
    if (least < MIN_KEPT * length || most - least < MIN_VARIATION * length) {
      return null;
    }
    int[] out = new int[p.length];
    for (int i = 0; i < lines; i++) {
      int first = i * stride;
      for (int y = 0; y < length; y++) {
        int sy = (int) Math.floor(from[i] + (y + 0.5) * span[i] / length);
        out[first + y * step] = p[first + Math.min(length - 1, Math.max(0, sy)) * step];
      }
    }
    return new RgbImage(w, img.height(), out);
  }

  static boolean fill(int rgb) {
    return (rgb >> 16 & 0xFF) <= FILL_LEVEL && (rgb >> 8 & 0xFF) <= FILL_LEVEL && (rgb & 0xFF) <= FILL_LEVEL;
  }

  /**
   * The quadratic {c0, c1, c2} (value at i: c0 + c1 i + c2 i²) fitted to {@code v} by least squares over the points
   * within the tolerance of the previous round's fit, or null when fewer than {@value #MIN_FIT} of them are.
   */
  static double[] fit(double[] v) {
    int n = v.length;
    boolean[] use = new boolean[n];
    Arrays.fill(use, true);
    int kept = n;
    for (double tolerance : TOLERANCE) {
      double[] c = leastSquares(v, use);
      if (c == null) {
        return null;
      }
      kept = 0;
      for (int i = 0; i < n; i++) {
        use[i] = Math.abs(v[i] - (c[0] + c[1] * i + c[2] * (double) i * i)) <= tolerance;
        kept += use[i] ? 1 : 0;
      }
    }
    return kept < MIN_FIT * n ? null : leastSquares(v, use);
  }

  /** Least squares quadratic through the points used (normal equations, Gauss-Jordan), null when degenerate. */
  private static double[] leastSquares(double[] v, boolean[] use) {
    double[][] a = new double[3][4];
    double scale = Math.max(1, v.length - 1); // i scaled to [0, 1]: well conditioned
    for (int i = 0; i < v.length; i++) {
      if (use[i]) {
        double u = i / scale;
        double[] f = {1, u, u * u};
        for (int r = 0; r < 3; r++) {
          for (int s = 0; s < 3; s++) {
            a[r][s] += f[r] * f[s];
          }
          a[r][3] += f[r] * v[i];
        }
      }
    }
    for (int col = 0; col < 3; col++) {
      int pivot = col;
      for (int r = col + 1; r < 3; r++) {
        pivot = Math.abs(a[r][col]) > Math.abs(a[pivot][col]) ? r : pivot;
      }
      double[] t = a[col];
      a[col] = a[pivot];
      a[pivot] = t;
      if (Math.abs(a[col][col]) < 1e-9) {
        return null;
      }
      for (int r = 0; r < 3; r++) {
        if (r != col) {
          double f = a[r][col] / a[col][col];
          for (int s = col; s < 4; s++) {
            a[r][s] -= f * a[col][s];
          }
        }
      }
    }
    return new double[] {a[0][3] / a[0][0], a[1][3] / a[1][1] / scale, a[2][3] / a[2][2] / (scale * scale)};
  }
}
