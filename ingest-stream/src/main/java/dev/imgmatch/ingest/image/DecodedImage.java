package dev.imgmatch.ingest.image;

/**
 * A decoded image and how it was obtained.
 *
 * @param format the sniffed format
 * @param declaredWidth width in the file's header (before orientation and subsampling)
 * @param declaredHeight height in the file's header
 * @param subsampling source subsampling used (1 = full resolution)
 * @param exifOrientation the EXIF orientation tag (1-8; 1 when absent)
 * @param stored the pixels as stored in the file (not oriented), possibly subsampled
 */
public record DecodedImage(
    ImageFormat format, int declaredWidth, int declaredHeight, int subsampling, int exifOrientation, RgbImage stored) {

  /** The pixels as they should be displayed (EXIF orientation applied). */
  public RgbImage oriented() {
    return stored.oriented(exifOrientation);
  }

  /** Width after EXIF orientation at full resolution. */
  public int orientedWidth() {
    return exifOrientation >= 5 && exifOrientation <= 8 ? declaredHeight : declaredWidth;
  }

  /** Height after EXIF orientation at full resolution. */
  public int orientedHeight() {
    return exifOrientation >= 5 && exifOrientation <= 8 ? declaredWidth : declaredHeight;
  }
}
