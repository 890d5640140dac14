package dev.imgmatch.index;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.imgmatch.common.GrayThumb;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Layout matching of pixelated probes: the layout, its correlation, and the decision (pure logic). */
class LayoutTest {
  private static final long SEED = Long.getLong("imgmatch.test.seed", 20261205L);
  private static final MatchPolicy.LayoutMatching M = MatchPolicy.LayoutMatching.DEFAULT;

  static GrayThumb picture(int w, int h, long seed) {
    // smooth blobs: a photo-like layout, not noise
    return new GrayThumb(w, h, dev.imgmatch.testkit.TexturedPictures.blobs(new Random(seed), w, h, 6, 4, w / 3.0));
  }

  /** Each block of {@code block} pixels replaced by its mean: a pixelated copy. */
  static GrayThumb pixelated(GrayThumb t, int block) {
    return new GrayThumb(t.width(), t.height(),
        dev.imgmatch.testkit.TexturedPictures.pixelatedGrey(t.gray(), t.width(), t.height(), block));
  }

  private static GrayThumb mirrored(GrayThumb t) {
    byte[] out = new byte[t.gray().length];
    for (int y = 0; y < t.height(); y++) {
      for (int x = 0; x < t.width(); x++) {
        out[y * t.width() + x] = t.gray()[y * t.width() + t.width() - 1 - x];
      }
    }
    return new GrayThumb(t.width(), t.height(), out);
  }

  private static final java.util.function.BiPredicate<Hit, Hit> SAME_BYTES =
      (x, y) -> java.util.Arrays.equals(x.sha256(), y.sha256());

  private static Hit hit(String id, byte[] sha) {
    return hit(id, sha, null, 0.1);
  }

  @Test
  void cellsAreAreaAverages() {
    // 3 x 2 pixels onto 2 x 2 cells: the middle column is split between the two cells
    GrayThumb t = new GrayThumb(3, 2, new byte[] {0, 30, (byte) 90, 60, 60, (byte) 120});
    double[] c = Layout.cells(t, 2);
    assertEquals((0 + 0.5 * 30) / 1.5, c[0], 1e-4);
    assertEquals((0.5 * 30 + 90) / 1.5, c[1], 1e-4);
    assertEquals((60 + 0.5 * 60) / 1.5, c[2], 1e-4);
    assertEquals((0.5 * 60 + 120) / 1.5, c[3], 1e-4);
    // a thumbnail smaller than the cells: each cell takes the pixel it lies in
    double[] up = Layout.cells(new GrayThumb(1, 1, new byte[] {77}), 4);
    for (double v : up) {
      assertEquals(77, v, 1e-4);
    }
  }

  @Test
  void layoutIsUnitZeroMeanAndNullWhenFlat() {
    System.out.println("LayoutTest seed " + SEED + " (-Dimgmatch.test.seed to override)");
    float[] v = Layout.vector(picture(64, 48, SEED), Layout.FINE, 0);
    assertNotNull(v);
    double sum = 0;
    double ss = 0;
    for (float x : v) {
      sum += x;
      ss += x * x;
    }
    assertEquals(0, sum, 1e-4);
    assertEquals(1, ss, 1e-4);
    byte[] flat = new byte[64 * 48];
    java.util.Arrays.fill(flat, (byte) 200);
    flat[5] = (byte) 201; // one pixel of noise does not make a layout
    assertNull(Layout.vector(new GrayThumb(64, 48, flat), Layout.COARSE, 0));
    assertNull(Layout.indexed(new GrayThumb(64, 48, flat)));
    assertNull(Layout.correlation(new GrayThumb(64, 48, flat), picture(64, 48, SEED)));
  }

  @Test
  void flippedLayoutIsTheLayoutOfTheMirroredPicture() {
    GrayThumb t = picture(64, 40, SEED + 1);
    assertArrayEquals(Layout.vector(mirrored(t), Layout.COARSE, 0), Layout.vector(t, Layout.COARSE, 1), 1e-5f);
  }

  @Test
  void pixelatedCopiesCorrelateWithTheirOriginalMirroredOrNot() {
    GrayThumb original = picture(64, 48, SEED + 2);
    GrayThumb copy = pixelated(original, 5);
    assertTrue(Layout.correlation(copy, original) > 0.95, "pixelated copy");
    assertTrue(Layout.correlation(mirrored(copy), original) > 0.95, "mirrored pixelated copy");
    assertStandsOut(Layout.ProbeLayout.of(copy), original, picture(64, 48, SEED + 3));
    assertTrue(Layout.sameShape(copy, original));
    assertTrue(Layout.sameShape(new GrayThumb(56, 48, new byte[56 * 48]), original), "a crop's shape");
    assertFalse(Layout.sameShape(new GrayThumb(64, 24, new byte[64 * 24]), original), "a panorama's");
  }

  @Test
  void anOverlayOnAPixelatedCopyCostsOnlyTheCellsItCovers() {
    GrayThumb original = picture(64, 48, SEED + 4);
    GrayThumb copy = pixelated(original, 5);
    // a logo over an eighth of the width and a sixth of the height, in a corner (about 2 % of the cells), 100 grey
    // levels off its region's mean, towards the far end: it always costs the plain correlation something (a white
    // logo on a light region costs nothing; one at the far end of the range on a nearly flat picture is the picture)
    byte[] g = copy.gray().clone();
    int sum = 0;
    for (int y = 4; y < 12; y++) {
      for (int x = 50; x < 60; x++) {
        sum += g[y * 64 + x] & 0xFF;
      }
    }
    int mean = sum / 80;
    byte level = (byte) (mean < 128 ? Math.min(255, mean + 100) : Math.max(0, mean - 100));
    for (int y = 4; y < 12; y++) {
      for (int x = 50; x < 60; x++) {
        g[y * 64 + x] = level;
      }
    }
    GrayThumb logo = new GrayThumb(64, 48, g);
    float[] q = Layout.vector(logo, Layout.FINE, 0);
    float[] c = Layout.vector(original, Layout.FINE, 0);
    double plain = 0;
    for (int i = 0; i < q.length; i++) {
      plain += q[i] * c[i];
    }
    double trimmed = Layout.correlation(logo, original);
    assertTrue(trimmed >= M.minCorrelation(), "trimmed " + trimmed);
    assertTrue(trimmed > plain + 0.01, "trimmed " + trimmed + " against plain " + plain);
    assertStandsOut(Layout.ProbeLayout.of(logo), original, picture(64, 48, SEED + 5));
    // identical layouts still correlate at 1
    assertEquals(1.0, Layout.trimmed(c, c), 1e-6);
  }

  /** {@code t} between two bars of {@code bar} pixels of one grey level (a pillarbox). */
  private static GrayThumb pillarboxed(GrayThumb t, int bar, int level) {
    int w = t.width() + 2 * bar;
    byte[] g = new byte[w * t.height()];
    java.util.Arrays.fill(g, (byte) level);
    for (int y = 0; y < t.height(); y++) {
      System.arraycopy(t.gray(), y * t.width(), g, y * w + bar, t.width());
    }
    return new GrayThumb(w, t.height(), g);
  }

  @Test
  void aBorderedPixelatedCopyIsMatchedByThePictureInsideItsBorder() {
    GrayThumb original = picture(48, 36, SEED + 6);
    GrayThumb bordered = pillarboxed(pixelated(original, 4), 16, 255); // 80 x 36: bars a fifth of the width each
    GrayThumb inside = Layout.inside(bordered);
    assertNotNull(inside);
    // the bars go; a light block at the picture's edge may go with them (the verifier's trim tolerates its spread)
    assertTrue(inside.width() >= 46 && inside.width() <= 48, "inside the bars: " + inside.width());
    assertEquals(36, inside.height());
    Layout.ProbeLayout q = Layout.ProbeLayout.of(bordered);
    assertEquals(2, q.framings().size());
    Layout.Fit whole = new Layout.ProbeLayout(List.of(q.framings().get(0))).fit(original);
    Layout.Fit fit = q.fit(original);
    assertTrue(fit.correlation() >= M.minCorrelation(), "inside the border " + fit.correlation());
    assertTrue(fit.sameShape(), "the picture inside the border has its original's shape");
    assertTrue(whole.correlation() < fit.correlation() && !whole.sameShape(),
        "the whole bordered picture: " + whole);
    assertEquals(q.framings().size() * 4, q.coarse().size(), "every framing's four flips are looked up");
    // another picture competing: the original stands out from it (smooth synthetic pictures' layouts reach 0.96
    // with each other, so the ratio test decides, as on real mosaics)
    assertStandsOut(q, original, picture(48, 36, SEED + 7));
    // a picture without uniform margins has one framing
    byte[] noise = new byte[48 * 36];
    new Random(SEED).nextBytes(noise);
    GrayThumb unframed = new GrayThumb(48, 36, noise);
    assertNull(Layout.inside(unframed));
    assertEquals(1, Layout.ProbeLayout.of(unframed).framings().size());
  }

  @Test
  void aCroppedPixelatedCopyIsMatchedByAWindowOfItsOriginal() {
    GrayThumb original = picture(64, 48, SEED + 8);
    // a crop keeping about 0.7 of each side, a little off the window grid (2 and 1 pixels in), then pixelated
    GrayThumb copy = pixelated(Layout.window(original, 2, 1, 45, 34), 4);
    Layout.ProbeLayout q = Layout.ProbeLayout.of(copy);
    Layout.Fit whole = q.fit(original);
    double windows = q.windowCorrelation(original);
    assertTrue(windows >= M.minCorrelation(), "by a window: " + windows);
    assertTrue(windows > whole.correlation(), "by a window " + windows + ", whole " + whole);
    Hit a = hit("original", new byte[] {1});
    Hit b = hit("other", new byte[] {2});
    List<Layout.Candidate> candidates = List.of(Layout.candidate(q, a, original),
        Layout.candidate(q, b, picture(64, 48, SEED + 9)));
    List<Layout.Candidate> windowed = Layout.windowed(q, candidates);
    assertEquals(windows, windowed.get(0).correlation(), 1e-12);
    assertTrue(windowed.stream().allMatch(Layout.Candidate::sameShape), "a window has the probe's shape");
    // the original's windows fit better than another picture's (whether that one is close enough to refuse the
    // decision is the ratio test's: smooth synthetic pictures have windows at 0.95-0.98 of anything, so about one
    // seed in two hundred; measured on real mosaics in docs/BENCHMARKS.md); alone, it is decided
    assertTrue(windows > windowed.get(1).correlation(), "original " + windows + ", other " + windowed.get(1));
    Layout.Decided d = Layout.decide(windowed.subList(0, 1), M, SAME_BYTES, 0.36);
    assertNotNull(d, "decided by windows: " + windowed);
    assertEquals("original", d.hit().imageId());
    // a candidate without its thumbnail keeps its whole correlation when its shape fits, else has none
    assertEquals(0.95, Layout.windowed(q, List.of(new Layout.Candidate(a, 0.95, true))).get(0).correlation());
    assertEquals(-1, Layout.windowed(q, List.of(new Layout.Candidate(a, 0.99, false))).get(0).correlation());
    // a window is the thumbnail's pixels
    GrayThumb w = Layout.window(original, 3, 2, 10, 8);
    assertEquals(original.gray()[(2 + 7) * 64 + 3 + 9], w.gray()[7 * 10 + 9]);
  }

  @Test
  void windowsStandAtThirdsOfTheFreeSpaceAsWellAsAtItsEnds() {
    GrayThumb original = picture(64, 48, SEED + 10);
    int w = (int) Math.round(64 * 0.6);
    int h = (int) Math.round(48 * 0.6);
    for (int i = 0; i < Layout.WINDOW_POSITIONS; i++) {
      // a heavy crop at each position of the window grid (a third of the way in, two thirds, ...) is found exactly
      int x0 = (64 - w) * i / (Layout.WINDOW_POSITIONS - 1);
      int y0 = (48 - h) * (Layout.WINDOW_POSITIONS - 1 - i) / (Layout.WINDOW_POSITIONS - 1);
      Layout.ProbeLayout q = Layout.ProbeLayout.of(Layout.window(original, x0, y0, w, h));
      assertEquals(1.0, q.windowCorrelation(original), 1e-6, "the crop at " + x0 + "," + y0);
    }
    // the crop a third of the way in across and down (26 / 3 and 19 / 3 pixels, whole pixels), between the end and the
    // centre that windows stood at before: found exactly
    Layout.ProbeLayout third = Layout.ProbeLayout.of(Layout.window(original, 8, 6, w, h));
    assertEquals(1.0, third.windowCorrelation(original), 1e-6, "the crop a third of the way in");
    assertTrue(Layout.WINDOW_POSITIONS >= 4, "a crop a third of the way in is a window of its own");
  }

  @Test
  void indexedWindowsAreTheLayoutsOfTheCornersAndTheCentre() {
    GrayThumb t = picture(64, 48, SEED + 14);
    float[][] w = Layout.indexedWindows(t);
    assertEquals(Fields.LAYOUT_WINDOWS, w.length);
    int[][] at = {{0, 0}, {16, 0}, {0, 12}, {16, 12}, {8, 6}}; // 48 x 36 windows: three quarters of each side
    GrayThumb smooth = Layout.smoothed(t, Layout.WINDOW_SMOOTHING);
    for (int i = 0; i < at.length; i++) {
      assertArrayEquals(Layout.vector(Layout.window(smooth, at[i][0], at[i][1], 48, 36), Layout.COARSE, 0), w[i],
          "window " + i);
    }
    // a crop of a corner, pixelated, lies nearer its window's layout than the whole picture's (each queried as the
    // look-up does: the window by the smoothed probe, the whole layout by the probe)
    Layout.ProbeLayout q = Layout.ProbeLayout.of(pixelated(Layout.window(t, 16, 0, 48, 36), 4));
    assertEquals(q.coarse().size(), q.windowQueries().size(), "every framing, four flips");
    double byWindow = dot(q.windowQueries().get(0), w[1]);
    double byWhole = dot(q.coarse().get(0), Layout.indexed(t));
    assertTrue(byWindow > byWhole, byWindow + " vs " + byWhole);
    assertEquals(0, Layout.indexedWindows(null).length, "no thumbnail, no windows");
    float[][] flat = Layout.indexedWindows(new GrayThumb(64, 48, new byte[64 * 48]));
    assertTrue(java.util.Arrays.stream(flat).allMatch(v -> v == null), "flat windows have no layout");
    float[][] small = Layout.indexedWindows(picture(9, 40, SEED + 15));
    assertTrue(java.util.Arrays.stream(small).allMatch(v -> v == null), "windows under 8 px a side are skipped");
  }

  @Test
  void smoothingIsABoxMeanOfThePixelsInside() {
    byte[] g = new byte[5 * 4];
    g[0] = (byte) 250; // a bright corner pixel on black
    GrayThumb s = Layout.smoothed(new GrayThumb(5, 4, g), 1);
    assertEquals(Math.round(250 / 4f), s.gray()[0] & 0xff, "the corner: its 2 x 2 pixels inside");
    assertEquals(Math.round(250 / 6f), s.gray()[1] & 0xff, "the edge beside it: 3 x 2 pixels");
    assertEquals(Math.round(250 / 9f), s.gray()[5 + 1] & 0xff, "inside: 3 x 3 pixels");
    assertEquals(0, s.gray()[5 * 3 + 4], "far from it");
    GrayThumb flat = new GrayThumb(5, 4, new byte[20]);
    java.util.Arrays.fill(flat.gray(), (byte) 77);
    assertArrayEquals(flat.gray(), Layout.smoothed(flat, 2).gray(), "a flat picture stays flat");
  }

  private static double dot(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  @Test
  void windowCandidatesFollowTheCandidatesTheyAreNotAmong() {
    GrayThumb t = picture(64, 48, SEED + 16);
    Layout.ProbeLayout q = Layout.ProbeLayout.of(t);
    Layout.Candidate a = Layout.candidate(q, hit("a", new byte[] {1}), t);
    Layout.Candidate b = Layout.candidate(q, hit("b", new byte[] {2}), t);
    Layout.Candidate a2 = new Layout.Candidate(hit("a", new byte[] {1}), 0.5, false, t);
    List<Layout.Candidate> out = Layout.withOthers(List.of(a), List.of(a2, b));
    assertEquals(List.of(a, b), out, "the first list's candidate kept, the new one appended");
  }

  @Test
  void theWindowSearchAlsoLooksAtTheBestOfTheProbesOtherHits() {
    GrayThumb original = picture(64, 48, SEED + 11);
    Layout.ProbeLayout q = Layout.ProbeLayout.of(pixelated(Layout.window(original, 8, 6, 38, 29), 3));
    GrayThumb another = picture(64, 48, SEED + 12);
    Layout.Candidate looked = Layout.candidate(q, hit("looked-up", new byte[] {1}, another, 0.2), another);
    Hit orig = hit("original", new byte[] {2}, original, 0.3); // the descriptor's best: the look-up missed it
    Hit again = hit("looked-up", new byte[] {1}, another, 0.25); // already a candidate
    Hit bare = hit("no-thumbnail", new byte[] {3}, null, 0.9);
    Hit weak = hit("weak", new byte[] {4}, picture(64, 48, SEED + 13), 0.01);
    List<Layout.Candidate> out = Layout.withBestHits(q, List.of(looked), List.of(weak, again, bare, orig), 3);
    assertEquals(List.of("looked-up", "original"), out.stream().map(c -> c.hit().imageId()).toList(),
        "the candidates, then the best hits not among them that have a layout; the fourth best is left out");
    Layout.Decided d = Layout.decide(Layout.windowed(q, out), M, SAME_BYTES, 0.36);
    assertNotNull(d, "decided by a window of the original");
    assertEquals("original", d.hit().imageId());
    assertEquals(List.of(looked), Layout.withBestHits(q, List.of(looked), List.of(), 8));
  }

  /** {@code t} area-averaged to {@code w} x {@code h}. */
  private static GrayThumb shrunk(GrayThumb t, int w, int h) {
    float[] p = Verifier.resize(Verifier.plane(t), w, h).p();
    byte[] g = new byte[p.length];
    for (int i = 0; i < p.length; i++) {
      g[i] = (byte) Math.round(p[i]);
    }
    return new GrayThumb(w, h, g);
  }

  /** A hit for image {@code id} with thumbnail {@code thumb} and score {@code score}. */
  private static Hit hit(String id, byte[] sha, GrayThumb thumb, double score) {
    return new Hit(IndexedImage.uid("t", id), id, "t", "protected", null, Map.of(), 1, false, null, 0.1f, score, score,
        0, sha, null, null, thumb, null);
  }

  @Test
  void aTinyProbeIsDecidedByTheLayoutOfItsRankedOrLookedUpCandidates() {
    GrayThumb original = picture(64, 48, SEED + 10);
    // the upload: 40 x 30 px (its thumbnail is the whole picture, never enlarged), mirrored
    GrayThumb tiny = mirrored(shrunk(original, 40, 30));
    Layout.ProbeLayout q = Layout.ProbeLayout.of(tiny);
    Hit a = hit("original", new byte[] {1}, original, 0.30);
    Hit b = hit("other", new byte[] {2}, picture(64, 48, SEED + 11), 0.05);
    Layout.Decided d = Layout.tiny(q, List.of(a, b), List.of(), M, SAME_BYTES, 0.36);
    assertNotNull(d, "fit " + q.fit(original) + " other " + q.fit(b.thumbnail()));
    assertEquals("original", d.hit().imageId());
    assertTrue(d.score() >= 0.36);
    // ranked second (the descriptor of a few dozen pixels is weak): the layout still tells
    assertEquals("original", Layout.tiny(q, List.of(b, a), List.of(), M, SAME_BYTES, 0.36).hit().imageId());
    // not ranked at all: found by the look-up of references near its layout
    Layout.Decided looked = Layout.tiny(q, List.of(b), List.of(Layout.candidate(q, a, original)), M, SAME_BYTES, 0.36);
    assertNotNull(looked);
    assertSame(a, looked.hit());
    // another work with the same layout (an icon of one theme and its variant: here the original's grey levels under
    // other bytes) among the looked-up ones leaves it undecided
    GrayThumb alike = new GrayThumb(64, 48, original.gray().clone());
    Hit c = hit("look-alike", new byte[] {3}, alike, 0.05);
    assertNull(Layout.tiny(q, List.of(a, b), List.of(Layout.candidate(q, c, alike)), M, SAME_BYTES, 0.36));
    // ... unless it is the same work (equal bytes here): then either copy of it is decided
    Hit sameBytes = hit("copy", new byte[] {1}, alike, 0.05);
    Layout.Decided same = Layout.tiny(q, List.of(a, b), List.of(Layout.candidate(q, sameBytes, alike)), M, SAME_BYTES,
        0.36);
    assertNotNull(same);
    assertTrue(List.of("original", "copy").contains(same.hit().imageId()), same.hit().imageId());
    assertNull(Layout.tiny(q, List.of(), List.of(), M, SAME_BYTES, 0.36));
    assertNull(Layout.tiny(null, List.of(a, b), List.of(), M, SAME_BYTES, 0.36));
  }

  @Test
  void onlyTinyProbesOfNoBackgroundStyleAreJudgedByTheirLayout() {
    assertTrue(M.tiny(40, 0.30f));
    // by the image's size, not the thumbnail's: a 128-px upload has a 64-px thumbnail like any other
    assertTrue(M.tiny(M.tinyMaxSide(), 0.30f));
    assertFalse(M.tiny(M.tinyMaxSide() + 1, 0.30f));
    assertFalse(M.tiny(null, 0.30f), "size unknown (an embedder before ImageEmbedding v12)");
    // an icon, a dialog, a plot: as similar to the background set as to the pictures of its style
    assertFalse(M.tiny(40, (float) M.tinyMaxBackground() + 0.01f));
    assertTrue(M.tiny(40, (float) M.tinyMaxBackground() - 0.01f));
    assertTrue(M.tiny(40, null), "no background cosine measured");
    assertTrue(M.tiny(40, Float.NaN));
    assertFalse(new MatchPolicy.LayoutMatching(8, 0.93, 0.35, true, 0).tiny(40, 0.30f), "off");
    assertTrue(new MatchPolicy.LayoutMatching(8, 0.93, 0.35, true, 128, 1.0).tiny(40, 0.99f), "no background gate");
    assertThrows(IllegalArgumentException.class, () -> new MatchPolicy.LayoutMatching(8, 0.93, 0.35, true, 128, 1.5));
  }

  /** Layout matching decides {@code original} for probe {@code q} when {@code other} competes with it. */
  private static void assertStandsOut(Layout.ProbeLayout q, GrayThumb original, GrayThumb other) {
    Hit a = hit("original", new byte[] {1});
    Hit b = hit("other", new byte[] {2});
    Layout.Decided d = Layout.decide(List.of(Layout.candidate(q, a, original), Layout.candidate(q, b, other)), M,
        SAME_BYTES, 0.36);
    assertNotNull(d, "decided against " + q.fit(other) + " (the original: " + q.fit(original) + ")");
    assertEquals("original", d.hit().imageId());
  }

  @Test
  void decidesOnlyWhatStandsOutFromEveryOtherWork() {
    Hit a = hit("a", new byte[] {1});
    Hit b = hit("b", new byte[] {2});
    Hit aCopy = hit("a2", new byte[] {1}); // equal bytes: the same work
    double threshold = 0.36;
    // lone candidate: judged against the floor (0.8), ratio 0.03 / 0.2 = 0.15
    Layout.Decided lone = Layout.decide(List.of(new Layout.Candidate(a, 0.97, true)), M, SAME_BYTES,
        threshold);
    assertNotNull(lone);
    assertEquals("a", lone.hit().imageId());
    assertEquals(Layout.score(0.03 / 0.2, M, threshold), lone.score(), 1e-9);
    assertTrue(lone.score() >= threshold && lone.score() <= 0.99);
    // a close other work: ratio 0.03 / 0.05 = 0.6 > 0.35
    assertNull(Layout.decide(List.of(new Layout.Candidate(a, 0.97, true), new Layout.Candidate(b, 0.95, true)), M,
        SAME_BYTES, threshold));
    // ... unless it is a copy of the same work; then the next other work counts
    Layout.Decided withCopy = Layout.decide(new ArrayList<>(List.of(new Layout.Candidate(aCopy, 0.96, true),
        new Layout.Candidate(a, 0.97, true), new Layout.Candidate(b, 0.85, true))), M, SAME_BYTES,
        threshold);
    assertNotNull(withCopy);
    assertEquals("a", withCopy.hit().imageId());
    // below the least correlation, or another shape: nothing
    assertNull(Layout.decide(List.of(new Layout.Candidate(a, M.minCorrelation() - 0.01, true)), M, SAME_BYTES,
        threshold));
    assertNull(Layout.decide(List.of(new Layout.Candidate(a, 0.99, false)), M, SAME_BYTES,
        threshold));
    assertNull(Layout.decide(List.of(), M, SAME_BYTES, threshold));
    // the score rises as the ratio falls
    assertTrue(Layout.score(0.1, M, threshold) > Layout.score(0.4, M, threshold));
    assertThrows(IllegalArgumentException.class, () -> new MatchPolicy.LayoutMatching(-1, 0.95, 0.5));
    assertThrows(IllegalArgumentException.class, () -> new MatchPolicy.LayoutMatching(8, 1.0, 0.5));
  }

  @Test
  void liftRaisesTheDecidedReferenceOnly() {
    MatchPolicy p = new MatchPolicy(Map.of("uploads", java.util.Set.of("protected")), java.util.Set.of(), 31, 50, 0.36,
        0.30, dev.imgmatch.avro.Decision.REVIEW, 10, 5);
    Hit a = hit("a", new byte[] {1}).withScore(0.05);
    Hit b = hit("b", new byte[] {2}).withScore(0.20);
    List<Hit> lifted = p.liftByLayout(List.of(b, a), new Layout.Decided(a, 0.45));
    assertEquals("a", lifted.get(0).imageId());
    assertEquals(0.45, lifted.get(0).score(), 1e-9);
    assertEquals(0.20, lifted.get(1).score(), 1e-9);
    List<Hit> same = List.of(b, a);
    assertTrue(p.liftByLayout(same, null) == same);
    assertTrue(p.liftByLayout(same, new Layout.Decided(a, 0.01)) == same, "never lowers");
  }
}
