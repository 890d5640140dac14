package dev.imgmatch.ingest.image;

/**
 * How much of a multi-frame image (animated GIF, APNG, animated WebP, multi-page TIFF) is looked at beyond its first
 * frame ({@link FrameReader}).
 *
 * @param maxFrames most frames kept per image, the first included (1 = the first frame only: no frame views)
 * @param maxPixels most pixels decoded and composed for the further frames of one image, all frames together: each
 *     decoded frame counts its own rectangle (what the decoder allocates) plus the picture it shows (the canvas it
 *     is composed on, or the page). Checked against the sizes the file declares, before any of them is decoded, so a
 *     file of 10,000 frames costs at most this.
 */
public record FrameLimits(int maxFrames, long maxPixels) {
  public static final int DEFAULT_MAX_FRAMES = 8;
  /** Most frames kept per image that a setting may ask for. */
  public static final int MAX_MAX_FRAMES = 64;
  public static final long DEFAULT_MAX_PIXELS = 32L << 20;
  /** The first frame only. */
  public static final FrameLimits FIRST_ONLY = new FrameLimits(1, 0);

  public FrameLimits {
    if (maxFrames < 1 || maxFrames > MAX_MAX_FRAMES || maxPixels < 0) {
      throw new IllegalArgumentException("frame limits: 1-" + MAX_MAX_FRAMES + " frames and pixels >= 0, got "
          + maxFrames + " frames, " + maxPixels + " pixels");
    }
  }

  public static FrameLimits defaults() {
    return new FrameLimits(DEFAULT_MAX_FRAMES, DEFAULT_MAX_PIXELS);
  }

  /** Whether further frames are looked at at all. */
  public boolean enabled() {
    return maxFrames > 1 && maxPixels > 0;
  }
}
