package dev.imgmatch.ingest;

import dev.imgmatch.ingest.image.GrayThumbnails;
import dev.imgmatch.ingest.image.RgbImage;
import dev.imgmatch.local.LocalFeatures;
import dev.imgmatch.local.SiftExtractor;

/**
 * The local features an image is sent with ({@code ingest.local.features}): references (images of the reference
 * collections) with up to {@code ingest.local.reference.keypoints} at {@code ingest.local.reference.side} px, every
 * other upload and query image with up to {@code ingest.local.query.keypoints} at {@code ingest.local.query.side},
 * a smaller one enlarged to {@code ingest.local.query.enlarge.side} first.
 * The oriented pixels are shrunk and turned grey as the verification thumbnail is ({@link GrayThumbnails#grey}).
 */
public final class LocalFeaturePrep {
  private final SiftExtractor reference;
  private final SiftExtractor probe;

  public LocalFeaturePrep(int referenceSide, int referenceKeypoints, int querySide, int queryKeypoints) {
    this(referenceSide, referenceKeypoints, querySide, queryKeypoints, 0);
  }

  /** @param queryEnlargeTo a smaller upload or query image is enlarged to this longer side first (0 = never) */
  public LocalFeaturePrep(int referenceSide, int referenceKeypoints, int querySide, int queryKeypoints,
      int queryEnlargeTo) {
    this.reference = new SiftExtractor(referenceSide, referenceKeypoints);
    this.probe = new SiftExtractor(querySide, queryKeypoints, queryEnlargeTo);
  }

  /** The encoded features ({@link LocalFeatures#encode}) of an image, or null when it has no keypoint. */
  public byte[] of(RgbImage oriented, boolean isReference) {
    SiftExtractor x = isReference ? reference : probe;
    int[] size = GrayThumbnails.fitted(oriented, x.maxSide());
    byte[] grey = GrayThumbnails.grey(oriented, x.maxSide());
    LocalFeatures f = x.extractGrey(grey, size[0], size[1]);
    return f.size() == 0 ? null : f.encode();
  }
}
