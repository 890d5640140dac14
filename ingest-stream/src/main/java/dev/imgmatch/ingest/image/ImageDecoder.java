package dev.imgmatch.ingest.image;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.imageio.IIOException;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.spi.IIORegistry;
import javax.imageio.spi.ImageReaderSpi;
import javax.imageio.stream.ImageInputStream;

/**
 * Validates and decodes one encoded image under {@link ImageLimits}: size, signature, structure (PNG CRCs),
 * declared dimensions from the header before any pixel is decoded, the scans of a JPEG counted, then the decode
 * itself under a deadline: its input stream fails every read once the deadline has passed
 * ({@link DeadlineImageInputStream}, which stops a decoder that keeps reading), and {@link ImageReader#abort()} from a
 * watchdog thread for one that does not; decoder warnings (e.g. a truncated JPEG) are treated as corruption.
 *
 * <p>Decoders: the JDK's own readers for JPEG, PNG and GIF (what the reference PDQ implementation decodes
 * with, so hashes agree bit for bit), TwelveMonkeys for WebP, TIFF and BMP, and for the JPEGs the JDK cannot
 * read (CMYK, YCCK).
 *
 * <p>Thread-safe and cheap to share: every call uses its own reader instances.
 */
public final class ImageDecoder {
  /** Aborts readers past their deadline (also {@link FrameReader}'s). */
  static final ScheduledThreadPoolExecutor WATCHDOG = watchdog();
  /** Readers per format, preferred first (also {@link FrameReader}'s). */
  static final Map<ImageFormat, List<ImageReaderSpi>> READERS = findReaders();

  private final ImageLimits limits;

  public ImageDecoder(ImageLimits limits) {
    this.limits = limits;
  }

  public ImageLimits limits() {
    return limits;
  }

  /**
   * Decodes {@code bytes}.
   *
   * @throws ImageRejectedException for every input that is not an acceptable image; never any other
   *     exception (decoder bugs on hostile input become {@link RejectReason#CORRUPT_IMAGE})
   */
  public DecodedImage decode(byte[] bytes) throws ImageRejectedException {
    if (bytes == null || bytes.length == 0) {
      throw new ImageRejectedException(RejectReason.EMPTY_IMAGE, "the image is empty (0 bytes)");
    }
    if (bytes.length > limits.maxBytes()) {
      throw new ImageRejectedException(RejectReason.IMAGE_TOO_LARGE, "the image file is " + bytes.length
          + " bytes, more than the limit of " + limits.maxBytes() + " (ingest.max.image.bytes)");
    }
    ImageFormat format = ImageFormat.sniff(bytes).orElseThrow(() -> new ImageRejectedException(
        RejectReason.UNSUPPORTED_FORMAT, "unsupported format: " + ImageFormat.describeUnknown(bytes)
            + "; accepted: JPEG, PNG, GIF, WebP, BMP, TIFF"));
    if (format == ImageFormat.PNG) {
      PngStructure.verify(bytes);
    }
    if (format == ImageFormat.JPEG) {
      int scans = JpegScans.count(bytes);
      if (scans > ImageLimits.MAX_JPEG_SCANS) {
        throw new ImageRejectedException(RejectReason.TOO_MANY_SCANS, "the JPEG has " + scans + " scans, more than "
            + ImageLimits.MAX_JPEG_SCANS + ": each scan of a progressive JPEG is a pass over the whole picture "
            + "(a decompression bomb)");
      }
    }
    List<ImageReaderSpi> readers = READERS.get(format);
    if (readers.isEmpty()) {
      throw new ImageRejectedException(RejectReason.UNSUPPORTED_FORMAT,
          "no decoder for " + format.id() + " on the classpath");
    }
    int orientation = ExifOrientation.read(bytes, format);
    ImageRejectedException first = null;
    for (ImageReaderSpi spi : readers) {
      try {
        return read(spi, bytes, format, orientation);
      } catch (Fallback e) {
        first = first == null ? e.rejection : first; // e.g. the JDK cannot read CMYK JPEGs: try the next reader
      }
    }
    throw first;
  }

  private DecodedImage read(ImageReaderSpi spi, byte[] bytes, ImageFormat format, int orientation)
      throws ImageRejectedException, Fallback {
    ImageReader reader;
    try {
      reader = spi.createReaderInstance();
    } catch (IOException e) {
      throw new ImageRejectedException(RejectReason.INTERNAL_ERROR, "cannot create a " + format.id() + " decoder", e);
    }
    List<String> warnings = new ArrayList<>(1);
    reader.addIIOReadWarningListener((src, message) -> warnings.add(message));
    AtomicBoolean timedOut = new AtomicBoolean();
    long deadlineNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(limits.decodeTimeoutMs());
    try (ImageInputStream in = new DeadlineImageInputStream(bytes, deadlineNanos, timedOut)) {
      // a PNG's metadata is not read at all: its zTXt/iTXt/iCCP chunks would be inflated whole (a 2 MB text bomb
      // inflating to 2 GB ran a 512 MB heap out of memory); the pixels need none of it. Other formats' metadata is
      // bounded by the file (JPEG segments are at most 64 KB) and their readers need it (colour transforms).
      reader.setInput(in, true, format == ImageFormat.PNG);
      int w = reader.getWidth(0);
      int h = reader.getHeight(0);
      checkDeclaredSize(format, w, h);
      int s = limits.subsamplingFor(w, h);
      ImageReadParam param = reader.getDefaultReadParam();
      if (s > 1) {
        param.setSourceSubsampling(s, s, 0, 0);
      }
      ScheduledFuture<?> deadline = WATCHDOG.schedule(() -> {
        timedOut.set(true);
        reader.abort();
      }, limits.decodeTimeoutMs(), TimeUnit.MILLISECONDS);
      BufferedImage img;
      try {
        img = reader.read(0, param);
      } finally {
        deadline.cancel(false);
      }
      if (timedOut.get()) {
        throw new ImageRejectedException(RejectReason.DECODE_TIMEOUT, "decoding the " + w + "x" + h + " "
            + format.id() + " took longer than " + limits.decodeTimeoutMs() + " ms (ingest.decode.timeout.ms)");
      }
      if (img == null) {
        throw new ImageRejectedException(RejectReason.CORRUPT_IMAGE, "the " + format.id() + " decoder returned no image");
      }
      if (!warnings.isEmpty()) {
        throw new ImageRejectedException(RejectReason.CORRUPT_IMAGE,
            "damaged " + format.id() + ": the decoder reported '" + String.join("'; '", warnings) + "'");
      }
      return new DecodedImage(format, w, h, s, orientation, Pixels.toRgb(img, limits.background()));
    } catch (ImageRejectedException e) {
      throw e;
    } catch (IIOException e) {
      if (timedOut.get()) {
        throw new ImageRejectedException(RejectReason.DECODE_TIMEOUT, "decoding the " + format.id()
            + " took longer than " + limits.decodeTimeoutMs() + " ms (ingest.decode.timeout.ms)", e);
      }
      ImageRejectedException r = corrupt(format, e);
      if (isUnsupportedVariant(e)) {
        throw new Fallback(r);
      }
      throw r;
    } catch (IOException | RuntimeException e) {
      if (timedOut.get()) {
        throw new ImageRejectedException(RejectReason.DECODE_TIMEOUT, "decoding the " + format.id()
            + " took longer than " + limits.decodeTimeoutMs() + " ms (ingest.decode.timeout.ms)", e);
      }
      throw corrupt(format, e);
    } catch (OutOfMemoryError e) {
      // the pixel limit is checked first, so this is a decoder allocating for corrupt data: refuse the image
      throw new ImageRejectedException(RejectReason.CORRUPT_IMAGE, "decoding the " + format.id()
          + " needed more memory than available; the file is probably corrupt", null);
    } finally {
      reader.dispose();
    }
  }

  private void checkDeclaredSize(ImageFormat format, int w, int h) throws ImageRejectedException {
    long pixels = (long) w * h;
    if (w <= 0 || h <= 0) {
      throw new ImageRejectedException(RejectReason.CORRUPT_IMAGE,
          "the " + format.id() + " header declares an impossible size " + w + "x" + h);
    }
    if (pixels > limits.maxPixels() || w > limits.maxSide() || h > limits.maxSide()) {
      throw new ImageRejectedException(RejectReason.TOO_MANY_PIXELS, "the " + format.id() + " header declares "
          + w + "x" + h + " = " + pixels + " pixels; the limits are " + limits.maxPixels()
          + " pixels (ingest.max.pixels) and " + limits.maxSide() + " per side (ingest.max.side)");
    }
    if (w < limits.minWidth() || h < limits.minHeight()) {
      throw new ImageRejectedException(RejectReason.IMAGE_TOO_SMALL, "the image is " + w + "x" + h
          + ", smaller than the minimum " + limits.minWidth() + "x" + limits.minHeight()
          + " (ingest.min.width, ingest.min.height)");
    }
  }

  private static boolean isUnsupportedVariant(IIOException e) {
    String m = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
    return m.contains("unsupported image type") || m.contains("unsupported jpeg process")
        || m.contains("unsupported color conversion");
  }

  private static ImageRejectedException corrupt(ImageFormat format, Exception e) {
    String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return new ImageRejectedException(RejectReason.CORRUPT_IMAGE, "cannot decode the " + format.id() + ": " + why, e);
  }

  /** A failure that the next reader for the format may not have. */
  private static final class Fallback extends Exception {
    private static final long serialVersionUID = 1L;
    final transient ImageRejectedException rejection;

    Fallback(ImageRejectedException rejection) {
      super(null, null, false, false);
      this.rejection = rejection;
    }
  }

  private static ScheduledThreadPoolExecutor watchdog() {
    ScheduledThreadPoolExecutor ex = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, "imgmatch-decode-watchdog");
      t.setDaemon(true);
      return t;
    });
    ex.setRemoveOnCancelPolicy(true);
    return ex;
  }

  /** Readers per format in order of preference: the JDK's first for JPEG/PNG/GIF, TwelveMonkeys otherwise. */
  private static Map<ImageFormat, List<ImageReaderSpi>> findReaders() {
    IIORegistry registry = IIORegistry.getDefaultInstance();
    registry.registerApplicationClasspathSpis();
    List<ImageReaderSpi> all = new ArrayList<>();
    Iterator<ImageReaderSpi> it = registry.getServiceProviders(ImageReaderSpi.class, true);
    it.forEachRemaining(all::add);
    Map<ImageFormat, List<ImageReaderSpi>> m = new java.util.EnumMap<>(ImageFormat.class);
    for (ImageFormat f : ImageFormat.values()) {
      List<ImageReaderSpi> jdk = new ArrayList<>();
      List<ImageReaderSpi> other = new ArrayList<>();
      for (ImageReaderSpi spi : all) {
        if (List.of(spi.getFormatNames()).stream().anyMatch(n -> n.equalsIgnoreCase(f.id()))) {
          (spi.getClass().getName().startsWith("com.sun.imageio.") ? jdk : other).add(spi);
        }
      }
      List<ImageReaderSpi> ordered = new ArrayList<>();
      boolean jdkFirst = f == ImageFormat.JPEG || f == ImageFormat.PNG || f == ImageFormat.GIF;
      ordered.addAll(jdkFirst ? jdk : other);
      ordered.addAll(jdkFirst ? other : jdk);
      m.put(f, List.copyOf(ordered));
    }
    return m;
  }

  /** The reader classes used per format, for the start-up log. */
  public static String describeReaders() {
    StringBuilder sb = new StringBuilder();
    READERS.forEach((f, l) -> sb.append(f.id()).append('=').append(
        l.stream().map(s -> s.getClass().getName()).toList()).append(' '));
    return sb.toString().strip();
  }
}
