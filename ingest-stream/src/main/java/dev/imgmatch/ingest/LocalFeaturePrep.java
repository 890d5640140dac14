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
 * <p>With {@code ingest.local.inset} ({@link InsetFeatures}), an upload or query that holds a picture pasted into it
 * ({@link InsetFinder}: a compact region of detail on a flatter canvas — a meme template's photo, a copy pasted
 * small) also gets that region's features, cut out and taken like a small probe's (enlarged to
 * {@code ingest.local.query.enlarge.side}), placed in the whole picture's frame ({@link LocalFeatures#withPart}): the
 * pasted copy's detail, lost at the whole picture's scale, gives its reference more inliers. By default only for a
 * pasted picture whose four edges were found ({@link InsetFinder.Found#edged}): there its box is the picture, and
 * few photos that paste nothing have one (docs/BENCHMARKS.md, "Pasted copies: the inset's edges").
 */
public final class LocalFeaturePrep {
  /** Which probes' pasted pictures add their own features ({@code ingest.local.inset}). */
  public enum InsetFeatures {
    /** None. */
    NONE,
    /** Those whose four edges were found ({@link InsetFinder.Found#edged}): the default. */
    EDGED,
    /** Every pasted picture found. */
    ALL;

    /** The setting's value: none, edged or all (true and false, its values before, mean all and none). */
    public static InsetFeatures of(String value) {
      return switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
        case "none", "false" -> NONE;
        case "edged" -> EDGED;
        case "all", "true" -> ALL;
        default -> throw new IllegalArgumentException("ingest.local.inset must be none, edged or all, got " + value);
      };
    }
  }

  private final SiftExtractor reference;
  private final SiftExtractor probe;
  private final InsetFeatures inset;

  public LocalFeaturePrep(int referenceSide, int referenceKeypoints, int querySide, int queryKeypoints) {
    this(referenceSide, referenceKeypoints, querySide, queryKeypoints, 0, InsetFeatures.NONE);
  }

  /**
   * @param queryEnlargeTo a smaller upload or query image (or inset) is enlarged to this longer side first (0 = never)
   * @param inset which probes' pasted pictures ({@link InsetFinder}) add their own features
   */
  public LocalFeaturePrep(int referenceSide, int referenceKeypoints, int querySide, int queryKeypoints,
      int queryEnlargeTo, InsetFeatures inset) {
    this.reference = new SiftExtractor(referenceSide, referenceKeypoints);
    this.probe = new SiftExtractor(querySide, queryKeypoints, queryEnlargeTo);
    this.inset = inset;
  }

  /** Whether some probes' pasted pictures add their own features ({@link #of}'s {@code insetRegion}). */
  public boolean usesInset() {
    return inset != InsetFeatures.NONE;
  }

  /** Whether the pasted picture {@code found} (null: none) adds its own features. */
  public boolean takes(InsetFinder.Found found) {
    return found != null && (inset == InsetFeatures.ALL || inset == InsetFeatures.EDGED && found.edged());
  }

  /** The encoded features ({@link LocalFeatures#encode}) of an image, or null when it has no keypoint. */
  public byte[] of(RgbImage oriented, boolean isReference) {
    return of(oriented, isReference, null);
  }

  /**
   * As {@link #of(RgbImage, boolean)}, a probe's with the features of the picture pasted into it, when given.
   *
   * @param insetRegion where the pasted picture whose features are added lies in {@code oriented} ({@link InsetFinder},
   *     one this preparer {@link #takes}), or null for none
   */
  public byte[] of(RgbImage oriented, boolean isReference, BorderTrim.Region insetRegion) {
    SiftExtractor x = isReference ? reference : probe;
    LocalFeatures f = extract(x, oriented);
    if (!isReference && insetRegion != null) {
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
