package dev.imgmatch.index;

import dev.imgmatch.common.GrayThumb;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
 * misalignment costs little) over these alignments, after cutting uniform borders (a frame, letterbox bars) from
 * both pictures:
 * <ul>
 *   <li>the probe inside the candidate (a crop of it) and the candidate inside the probe (a larger picture around
 *       it), each at 7 scales (1 down to 0.4 of the fitting size) and every integer position;
 *   <li>the probe stretched onto the candidate (an aspect change);
 *   <li>each with the probe as is and mirrored left-right, turned by 0, &plusmn;5, &plusmn;10 and &plusmn;15 degrees
 *       (quarter turns are left to the dihedral query views and PDQ hashes).
 * </ul>
 * A template smaller than 8 pixels a side is not tried; a flat template or window does not count. The search runs
 * coarse to fine (half resolution everywhere, then full resolution around the best placements).
 *
 * <p><b>Chance.</b> The best of thousands of placements is high by chance when the pictures hold little detail:
 * two unrelated generated pictures line up at 0.6-0.7, as well as a copy in a frame did before frames were cut. So
 * {@link #align} runs the same search a second time against the candidate turned upside down — a picture with the
 * candidate's own detail, contrast and texture whose layout a copy does not have — and the evidence is the
 * difference of the two ({@link Alignment#evidence}): copies stand 0.3-0.6 above their chance level, unrelated
 * pictures within 0.26 (the best of 236 held-out calibration negatives, docs/BENCHMARKS.md). It is evidence, not
 * proof — a different photograph of a regular subject can line up too — which is why {@link MatchPolicy} adds it
 * to the score with a weight instead of deciding on it alone. A copy pasted small into a busy picture lines up less
 * well than a crop does (the filter sees the surroundings where the candidate's thumbnail has its own edge).
 *
 * <p>Cost: about 7 ms of one core per candidate for both searches, the probe prepared once, on this project's
 * 2-core machine ({@code VerifierBench}); index-service verifies only the few best candidates that stand out
 * ({@code match.verify.candidates}). Stateless and thread-safe.
 */
public final class Verifier {
  /** Template sizes tried, as a share of the largest size that fits the other picture. */
  static final double[] SCALES = {1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4};
  /** Turns of the probe tried, in degrees. */
  static final double[] ROTATIONS = {0, -5, 5, -10, 10, -15, 15};
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
   * measured (flat or tiny pictures): no evidence either way. Uniform borders (a frame, letterbox bars) are cut from
   * both pictures first.
   */
  public static double similarity(GrayThumb probe, GrayThumb candidate) {
    Probe p = new Probe(probe);
    Plane r = trimBorders(plane(candidate));
    return best(p.views(r.w, r.h), p.q, r, false);
  }

  /**
   * {@link #similarity} without the coarse-to-fine shortcut: every template at every position at full resolution.
   * The reference the shortcut is measured against (VerifierTest, {@code VerifierBench}); about five times slower.
   */
  public static double similarityExhaustive(GrayThumb probe, GrayThumb candidate) {
    Probe p = new Probe(probe);
    Plane r = trimBorders(plane(candidate));
    return best(p.views(r.w, r.h), p.q, r, true);
  }

  /**
   * How well the probe lines up with the candidate, against how well it lines up by chance.
   *
   * @param aligned {@link #similarity} of the pair
   * @param chance the same search against the candidate turned upside down: a picture with the candidate's own
   *     texture, detail and contrast whose layout is wrong for a copy that has not been flipped upside down
   */
  public record Alignment(double aligned, double chance) {
    /** The largest evidence there is. */
    public static final double MAX = 2.0;

    /**
     * How much better one of the two searches fits than the other, in [0, 2]; NaN when either could not be
     * measured. Both orientations count: an upside-down or half-turned copy fits the second search as well as a
     * copy fits the first, and either way the other search is a chance baseline of the same pictures.
     */
    public double evidence() {
      return Math.abs(aligned - chance);
    }
  }

  /**
   * The pair's {@link Alignment}. The best NCC over thousands of placements is high by chance when the pictures hold
   * little detail (smooth, blurred or generated pictures line up at 0.6 and more); the same search against the
   * flipped candidate measures that level for this very pair, and a copy stands out of it by 0.4 and more.
   */
  public static Alignment align(GrayThumb probe, GrayThumb candidate) {
    return align(new Probe(probe), candidate);
  }

  /**
   * {@link #align(GrayThumb, GrayThumb)} with the probe prepared once: the same alignment, bit for bit, at less cost
   * when one probe is aligned with several candidates.
   */
  public static Alignment align(Probe probe, GrayThumb candidate) {
    Plane r = trimBorders(plane(candidate));
    List<View> views = probe.views(r.w, r.h); // the flipped candidate has the same size: one preparation serves both
    return new Alignment(best(views, probe.q, r, false), best(views, probe.q, flipVertically(r), false));
  }

  /**
   * A probe thumbnail prepared for aligning with many candidates: its borders cut, its turns and mirrorings with their
   * structure made once, and the templates made for a candidate size kept for the next candidate of that size
   * (thumbnails share a few sizes: the common aspect ratios at 64 pixels). Not thread-safe: one per probe and thread.
   */
  public static final class Probe {
    /** Candidate sizes whose views are kept. */
    static final int KEPT_SIZES = 8;

    final Plane q;
    private final List<Turn> turns = new ArrayList<>();
    private final Map<Long, List<View>> bySize = new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<Long, List<View>> eldest) {
        return size() > KEPT_SIZES;
      }
    };

    public Probe(GrayThumb thumb) {
      this.q = trimBorders(plane(thumb));
      for (double deg : ROTATIONS) {
        Plane turned = deg == 0 ? q : rotate(q, deg);
        for (int flip = 0; flip < 2; flip++) {
          Plane t = flip == 0 ? turned : mirror(turned);
          turns.add(new Turn(t, new Field(highPass(t))));
        }
      }
    }

    /** The probe's {@link View}s for a candidate of {@code w x h}, one per turn and mirroring. */
    List<View> views(int w, int h) {
      return bySize.computeIfAbsent(((long) w << 32) | h, k -> {
        List<View> views = new ArrayList<>(turns.size());
        for (Turn t : turns) {
          views.add(new View(templates(t.plane, w, h), t.field, new Template(highPass(resize(t.plane, w, h)))));
        }
        return views;
      });
    }
  }

  /** The probe turned and mirrored one way, with its structure: what does not depend on the candidate. */
  private record Turn(Plane plane, Field field) {}

  /**
   * The best NCC over every alignment (class comment), coarse to fine: every template is first slid over every
   * position at half resolution, then the {@link #REFINED} best of those placements are searched again at full
   * resolution within {@link #REFINE_RADIUS} pixels of where they peaked. Same answer as the exhaustive search
   * whenever the true alignment ranks among the best coarse ones (on dev pairs: 0.002 lower on average, 5 % of
   * pairs more than 0.02 lower; VerifierBench), at about a fifth of the cost.
   */
  private static double best(List<View> views, Plane q0, Plane r, boolean exhaustive) {
    Field rField = new Field(highPass(r));
    List<Template> rTemplates = templates(r, q0.w, q0.h); // the candidate at each scale, "inside the probe"
    List<Trial> trials = new ArrayList<>();
    for (View v : views) {
      for (Template t : v.inCandidate) {
        trials.add(new Trial(t, rField));
      }
      for (Template t : rTemplates) {
        trials.add(new Trial(t, v.field));
      }
      trials.add(new Trial(v.stretched, rField));
    }
    if (exhaustive) {
      double best = Double.NEGATIVE_INFINITY;
      for (Trial t : trials) {
        best = Math.max(best, slide(t.template.full, t.field.high, t.field.windows));
      }
      return best == Double.NEGATIVE_INFINITY ? Double.NaN : best;
    }
    for (Trial t : trials) {
      t.coarse();
    }
    trials.sort((x, y) -> Double.compare(y.coarseNcc, x.coarseNcc));
    double best = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < Math.min(REFINED, trials.size()); i++) {
      best = Math.max(best, trials.get(i).refine());
    }
    return best == Double.NEGATIVE_INFINITY ? Double.NaN : best;
  }

  /** Coarse placements searched again at full resolution. */
  static final int REFINED = 8;
  /** How far (full-resolution pixels) around a coarse peak the refinement looks. */
  static final int REFINE_RADIUS = 3;

  /** A picture's structure, at full and half resolution, with window sums for both. */
  private static final class Field {
    final Plane high;
    final Window windows;
    final Plane coarse;
    final Window coarseWindows;

    Field(Plane high) {
      this.high = high;
      this.windows = new Window(high);
      this.coarse = half(high);
      this.coarseWindows = new Window(coarse);
    }
  }

  /**
   * The probe turned and mirrored one way, prepared for a candidate of a given size: its templates at each scale
   * that fits inside the candidate, its own structure (a field for the candidate's templates) and the probe
   * stretched to the candidate's size.
   */
  private record View(List<Template> inCandidate, Field field, Template stretched) {}

  /** A template's structure at full resolution and at half (null when too small to slide). */
  private static final class Template {
    final Plane full;
    final Plane coarse;

    Template(Plane full) {
      this.full = full;
      Plane c = half(full);
      this.coarse = c.w < MIN_SIDE / 2 || c.h < MIN_SIDE / 2 ? null : c;
    }
  }

  /** One template to place in one field. */
  private static final class Trial {
    final Template template;
    final Field field;
    double coarseNcc = Double.NEGATIVE_INFINITY;
    int coarseX;
    int coarseY;

    Trial(Template template, Field field) {
      this.template = template;
      this.field = field;
    }

    void coarse() {
      if (template.coarse == null) {
        return;
      }
      double[] hit = slide(template.coarse, field.coarse, field.coarseWindows, 0, Integer.MAX_VALUE, 0, Integer.MAX_VALUE);
      coarseNcc = hit[0];
      coarseX = (int) hit[1];
      coarseY = (int) hit[2];
    }

    double refine() {
      if (coarseNcc == Double.NEGATIVE_INFINITY) {
        return coarseNcc;
      }
      double sx = (double) field.high.w / field.coarse.w;
      double sy = (double) field.high.h / field.coarse.h;
      int x = (int) Math.round(coarseX * sx);
      int y = (int) Math.round(coarseY * sy);
      return slide(template.full, field.high, field.windows, x - REFINE_RADIUS, x + REFINE_RADIUS, y - REFINE_RADIUS,
          y + REFINE_RADIUS)[0];
    }
  }

  /** Half the resolution, by area. */
  static Plane half(Plane g) {
    return resize(g, Math.max(1, g.w / 2), Math.max(1, g.h / 2));
  }

  /** Greatest grey-level spread (max - min) along a line that still counts as part of a uniform border. */
  static final int BORDER_SPREAD = 12;

  /**
   * {@code g} without its uniform borders: on each side, the run of outermost lines (rows or columns) that are
   * flat (spread at most {@link #BORDER_SPREAD}) and of the outermost line's level, plus the one line blended with
   * the picture; at most a third of the picture per side, and nothing when no line is flat. Flat lines carry no
   * structure, but a frame's edge would dominate the structure around it and hide the copy inside.
   */
  static Plane trimBorders(Plane g) {
    int top = border(g, 0, 1, true);
    int bottom = border(g, g.h - 1, -1, true);
    int left = border(g, 0, 1, false);
    int right = border(g, g.w - 1, -1, false);
    int w = g.w - left - right;
    int h = g.h - top - bottom;
    if ((top | bottom | left | right) == 0 || w < MIN_SIDE || h < MIN_SIDE) {
      return g;
    }
    float[] out = new float[w * h];
    for (int y = 0; y < h; y++) {
      System.arraycopy(g.p, (y + top) * g.w + left, out, y * w, w);
    }
    return new Plane(w, h, out);
  }

  /** Lines to cut from one side (see {@link #trimBorders}): rows from {@code start} when {@code rows}, else columns. */
  private static int border(Plane g, int start, int step, boolean rows) {
    int lines = rows ? g.h : g.w;
    int length = rows ? g.w : g.h;
    int limit = lines / 3;
    double level = Double.NaN;
    int n = 0;
    for (int i = start; n < limit; i += step, n++) {
      float min = Float.MAX_VALUE;
      float max = -Float.MAX_VALUE;
      double sum = 0;
      for (int j = 0; j < length; j++) {
        float v = rows ? g.p[i * g.w + j] : g.p[j * g.w + i];
        min = Math.min(min, v);
        max = Math.max(max, v);
        sum += v;
      }
      double mean = sum / length;
      if (Double.isNaN(level)) {
        level = mean;
      }
      if (max - min > BORDER_SPREAD || Math.abs(mean - level) > BORDER_SPREAD / 2.0) {
        break;
      }
    }
    return n == 0 ? 0 : Math.min(limit, n + 1);
  }

  static Plane flipVertically(Plane g) {
    float[] o = new float[g.p.length];
    for (int y = 0; y < g.h; y++) {
      System.arraycopy(g.p, (g.h - 1 - y) * g.w, o, y * g.w, g.w);
    }
    return new Plane(g.w, g.h, o);
  }

  /** {@code small} high-passed at each scale of the largest size that fits inside {@code w x h}. */
  private static List<Template> templates(Plane small, int bigW, int bigH) {
    List<Template> out = new ArrayList<>();
    double base = Math.min((double) bigW / small.w, (double) bigH / small.h);
    for (double m : SCALES) {
      int w = Math.min(bigW, (int) Math.round(small.w * base * m));
      int h = Math.min(bigH, (int) Math.round(small.h * base * m));
      if (w >= MIN_SIDE && h >= MIN_SIDE) {
        out.add(new Template(highPass(resize(small, w, h))));
      }
    }
    return out;
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
    return slide(t, b, win, 0, Integer.MAX_VALUE, 0, Integer.MAX_VALUE)[0];
  }

  /**
   * Best NCC of template {@code t} over the positions (top-left corners) from x0..x1, y0..y1 that lie inside
   * {@code b}: {best, x, y}, best -inf when none is measurable.
   */
  static double[] slide(Plane t, Plane b, Window win, int xFrom, int xTo, int yFrom, int yTo) {
    return slide(t, b, win, xFrom, xTo, yFrom, yTo, true);
  }

  /**
   * {@link #slide}, four neighbouring positions at a time when {@code fourAtATime}, else one at a time (the plain
   * loop the faster form is tested against: the same sums in the same order, so the same answer bit for bit).
   */
  private static double[] slide(Plane t, Plane b, Window win, int xFrom, int xTo, int yFrom, int yTo,
      boolean fourAtATime) {
    double[] best = {Double.NEGATIVE_INFINITY, 0, 0};
    Centred c = t.w > b.w || t.h > b.h ? null : Centred.of(t);
    if (c == null) {
      return best;
    }
    float[] q = c.q;
    int xFirst = Math.max(0, xFrom);
    int xLast = Math.min(xTo, b.w - t.w);
    for (int y0 = Math.max(0, yFrom); y0 <= yTo && y0 + t.h <= b.h; y0++) {
      int x0 = xFirst;
      // four neighbouring positions at a time: four independent sums, each added in the plain loop's order
      for (; fourAtATime && x0 + 3 <= xLast; x0 += 4) {
        float d0 = 0;
        float d1 = 0;
        float d2 = 0;
        float d3 = 0;
        for (int y = 0; y < t.h; y++) {
          int bo = (y0 + y) * b.w + x0;
          int to = y * t.w;
          for (int x = 0; x < t.w; x++) {
            float v = q[to + x];
            d0 += v * b.p[bo + x];
            d1 += v * b.p[bo + x + 1];
            d2 += v * b.p[bo + x + 2];
            d3 += v * b.p[bo + x + 3];
          }
        }
        consider(best, d0, c, win, x0, y0, t);
        consider(best, d1, c, win, x0 + 1, y0, t);
        consider(best, d2, c, win, x0 + 2, y0, t);
        consider(best, d3, c, win, x0 + 3, y0, t);
      }
      for (; x0 <= xLast; x0++) {
        consider(best, dot(q, t, b, x0, y0), c, win, x0, y0, t);
      }
    }
    return best;
  }

  /** The product sum of the centred template {@code q} (of {@code t}'s size) with {@code b} at one position. */
  private static float dot(float[] q, Plane t, Plane b, int x0, int y0) {
    float dot = 0;
    for (int y = 0; y < t.h; y++) {
      int bo = (y0 + y) * b.w + x0;
      int to = y * t.w;
      for (int x = 0; x < t.w; x++) {
        dot += q[to + x] * b.p[bo + x];
      }
    }
    return dot;
  }

  /** A template less its mean, with the norm of what is left; null when it is flat. */
  private record Centred(float[] q, double norm, int n, double flat) {
    static Centred of(Plane t) {
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
      return ss < flat ? null : new Centred(q, Math.sqrt(ss), n, flat);
    }
  }

  /**
   * The NCC at one position from the template's product sum there, kept in {@code best} when it beats it; a position
   * where the field is flat does not count.
   */
  private static void consider(double[] best, float dot, Centred c, Window win, int x0, int y0, Plane t) {
    double a1 = win.sum(win.s1, x0, y0, t.w, t.h);
    double var = win.sum(win.s2, x0, y0, t.w, t.h) - a1 * a1 / c.n;
    if (var < c.flat) {
      return;
    }
    double ncc = dot / (c.norm * Math.sqrt(var));
    if (ncc > best[0]) {
      best[0] = ncc;
      best[1] = x0;
      best[2] = y0;
    }
  }

  /** {@link #slide} of {@code t} over {@code b} ({@code plain}: one position at a time), its window sums made here. */
  static double[] slide(Plane t, Plane b, int xFrom, int xTo, int yFrom, int yTo, boolean plain) {
    return slide(t, b, new Window(b), xFrom, xTo, yFrom, yTo, !plain);
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

  /**
   * The mean of the (2r+1)^2 box around each pixel, edges replicated. Each output is the same float sum, added in the
   * same order (taps from -r to r), as the plain loop over every tap with clamped indices ({@link #boxPlain}), so the
   * result is the same bit for bit; the loops run along rows (each tap added to a row of sums at once), and only the
   * r columns at each edge clamp their indices.
   */
  static Plane box(Plane g, int r) {
    int k = 2 * r + 1;
    int w = g.w;
    int h = g.h;
    int inLast = w - 1 - r; // columns r..inLast need no clamping (none when the plane is narrower than the box)
    float[] horiz = new float[g.p.length];
    for (int y = 0; y < h; y++) {
      int row = y * w;
      for (int d = -r; d <= r; d++) {
        for (int x = r; x <= inLast; x++) {
          horiz[row + x] += g.p[row + x + d];
        }
      }
      for (int x = 0; x < w; x++) {
        if (x >= r && x <= inLast) {
          x = inLast; // skip the interior, done above
          continue;
        }
        float s = 0;
        for (int d = -r; d <= r; d++) {
          s += g.p[row + Math.min(w - 1, Math.max(0, x + d))];
        }
        horiz[row + x] = s;
      }
    }
    float[] out = new float[g.p.length];
    for (int y = 0; y < h; y++) {
      int o = y * w;
      for (int d = -r; d <= r; d++) {
        int src = Math.min(h - 1, Math.max(0, y + d)) * w;
        for (int x = 0; x < w; x++) {
          out[o + x] += horiz[src + x];
        }
      }
      for (int x = 0; x < w; x++) {
        out[o + x] = out[o + x] / (k * k);
      }
    }
    return new Plane(w, h, out);
  }

  /** {@link #box} as a plain loop over every tap with clamped indices: the reference it is tested against. */
  static Plane boxPlain(Plane g, int r) {
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

  /**
   * Area resampling to {@code w x h} (each output pixel the coverage-weighted mean of the source under it). The
   * weights of a line are worked out once per call ({@link Taps}) and each output is the same double sum, in the same
   * order, as {@link #resizePlain}'s: the same result bit for bit.
   */
  static Plane resize(Plane s, int w, int h) {
    if (s.w == w && s.h == h) {
      return s;
    }
    Taps across = new Taps(s.w, w);
    float[] tmp = new float[s.h * w];
    for (int y = 0; y < s.h; y++) {
      int so = y * s.w;
      int dO = y * w;
      for (int i = 0; i < w; i++) {
        double sum = 0;
        for (int t = across.first[i]; t < across.first[i + 1]; t++) {
          sum += across.weight[t] * s.p[so + across.index[t]];
        }
        tmp[dO + i] = (float) (sum / across.step);
      }
    }
    Taps down = new Taps(s.h, h);
    float[] out = new float[h * w];
    double[] sums = new double[w];
    for (int i = 0; i < h; i++) {
      java.util.Arrays.fill(sums, 0);
      for (int t = down.first[i]; t < down.first[i + 1]; t++) {
        double wt = down.weight[t];
        int src = down.index[t] * w;
        for (int x = 0; x < w; x++) {
          sums[x] += wt * tmp[src + x];
        }
      }
      for (int x = 0; x < w; x++) {
        out[i * w + x] = (float) (sums[x] / down.step);
      }
    }
    return new Plane(w, h, out);
  }

  /**
   * The source samples under each of {@code m} outputs of a line of {@code n} samples, with their overlap: output
   * {@code i} takes {@code index[t]} with weight {@code weight[t]} for t from {@code first[i]} to {@code first[i+1]}.
   */
  private static final class Taps {
    final double step;
    final int[] first;
    final int[] index;
    final double[] weight;

    Taps(int n, int m) {
      step = (double) n / m;
      first = new int[m + 1];
      int[] idx = new int[n + 2 * m];
      double[] wt = new double[idx.length];
      int t = 0;
      for (int i = 0; i < m; i++) {
        first[i] = t;
        double a = i * step;
        double b = a + step;
        for (int j = (int) a; j < n && j < b; j++) {
          double overlap = Math.min(b, j + 1) - Math.max(a, j);
          if (overlap > 0) {
            idx[t] = j;
            wt[t++] = overlap;
          }
        }
      }
      first[m] = t;
      index = idx;
      weight = wt;
    }
  }

  /** {@link #resize} as the plain loop per output sample: the reference it is tested against. */
  static Plane resizePlain(Plane s, int w, int h) {
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
