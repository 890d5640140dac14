package dev.imgmatch.local;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.nio.ByteOrder;

/**
 * The keypoints of one picture and their descriptors, as stored and shipped: RootSIFT descriptors quantised to one
 * byte per component, positions in 1/8 pixel of the picture the features were taken from ({@code width} ×
 * {@code height}, the picture scaled so that its longer side is at most the extractor's size). 132 bytes per keypoint
 * plus 7: 300 keypoints take 39.6 KB.
 *
 * <p>Instances come from {@link SiftExtractor#extract} or {@link #decode}; {@link #decode} checks every length and
 * bound, since the bytes arrive from a topic.
 */
public final class LocalFeatures {
  /** Components per descriptor. */
  public static final int DIMS = 128;
  /** Bytes per keypoint in {@link #encode()}: x, y (2 bytes each) and the descriptor. */
  public static final int BYTES_PER_KEYPOINT = 4 + DIMS;
  /** The most keypoints one record may carry (a bound for hostile records: 4096 × 132 B = 528 KB). */
  public static final int MAX_KEYPOINTS = 4096;
  /** The largest picture side features may come from (positions are unsigned 16-bit in 1/8 px). */
  public static final int MAX_SIDE = 8191;
  /** RootSIFT component → byte: components are at most 1 and in practice below 0.5. */
  static final float QUANT = 512f;
  private static final byte FORMAT = 1;
  private static final int HEADER = 7;
  /** The largest valid encoding ({@link #MAX_KEYPOINTS} keypoints): a bound for whoever reads one back. */
  public static final int MAX_ENCODED_BYTES = HEADER + MAX_KEYPOINTS * BYTES_PER_KEYPOINT;

  private final int width;
  private final int height;
  private final float[] xs;
  private final float[] ys;
  private final byte[] descriptors;

  LocalFeatures(int width, int height, float[] xs, float[] ys, byte[] descriptors) {
    if (width < 1 || height < 1 || width > MAX_SIDE || height > MAX_SIDE) {
      throw new IllegalArgumentException("picture size " + width + "x" + height + " outside 1.." + MAX_SIDE);
    }
    if (xs.length != ys.length || descriptors.length != xs.length * DIMS || xs.length > MAX_KEYPOINTS) {
      throw new IllegalArgumentException("inconsistent keypoints: " + xs.length + " x, " + ys.length + " y, "
          + descriptors.length + " descriptor bytes");
    }
    this.width = width;
    this.height = height;
    this.xs = xs;
    this.ys = ys;
    this.descriptors = descriptors;
  }

  /** Features of a picture without any keypoint (a flat or tiny picture). */
  public static LocalFeatures empty(int width, int height) {
    return new LocalFeatures(width, height, new float[0], new float[0], new byte[0]);
  }

  public int width() {
    return width;
  }

  public int height() {
    return height;
  }

  public int size() {
    return xs.length;
  }

  public float x(int i) {
    return xs[i];
  }

  public float y(int i) {
    return ys[i];
  }

  /** Component {@code d} of descriptor {@code i}, dequantised (RootSIFT scale). */
  public float component(int i, int d) {
    return (descriptors[i * DIMS + d] & 0xff) / QUANT;
  }

  /** Descriptor {@code i}, dequantised. */
  public float[] descriptor(int i) {
    float[] v = new float[DIMS];
    for (int d = 0; d < DIMS; d++) {
      v[d] = component(i, d);
    }
    return v;
  }

  /**
   * The features of the picture mirrored left to right, without extracting again: x becomes width − x and each
   * descriptor is permuted as SIFT's 4 × 4 × 8 histogram of a mirrored patch is (its rows of cells reversed, each
   * gradient orientation bin o to −o mod 8, in the keypoint's own frame, whose orientation mirrors too). Checked
   * against a fresh extraction from the mirrored picture (LocalFeaturesTest): SIFT itself is not mirror-invariant, so
   * verification tries a probe both ways.
   */
  public LocalFeatures mirrored() {
    float[] mx = new float[xs.length];
    byte[] md = new byte[descriptors.length];
    for (int i = 0; i < xs.length; i++) {
      mx[i] = width - xs[i];
      int base = i * DIMS;
      for (int r = 0; r < 4; r++) {
        for (int c = 0; c < 4; c++) {
          for (int o = 0; o < 8; o++) {
            md[base + ((3 - r) * 4 + c) * 8 + (8 - o) % 8] = descriptors[base + (r * 4 + c) * 8 + o];
          }
        }
      }
    }
    return new LocalFeatures(width, height, mx, ys.clone(), md);
  }

  /**
   * These features plus those of a part of the same picture taken at a finer scale (a pasted region cut out and
   * enlarged, so that SIFT finds its detail): the part's keypoints are placed in this picture's frame at
   * {@code (x0 + x · scaleX, y0 + y · scaleY)}, clamped to the picture, and appended after this picture's own (at most
   * {@link #MAX_KEYPOINTS} in all; the part's last ones are dropped first). Geometric verification then fits one
   * transform through keypoints of both scales.
   *
   * @param x0 left of the part in this picture's frame (its features' pixels, not the original image's)
   * @param scaleX this frame's pixels per pixel of the part's features
   */
  public LocalFeatures withPart(LocalFeatures part, double x0, double y0, double scaleX, double scaleY) {
    if (!(scaleX > 0 && scaleY > 0 && Double.isFinite(x0) && Double.isFinite(y0))) {
      throw new IllegalArgumentException("bad placement of a part: " + x0 + ", " + y0 + " × " + scaleX + ", " + scaleY);
    }
    int added = Math.min(part.size(), MAX_KEYPOINTS - size());
    if (added <= 0) {
      return this;
    }
    int n = size() + added;
    float[] nx = Arrays.copyOf(xs, n);
    float[] ny = Arrays.copyOf(ys, n);
    byte[] nd = Arrays.copyOf(descriptors, n * DIMS);
    for (int j = 0; j < added; j++) {
      nx[size() + j] = (float) Math.min(width, Math.max(0, x0 + part.xs[j] * scaleX));
      ny[size() + j] = (float) Math.min(height, Math.max(0, y0 + part.ys[j] * scaleY));
    }
    System.arraycopy(part.descriptors, 0, nd, size() * DIMS, added * DIMS);
    return new LocalFeatures(width, height, nx, ny, nd);
  }

  /** All descriptors, dequantised, row after row ({@code size() × 128}). */
  float[] descriptorMatrix() {
    float[] m = new float[descriptors.length];
    for (int k = 0; k < m.length; k++) {
      m[k] = (descriptors[k] & 0xff) / QUANT;
    }
    return m;
  }

  /** The stored form ({@link #decode} reads it back exactly). */
  public byte[] encode() {
    ByteBuffer b = ByteBuffer.allocate(HEADER + xs.length * BYTES_PER_KEYPOINT).order(ByteOrder.BIG_ENDIAN);
    b.put(FORMAT).putShort((short) width).putShort((short) height).putShort((short) xs.length);
    for (int i = 0; i < xs.length; i++) {
      b.putShort((short) Math.round(xs[i] * 8)).putShort((short) Math.round(ys[i] * 8));
    }
    b.put(descriptors);
    return b.array();
  }

  /** Reads {@link #encode()}'s bytes; {@link IllegalArgumentException} naming what is wrong with bytes that are not. */
  public static LocalFeatures decode(byte[] bytes) {
    if (bytes == null || bytes.length < HEADER) {
      throw new IllegalArgumentException("local features: " + (bytes == null ? "null" : bytes.length + " bytes")
          + ", shorter than the " + HEADER + "-byte header");
    }
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.BIG_ENDIAN);
    byte format = b.get();
    if (format != FORMAT) {
      throw new IllegalArgumentException("local features: unknown format " + format + " (this build reads " + FORMAT + ")");
    }
    int w = b.getShort() & 0xffff;
    int h = b.getShort() & 0xffff;
    int n = b.getShort() & 0xffff;
    if (n > MAX_KEYPOINTS) {
      throw new IllegalArgumentException("local features: " + n + " keypoints, more than " + MAX_KEYPOINTS);
    }
    if (bytes.length != HEADER + n * BYTES_PER_KEYPOINT) {
      throw new IllegalArgumentException("local features: " + bytes.length + " bytes for " + n + " keypoints (expected "
          + (HEADER + n * BYTES_PER_KEYPOINT) + ")");
    }
    if (w < 1 || h < 1 || w > MAX_SIDE || h > MAX_SIDE) {
      throw new IllegalArgumentException("local features: picture size " + w + "x" + h + " outside 1.." + MAX_SIDE);
    }
    float[] xs = new float[n];
    float[] ys = new float[n];
    for (int i = 0; i < n; i++) {
      xs[i] = (b.getShort() & 0xffff) / 8f;
      ys[i] = (b.getShort() & 0xffff) / 8f;
      if (xs[i] > w || ys[i] > h) {
        throw new IllegalArgumentException("local features: keypoint " + i + " at (" + xs[i] + ", " + ys[i]
            + ") outside the " + w + "x" + h + " picture");
      }
    }
    byte[] d = new byte[n * DIMS];
    b.get(d);
    return new LocalFeatures(w, h, xs, ys, d);
  }
}
