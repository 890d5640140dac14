package dev.imgmatch.index;

import dev.imgmatch.common.GrayThumb;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiPredicate;

/**
 * A picture's coarse layout — its greyscale thumbnail averaged onto a few cells, centred and scaled to unit length —
 * which finds and confirms the original of a <b>pixelated</b> probe. A mosaic of coarse blocks (13 × 18 over a
 * 320-px picture) leaves nothing of the picture but its block means: no keypoint, no PDQ bit, no descriptor the model
 * recognises (the model sees the grid). Its layout is still the original's: averaged onto 16 × 16 cells, a pixelated
 * copy and its original correlate at 0.95-1.00 while the most similar unrelated reference of the calibration splits
 * reaches 0.92 (docs/BENCHMARKS.md, "Pixelated copies: found by their layout"); left out of the correlation, the
 * tenth of the cells that fit worst ({@link #TRIMMED}) no longer costs a copy under a logo or a shear its match.
 *
 * <p>Only probes in which ingest-stream found a mosaic grid (their {@code depixel} view, {@link Probe#mosaic}) are
 * matched this way: the layouts of unrelated photos are alike too (a sky over a dark ground), which is why the
 * low-resolution view of every probe raised false alarms. For those, each shard's references nearest to the probe's
 * {@link #COARSE} × {@link #COARSE} layout (HNSW on the {@link Fields#LAYOUT} vector, the probe — and the picture
 * inside its border, when it has one — flipped four ways) are compared at {@link #FINE} × {@link #FINE} cells
 * ({@link #correlation}), and the best stands only when it stands out from every other work as the nearest-neighbour
 * ratio test asks ({@link #decide}).
 */
public final class Layout {
  private Layout() {}

  /** Cells a side of the indexed layout vector (64 dimensions). */
  static final int COARSE = 8;
  /** Cells a side of the correlation that decides. */
  static final int FINE = 16;
  /**
   * A thumbnail whose cells vary by less than this (grey levels, standard deviation) has no layout: a flat picture
   * would otherwise correlate with anything by its noise.
   */
  static final double MIN_SPREAD = 2.0;
  /**
   * The least competitor correlation assumed: a lone candidate in a nearly empty index is judged against it (as the
   * margin's floor, {@link MatchPolicy#DEFAULT_MARGIN_FLOOR}), so its ratio is (1 - c) / 0.2.
   */
  public static final double COMPETITOR_FLOOR = 0.8;
  /**
   * The share of a layout's {@link #FINE} × {@link #FINE} cells left out of its correlation with a candidate's: those
   * that fit worst ({@link #trimmed}). Measured on five calibration splits (docs/BENCHMARKS.md, "Pixelated copies:
   * a trimmed correlation"): pixelated copies under a logo, a shear or a small turn rise from 0.76-0.91 to 0.95-0.98,
   * unrelated mosaics' best references from at most 0.92 to at most 0.965, which the ratio test still refuses.
   */
  static final double TRIMMED = 0.1;
  /**
   * Largest |ln| of the ratio of two aspect ratios that still counts as the same shape (a factor of about 1.5): a
   * crop before or after the pixelating changes the shape that much (the calibration split's crops: up to 0.4), and a
   * copy cropped along a smooth band still correlates with its original. The ratio test, not the shape, is what keeps
   * unrelated mosaics out (docs/BENCHMARKS.md, "Pixelated copies: inside a border, and the ratio test over the
   * correlation floor").
   */
  static final double MAX_ASPECT_LOG = 0.4;

  /**
   * The unit-length, zero-mean {@code cells} × {@code cells} layout of a thumbnail flipped by {@code flip} (bit 0:
   * left-right, bit 1: upside down), or null when the thumbnail is flat ({@link #MIN_SPREAD}).
   */
  static float[] vector(GrayThumb t, int cells, int flip) {
    double[] a = cells(t, cells);
    double mean = 0;
    for (double v : a) {
      mean += v;
    }
    mean /= a.length;
    double ss = 0;
    for (double v : a) {
      ss += (v - mean) * (v - mean);
    }
    if (Math.sqrt(ss / a.length) < MIN_SPREAD) {
      return null;
    }
    double norm = Math.sqrt(ss);
    float[] out = new float[a.length];
    for (int y = 0; y < cells; y++) {
      for (int x = 0; x < cells; x++) {
        int sx = (flip & 1) != 0 ? cells - 1 - x : x;
        int sy = (flip & 2) != 0 ? cells - 1 - y : y;
        out[y * cells + x] = (float) ((a[sy * cells + sx] - mean) / norm);
      }
    }
    return out;
  }

  /** The layout vector indexed for a reference: {@link #COARSE} cells a side, unflipped; null when flat. */
  public static float[] indexed(GrayThumb t) {
    return t == null ? null : vector(t, COARSE, 0);
  }

  /**
   * The side of an indexed window ({@link #indexedWindows}), as a share of the thumbnail's width and height: a copy
   * cropped to 0.6-0.95 of a side before or after the pixelating (the calibration splits' crops) keeps most of such a
   * window, so its coarse layout is near the window's where it is too far from the whole picture's to be among the
   * look-up's candidates (docs/BENCHMARKS.md, "Pixelated copies: windows in the index").
   */
  static final double INDEXED_WINDOW_SIDE = 0.75;
  /** Where the indexed windows stand: shares of the free space across and down (the four corners, the centre). */
  static final double[][] INDEXED_WINDOW_AT = {{0, 0}, {1, 0}, {0, 1}, {1, 1}, {0.5, 0.5}};
  /**
   * Radius (thumbnail pixels) of the box mean both an indexed window's thumbnail and a probe's are smoothed by before
   * their coarse layouts are taken ({@link #smoothed}): a window stands where it stands, the crop wherever it fell, and
   * unsmoothed, one pixel between them (a sixth of a cell) took a copy's original from first to fourth nearest; at
   * radius 2 the same originals are nominated with the centre window moved by -2 to 2 pixels (docs/BENCHMARKS.md,
   * "Pixelated copies: windows in the index").
   */
  static final int WINDOW_SMOOTHING = 2;
  /**
   * References looked up per shard, indexed window and probe layout ({@link ProbeLayout#coarse}) by the window search:
   * the {@link Fields#LAYOUT_WINDOWS} window fields together nominate about as many references as the whole layout's
   * {@code match.layout.candidates} (8) — measured on ten calibration splits, 32 more candidates per pixelated probe at
   * 2, 55 at 4, and the same originals found.
   */
  public static final int WINDOW_LOOKUP = 2;

  /**
   * The coarse layouts indexed for windows of a reference's thumbnail ({@link Fields#layoutWindow}), one per
   * {@link #INDEXED_WINDOW_AT} position ({@link Fields#LAYOUT_WINDOWS}), unflipped; an element is null where the window
   * is flat or smaller than {@link #MIN_WINDOW}; empty when there is no thumbnail.
   */
  public static float[][] indexedWindows(GrayThumb t) {
    if (t == null) {
      return new float[0][];
    }
    List<GrayThumb> windows = smoothedWindows(t);
    float[][] out = new float[INDEXED_WINDOW_AT.length][];
    for (int i = 0; i < windows.size(); i++) {
      out[i] = vector(windows.get(i), COARSE, 0);
    }
    return out;
  }

  /**
   * The windows of {@code t}, smoothed ({@link #WINDOW_SMOOTHING}), at the {@link #INDEXED_WINDOW_AT} places, or none
   * when they would be smaller than {@link #MIN_WINDOW}.
   */
  private static List<GrayThumb> smoothedWindows(GrayThumb t) {
    int w = (int) Math.round(t.width() * INDEXED_WINDOW_SIDE);
    int h = (int) Math.round(t.height() * INDEXED_WINDOW_SIDE);
    if (w < MIN_WINDOW || h < MIN_WINDOW) {
      return List.of();
    }
    GrayThumb smooth = smoothed(t, WINDOW_SMOOTHING);
    List<GrayThumb> out = new ArrayList<>(INDEXED_WINDOW_AT.length);
    for (double[] at : INDEXED_WINDOW_AT) {
      out.add(window(smooth, (int) Math.round((t.width() - w) * at[0]), (int) Math.round((t.height() - h) * at[1]),
          w, h));
    }
    return out;
  }

  /**
   * {@code t} with each pixel the mean of the (2 {@code r} + 1)² pixels around it, those inside the thumbnail (so an
   * edge is not darkened), rounded to whole grey levels.
   */
  static GrayThumb smoothed(GrayThumb t, int r) {
    int w = t.width();
    int h = t.height();
    byte[] g = t.gray();
    byte[] out = new byte[g.length];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int sum = 0;
        int n = 0;
        for (int yy = Math.max(0, y - r); yy <= Math.min(h - 1, y + r); yy++) {
          for (int xx = Math.max(0, x - r); xx <= Math.min(w - 1, x + r); xx++) {
            sum += g[yy * w + xx] & 0xff;
            n++;
          }
        }
        out[y * w + x] = (byte) Math.round((float) sum / n);
      }
    }
    return new GrayThumb(w, h, out);
  }

  /**
   * A probe's layouts, made once per probe: those of its thumbnail and, when the thumbnail has uniform margins (a
   * frame, letterbox bars: {@link Verifier#trimBorders}), those of the picture inside them — a border added to a
   * pixelated copy moves every cell of its layout. Each framing is flipped each of four ways.
   */
  public record ProbeLayout(List<Framing> framings) {
    /** The layouts of a probe's thumbnail, or null when it has none or a flat one. */
    public static ProbeLayout of(GrayThumb t) {
      Framing whole = t == null ? null : Framing.of(t);
      if (whole == null) {
        return null;
      }
      GrayThumb inside = inside(t);
      Framing trimmed = inside == null ? null : Framing.of(inside);
      return new ProbeLayout(trimmed == null ? List.of(whole) : List.of(whole, trimmed));
    }

    /** The {@link #COARSE}-cell layouts of every framing and flip: the kNN queries. */
    public List<float[]> coarse() {
      List<float[]> out = new ArrayList<>();
      for (Framing f : framings) {
        out.addAll(List.of(f.coarse()));
      }
      return out;
    }

    /**
     * The queries of the indexed windows ({@link #indexedWindows}): each framing's coarse layouts, flipped four ways,
     * of its thumbnail smoothed as the windows are ({@link #WINDOW_SMOOTHING}); a flat one is left out.
     */
    public List<float[]> windowQueries() {
      List<float[]> out = new ArrayList<>();
      for (Framing f : framings) {
        GrayThumb smooth = smoothed(f.thumb(), WINDOW_SMOOTHING);
        for (int flip = 0; flip < 4; flip++) {
          float[] v = vector(smooth, COARSE, flip);
          if (v != null) {
            out.add(v);
          }
        }
      }
      return out;
    }

    /**
     * The queries that find the indexed images a crop of this probe could be (a pixelated upload cropped from a
     * reference indexed after it: {@link LocalShards#mosaicsLike}): the coarse layouts of the probe's own windows at
     * the indexed windows' places ({@link #indexedWindows}, its whole thumbnail smoothed as there), flipped four ways;
     * a flat one is left out.
     */
    public List<float[]> cropQueries() {
      List<float[]> out = new ArrayList<>();
      for (GrayThumb win : smoothedWindows(framings.get(0).thumb())) {
        for (int flip = 0; flip < 4; flip++) {
          float[] v = vector(win, COARSE, flip);
          if (v != null) {
            out.add(v);
          }
        }
      }
      return out;
    }

    /**
     * The best trimmed correlation ({@link #trimmed}) of any framing's fine layouts with the candidate's; null when the
     * candidate's is flat.
     */
    public Double correlation(GrayThumb candidate) {
      Fit f = fit(candidate);
      return f == null ? null : f.correlation();
    }

    /** The best-correlating framing's correlation and whether it has the candidate's shape; null when flat. */
    public Fit fit(GrayThumb candidate) {
      float[] c = vector(candidate, FINE, 0);
      if (c == null) {
        return null;
      }
      double best = -1;
      Framing at = framings.get(0);
      for (Framing f : framings) {
        for (float[] q : f.fine()) {
          double r = trimmed(q, c);
          if (r > best) {
            best = r;
            at = f;
          }
        }
      }
      return new Fit(best, sameShape(at.thumb(), candidate));
    }

    /**
     * The best trimmed correlation of any framing with a window of {@code ref} that has that framing's shape (sides
     * {@link #WINDOW_SIDES} of the thumbnail's, {@link #WINDOW_POSITIONS} positions along each axis), or -1 when no
     * window could be measured (all flat, or none of the shape).
     */
    public double windowCorrelation(GrayThumb ref) {
      double best = -1;
      for (Framing f : framings) {
        double aspect = (double) f.thumb().width() / f.thumb().height();
        for (double sw : WINDOW_SIDES) {
          for (double sh : WINDOW_SIDES) {
            int w = (int) Math.round(ref.width() * sw);
            int h = (int) Math.round(ref.height() * sh);
            if (w < MIN_WINDOW || h < MIN_WINDOW || Math.abs(Math.log((double) w / h / aspect)) > WINDOW_ASPECT_LOG) {
              continue;
            }
            // a window as wide (high) as the thumbnail has one position across (down)
            for (int i = 0; i < (w == ref.width() ? 1 : WINDOW_POSITIONS); i++) {
              for (int j = 0; j < (h == ref.height() ? 1 : WINDOW_POSITIONS); j++) {
                int x0 = (ref.width() - w) * i / (WINDOW_POSITIONS - 1);
                int y0 = (ref.height() - h) * j / (WINDOW_POSITIONS - 1);
                float[] c = vector(window(ref, x0, y0, w, h), FINE, 0);
                if (c == null) {
                  continue;
                }
                for (float[] qf : f.fine()) {
                  best = Math.max(best, trimmed(qf, c));
                }
              }
            }
          }
        }
      }
      return best;
    }
  }

  /** The {@code w} × {@code h} window of {@code t} at ({@code x0}, {@code y0}). */
  static GrayThumb window(GrayThumb t, int x0, int y0, int w, int h) {
    byte[] g = new byte[w * h];
    for (int y = 0; y < h; y++) {
      System.arraycopy(t.gray(), (y0 + y) * t.width() + x0, g, y * w, w);
    }
    return new GrayThumb(w, h, g);
  }

  /** A probe layout's fit with a candidate: the best correlation, and the shape test of the framing that gave it. */
  public record Fit(double correlation, boolean sameShape) {}

  /** One framing of a probe (its whole thumbnail, or the part inside its margins) and its layouts flipped four ways. */
  public record Framing(GrayThumb thumb, float[][] coarse, float[][] fine) {
    static Framing of(GrayThumb t) {
      float[][] coarse = new float[4][];
      float[][] fine = new float[4][];
      for (int flip = 0; flip < 4; flip++) {
        coarse[flip] = vector(t, COARSE, flip);
        fine[flip] = vector(t, FINE, flip);
        if (coarse[flip] == null || fine[flip] == null) {
          return null;
        }
      }
      return new Framing(t, coarse, fine);
    }
  }

  /** The part of {@code t} inside its uniform margins ({@link Verifier#trimBorders}), or null when it has none. */
  static GrayThumb inside(GrayThumb t) {
    Verifier.Plane whole = Verifier.plane(t);
    Verifier.Plane in = Verifier.trimBorders(whole);
    if (in == whole) {
      return null;
    }
    byte[] gray = new byte[in.w() * in.h()];
    for (int i = 0; i < gray.length; i++) {
      gray[i] = (byte) Math.round(in.p()[i]); // whole grey levels: trimBorders copies the plane's pixels
    }
    return new GrayThumb(in.w(), in.h(), gray);
  }

  /**
   * The correlation of two unit-length, zero-mean layouts over their cells but the {@link #TRIMMED} share that fit
   * worst (the largest residuals of the least-squares fit of {@code c} by {@code q}), re-centred on the cells kept:
   * an overlay (a logo, a caption, a shape) or a corner a shear or a perspective moved changes a few cells of a
   * pixelated copy, and would otherwise cost the whole correlation. Ties are broken by cell index (deterministic).
   */
  static double trimmed(float[] q, float[] c) {
    int n = q.length;
    double s = 0;
    for (int i = 0; i < n; i++) {
      s += q[i] * c[i];
    }
    double[] residual = new double[n];
    for (int i = 0; i < n; i++) {
      residual[i] = Math.abs(c[i] - s * q[i]);
    }
    int keep = (int) Math.round(n * (1 - TRIMMED));
    double[] sorted = residual.clone();
    java.util.Arrays.sort(sorted);
    double limit = sorted[keep - 1]; // the cells kept: residual below it, and at it in cell order until keep
    int atLimit = keep;
    for (int k = 0; k < keep; k++) {
      if (sorted[k] < limit) {
        atLimit--;
      }
    }
    boolean[] kept = new boolean[n];
    for (int i = 0; i < n; i++) {
      if (residual[i] < limit || (residual[i] == limit && atLimit-- > 0)) {
        kept[i] = true;
      }
    }
    double mq = 0;
    double mc = 0;
    for (int i = 0; i < n; i++) {
      if (kept[i]) {
        mq += q[i];
        mc += c[i];
      }
    }
    mq /= keep;
    mc /= keep;
    double qc = 0;
    double qq = 0;
    double cc = 0;
    for (int i = 0; i < n; i++) {
      if (kept[i]) {
        double x = q[i] - mq;
        double y = c[i] - mc;
        qc += x * y;
        qq += x * x;
        cc += y * y;
      }
    }
    return qq <= 0 || cc <= 0 ? 0 : qc / Math.sqrt(qq * cc);
  }

  /**
   * The best correlation of the probe's {@link #FINE}-cell layout, flipped any of four ways, with the candidate's;
   * null when either is flat.
   */
  static Double correlation(GrayThumb probe, GrayThumb candidate) {
    ProbeLayout q = ProbeLayout.of(probe);
    return q == null ? null : q.correlation(candidate);
  }

  /** True when the two pictures have about the same shape (a pixelated copy keeps its original's). */
  public static boolean sameShape(GrayThumb a, GrayThumb b) {
    double ra = (double) a.width() / a.height();
    double rb = (double) b.width() / b.height();
    return Math.abs(Math.log(ra / rb)) <= MAX_ASPECT_LOG;
  }

  /**
   * A reference found by its layout: its hit (every other signal measured), its correlation and shape test, and its
   * thumbnail (for the window search, {@link #windowed}; null when not kept).
   */
  record Candidate(Hit hit, double correlation, boolean sameShape, GrayThumb thumb) {
    Candidate(Hit hit, double correlation, boolean sameShape) {
      this(hit, correlation, sameShape, null);
    }
  }

  /** The candidate {@code hit} of an image with thumbnail {@code thumb}, or null when it has none or a flat one. */
  static Candidate candidate(ProbeLayout q, Hit hit, GrayThumb thumb) {
    Fit f = thumb == null ? null : q.fit(thumb);
    return f == null ? null : new Candidate(hit, f.correlation(), f.sameShape(), thumb);
  }

  /**
   * Window sides, as shares of a candidate thumbnail's width and height: a pixelated copy cropped before or after
   * the pixelating shows a window of its original (the calibration splits' crops keep 0.6-0.95 of a side).
   */
  static final double[] WINDOW_SIDES = {0.6, 0.7, 0.8, 0.9, 1.0};
  /**
   * Positions of a window along each axis, evenly spread from one end to the other (at the ends and a third of the
   * way in from each): a heavy crop seen through windows only at the ends and the centre was missed where it lay
   * between them (docs/BENCHMARKS.md, "Pixelated copies: windows at thirds, the descriptor's candidates, and a comb
   * of 42 %").
   */
  static final int WINDOW_POSITIONS = 4;
  /** Largest |ln| of the ratio of a window's aspect ratio to the probe framing's: a window has the probe's shape. */
  static final double WINDOW_ASPECT_LOG = 0.1;
  /** Windows narrower or lower than this (thumbnail pixels) are skipped: too few pixels per fine cell. */
  static final int MIN_WINDOW = 8;

  /**
   * The candidates of a probe taken for a crop of one of them: each one's correlation is the best of its whole
   * layout's (when it has the probe's shape) and of the layouts of windows of its thumbnail that have a framing's
   * shape ({@link ProbeLayout#windowCorrelation}); every one then has the probe's shape. Candidates without a thumbnail keep
   * their whole correlation when its shape fits (else -1). Measured on eight calibration splits (docs/BENCHMARKS.md,
   * "Pixelated copies: a window search"): decided by {@link #decide} only where the whole layouts decide nothing, it
   * finds pixelated copies cropped before or after the pixelating and no unindexed mosaic.
   */
  static List<Candidate> windowed(ProbeLayout q, List<Candidate> candidates) {
    List<Candidate> out = new ArrayList<>(candidates.size());
    for (Candidate c : candidates) {
      double whole = c.sameShape() ? c.correlation() : -1;
      double windows = c.thumb() == null ? -1 : q.windowCorrelation(c.thumb());
      out.add(new Candidate(c.hit(), Math.max(whole, windows), true, c.thumb()));
    }
    return out;
  }

  /**
   * The candidates of a probe taken for the original of each of them (a pixelated upload, cropped before or after the
   * pixelating, met by a reference indexed after it): each one's correlation becomes the best of its own and of the
   * window correlation of its thumbnail, taken as the probe, with the probe's {@code thumb}
   * ({@link ProbeLayout#windowCorrelation}), as the window search forward would find it. A candidate without a
   * thumbnail, or with a flat one, keeps its correlation.
   */
  static List<Candidate> asCrops(GrayThumb thumb, List<Candidate> candidates) {
    List<Candidate> out = new ArrayList<>(candidates.size());
    for (Candidate c : candidates) {
      ProbeLayout crop = c.thumb() == null || thumb == null ? null : ProbeLayout.of(c.thumb());
      double w = crop == null ? -1 : crop.windowCorrelation(thumb);
      out.add(w > c.correlation() ? new Candidate(c.hit(), w, true, c.thumb()) : c);
    }
    return out;
  }

  /** {@code candidates} and, after them, those of {@code others} whose image is not among them (first kept). */
  static List<Candidate> withOthers(List<Candidate> candidates, List<Candidate> others) {
    Set<String> have = new HashSet<>();
    List<Candidate> out = new ArrayList<>(candidates);
    for (Candidate c : candidates) {
      have.add(c.hit().uid());
    }
    for (Candidate c : others) {
      if (have.add(c.hit().uid())) {
        out.add(c);
      }
    }
    return out;
  }

  /**
   * {@code candidates} and, after them, those of the {@code k} best of {@code hits} by score (ties by uid) that are
   * not among them and have a thumbnail with a layout: the references the probe's other signals found nearest.
   */
  static List<Candidate> withBestHits(ProbeLayout q, List<Candidate> candidates, Collection<Hit> hits, int k) {
    Set<String> have = new HashSet<>();
    for (Candidate c : candidates) {
      have.add(c.hit().uid());
    }
    List<Hit> best = new ArrayList<>(hits);
    best.sort(Comparator.comparingDouble(Hit::score).reversed().thenComparing(Hit::uid));
    List<Candidate> out = new ArrayList<>(candidates);
    for (Hit h : best.subList(0, Math.min(k, best.size()))) {
      Candidate c = have.contains(h.uid()) ? null : candidate(q, h, h.thumbnail());
      if (c != null) {
        out.add(c);
      }
    }
    return out;
  }

  /**
   * The reference a tiny probe copies by its layout, or null: a probe nothing else decided whose longer side is at most
   * {@link MatchPolicy.LayoutMatching#tinyMaxSide} (its thumbnail holds about all there is of it; {@link
   * MatchPolicy.LayoutMatching#tiny} says which probes are judged) is judged by the layouts of its ranked candidates
   * ({@code ranked}) and of the references nearest to its layout ({@code lookup}: the descriptor of a picture of a few
   * dozen pixels is weak, and its original is often not among the ranked ones), with the rule of a pixelated probe
   * ({@link #decide}: the same correlation floor, shape and ratio test, every other candidate of either list
   * competing). A tiny copy keeps its original's layout through a colour change, a mirror, text or a logo. Measured on
   * ten calibration splits (docs/BENCHMARKS.md, "Tiny copies: a layout look-up, not for icons"): 24 copies decided, no
   * held-out view, no wrong reference; the copies ranked first by the other signals were decided before by their
   * layout alone (the twenty-ninth session's rule), those not ranked at all need the look-up.
   */
  static Decided tiny(ProbeLayout q, List<Hit> ranked, List<Candidate> lookup, MatchPolicy.LayoutMatching m,
      BiPredicate<Hit, Hit> sameWork, double matchThreshold) {
    if (q == null) {
      return null;
    }
    Map<String, Candidate> byUid = new LinkedHashMap<>();
    for (Hit h : ranked) {
      Candidate c = candidate(q, h, h.thumbnail());
      if (c != null) {
        byUid.put(h.uid(), c); // the ranked hit: scored with the others
      }
    }
    for (Candidate c : lookup) {
      byUid.putIfAbsent(c.hit().uid(), c);
    }
    return decide(new ArrayList<>(byUid.values()), m, sameWork, matchThreshold);
  }

  /** The decided reference and its score ({@link #score}). */
  record Decided(Hit hit, double score) {}

  /**
   * The reference a pixelated probe copies by its layout, or null: the best-correlating candidate, when it reaches
   * {@code minCorrelation}, has the probe's shape, and (1 - its correlation) is at most {@code maxRatio} times (1 -
   * the best correlation of any other work, at least {@link #COMPETITOR_FLOOR}) — candidates {@code sameWork} pairs
   * with it (equal bytes, a close PDQ, near-equal descriptors) are not other works.
   */
  static Decided decide(List<Candidate> candidates, MatchPolicy.LayoutMatching m, BiPredicate<Hit, Hit> sameWork,
      double matchThreshold) {
    if (candidates.isEmpty()) {
      return null;
    }
    List<Candidate> sorted = new ArrayList<>(candidates);
    sorted.sort(Comparator.comparingDouble(Candidate::correlation).reversed()
        .thenComparing(c -> c.hit().uid()));
    Candidate best = sorted.get(0);
    if (best.correlation() < m.minCorrelation() || !best.sameShape()) {
      return null;
    }
    double other = COMPETITOR_FLOOR;
    for (Candidate c : sorted.subList(1, sorted.size())) {
      if (!sameWork.test(best.hit(), c.hit())) {
        other = Math.max(other, c.correlation());
        break;
      }
    }
    double ratio = (1 - best.correlation()) / (1 - other);
    if (ratio > m.maxRatio()) {
      return null;
    }
    return new Decided(best.hit(), score(ratio, m, matchThreshold));
  }

  /**
   * What a decided layout match says: at least the match threshold, rising as the ratio falls (at most 0.99). Like a
   * hash match or a local placement it stands on its own: the margin does not lower it.
   */
  static double score(double ratio, MatchPolicy.LayoutMatching m, double matchThreshold) {
    return Math.min(0.99, matchThreshold + 0.2 * (1 - ratio / m.maxRatio()));
  }

  /**
   * The mean grey level of each of {@code n} × {@code n} equal cells over the thumbnail (area-averaged as the
   * verifier resizes: a pixel split by a cell border counts in each by the part it covers).
   */
  static double[] cells(GrayThumb t, int n) {
    float[] p = Verifier.resize(Verifier.plane(t), n, n).p();
    double[] out = new double[p.length];
    for (int i = 0; i < p.length; i++) {
      out[i] = p[i];
    }
    return out;
  }
}
