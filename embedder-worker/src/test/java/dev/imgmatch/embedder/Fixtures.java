package dev.imgmatch.embedder;

import dev.imgmatch.avro.ImageView;
import dev.imgmatch.avro.PdqHash;
import dev.imgmatch.avro.Pdq256;
import dev.imgmatch.avro.PixelEncoding;
import dev.imgmatch.avro.PreparedImage;
import dev.imgmatch.avro.Purpose;
import dev.imgmatch.avro.Sha256;
import dev.imgmatch.embedder.model.ImageOps;
import dev.imgmatch.embedder.model.RgbImage;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;

/** Deterministic test pictures (pure arithmetic, no fonts or antialiasing) and prepared records. */
public final class Fixtures {
  private Fixtures() {}

  /**
   * Picture number {@code k}: smooth colour waves, a few discs and stripes whose frequencies, phases and positions
   * depend on {@code k}; bit-identical on every JVM.
   */
  public static RgbImage picture(int k, int w, int h) {
    byte[] px = new byte[w * h * 3];
    double f1 = 7 + (k * 5) % 23;
    double f2 = 11 + (k * 7) % 31;
    double ph = k * 0.7;
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        double u = (double) x / w;
        double v = (double) y / h;
        double r = 128 + 100 * Math.sin(u * f1 + ph) * Math.cos(v * 3 + k);
        double g = 128 + 100 * Math.sin(v * f2 - ph) ;
        double b = 128 + 100 * Math.cos((u + v) * (5 + k % 9) + ph * 2);
        for (int d = 0; d < 4; d++) { // discs
          double cx = 0.15 + 0.7 * frac(Math.sin(k * 12.9898 + d * 78.233) * 43758.5453);
          double cy = 0.15 + 0.7 * frac(Math.sin(k * 4.1414 + d * 15.873) * 24634.6345);
          double rad = 0.06 + 0.1 * frac(Math.sin(k * 9.17 + d * 3.3) * 9631.77);
          if ((u - cx) * (u - cx) + (v - cy) * (v - cy) < rad * rad) {
            r = 255 * frac(d * 0.37 + k * 0.11);
            g = 255 * frac(d * 0.73 + k * 0.29);
            b = 255 * frac(d * 0.19 + k * 0.53);
          }
        }
        if (((int) (u * (4 + k % 5) + v * (k % 3))) % 2 == 0 && v > 0.8) { // stripes at the bottom
          r *= 0.3;
          g *= 0.3;
        }
        int o = (y * w + x) * 3;
        px[o] = (byte) clamp(r);
        px[o + 1] = (byte) clamp(g);
        px[o + 2] = (byte) clamp(b);
      }
    }
    return new RgbImage(w, h, px);
  }

  private static double frac(double x) {
    return x - Math.floor(x);
  }

  private static int clamp(double v) {
    return (int) Math.max(0, Math.min(255, Math.round(v)));
  }

  public static byte[] encode(RgbImage img, String format) {
    try {
      ByteArrayOutputStream bos = new ByteArrayOutputStream();
      BufferedImage bi = ImageOps.toBufferedImage(img);
      if (!ImageIO.write(bi, format, bos)) {
        throw new IllegalStateException("no writer for " + format);
      }
      return bos.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static ImageView view(String name, RgbImage img, PixelEncoding enc) {
    byte[] bytes = switch (enc) {
      case RGB8 -> img.rgb();
      case PNG -> encode(img, "png");
      case JPEG -> encode(img, "jpeg");
    };
    return ImageView.newBuilder().setName(name).setWidth(img.width()).setHeight(img.height()).setEncoding(enc)
        .setPixels(ByteBuffer.wrap(bytes)).build();
  }

  public static PreparedImage prepared(String id, Purpose purpose, List<ImageView> views) {
    return PreparedImage.newBuilder()
        .setId(id)
        .setPurpose(purpose)
        .setTenant("t1")
        .setCollection(purpose == Purpose.INDEX ? "c1" : "")
        .setSource(null)
        .setAttributes(Map.of("k", "v"))
        .setSha256(new Sha256(new byte[32]))
        .setPdq(PdqHash.newBuilder().setHash(new Pdq256(new byte[32])).setQuality(100).build())
        .setPdqDihedral(new ArrayList<>())
        .setFormat("png")
        .setWidth(views.get(0).getWidth())
        .setHeight(views.get(0).getHeight())
        .setViews(views)
        .setExactDuplicateOf(null)
        .setQuery(null)
        .setSubmittedAtMs(1_000L)
        .setPreparedAtMs(2_000L)
        .build();
  }

  /** Flips a picture left-right. */
  public static RgbImage hflip(RgbImage img) {
    byte[] out = new byte[img.rgb().length];
    int w = img.width();
    for (int y = 0; y < img.height(); y++) {
      for (int x = 0; x < w; x++) {
        System.arraycopy(img.rgb(), (y * w + x) * 3, out, (y * w + (w - 1 - x)) * 3, 3);
      }
    }
    return new RgbImage(w, img.height(), out);
  }

  /** Cosine of two descriptors (compare descriptors with a tolerance, never bit for bit). */
  public static double cosine(float[] a, List<Float> b) {
    float[] f = new float[b.size()];
    for (int i = 0; i < f.length; i++) {
      f[i] = b.get(i);
    }
    return cosine(a, f);
  }

  public static double cosine(List<Float> a, List<Float> b) {
    float[] f = new float[a.size()];
    for (int i = 0; i < f.length; i++) {
      f[i] = a.get(i);
    }
    return cosine(f, b);
  }

  public static double cosine(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new IllegalArgumentException("dimensions differ: " + a.length + " vs " + b.length);
    }
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += (double) a[i] * b[i];
      na += (double) a[i] * a[i];
      nb += (double) b[i] * b[i];
    }
    return dot / Math.sqrt(na * nb);
  }
}
