package dev.imgmatch.ingest;

import dev.imgmatch.ingest.image.BorderTrim;
import dev.imgmatch.ingest.image.GrayThumbnails;
import dev.imgmatch.ingest.image.InsetFinder;
import dev.imgmatch.ingest.image.RgbImage;
import dev.imgmatch.local.LocalFeatures;
import dev.imgmatch.local.SiftExtractor;

/**
 * The local features an image is sent with ({@code ingest.local.features}): references (images of the reference
 * collections) with up to {@code ingest.local.reference.keypoints} at {@code ingest.local.reference.side} px, every
 * other upload and query image with up to {@code ingest.local.query.keypoints} at {@code ingest.local.query.side},
 * a smaller one enlarged to {@code ingest.local.query.enlarge.side} first.
 * The oriented pixels are shrunk and turned grey as the verification thumbnail is ({@link GrayThumbnails#grey}).
 *
 * <p>With {@code ingest.local.inset} (off by default), an upload or query that holds a picture pasted into it
 * ({@link InsetFinder}: a compact region of detail on a flatter canvas — a meme template's photo, a copy pasted
 * small) also gets that region's features, cut out and taken like a small probe's (enlarged to
 * {@code ingest.local.query.enlarge.side}), placed in the whole picture's frame ({@link LocalFeatures#withPart}): the
 * pasted copy's detail, lost at the whole picture's scale, gives its reference more inliers. Measured, it decided no
 * copy the {@code inset} view's nominations did not (docs/BENCHMARKS.md, "Pasted copies: the inset").
 */
public final class LocalFeaturePrep {
  private final SiftExtractor reference;
  private final SiftExtractor probe;
  private final boolean inset;

  public LocalFeaturePrep(int referenceSide, int referenceKeypoints, int querySide, int queryKeypoints) {
    this(referenceSide, referenceKeypoints, querySide, queryKeypoints, 0, false);
  }

  /**
   * @param queryEnlargeTo a smaller upload or query image (or inset) is enlarged to this longer side first (0 = never)
   * @param inset whether a probe's pasted picture ({@link InsetFinder}), when it has one, adds its own features
   */
  public LocalFeaturePrep(int referenceSide, int referenceKeypoints, int querySide, int queryKeypoints,
      int queryEnlargeTo, boolean inset) {
    this.reference = new SiftExtractor(referenceSide, referenceKeypoints);
    this.probe = new SiftExtractor(querySide, queryKeypoints, queryEnlargeTo);
    this.inset = inset;
  }

  /** Whether a probe's pasted picture adds its own features ({@link #of}'s {@code insetRegion}). */
  public boolean usesInset() {
    return inset;
  }

  /** The encoded features ({@link LocalFeatures#encode}) of an image, or null when it has no keypoint. */
  public byte[] of(RgbImage oriented, boolean isReference) {
    return of(oriented, isReference, null);
  }

  /**
   * As {@link #of(RgbImage, boolean)}, a probe's with the features of the picture pasted into it when
   * {@link #usesInset()}.
   *
   * @param insetRegion where the pasted picture lies in {@code oriented} ({@link InsetFinder}), or null for none
   */
  public byte[] of(RgbImage oriented, boolean isReference, BorderTrim.Region insetRegion) {
    SiftExtractor x = isReference ? reference : probe;
    LocalFeatures f = extract(x, oriented);
    if (!isReference && inset && insetRegion != null) {
      LocalFeatures part = extract(probe, BorderTrim.crop(oriented, insetRegion));
      double sx = f.width() / (double) oriented.width(); // the whole's feature pixels per image pixel
      double sy = f.height() / (double) oriented.height();
      f = f.withPart(part, insetRegion.x() * sx, insetRegion.y() * sy, insetRegion.width() * sx / part.width(),
          insetRegion.height() * sy / part.height());
    }
    return f.size() == 0 ? null : f.encode();
  }

  private static LocalFeatures extract(SiftExtractor x, RgbImage img) {
    int[] size = GrayThumbnails.fitted(img, x.maxSide());
    return x.extractGrey(GrayThumbnails.grey(img, x.maxSide()), size[0], size[1]);
  }
}
