package dev.imgmatch.local;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.opencv.calib3d.Calib3d;
import org.opencv.core.Core;
import org.opencv.core.CvType;
import org.opencv.core.DMatch;
import org.opencv.core.Mat;
import org.opencv.core.MatOfDMatch;
import org.opencv.core.MatOfPoint2f;
import org.opencv.core.Point;
import org.opencv.features2d.BFMatcher;

/**
 * Is a reference inside a picture? Matches every keypoint of the picture (the query) to its two nearest reference
 * keypoints, keeps the distinctive ones (Lowe's ratio test), and fits a homography from reference to query with RANSAC
 * (OpenCV). Evidence: the inliers (counted once per reference position, since SIFT may give one position several
 * orientations) and the share of the reference they cover. Unrelated pictures reach a few inliers by chance, copies
 * tens (docs/BENCHMARKS.md, "Local features"). Thread-safe.
 */
public final class GeometricVerifier {
  /** The outcome for one (query, reference) pair. */
  public record Verification(int matches, int inliers, double referenceCoverage, double queryCoverage) {
    static final Verification NONE = new Verification(0, 0, 0, 0);
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
      matrix.release();
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
    Mat r = matrix(reference);
    List<MatOfDMatch> knn = new ArrayList<>();
    try {
      BFMatcher.create(Core.NORM_L2, false).knnMatch(prepared.matrix, r, knn, 2);
    } finally {
      r.release();
    }
    List<Point> inQuery = new ArrayList<>();
    List<Point> inRef = new ArrayList<>();
    for (MatOfDMatch m : knn) {
      DMatch[] d = m.toArray();
      m.release();
      if (d.length == 2 && d[0].distance < ratio * d[1].distance) {
        inQuery.add(new Point(query.x(d[0].queryIdx), query.y(d[0].queryIdx)));
        inRef.add(new Point(reference.x(d[0].trainIdx), reference.y(d[0].trainIdx)));
      }
    }
    if (inQuery.size() < minMatches) {
      return new Verification(inQuery.size(), 0, 0, 0); // fewer distinctive matches than inliers asked for: no fit
    }
    MatOfPoint2f src = new MatOfPoint2f(inRef.toArray(new Point[0]));
    MatOfPoint2f dst = new MatOfPoint2f(inQuery.toArray(new Point[0]));
    Mat mask = new Mat();
    Mat h = Calib3d.findHomography(src, dst, Calib3d.RANSAC, reprojectionPx, mask, 2000, 0.995);
    try {
      if (h.empty() || !plausible(h)) {
        return new Verification(inQuery.size(), 0, 0, 0);
      }
      byte[] keep = new byte[(int) mask.total()];
      mask.get(0, 0, keep);
      Set<Long> refPositions = new HashSet<>();
      double[] rb = {Double.MAX_VALUE, Double.MAX_VALUE, -Double.MAX_VALUE, -Double.MAX_VALUE};
      double[] qb = {Double.MAX_VALUE, Double.MAX_VALUE, -Double.MAX_VALUE, -Double.MAX_VALUE};
      for (int i = 0; i < keep.length; i++) {
        if (keep[i] == 0) {
          continue;
        }
        Point pr = inRef.get(i);
        Point pq = inQuery.get(i);
        refPositions.add(Math.round(pr.x / 2) * 100_000L + Math.round(pr.y / 2));
        extend(rb, pr);
        extend(qb, pq);
      }
      int inliers = refPositions.size();
      if (inliers == 0) {
        return new Verification(inQuery.size(), 0, 0, 0);
      }
      return new Verification(inQuery.size(), inliers, area(rb) / ((double) reference.width() * reference.height()),
          area(qb) / ((double) query.width() * query.height()));
    } finally {
      src.release();
      dst.release();
      mask.release();
      h.release();
    }
  }

  /** A homography that does not fold, collapse or blow the reference up beyond 1:50 is a placement; others are not. */
  private static boolean plausible(Mat h) {
    double[] m = new double[9];
    h.get(0, 0, m);
    double det = m[0] * m[4] - m[1] * m[3];
    return det > 1.0 / 2500 && det < 2500 && Math.abs(m[6]) < 0.01 && Math.abs(m[7]) < 0.01;
  }

  private static void extend(double[] b, Point p) {
    b[0] = Math.min(b[0], p.x);
    b[1] = Math.min(b[1], p.y);
    b[2] = Math.max(b[2], p.x);
    b[3] = Math.max(b[3], p.y);
  }

  private static double area(double[] b) {
    return Math.max(0, b[2] - b[0]) * Math.max(0, b[3] - b[1]);
  }

  private static Mat matrix(LocalFeatures f) {
    Mat m = new Mat(f.size(), LocalFeatures.DIMS, CvType.CV_32F);
    m.put(0, 0, f.descriptorMatrix());
    return m;
  }
}
