package dev.imgmatch.index;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import org.apache.lucene.util.BytesRef;
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
  void aCandidatePastedIntoAFrameLinesUpBetterThanAnotherPicture() {
    GrayThumb ref = thumb(picture(3));
    // the original shrunk to 60 % in the middle of a flat frame: weaker than a crop (the filter sees the frame's
    // edge where the candidate's thumbnail has its own edge replicated), but it still beats another picture
    double copy = Verifier.similarity(framed(picture(3), 0.6), ref);
    double other = Verifier.similarity(framed(picture(30), 0.6), ref);
    assertThat(copy).isGreaterThan(0.5).isGreaterThan(other + 0.1);
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
  void aSmallTurnIsCoveredAndStillBeatsAnotherPicture() {
    float[] orig = picture(4);
    Verifier.Plane turned = Verifier.rotate(new Verifier.Plane(W, H, orig), 5);
    GrayThumb t = thumbOf(turned);
    double copy = Verifier.similarity(t, thumb(orig));
    double other = Verifier.similarity(t, thumb(picture(5)));
    assertThat(copy).isGreaterThan(0.8).isGreaterThan(other + 0.3);
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
  void thumbnailsRoundTripTheirStoredFormAndRefuseBadShapes() {
    GrayThumb t = thumb(picture(7));
    GrayThumb back = GrayThumb.decode(new BytesRef(t.encode()));
    assertThat(back.width()).isEqualTo(t.width());
    assertThat(back.height()).isEqualTo(t.height());
    assertThat(back.gray()).isEqualTo(t.gray());
    assertThat(GrayThumb.decode(null)).isNull();
    assertThatThrownBy(() -> new GrayThumb(10, 10, new byte[99])).hasMessageContaining("width*height");
    assertThatThrownBy(() -> new GrayThumb(256, 1, new byte[256])).hasMessageContaining("1-255");
  }
}
