package dev.imgmatch.ingest.image;

/**
 * What the decoder accepts, checked in this order: encoded size, format signature, file structure, then the
 * dimensions the header declares (before any pixel is decoded, so decompression bombs cost nothing), then
 * the decode itself under a deadline.
 *
 * @param maxBytes largest encoded file accepted
 * @param maxPixels largest declared width x height accepted (decompression-bomb guard)
 * @param maxSide largest declared width or height accepted
 * @param minWidth smallest width accepted (after EXIF orientation is irrelevant: checked on both sides)
 * @param minHeight smallest height accepted
 * @param decodeTimeoutMs the decoder is aborted after this long
 * @param subsampleMinSide decode at 1/s resolution (integer s, source subsampling) when the shorter side stays
 *     at least this long; 0 always decodes at full resolution
 * @param background {@code 0xRRGGBB} that transparent pixels are composited onto
 */
public record ImageLimits(
    int maxBytes,
    long maxPixels,
    int maxSide,
    int minWidth,
    int minHeight,
    long decodeTimeoutMs,
    int subsampleMinSide,
    int background) {

  public static final int DEFAULT_MAX_BYTES = dev.imgmatch.schemas.Limits.MAX_IMAGE_BYTES;
  public static final long DEFAULT_MAX_PIXELS = 50_000_000L;
  public static final int DEFAULT_MAX_SIDE = 20_000;
  public static final int DEFAULT_MIN_SIDE = 32;
  public static final long DEFAULT_DECODE_TIMEOUT_MS = 10_000;
  public static final int DEFAULT_SUBSAMPLE_MIN_SIDE = 1024;
  public static final int DEFAULT_BACKGROUND = 0xFFFFFF;
  /**
   * Most scans a JPEG may have. Baseline JPEGs have 1 (or one per component), encoders' progressive scripts about 10
   * (libjpeg's default 10, mozjpeg's up to ~20); every scan of a progressive JPEG is a pass over the whole picture,
   * so thousands of tiny scans make a file of a few KB cost minutes to decode.
   */
  public static final int MAX_JPEG_SCANS = 100;

  public ImageLimits {
    if (maxBytes < 1 || maxPixels < 1 || maxSide < 1 || minWidth < 1 || minHeight < 1 || decodeTimeoutMs < 1
        || subsampleMinSide < 0) {
      throw new IllegalArgumentException("image limits must be positive (subsampleMinSide >= 0): " + this);
    }
    if ((long) minWidth * minHeight > maxPixels || minWidth > maxSide || minHeight > maxSide) {
      throw new IllegalArgumentException("minimum image size " + minWidth + "x" + minHeight
          + " cannot fit under the maximum (" + maxPixels + " pixels, side " + maxSide + ")");
    }
    background &= 0xFFFFFF;
  }

  public static ImageLimits defaults() {
    return new ImageLimits(DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, DEFAULT_MAX_SIDE, DEFAULT_MIN_SIDE,
        DEFAULT_MIN_SIDE, DEFAULT_DECODE_TIMEOUT_MS, DEFAULT_SUBSAMPLE_MIN_SIDE, DEFAULT_BACKGROUND);
  }

  /** The same limits decoding always at full resolution (what the reference PDQ does). */
  public ImageLimits fullResolution() {
    return new ImageLimits(maxBytes, maxPixels, maxSide, minWidth, minHeight, decodeTimeoutMs, 0, background);
  }

  public ImageLimits withMinSize(int w, int h) {
    return new ImageLimits(maxBytes, maxPixels, maxSide, w, h, decodeTimeoutMs, subsampleMinSide, background);
  }

  /** The source subsampling factor for a declared size (1 = full resolution). */
  public int subsamplingFor(int width, int height) {
    if (subsampleMinSide == 0) {
      return 1;
    }
    return Math.max(1, Math.min(width, height) / subsampleMinSide);
  }
}
