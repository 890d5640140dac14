package dev.imgmatch.ingest;

import dev.imgmatch.ingest.image.Resize;
import dev.imgmatch.ingest.image.RgbImage;
import dev.imgmatch.local.LocalFeatures;
import dev.imgmatch.local.SiftExtractor;

/**
 * The local features an image is sent with ({@code ingest.local.features}): references (images of the reference
 * collections) with up to {@code ingest.local.reference.keypoints} at {@code ingest.local.reference.side} px, every
 * other upload and query image with up to {@code ingest.local.query.keypoints} at {@code ingest.local.query.side}.
 * The oriented pixels are shrunk with ingest's own resize (area average) and turned grey once; SIFT runs on that.
 */
public final class LocalFeaturePrep {
  private final SiftExtractor reference;
  private final SiftExtractor probe;

  public LocalFeaturePrep(int referenceSide, int referenceKeypoints, int querySide, int queryKeypoints) {
    this.reference = new SiftExtractor(referenceSide, referenceKeypoints);
    this.probe = new SiftExtractor(querySide, queryKeypoints);
  }

  /** The encoded features ({@link LocalFeatures#encode}) of an image, or null when it has no keypoint. */
  public byte[] of(RgbImage oriented, boolean isReference) {
    SiftExtractor x = isReference ? reference : probe;
    double s = Math.min(1.0, (double) x.maxSide() / Math.max(oriented.width(), oriented.height()));
    int w = Math.max(1, (int) Math.round(oriented.width() * s));
    int h = Math.max(1, (int) Math.round(oriented.height() * s));
    int[] px = (w == oriented.width() && h == oriented.height() ? oriented : Resize.to(oriented, w, h)).pixels();
    byte[] grey = new byte[px.length];
    for (int i = 0; i < px.length; i++) {
      int p = px[i];
      grey[i] = (byte) Math.round(0.299f * ((p >> 16) & 0xFF) + 0.587f * ((p >> 8) & 0xFF) + 0.114f * (p & 0xFF));
    }
    LocalFeatures f = x.extractGrey(grey, w, h);
    return f.size() == 0 ? null : f.encode();
  }
}
