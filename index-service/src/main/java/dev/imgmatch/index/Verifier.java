package dev.imgmatch.index;

import java.util.ArrayList;
import java.util.List;

/**
 * Geometric verification of one candidate pair on greyscale thumbnails ({@link GrayThumb}, longer side 64): does
 * the probe's picture line up, pixel for pixel, with the candidate's somewhere?
 *
 * <p>The descriptor says two pictures look alike; it cannot tell a copy from another photograph of the same subject
 * (two photos of solar panels, two generated pictures of one style). A copy, however much it was edited, keeps the
 * candidate's layout: after the right crop, scale and a small turn its structure correlates with the candidate's,
 * which a different photograph's does not. So the similarity is the best normalised cross-correlation (NCC, in
 * [-1, 1]) of the two thumbnails' band-pass structure (3x3-smoothed pixels less the mean of their 7x7
 * neighbourhood: colour, brightness and contrast changes and smooth gradients drop out, and half a pixel of
 * misalignment costs little) over these alignments:
 * <ul>
 *   <li>the probe inside the candidate (a crop of it) and the candidate inside the probe (a border, a larger
 *       picture around it), each at 7 scales (1 down to 0.4 of the fitting size) and every integer position;
 *   <li>the probe stretched onto the candidate (an aspect change);
 *   <li>each with the probe as is and mirrored left-right, turned by 0 and &plusmn;5 degrees (the larger turns and
 *       quarter turns are left to the dihedral PDQ hashes).
 * </ul>
 * A template smaller than 8 pixels a side is not tried; a flat template or window does not count. The filter sees
 * a template's own edges replicated where the other picture has its surroundings, so a copy pasted small into a
 * busy frame lines up less well (about 0.6 in VerifierTest) than a crop does (above 0.9); correlating only the
 * templates' interiors fixed that case but let more unrelated pictures line up by chance, and lost recall on the
 * calibration set (docs/BENCHMARKS.md). It is evidence,
 * not proof — a different photograph of a regular subject (solar panels, a grid of windows) can line up too — which
 * is why {@link MatchPolicy} adds it to the score with a weight instead of deciding on it alone. The filter (3x3
 * smoothing, 7x7 mean) was chosen over a plain 5x5 high-pass because it raised the recall of {@code ./imgmatch
 * calibrate}'s held-out copies at the calibrated threshold for every weight tried (docs/BENCHMARKS.md).
 *
 * <p>Cost: about 10-20 ms of one core per pair; index-service verifies only the few best candidates that stand out
 * ({@code match.verify.candidates}). Stateless and thread-safe.
 */
public final class Verifier {
  /** Template sizes tried, as a share of the largest size that fits the other picture. */
  static final double[] SCALES = {1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4};
  /** Turns of the probe tried, in degrees. */
  static final double[] ROTATIONS = {0, -5, 5};
  /** Smallest template side, in pixels. */
  static final int MIN_SIDE = 8;
  /** The band-pass filter smooths with a (2s+1) x (2s+1) box... */
  static final int SMOOTH_RADIUS = 1;
  /** ...and subtracts the mean of a (2r+1) x (2r+1) box. */
  static final int HIGH_PASS_RADIUS = 3;
  /** A template or window whose values vary less than this (per pixel, standard deviation) is flat. */
  private static final double FLAT_STD = 0.03;

  private Verifier() {}

  /** A float greyscale plane. */
  record Plane(int w, int h, float[] p) {}

  /**
   * The best NCC of the two pictures' structure over the alignments above, or NaN when no alignment could be
   * measured (flat or tiny pictures): no evidence either way.
   */
  public static double similarity(GrayThumb probe, GrayThumb candidate) {
    Plane q0 = plane(probe);
    Plane r = plane(candidate);
    Plane rHigh = highPass(r);
    Window rWindows = new Window(rHigh);
    List<Plane> rTemplates = new ArrayList<>(); // the candidate at each scale, for "candidate inside the probe"
    templates(r, q0, rTemplates);
    double best = Double.NEGATIVE_INFINITY;
    for (double deg : ROTATIONS) {
      Plane turned = deg == 0 ? q0 : rotate(q0, deg);
      for (int flip = 0; flip < 2; flip++) {
        Plane q = flip == 0 ? turned : mirror(turned);
        best = Math.max(best, scan(q, rHigh, rWindows));
        Plane qHigh = highPass(q);
        Window qWindows = new Window(qHigh);
        for (Plane t : rTemplates) {
          best = Math.max(best, slide(t, qHigh, qWindows));
        }
        best = Math.max(best, slide(highPass(resize(q, r.w, r.h)), rHigh, rWindows));
      }
    }
    return best == Double.NEGATIVE_INFINITY ? Double.NaN : best;
  }

  /** The best NCC of {@code small}, at each scale that fits, anywhere in {@code big}. */
  private static double scan(Plane small, Plane bigHigh, Window big) {
    List<Plane> ts = new ArrayList<>();
    templates(small, bigHigh, ts);
    double best = Double.NEGATIVE_INFINITY;
    for (Plane t : ts) {
      best = Math.max(best, slide(t, bigHigh, big));
    }
    return best;
  }

  /** {@code small} high-passed at each scale of the largest size that fits inside {@code big}. */
  private static void templates(Plane small, Plane big, List<Plane> out) {
    double base = Math.min((double) big.w / small.w, (double) big.h / small.h);
    for (double m : SCALES) {
      int w = Math.min(big.w, (int) Math.round(small.w * base * m));
      int h = Math.min(big.h, (int) Math.round(small.h * base * m));
      if (w >= MIN_SIDE && h >= MIN_SIDE) {
        out.add(highPass(resize(small, w, h)));
      }
    }
  }

  /** Window sums of a plane (integral images of values and squares). */
  private static final class Window {
    final int stride;
    final double[] s1;
    final double[] s2;

    Window(Plane b) {
      stride = b.w + 1;
      s1 = new double[stride * (b.h + 1)];
      s2 = new double[stride * (b.h + 1)];
      for (int y = 0; y < b.h; y++) {
        double row1 = 0;
        double row2 = 0;
        for (int x = 0; x < b.w; x++) {
          double v = b.p[y * b.w + x];
          row1 += v;
          row2 += v * v;
          s1[(y + 1) * stride + x + 1] = s1[y * stride + x + 1] + row1;
          s2[(y + 1) * stride + x + 1] = s2[y * stride + x + 1] + row2;
        }
      }
    }

    double sum(double[] s, int x, int y, int w, int h) {
      return s[(y + h) * stride + x + w] - s[y * stride + x + w] - s[(y + h) * stride + x] + s[y * stride + x];
    }
  }

  /** Best NCC of template {@code t} over every position inside {@code b}; -inf when none is measurable. */
  static double slide(Plane t, Plane b, Window win) {
    if (t.w > b.w || t.h > b.h) {
      return Double.NEGATIVE_INFINITY;
    }
    int n = t.w * t.h;
    double mean = 0;
    for (float v : t.p) {
      mean += v;
    }
    mean /= n;
    float[] q = new float[n];
    double ss = 0;
    for (int i = 0; i < n; i++) {
      q[i] = (float) (t.p[i] - mean);
      ss += q[i] * q[i];
    }
    double flat = FLAT_STD * FLAT_STD * n;
    if (ss < flat) {
      return Double.NEGATIVE_INFINITY;
    }
    double qn = Math.sqrt(ss);
    double best = Double.NEGATIVE_INFINITY;
    for (int y0 = 0; y0 + t.h <= b.h; y0++) {
      for (int x0 = 0; x0 + t.w <= b.w; x0++) {
        double a1 = win.sum(win.s1, x0, y0, t.w, t.h);
        double var = win.sum(win.s2, x0, y0, t.w, t.h) - a1 * a1 / n;
        if (var < flat) {
          continue;
        }
        float dot = 0;
        for (int y = 0; y < t.h; y++) {
          int bo = (y0 + y) * b.w + x0;
          int to = y * t.w;
          for (int x = 0; x < t.w; x++) {
            dot += q[to + x] * b.p[bo + x];
          }
        }
        best = Math.max(best, dot / (qn * Math.sqrt(var)));
      }
    }
    return best;
  }

  static Plane plane(GrayThumb t) {
    float[] p = new float[t.gray().length];
    for (int i = 0; i < p.length; i++) {
      p[i] = t.gray()[i] & 0xFF;
    }
    return new Plane(t.width(), t.height(), p);
  }

  /**
   * Band-pass structure: the plane smoothed by a (2s+1)^2 box ({@link #SMOOTH_RADIUS}: tolerance of sub-pixel
   * misalignment, small turns and noise) less the mean of a (2r+1)^2 box around each pixel ({@link
   * #HIGH_PASS_RADIUS}: brightness, contrast and gradients drop out); edges replicated.
   */
  static Plane highPass(Plane g) {
    Plane smooth = SMOOTH_RADIUS == 0 ? g : box(g, SMOOTH_RADIUS);
    Plane mean = box(smooth, HIGH_PASS_RADIUS);
    float[] out = new float[g.p.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = smooth.p[i] - mean.p[i];
    }
    return new Plane(g.w, g.h, out);
  }

  /** The mean of the (2r+1)^2 box around each pixel, edges replicated. */
  static Plane box(Plane g, int r) {
    int k = 2 * r + 1;
    float[] horiz = new float[g.p.length];
    for (int y = 0; y < g.h; y++) {
      int row = y * g.w;
      for (int x = 0; x < g.w; x++) {
        float s = 0;
        for (int d = -r; d <= r; d++) {
          s += g.p[row + Math.min(g.w - 1, Math.max(0, x + d))];
        }
        horiz[row + x] = s;
      }
    }
    float[] out = new float[g.p.length];
    for (int y = 0; y < g.h; y++) {
      for (int x = 0; x < g.w; x++) {
        float s = 0;
        for (int d = -r; d <= r; d++) {
          s += horiz[Math.min(g.h - 1, Math.max(0, y + d)) * g.w + x];
        }
        out[y * g.w + x] = s / (k * k);
      }
    }
    return new Plane(g.w, g.h, out);
  }

  /** Area resampling to {@code w x h} (each output pixel the coverage-weighted mean of the source under it). */
  static Plane resize(Plane s, int w, int h) {
    if (s.w == w && s.h == h) {
      return s;
    }
    float[] tmp = new float[s.h * w];
    for (int y = 0; y < s.h; y++) {
      resample(s.p, y * s.w, 1, s.w, tmp, y * w, 1, w);
    }
    float[] out = new float[h * w];
    for (int x = 0; x < w; x++) {
      resample(tmp, x, w, s.h, out, x, w, h);
    }
    return new Plane(w, h, out);
  }

  /** One line of {@code n} samples (offset, stride) resampled to {@code m} samples by interval overlap. */
  private static void resample(float[] src, int so, int ss, int n, float[] dst, int dO, int ds, int m) {
    double step = (double) n / m;
    for (int i = 0; i < m; i++) {
      double a = i * step;
      double b = a + step;
      double sum = 0;
      for (int j = (int) a; j < n && j < b; j++) {
        double overlap = Math.min(b, j + 1) - Math.max(a, j);
        if (overlap > 0) {
          sum += overlap * src[so + j * ss];
        }
      }
      dst[dO + i * ds] = (float) (sum / step);
    }
  }

  static Plane mirror(Plane g) {
    float[] o = new float[g.p.length];
    for (int y = 0; y < g.h; y++) {
      for (int x = 0; x < g.w; x++) {
        o[y * g.w + x] = g.p[y * g.w + g.w - 1 - x];
      }
    }
    return new Plane(g.w, g.h, o);
  }

  /**
   * {@code g} turned by {@code deg} about its centre (bilinear), cut to the largest rectangle of its aspect that
   * holds no pixel from outside the picture.
   */
  static Plane rotate(Plane g, double deg) {
    double t = Math.toRadians(deg);
    double c = Math.cos(t);
    double s = Math.sin(t);
    double k = 1.0 / (Math.abs(c) + Math.abs(s) * Math.max((double) g.w / g.h, (double) g.h / g.w));
    int ow = Math.max(1, (int) (g.w * k));
    int oh = Math.max(1, (int) (g.h * k));
    float[] out = new float[ow * oh];
    double cx = (g.w - 1) / 2.0;
    double cy = (g.h - 1) / 2.0;
    for (int y = 0; y < oh; y++) {
      for (int x = 0; x < ow; x++) {
        double dx = x - (ow - 1) / 2.0;
        double dy = y - (oh - 1) / 2.0;
        double sx = Math.min(g.w - 1, Math.max(0, cx + c * dx - s * dy));
        double sy = Math.min(g.h - 1, Math.max(0, cy + s * dx + c * dy));
        int x0 = (int) sx;
        int y0 = (int) sy;
        int x1 = Math.min(g.w - 1, x0 + 1);
        int y1 = Math.min(g.h - 1, y0 + 1);
        double fx = sx - x0;
        double fy = sy - y0;
        double top = g.p[y0 * g.w + x0] * (1 - fx) + g.p[y0 * g.w + x1] * fx;
        double bottom = g.p[y1 * g.w + x0] * (1 - fx) + g.p[y1 * g.w + x1] * fx;
        out[y * ow + x] = (float) (top * (1 - fy) + bottom * fy);
      }
    }
    return new Plane(ow, oh, out);
  }
}
