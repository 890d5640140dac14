package dev.imgmatch.ingest.image;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiFunction;
import java.util.zip.CRC32;
import javax.imageio.IIOException;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.spi.ImageReaderSpi;
import javax.imageio.stream.ImageInputStream;

/**
 * Looks beyond the first frame of a multi-frame image — animated GIF, APNG, animated WebP, multi-page TIFF — and keeps
 * the frames that show something the first frame and the other kept frames do not, up to
 * {@link FrameLimits#maxFrames()} in all (the first included).
 *
 * <p><b>What is decoded.</b> The frames' sizes are read from the file's structure first ({@link Animation}; a TIFF's
 * page headers), so the cost of a plan is known before any pixel is decoded; a plan never costs more than
 * {@link FrameLimits#maxPixels()} (each decoded frame counts its rectangle plus the picture it shows). Animation
 * frames are composed on the canvas as a viewer shows them ({@link Canvas}: positions, blending, disposal), which
 * needs the frames before them: a file whose frames all fit the budget is decoded whole; otherwise frames are sampled
 * evenly over the file, each decoded from the nearest frame before it that stands alone (one covering the whole canvas
 * and replacing it; every TIFF page) — and when that is not possible within the budget (most optimised GIFs: every
 * frame after the first draws over the previous ones), the beginning of the animation is decoded, as much as fits.
 *
 * <p><b>What is kept.</b> Each decoded frame is compared with the first frame and the frames kept so far by a 32x32
 * area-averaged picture: one within {@value #SAME_FRAME} (mean absolute difference per channel, 0-255) of any of them
 * is the same picture and is dropped; the others are kept while there is room, then a frame replaces the kept frame
 * most like another one when it is farther from all of them than that one is (a greedy, streaming "most different
 * frames" selection): a picture shown in one frame of a long animation is kept, a slowly moving one is sampled.
 *
 * <p><b>Failures never lose the first frame.</b> A damaged or truncated later frame, a decoder error or the decode
 * deadline (shared with the first frame) ends the look: the frames kept so far are returned with the reason
 * ({@link Result#stopped()}).
 *
 * <p>Thread-safe: every call uses its own readers.
 */
public final class FrameReader {
  /** Side of the pictures frames are compared by. */
  static final int SIGNATURE_SIDE = 32;
  /** Frames whose 32x32 pictures differ by at most this (mean absolute difference per channel, 0-255) are the same. */
  static final double SAME_FRAME = 4.0;

  private final ImageLimits limits;
  private final FrameLimits frameLimits;

  public FrameReader(ImageLimits limits, FrameLimits frameLimits) {
    this.limits = limits;
    this.frameLimits = frameLimits;
  }

  public FrameLimits limits() {
    return frameLimits;
  }

  /** A kept frame: its index in the file (0-based, in the file's own order) and what {@code keep} made of it. */
  public record Kept<T>(int index, T value) {}

  /**
   * The outcome of one look.
   *
   * @param kept the frames kept beyond the first picture, in file order
   * @param found frames the file holds, as far as its structure was read (at most {@link Animation#MAX_FRAMES})
   * @param decoded frames decoded
   * @param pixels pixels decoded and composed (at most {@link FrameLimits#maxPixels()})
   * @param stopped why the look ended before its plan did (a damaged frame, the deadline), or null
   */
  public record Result<T>(List<Kept<T>> kept, int found, int decoded, long pixels, String stopped) {
    public static <T> Result<T> none(int found, String stopped) {
      return new Result<>(List.of(), found, 0, 0, stopped);
    }
  }

  /**
   * The further frames of {@code bytes}.
   *
   * @param first the first-frame decode of the same bytes (its format, orientation and pixels)
   * @param deadlineNanos {@link System#nanoTime()} after which nothing more is decoded
   * @param keep makes the value to keep of a frame: its index and its picture as displayed (EXIF orientation of the
   *     file applied, alpha composited on the background); called only for frames that enter the selection
   */
  public <T> Result<T> read(byte[] bytes, DecodedImage first, long deadlineNanos,
      BiFunction<Integer, RgbImage, T> keep) {
    if (!frameLimits.enabled()) {
      return Result.none(1, null);
    }
    Source source;
    try {
      source = switch (first.format()) {
        case GIF -> Composed.of(Animation.gif(bytes), bytes, first.format(), limits, deadlineNanos);
        case PNG -> Composed.of(Animation.apng(bytes), bytes, first.format(), limits, deadlineNanos);
        case WEBP -> Composed.of(Animation.webp(bytes), bytes, first.format(), limits, deadlineNanos);
        case TIFF -> Pages.of(bytes, limits, deadlineNanos);
        default -> null;
      };
    } catch (IOException | RuntimeException | OutOfMemoryError e) {
      return Result.none(1, "cannot read the frames: " + e);
    }
    if (source == null) {
      return Result.none(1, null);
    }
    try (source) {
      return look(source, first, deadlineNanos, keep);
    }
  }

  private <T> Result<T> look(Source src, DecodedImage first, long deadlineNanos,
      BiFunction<Integer, RgbImage, T> keep) {
    int n = src.count();
    String tooBig = src.tooBig(frameLimits.maxPixels());
    if (n < 2 && src.firstIsDefault() || n < 1 || tooBig != null) {
      return Result.none(n, tooBig != null ? tooBig : src.damage());
    }
    int[] plan = plan(src, frameLimits.maxPixels(), frameLimits.maxFrames());
    Selection<T> selection = new Selection<>(frameLimits.maxFrames() - 1);
    selection.baseline(signature(first.stored()));
    int decoded = 0;
    long pixels = 0;
    String stopped = null;
    int previous = -1;
    for (int i : plan) {
      if (System.nanoTime() - deadlineNanos > 0) {
        stopped = "the decode deadline passed before frame " + i;
        break;
      }
      RgbImage shown;
      try {
        shown = src.show(i, i != previous + 1);
      } catch (IOException | RuntimeException e) {
        stopped = System.nanoTime() - deadlineNanos > 0 ? "the decode deadline passed in frame " + i
            : "frame " + i + " cannot be decoded: " + (e.getMessage() == null ? e.toString() : e.getMessage());
        break;
      } catch (OutOfMemoryError e) {
        stopped = "frame " + i + " needed more memory than available";
        break;
      }
      previous = i;
      decoded++;
      pixels += src.cost(i);
      if (shown == null) {
        continue; // a page outside the image limits
      }
      int[] sig = signature(shown);
      if (i == 0 && src.firstIsDefault()) {
        selection.baseline(sig); // the first frame as composed on the canvas
        continue;
      }
      final RgbImage picture = shown;
      final int index = i;
      selection.offer(i, sig, () -> keep.apply(index, picture.oriented(first.exifOrientation())));
    }
    if (stopped == null && plan.length > 0 && src.damage() != null) {
      stopped = src.damage();
    }
    return new Result<>(selection.kept(), n, decoded, pixels, stopped);
  }

  // ---------------------------------------------------------------- the plan

  /**
   * The frames to decode, ascending: every frame when they all fit {@code budget}; else evenly spaced frames that stand
   * alone (each target moved back to the nearest standalone frame), as many as fit, when there are at least
   * {@code maxFrames} of them (or as many as the beginning of the file would give); else the longest beginning of the
   * file that fits.
   */
  static int[] plan(Source src, long budget, int maxFrames) {
    int n = src.count();
    int[] lastStandalone = new int[n];
    for (int i = 0, s = 0; i < n; i++) {
      s = src.standalone(i) ? i : s;
      lastStandalone[i] = s;
    }
    boolean skipFirst = src.firstIsDefault();
    int[] all = reach(src, targets(n, n, skipFirst, null), lastStandalone, budget);
    if (all != null) {
      return all;
    }
    int lo = 2;
    int hi = n;
    int[] strided = null;
    while (lo <= hi) { // the most evenly spaced standalone frames that fit
      int mid = (lo + hi) >>> 1;
      int[] p = reach(src, targets(mid, n, skipFirst, lastStandalone), lastStandalone, budget);
      if (p != null) {
        strided = p;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    int prefix = 0;
    long spent = 0;
    while (prefix < n && spent + src.cost(prefix) <= budget) {
      spent += src.cost(prefix++);
    }
    if (strided != null && strided.length > 0 && strided.length >= Math.min(maxFrames, prefix)) {
      return strided;
    }
    int[] start = new int[prefix];
    for (int i = 0; i < prefix; i++) {
      start[i] = i;
    }
    return start;
  }

  /**
   * {@code s} evenly spaced frame indices over {@code [0, n)}, first and last included, each moved back to the nearest
   * standalone frame when {@code snap} is given, without repeats; frame 0 left out on request.
   */
  static int[] targets(int s, int n, boolean skipFirst, int[] snap) {
    List<Integer> t = new ArrayList<>();
    for (int k = 0; k < s; k++) {
      int i = s == 1 ? 0 : (int) Math.round((double) k * (n - 1) / (s - 1));
      i = snap == null ? i : snap[i];
      if ((i > 0 || !skipFirst) && (t.isEmpty() || t.getLast() != i)) {
        t.add(i);
      }
    }
    return t.stream().mapToInt(Integer::intValue).toArray();
  }

  /** The frames to decode to show every target (ascending), or null when they cost more than {@code budget}. */
  private static int[] reach(Source src, int[] targets, int[] lastStandalone, long budget) {
    List<Integer> out = new ArrayList<>();
    long spent = 0;
    int last = -1;
    for (int t : targets) {
      int from = last >= lastStandalone[t] ? last + 1 : lastStandalone[t];
      for (int i = from; i <= t; i++) {
        spent += src.cost(i);
        if (spent > budget) {
          return null;
        }
        out.add(i);
      }
      last = Math.max(last, t);
    }
    return out.stream().mapToInt(Integer::intValue).toArray();
  }

  // ---------------------------------------------------------------- the selection

  /** The 32x32 picture frames are compared by. */
  static int[] signature(RgbImage img) {
    return Resize.to(img, SIGNATURE_SIDE, SIGNATURE_SIDE).pixels();
  }

  /** Mean absolute difference per channel (0-255) of two signatures. */
  static double distance(int[] a, int[] b) {
    long sum = 0;
    for (int i = 0; i < a.length; i++) {
      int p = a[i];
      int q = b[i];
      sum += Math.abs((p >> 16 & 0xFF) - (q >> 16 & 0xFF)) + Math.abs((p >> 8 & 0xFF) - (q >> 8 & 0xFF))
          + Math.abs((p & 0xFF) - (q & 0xFF));
    }
    return sum / (3.0 * a.length);
  }

  /** The streaming "most different frames" selection (see the class comment). */
  static final class Selection<T> {
    private final int capacity;
    private final List<int[]> baseline = new ArrayList<>();
    private final List<Entry<T>> kept = new ArrayList<>();

    private record Entry<T>(int index, int[] sig, T value) {}

    Selection(int capacity) {
      this.capacity = capacity;
    }

    /** A picture always shown (the first frame): frames like it are dropped, it is never replaced. */
    void baseline(int[] sig) {
      baseline.add(sig);
    }

    void offer(int index, int[] sig, java.util.function.Supplier<T> value) {
      if (capacity < 1) {
        return;
      }
      double[] toKept = new double[kept.size()];
      double toBase = Double.MAX_VALUE;
      for (int[] b : baseline) {
        toBase = Math.min(toBase, distance(sig, b));
      }
      double nearest = toBase;
      for (int k = 0; k < kept.size(); k++) {
        toKept[k] = distance(sig, kept.get(k).sig());
        nearest = Math.min(nearest, toKept[k]);
      }
      if (nearest <= SAME_FRAME) {
        return; // the same picture as one already shown
      }
      if (kept.size() < capacity) {
        kept.add(new Entry<>(index, sig, value.get()));
        return;
      }
      // the kept frame most like another one (or the first frame), and how near that is
      int worst = -1;
      double worstNearest = Double.MAX_VALUE;
      for (int k = 0; k < kept.size(); k++) {
        double nn = nearestOther(k);
        if (nn < worstNearest) {
          worstNearest = nn;
          worst = k;
        }
      }
      double without = toBase;
      for (int k = 0; k < kept.size(); k++) {
        if (k != worst) {
          without = Math.min(without, toKept[k]);
        }
      }
      if (without > worstNearest) {
        kept.set(worst, new Entry<>(index, sig, value.get()));
      }
    }

    private double nearestOther(int k) {
      int[] s = kept.get(k).sig();
      double d = Double.MAX_VALUE;
      for (int[] b : baseline) {
        d = Math.min(d, distance(s, b));
      }
      for (int j = 0; j < kept.size(); j++) {
        if (j != k) {
          d = Math.min(d, distance(s, kept.get(j).sig()));
        }
      }
      return d;
    }

    List<Kept<T>> kept() {
      return kept.stream().sorted(Comparator.comparingInt(Entry::index))
          .map(e -> new Kept<>(e.index(), e.value())).toList();
    }
  }

  // ---------------------------------------------------------------- sources

  /** Frames of one file, decoded one at a time in ascending order. */
  abstract static class Source implements AutoCloseable {
    abstract int count();

    /** Pixels decoding and showing frame {@code i} costs. */
    abstract long cost(int i);

    /** Whether frame {@code i} can be shown without decoding the frames before it. */
    abstract boolean standalone(int i);

    /** Whether frame 0 is the first frame the first-frame decode returned. */
    abstract boolean firstIsDefault();

    /** Why the file's structure was not read to its end, or null. */
    abstract String damage();

    /** Why no frame can be decoded within {@code budget} at all, or null. */
    abstract String tooBig(long budget);

    /**
     * Decodes frame {@code i} and returns what it shows (opaque, not oriented), or null for a frame left out.
     *
     * @param jump the frame decoded before was not {@code i - 1} ({@code i} is standalone)
     */
    abstract RgbImage show(int i, boolean jump) throws IOException;

    @Override
    public abstract void close();
  }

  /** The frames of an animation, composed on its canvas. */
  private static final class Composed extends Source {
    private final Animation anim;
    private final ImageLimits limits;
    private final byte[] bytes;
    private final ImageFormat format;
    private final long deadlineNanos;
    private final ImageReader reader; // GIF and WebP: one reader over the whole file; APNG: null
    private final byte[] apngHeader; // APNG: the chunks every frame's PNG repeats (IHDR fields, PLTE, tRNS)
    private Canvas canvas;

    private Composed(Animation anim, byte[] bytes, ImageFormat format, ImageLimits limits, long deadlineNanos)
        throws IOException {
      this.anim = anim;
      this.limits = limits;
      this.bytes = bytes;
      this.format = format;
      this.deadlineNanos = deadlineNanos;
      this.apngHeader = format == ImageFormat.PNG ? apngHeader(bytes) : null;
      this.reader = format == ImageFormat.PNG ? null : open(format, bytes, deadlineNanos, false);
    }

    static Source of(Animation anim, byte[] bytes, ImageFormat format, ImageLimits limits, long deadlineNanos)
        throws IOException {
      return anim == null ? null : new Composed(anim, bytes, format, limits, deadlineNanos);
    }

    @Override
    int count() {
      return anim.frames().size();
    }

    @Override
    long cost(int i) {
      return anim.frames().get(i).pixels() + anim.canvasPixels();
    }

    @Override
    boolean standalone(int i) {
      return anim.standalone(i);
    }

    @Override
    boolean firstIsDefault() {
      return anim.firstIsDefault();
    }

    @Override
    String damage() {
      return anim.damage();
    }

    @Override
    String tooBig(long budget) {
      if (anim.canvasPixels() > budget || anim.canvasPixels() > limits.maxPixels() || anim.width() > limits.maxSide()
          || anim.height() > limits.maxSide()) {
        return "the " + anim.width() + "x" + anim.height() + " canvas is larger than the frame budget ("
            + budget + " pixels) or the image limits";
      }
      return null;
    }

    @Override
    RgbImage show(int i, boolean jump) throws IOException {
      if (canvas == null) {
        canvas = new Canvas(anim.width(), anim.height());
      } else if (jump) {
        canvas.clear();
      }
      Animation.Frame f = anim.frames().get(i);
      int[] pixels = null;
      if (f.w() > 0 && f.h() > 0) {
        BufferedImage img = format == ImageFormat.PNG
            ? readWithDeadline(open(ImageFormat.PNG, apngFrame(f), deadlineNanos, true), 0, null, deadlineNanos, true)
            : readWithDeadline(reader, i, null, deadlineNanos, false);
        if (img.getWidth() != f.w() || img.getHeight() != f.h()) {
          throw new IIOException("the decoder returned " + img.getWidth() + "x" + img.getHeight() + " for a "
              + f.w() + "x" + f.h() + " frame");
        }
        pixels = Pixels.toArgb(img);
      }
      canvas.draw(f, pixels);
      return canvas.flatten(limits.background());
    }

    /** A standalone PNG of one APNG frame: IHDR with the frame's size, PLTE and tRNS, its data as IDAT, IEND. */
    private byte[] apngFrame(Animation.Frame f) {
      int[] d = f.data();
      int total = 0;
      for (int k = 1; k < d.length; k += 2) {
        total = Math.addExact(total, d[k]);
      }
      byte[] idat = new byte[total];
      for (int k = 0, at = 0; k < d.length; at += d[k + 1], k += 2) {
        System.arraycopy(bytes, d[k], idat, at, d[k + 1]);
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream(idat.length + apngHeader.length + 64);
      out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A});
      byte[] ihdr = java.util.Arrays.copyOf(apngHeader, 13);
      ByteBuffer.wrap(ihdr).putInt(f.w()).putInt(f.h());
      chunk(out, "IHDR", ihdr, 0, 13);
      out.write(apngHeader, 13, apngHeader.length - 13);
      chunk(out, "IDAT", idat, 0, idat.length);
      chunk(out, "IEND", new byte[0], 0, 0);
      return out.toByteArray();
    }

    @Override
    public void close() {
      if (reader != null) {
        reader.dispose();
      }
    }
  }

  /**
   * The IHDR body of an APNG followed by its PLTE and tRNS chunks whole (what each frame's PNG repeats). The file's
   * chunk structure was verified ({@link PngStructure}).
   */
  private static byte[] apngHeader(byte[] b) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(b, 16, 13); // IHDR body: it is the first chunk
    int pos = 8;
    while (pos + 12 <= b.length) {
      int len = (int) Animation.u32be(b, pos);
      String type = new String(b, pos + 4, 4, StandardCharsets.ISO_8859_1);
      if (type.equals("IDAT") || type.equals("IEND") || len > b.length - pos - 12) {
        break;
      }
      if (type.equals("PLTE") || type.equals("tRNS")) {
        out.write(b, pos, len + 12);
      }
      pos += len + 12;
    }
    return out.toByteArray();
  }

  private static void chunk(ByteArrayOutputStream out, String type, byte[] data, int off, int len) {
    byte[] t = type.getBytes(StandardCharsets.ISO_8859_1);
    out.writeBytes(ByteBuffer.allocate(4).putInt(len).array());
    out.writeBytes(t);
    out.write(data, off, len);
    CRC32 crc = new CRC32();
    crc.update(t);
    crc.update(data, off, len);
    out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
  }

  /** The pages of a TIFF: each stands alone, decoded at reduced resolution like the first. */
  private static final class Pages extends Source {
    private final ImageReader reader;
    private final ImageLimits limits;
    private final int[] widths;
    private final int[] heights;
    private final long deadlineNanos;
    private final String damage;

    private Pages(ImageReader reader, ImageLimits limits, int[] widths, int[] heights, long deadlineNanos,
        String damage) {
      this.reader = reader;
      this.limits = limits;
      this.widths = widths;
      this.heights = heights;
      this.deadlineNanos = deadlineNanos;
      this.damage = damage;
    }

    static Source of(byte[] bytes, ImageLimits limits, long deadlineNanos) throws IOException {
      ImageReader r = open(ImageFormat.TIFF, bytes, deadlineNanos, false);
      try {
        String damage = null;
        int n;
        try {
          n = Math.min(r.getNumImages(true), Animation.MAX_FRAMES);
        } catch (IOException | RuntimeException e) {
          n = 1;
          damage = "the pages cannot be counted: " + e.getMessage();
        }
        int[] w = new int[Math.max(n, 1)];
        int[] h = new int[w.length];
        int pages = 0;
        for (; pages < n; pages++) {
          try {
            w[pages] = r.getWidth(pages);
            h[pages] = r.getHeight(pages);
          } catch (IOException | RuntimeException e) {
            damage = "page " + pages + " cannot be read: " + e.getMessage();
            break;
          }
        }
        return new Pages(r, limits, java.util.Arrays.copyOf(w, pages),
            java.util.Arrays.copyOf(h, pages), deadlineNanos, damage);
      } catch (RuntimeException e) {
        r.dispose();
        throw e;
      }
    }

    @Override
    int count() {
      return widths.length;
    }

    private boolean usable(int i) {
      long px = (long) widths[i] * heights[i];
      return widths[i] > 0 && heights[i] > 0 && px <= limits.maxPixels() && widths[i] <= limits.maxSide()
          && heights[i] <= limits.maxSide() && widths[i] >= limits.minWidth()
          && heights[i] >= limits.minHeight();
    }

    @Override
    long cost(int i) {
      if (!usable(i)) {
        return 0;
      }
      int s = limits.subsamplingFor(widths[i], heights[i]);
      return 2L * ((widths[i] + s - 1) / s) * ((heights[i] + s - 1) / s);
    }

    @Override
    boolean standalone(int i) {
      return true;
    }

    @Override
    boolean firstIsDefault() {
      return true;
    }

    @Override
    String damage() {
      return damage;
    }

    @Override
    String tooBig(long budget) {
      return null;
    }

    @Override
    RgbImage show(int i, boolean jump) throws IOException {
      if (!usable(i)) {
        return null;
      }
      int s = limits.subsamplingFor(widths[i], heights[i]);
      ImageReadParam param = reader.getDefaultReadParam();
      if (s > 1) {
        param.setSourceSubsampling(s, s, 0, 0);
      }
      return Pixels.toRgb(readWithDeadline(reader, i, param, deadlineNanos, false), limits.background());
    }

    @Override
    public void close() {
      reader.dispose();
    }
  }

  // ---------------------------------------------------------------- decoding

  private static ImageReader open(ImageFormat format, byte[] bytes, long deadlineNanos, boolean ignoreMetadata)
      throws IOException {
    List<ImageReaderSpi> spis = ImageDecoder.READERS.get(format);
    if (spis.isEmpty()) {
      throw new IIOException("no " + format.id() + " decoder");
    }
    ImageReader r = spis.getFirst().createReaderInstance();
    AtomicBoolean expired = new AtomicBoolean();
    ImageInputStream in = new DeadlineImageInputStream(bytes, deadlineNanos, expired);
    r.setInput(in, false, ignoreMetadata);
    return r;
  }

  /**
   * {@code reader.read(index)} under the deadline (the stream fails reads past it; a watchdog aborts a reader that
   * stops reading); a decoder warning is damage. Disposes of the reader when {@code dispose}.
   */
  private static BufferedImage readWithDeadline(ImageReader reader, int index, ImageReadParam param,
      long deadlineNanos, boolean dispose) throws IOException {
    List<String> warnings = new ArrayList<>(1);
    reader.addIIOReadWarningListener((src, message) -> warnings.add(message));
    long left = deadlineNanos - System.nanoTime();
    ScheduledFuture<?> watchdog = ImageDecoder.WATCHDOG.schedule(reader::abort, Math.max(0, left), TimeUnit.NANOSECONDS);
    try {
      BufferedImage img = reader.read(index, param);
      if (System.nanoTime() - deadlineNanos > 0) {
        throw new IIOException("the decode deadline passed"); // an aborted reader may return part of the picture
      }
      if (img == null) {
        throw new IIOException("the decoder returned no image");
      }
      if (!warnings.isEmpty()) {
        throw new IIOException("the decoder reported '" + String.join("'; '", warnings) + "'");
      }
      return img;
    } finally {
      watchdog.cancel(false);
      reader.removeAllIIOReadWarningListeners();
      if (dispose) {
        reader.dispose();
      }
    }
  }
}
