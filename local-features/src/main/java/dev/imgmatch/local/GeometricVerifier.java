package dev.imgmatch.local;

import java.util.HashSet;
import java.util.Set;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.indexer.DoubleIndexer;
import org.bytedeco.javacpp.indexer.FloatIndexer;
import org.bytedeco.javacpp.indexer.UByteIndexer;
import org.bytedeco.opencv.global.opencv_calib3d;
import org.bytedeco.opencv.global.opencv_core;
import org.bytedeco.opencv.opencv_core.DMatch;
import org.bytedeco.opencv.opencv_core.DMatchVector;
import org.bytedeco.opencv.opencv_core.DMatchVectorVector;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_features2d.BFMatcher;

/**
 * Is a reference inside a picture? Matches every keypoint of the picture (the query) to its two nearest reference
 * keypoints, keeps the distinctive ones (Lowe's ratio test), and fits a homography from reference to query with RANSAC
 * (OpenCV). Evidence: the inliers (counted once per reference position, since SIFT may give one position several
 * orientations) and the share of the reference they cover. Unrelated pictures reach a few inliers by chance, copies
 * tens (docs/BENCHMARKS.md, "Local features"). Thread-safe.
 */
public final class GeometricVerifier {
  /**
   * The outcome for one (query, reference) pair.
   *
   * @param queryBox where the inliers lie in the query: {x0, y0, x1, y1} as fractions of its width and height (the
   *     part of the query the reference explains); empty when there are no inliers
   */
  public record Verification(int matches, int inliers, double referenceCoverage, double queryCoverage,
      float[] queryBox) {
    static final Verification NONE = new Verification(0, 0, 0, 0, new float[0]);

    Verification(int matches) {
      this(matches, 0, 0, 0, new float[0]);
    }

    /**
     * How much of the smaller of two query regions the other covers (0 to 1): two references whose inliers lie in the
     * same part of one query explain the same thing — copies of each other, as far as this query can tell.
     */
    public static double overlap(float[] a, float[] b) {
      if (a.length != 4 || b.length != 4) {
        return 0;
      }
      double w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
      double h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
      double smaller = Math.min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]));
      if (w <= 0 || h <= 0 || smaller <= 0) {
        return 0;
      }
      return Math.min(1, w * h / smaller);
    }
  }

  private final double ratio;
  private final double reprojectionPx;
  private final int minMatches;

  /** Ratio 0.8, 5 px RANSAC threshold (in the query's feature pixels), RANSAC only from 6 distinctive matches. */
  public GeometricVerifier() {
    this(0.8, 5.0, 6);
  }

  /**
   * @param minMatches distinctive matches below which no homography is fitted (inliers 0): the least number of inliers
   *     that will count as evidence makes a good value, since RANSAC over a few chance matches is most of the cost
   */
  public GeometricVerifier(double ratio, double reprojectionPx, int minMatches) {
    if (!(ratio > 0 && ratio < 1) || !(reprojectionPx > 0) || minMatches < 4) {
      throw new IllegalArgumentException("ratio " + ratio + " must be in (0, 1), reprojection " + reprojectionPx
          + " > 0, minMatches " + minMatches + " >= 4");
    }
    OpenCvNatives.load();
    this.ratio = ratio;
    this.reprojectionPx = reprojectionPx;
    this.minMatches = minMatches;
  }

  /**
   * A query's descriptors ready for matching against several references; {@link #close()} frees the native matrix.
   * Not thread-safe: one per thread.
   */
  public static final class Query implements AutoCloseable {
    final LocalFeatures features;
    final Mat matrix;

    private Query(LocalFeatures features) {
      this.features = features;
      this.matrix = matrix(features);
    }

    @Override
    public void close() {
      matrix.close();
    }
  }

  /** Prepares {@code query} once for several {@link #verify(Query, LocalFeatures)} calls. */
  public Query prepare(LocalFeatures query) {
    return new Query(query);
  }

  /** One pair; for several references of one query, {@link #prepare} it once. */
  public Verification verify(LocalFeatures query, LocalFeatures reference) {
    try (Query q = prepare(query)) {
      return verify(q, reference);
    }
  }

  public Verification verify(Query prepared, LocalFeatures reference) {
    LocalFeatures query = prepared.features;
    if (query.size() < 4 || reference.size() < 4) {
      return Verification.NONE;
    }
    // every native object made below is freed when the scope closes (JavaCPP), not left to the collector
    try (PointerScope scope = new PointerScope()) {
      Mat r = matrix(reference);
      DMatchVectorVector knn = new DMatchVectorVector();
      new BFMatcher(opencv_core.NORM_L2, false).knnMatch(prepared.matrix, r, knn, 2);
      int pairs = (int) knn.size();
      float[] qx = new float[pairs];
      float[] qy = new float[pairs];
      float[] rx = new float[pairs];
      float[] ry = new float[pairs];
      int m = 0;
      for (int i = 0; i < pairs; i++) {
        DMatchVector two = knn.get(i);
        if (two.size() == 2) {
          DMatch best = two.get(0);
          if (best.distance() < ratio * two.get(1).distance()) {
            qx[m] = query.x(best.queryIdx());
            qy[m] = query.y(best.queryIdx());
            rx[m] = reference.x(best.trainIdx());
            ry[m] = reference.y(best.trainIdx());
            m++;
          }
        }
      }
      if (m < minMatches) {
        return new Verification(m); // fewer distinctive matches than inliers asked for: no fit
      }
      Mat src = points(rx, ry, m);
      Mat dst = points(qx, qy, m);
      Mat mask = new Mat();
      Mat h = opencv_calib3d.findHomography(src, dst, opencv_calib3d.RANSAC, reprojectionPx, mask, 2000, 0.995);
      if (h.empty() || !plausible(h) || mask.rows() != m) {
        return new Verification(m);
      }
      Set<Long> refPositions = new HashSet<>();
      double[] rb = {Double.MAX_VALUE, Double.MAX_VALUE, -Double.MAX_VALUE, -Double.MAX_VALUE};
      double[] qb = {Double.MAX_VALUE, Double.MAX_VALUE, -Double.MAX_VALUE, -Double.MAX_VALUE};
      try (UByteIndexer keep = mask.createIndexer()) {
        for (int i = 0; i < m; i++) {
          if (keep.get(i) == 0) {
            continue;
          }
          refPositions.add(Math.round(rx[i] / 2) * 100_000L + Math.round(ry[i] / 2));
          extend(rb, rx[i], ry[i]);
          extend(qb, qx[i], qy[i]);
        }
      }
      int inliers = refPositions.size();
      if (inliers == 0) {
        return new Verification(m);
      }
      float[] box = {(float) (qb[0] / query.width()), (float) (qb[1] / query.height()), (float) (qb[2] / query.width()),
          (float) (qb[3] / query.height())};
      return new Verification(m, inliers, area(rb) / ((double) reference.width() * reference.height()),
          area(qb) / ((double) query.width() * query.height()), box);
    }
  }

  /** A homography that does not fold, collapse or blow the reference up beyond 1:50 is a placement; others are not. */
  private static boolean plausible(Mat h) {
    double[] m = new double[9];
    try (DoubleIndexer ix = h.createIndexer()) {
      for (int k = 0; k < 9; k++) {
        m[k] = ix.get(k / 3, k % 3);
      }
    }
    double det = m[0] * m[4] - m[1] * m[3];
    return det > 1.0 / 2500 && det < 2500 && Math.abs(m[6]) < 0.01 && Math.abs(m[7]) < 0.01;
  }

  private static void extend(double[] b, float x, float y) {
    b[0] = Math.min(b[0], x);
    b[1] = Math.min(b[1], y);
    b[2] = Math.max(b[2], x);
    b[3] = Math.max(b[3], y);
  }

  /** {@code m} points as an m × 1 two-channel float matrix (what findHomography takes). */
  private static Mat points(float[] xs, float[] ys, int m) {
    Mat p = new Mat(m, 1, opencv_core.CV_32FC2);
    try (FloatIndexer ix = p.createIndexer()) {
      for (int i = 0; i < m; i++) {
        ix.put(i, 0, 0, xs[i]);
        ix.put(i, 0, 1, ys[i]);
      }
    }
    return p;
  }

  private static double area(double[] b) {
    return Math.max(0, b[2] - b[0]) * Math.max(0, b[3] - b[1]);
  }

  private static Mat matrix(LocalFeatures f) {
    Mat m = new Mat(f.size(), LocalFeatures.DIMS, opencv_core.CV_32F);
    if (f.size() > 0) {
      new FloatPointer(m.data()).put(f.descriptorMatrix()); // a new matrix is continuous
    }
    return m;
  }
}
