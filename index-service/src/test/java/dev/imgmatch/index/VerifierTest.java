package dev.imgmatch.index;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.common.GrayThumb;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Pure logic: {@link Verifier} on synthetic pictures (random blobs and bars, rendered at 256x192 and reduced to
 * 64-pixel thumbnails like ingest-stream's) — the edits a copy goes through keep a high alignment, a different
 * picture of the same kind does not.
 */
class VerifierTest {
  private static final int W = 256;
  private static final int H = 192;

  /** A picture of random soft blobs and bars on a gradient, grey values 0-255. */
  static float[] picture(long seed) {
    Random rnd = new Random(seed);
    float[] p = new float[W * H];
    double gx = rnd.nextDouble() * 60;
    for (int y = 0; y < H; y++) {
      for (int x = 0; x < W; x++) {
        p[y * W + x] = (float) (90 + gx * x / W);
      }
    }
    for (int b = 0; b < 25; b++) {
      double cx = rnd.nextDouble() * W;
      double cy = rnd.nextDouble() * H;
      double r = 6 + rnd.nextDouble() * 30;
      double amp = (rnd.nextDouble() - 0.5) * 160;
      boolean bar = rnd.nextBoolean();
      for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++) {
          double dx = (x - cx) / r;
          double dy = (y - cy) / (bar ? r / 4 : r);
          double d2 = dx * dx + dy * dy;
          if (d2 < 9) {
            p[y * W + x] += (float) (amp * Math.exp(-d2));
          }
        }
      }
    }
    for (int i = 0; i < p.length; i++) {
      p[i] = Math.max(0, Math.min(255, p[i]));
    }
    return p;
  }

  /** The thumbnail (longer side 64) of the region (x, y, w, h) of a W x H picture. */
  static GrayThumb thumb(float[] p, int x0, int y0, int w, int h) {
    float[] crop = new float[w * h];
    for (int y = 0; y < h; y++) {
      System.arraycopy(p, (y0 + y) * W + x0, crop, y * w, w);
    }
    double s = 64.0 / Math.max(w, h);
    int tw = (int) Math.round(w * s);
    int th = (int) Math.round(h * s);
    Verifier.Plane small = Verifier.resize(new Verifier.Plane(w, h, crop), tw, th);
    byte[] g = new byte[tw * th];
    for (int i = 0; i < g.length; i++) {
      g[i] = (byte) Math.max(0, Math.min(255, Math.round(small.p()[i])));
    }
    return new GrayThumb(tw, th, g);
  }

  static GrayThumb thumb(float[] p) {
    return thumb(p, 0, 0, W, H);
  }

  static float[] map(float[] p, java.util.function.DoubleUnaryOperator f) {
    float[] o = new float[p.length];
    for (int i = 0; i < p.length; i++) {
      o[i] = (float) Math.max(0, Math.min(255, f.applyAsDouble(p[i])));
    }
    return o;
  }

  static float[] mirror(float[] p) {
    float[] o = new float[p.length];
    for (int y = 0; y < H; y++) {
      for (int x = 0; x < W; x++) {
        o[y * W + x] = p[y * W + W - 1 - x];
      }
    }
    return o;
  }

  @Test
  void aCopyAlignsWhateverItsEditsAndAnotherPictureDoesNot() {
    float[] orig = picture(1);
    GrayThumb ref = thumb(orig);
    assertThat(Verifier.similarity(thumb(orig), ref)).as("itself").isGreaterThan(0.99);
    assertThat(Verifier.similarity(thumb(map(orig, v -> 40 + 0.6 * v)), ref)).as("brightness, contrast")
        .isGreaterThan(0.95);
    assertThat(Verifier.similarity(thumb(orig, 64, 40, 128, 96), ref)).as("a crop of a quarter of the area")
        .isGreaterThan(0.8);
    assertThat(Verifier.similarity(thumb(mirror(orig), 30, 20, 180, 150), ref)).as("a mirrored crop")
        .isGreaterThan(0.8);
    float[] other = picture(2);
    assertThat(Verifier.similarity(thumb(other), ref)).as("another picture of the same kind").isLessThan(0.6);
    assertThat(Verifier.similarity(thumb(other, 64, 40, 128, 96), ref)).as("a crop of another picture")
        .isLessThan(0.6);
  }

  @Test
  void aProbePreparedOnceAlignsEveryCandidateExactlyAsAlone() {
    float[] orig = picture(11);
    GrayThumb probe = thumb(orig, 20, 10, 200, 160);
    Verifier.Probe prepared = new Verifier.Probe(probe);
    // candidates of one size twice (kept views reused) and of more sizes than are kept (views made again)
    java.util.List<GrayThumb> candidates = new java.util.ArrayList<>();
    candidates.add(thumb(orig));
    candidates.add(thumb(picture(12)));
    for (int i = 0; i < Verifier.Probe.KEPT_SIZES + 3; i++) {
      candidates.add(thumb(picture(13 + i), 0, 0, W - 12 * i, H - 5 * i));
    }
    candidates.add(thumb(orig));
    candidates.add(framed(picture(11), 0.7));
    for (GrayThumb c : candidates) {
      Verifier.Alignment alone = Verifier.align(probe, c);
      Verifier.Alignment shared = Verifier.align(prepared, c);
      assertThat(shared.aligned()).as("%dx%d", c.width(), c.height()).isEqualTo(alone.aligned());
      assertThat(shared.chance()).as("%dx%d", c.width(), c.height()).isEqualTo(alone.chance());
    }
    assertThat(Verifier.align(prepared, candidates.get(0)).evidence()).as("the copy against another picture")
        .isGreaterThan(Verifier.align(prepared, candidates.get(1)).evidence() + 0.2);
  }

  @Test
  void aCopyInAUniformFrameLinesUpOnceTheFrameIsCut() {
    GrayThumb ref = thumb(picture(3));
    // the original shrunk to 60 % in the middle of a flat frame: the frame is cut before aligning
    double copy = Verifier.similarity(framed(picture(3), 0.6), ref);
    double other = Verifier.similarity(framed(picture(30), 0.6), ref);
    assertThat(copy).isGreaterThan(0.9).isGreaterThan(other + 0.3);
  }

  @Test
  void uniformBordersAreCutAndNothingElse() {
    Verifier.Plane pic = Verifier.resize(new Verifier.Plane(W, H, picture(8)), 48, 36);
    float[] framed = new float[64 * 48];
    java.util.Arrays.fill(framed, 10);
    for (int y = 0; y < 36; y++) {
      System.arraycopy(pic.p(), y * 48, framed, (y + 4) * 64 + 10, 48);
    }
    Verifier.Plane cut = Verifier.trimBorders(new Verifier.Plane(64, 48, framed));
    // 10 flat columns and 4 flat rows per side, plus the one line blended with the picture (here none is blended,
    // so one line of the picture goes: a pixel of the copy is cheaper to lose than a frame edge to keep)
    assertThat(cut.w()).isEqualTo(48 - 2);
    assertThat(cut.h()).isEqualTo(36 - 2);
    assertThat(cut.p()[0]).isEqualTo(pic.p()[48 + 1]);
    assertThat(Verifier.trimBorders(pic)).as("no border").isSameAs(pic);
    float[] flat = new float[64 * 48];
    java.util.Arrays.fill(flat, 90);
    Verifier.Plane blank = new Verifier.Plane(64, 48, flat);
    assertThat(Verifier.trimBorders(blank).w()).as("at most a third per side").isGreaterThanOrEqualTo(64 - 2 * 22);
  }

  private static GrayThumb framed(float[] pic, double share) {
    float[] framed = new float[W * H];
    java.util.Arrays.fill(framed, 200);
    int fw = (int) (W * share);
    int fh = (int) (H * share);
    Verifier.Plane small = Verifier.resize(new Verifier.Plane(W, H, pic), fw, fh);
    for (int y = 0; y < fh; y++) {
      System.arraycopy(small.p(), y * fw, framed, (y + (H - fh) / 2) * W + (W - fw) / 2, fw);
    }
    return thumb(framed);
  }

  @Test
  void smallTurnsAreCoveredAndStillBeatAnotherPicture() {
    float[] orig = picture(4);
    for (double deg : new double[] {5, -12}) {
      GrayThumb t = thumbOf(Verifier.rotate(new Verifier.Plane(W, H, orig), deg));
      double copy = Verifier.similarity(t, thumb(orig));
      double other = Verifier.similarity(t, thumb(picture(5)));
      assertThat(copy).as("turned by %s degrees", deg).isGreaterThan(0.8).isGreaterThan(other + 0.3);
    }
  }

  /** A picture with little detail: a few large translucent discs on a flat ground. */
  static float[] smooth(long seed) {
    Random rnd = new Random(seed);
    float[] p = new float[W * H];
    java.util.Arrays.fill(p, 120);
    for (int b = 0; b < 6; b++) {
      double cx = rnd.nextDouble() * W;
      double cy = rnd.nextDouble() * H;
      double r = 25 + rnd.nextDouble() * 40;
      double amp = (rnd.nextDouble() - 0.5) * 120;
      for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++) {
          if ((x - cx) * (x - cx) + (y - cy) * (y - cy) < r * r) {
            p[y * W + x] += (float) amp;
          }
        }
      }
    }
    return p;
  }

  @Test
  void theFlippedCandidateMeasuresChanceSoPicturesWithLittleDetailDoNotPassForCopies() {
    float[] orig = smooth(21);
    GrayThumb ref = thumb(orig);
    Verifier.Alignment copy = Verifier.align(thumb(orig, 30, 20, 200, 150), ref);
    double worstCopy = copy.evidence();
    double bestOther = 0;
    double bestOtherAligned = 0;
    for (long seed = 22; seed < 30; seed++) {
      Verifier.Alignment other = Verifier.align(thumb(smooth(seed)), ref);
      bestOther = Math.max(bestOther, other.evidence());
      bestOtherAligned = Math.max(bestOtherAligned, other.aligned());
    }
    // an unrelated picture with little detail lines up about as well as a crop of the candidate (by chance, over
    // thousands of placements) ...
    assertThat(bestOtherAligned).as("chance alignment").isGreaterThan(copy.aligned() - 0.05);
    // ... but as well with the flipped candidate, so its evidence is small; the copy's is not
    assertThat(worstCopy).isGreaterThan(0.25).isGreaterThan(bestOther + 0.1);
    assertThat(copy.aligned()).isGreaterThan(copy.chance());
  }

  @Test
  void anUpsideDownCopyIsEvidenceToo() {
    float[] orig = picture(9);
    float[] flipped = new float[orig.length];
    for (int y = 0; y < H; y++) {
      System.arraycopy(orig, (H - 1 - y) * W, flipped, y * W, W);
    }
    Verifier.Alignment a = Verifier.align(thumb(flipped), thumb(orig));
    assertThat(a.chance()).as("the flipped search is the one that fits").isGreaterThan(0.95);
    assertThat(a.evidence()).isGreaterThan(0.3);
  }

  private static GrayThumb thumbOf(Verifier.Plane p) {
    float[] full = new float[W * H];
    Verifier.Plane fit = Verifier.resize(p, W, H);
    System.arraycopy(fit.p(), 0, full, 0, full.length);
    return thumb(full);
  }

  @Test
  void flatOrTinyPicturesGiveNoEvidence() {
    byte[] flat = new byte[64 * 48];
    java.util.Arrays.fill(flat, (byte) 120);
    GrayThumb f = new GrayThumb(64, 48, flat);
    assertThat(Verifier.similarity(f, thumb(picture(6)))).isNaN();
    assertThat(Verifier.similarity(new GrayThumb(4, 4, new byte[16]), new GrayThumb(5, 3, new byte[15]))).isNaN();
  }

  @Test
  void theFastBoxResizeAndSlideGiveThePlainLoopsResultsBitForBit() {
    long seed = Long.getLong("imgmatch.test.seed", 20261204L);
    System.out.println("VerifierTest seed " + seed + " (-Dimgmatch.test.seed to override)");
    Random rnd = new Random(seed);
    for (int trial = 0; trial < 200; trial++) {
      int w = 1 + rnd.nextInt(70);
      int h = 1 + rnd.nextInt(70);
      float[] p = new float[w * h];
      for (int i = 0; i < p.length; i++) {
        p[i] = trial % 2 == 0 ? rnd.nextInt(256) : (float) (rnd.nextGaussian() * 40);
      }
      Verifier.Plane g = new Verifier.Plane(w, h, p);
      for (int r : new int[] {0, 1, 3, 6}) {
        assertThat(Verifier.box(g, r).p()).as("box r %d on %dx%d", r, w, h).isEqualTo(Verifier.boxPlain(g, r).p());
      }
      int sw = 1 + rnd.nextInt(Math.min(w, 30));
      int sh = 1 + rnd.nextInt(Math.min(h, 30));
      float[] tp = new float[sw * sh];
      for (int i = 0; i < tp.length; i++) {
        tp[i] = p[(rnd.nextInt(h)) * w + rnd.nextInt(w)] + (float) rnd.nextGaussian();
      }
      Verifier.Plane t = new Verifier.Plane(sw, sh, tp);
      int xFrom = rnd.nextInt(5) - 2;
      int xTo = rnd.nextBoolean() ? Integer.MAX_VALUE : xFrom + rnd.nextInt(9);
      int yFrom = rnd.nextInt(5) - 2;
      int yTo = rnd.nextBoolean() ? Integer.MAX_VALUE : yFrom + rnd.nextInt(9);
      assertThat(Verifier.slide(t, g, xFrom, xTo, yFrom, yTo, false)).as("slide %dx%d over %dx%d", sw, sh, w, h)
          .isEqualTo(Verifier.slide(t, g, xFrom, xTo, yFrom, yTo, true));
      int tw = 1 + rnd.nextInt(80);
      int th = 1 + rnd.nextInt(80);
      assertThat(Verifier.resize(g, tw, th).p()).as("resize %dx%d to %dx%d", w, h, tw, th)
          .isEqualTo(Verifier.resizePlain(g, tw, th).p());
    }
  }

  @Test
  void theBoxFilterIsTheMeanOfTheBoxWithEdgesReplicated() {
    Random rnd = new Random(3);
    Verifier.Plane g = new Verifier.Plane(13, 9, new float[13 * 9]);
    for (int i = 0; i < g.p().length; i++) {
      g.p()[i] = rnd.nextInt(256);
    }
    for (int r : new int[] {1, 3, 6}) {
      Verifier.Plane b = Verifier.box(g, r);
      for (int y = 0; y < g.h(); y++) {
        for (int x = 0; x < g.w(); x++) {
          double sum = 0;
          for (int dy = -r; dy <= r; dy++) {
            for (int dx = -r; dx <= r; dx++) {
              int yy = Math.min(g.h() - 1, Math.max(0, y + dy));
              int xx = Math.min(g.w() - 1, Math.max(0, x + dx));
              sum += g.p()[yy * g.w() + xx];
            }
          }
          assertThat((double) b.p()[y * g.w() + x]).as("r %d at %d,%d", r, x, y)
              .isCloseTo(sum / ((2 * r + 1) * (2 * r + 1)), org.assertj.core.data.Offset.offset(1e-3));
        }
      }
    }
  }
}
