package dev.imgmatch.local;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.indexer.FloatIndexer;
import org.bytedeco.opencv.global.opencv_core;
import org.bytedeco.opencv.global.opencv_imgproc;
import org.bytedeco.opencv.opencv_core.KeyPointVector;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Size;
import org.bytedeco.opencv.opencv_features2d.SIFT;

/**
 * SIFT keypoints and RootSIFT descriptors of a picture (OpenCV's SIFT): the picture is turned grey and scaled so that
 * its longer side is at most {@code maxSide}, a picture whose longer side is below {@code enlargeTo} is first enlarged
 * to it (bilinear), then the {@code maxKeypoints} strongest keypoints are kept. Thread-safe (one OpenCV detector per
 * call, freed with the call's other native objects when it returns).
 *
 * <p>Enlarging serves probes: a copy pasted small into a 320-px meme, or a thumbnail, has its details at scales SIFT's
 * first octave does not see; at 512 px the same picture gives three to five times the keypoints, and a pasted copy's
 * inliers with its reference rise from below the decision to above it (docs/BENCHMARKS.md, "Small probes enlarged").
 */
public final class SiftExtractor {
  private final int maxSide;
  private final int maxKeypoints;
  private final int enlargeTo;

  /**
   * @param maxSide longest side the picture is scaled to (16..{@value LocalFeatures#MAX_SIDE})
   * @param maxKeypoints keypoints kept, strongest first (1..{@value LocalFeatures#MAX_KEYPOINTS})
   */
  public SiftExtractor(int maxSide, int maxKeypoints) {
    this(maxSide, maxKeypoints, 0);
  }

  /**
   * @param maxSide longest side the picture is scaled to (16..{@value LocalFeatures#MAX_SIDE})
   * @param maxKeypoints keypoints kept, strongest first (1..{@value LocalFeatures#MAX_KEYPOINTS})
   * @param enlargeTo a picture whose longer side is smaller is enlarged to this longer side before the keypoints are
   *     taken; 0 = never enlarged, else 16..maxSide
   */
  public SiftExtractor(int maxSide, int maxKeypoints, int enlargeTo) {
    if (enlargeTo != 0 && (enlargeTo < 16 || enlargeTo > maxSide)) {
      throw new IllegalArgumentException("enlargeTo " + enlargeTo + " must be 0 or within 16.." + maxSide);
    }
    if (maxSide < 16 || maxSide > LocalFeatures.MAX_SIDE) {
      throw new IllegalArgumentException("maxSide " + maxSide + " outside 16.." + LocalFeatures.MAX_SIDE);
    }
    if (maxKeypoints < 1 || maxKeypoints > LocalFeatures.MAX_KEYPOINTS) {
      throw new IllegalArgumentException("maxKeypoints " + maxKeypoints + " outside 1.." + LocalFeatures.MAX_KEYPOINTS);
    }
    OpenCvNatives.load();
    this.maxSide = maxSide;
    this.maxKeypoints = maxKeypoints;
    this.enlargeTo = enlargeTo;
  }

  /** The longer side a smaller picture is enlarged to; 0 = never enlarged. */
  public int enlargeTo() {
    return enlargeTo;
  }

  public int maxSide() {
    return maxSide;
  }

  public int maxKeypoints() {
    return maxKeypoints;
  }

  /** The features of {@code picture}; a picture without structure gives {@link LocalFeatures#empty}. */
  public LocalFeatures extract(BufferedImage picture) {
    double s = Math.min(1.0, maxSide / (double) Math.max(picture.getWidth(), picture.getHeight()));
    int w = Math.max(1, (int) Math.round(picture.getWidth() * s));
    int h = Math.max(1, (int) Math.round(picture.getHeight() * s));
    BufferedImage grey = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
    Graphics2D g = grey.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
    g.drawImage(picture, 0, 0, w, h, null);
    g.dispose();
    return extractGrey(((DataBufferByte) grey.getRaster().getDataBuffer()).getData(), w, h);
  }

  /**
   * The features of a grey picture given as {@code w × h} bytes, row after row, already shrunk to fit {@code maxSide};
   * a picture smaller than {@code enlargeTo} is enlarged here, and the features' size and keypoints are the enlarged
   * picture's.
   */
  public LocalFeatures extractGrey(byte[] grey, int w, int h) {
    if (grey.length != w * h) {
      throw new IllegalArgumentException(grey.length + " grey bytes for a " + w + "x" + h + " picture");
    }
    if (w < 16 || h < 16) {
      return LocalFeatures.empty(Math.max(1, w), Math.max(1, h));
    }
    // every native object of the call is freed when the scope closes (JavaCPP), not left to the collector
    try (PointerScope scope = new PointerScope()) {
      Mat img = new Mat(h, w, opencv_core.CV_8UC1);
      img.data().put(grey); // a new w × h CV_8UC1 matrix is continuous: its rows are w bytes apart
      int longer = Math.max(w, h);
      if (enlargeTo > longer) {
        double s = enlargeTo / (double) longer;
        w = Math.min(enlargeTo, Math.max(16, (int) Math.round(w * s)));
        h = Math.min(enlargeTo, Math.max(16, (int) Math.round(h * s)));
        Mat big = new Mat();
        opencv_imgproc.resize(img, big, new Size(w, h), 0, 0, opencv_imgproc.INTER_LINEAR);
        img = big;
      }
      SIFT sift = SIFT.create(maxKeypoints, 3, 0.04, 10, 1.6, false); // OpenCV's defaults, at most maxKeypoints
      KeyPointVector kps = new KeyPointVector();
      Mat desc = new Mat();
      sift.detectAndCompute(img, new Mat(), kps, desc);
      int n = (int) Math.min(maxKeypoints, kps.size());
      if (n == 0 || desc.rows() < n || desc.cols() != LocalFeatures.DIMS) {
        return LocalFeatures.empty(w, h);
      }
      float[] xs = new float[n];
      float[] ys = new float[n];
      byte[] q = new byte[n * LocalFeatures.DIMS];
      float[] row = new float[LocalFeatures.DIMS];
      try (FloatIndexer ix = desc.createIndexer()) {
        for (int i = 0; i < n; i++) {
          xs[i] = Math.min(w, Math.max(0, kps.get(i).pt().x()));
          ys[i] = Math.min(h, Math.max(0, kps.get(i).pt().y()));
          ix.get(i, 0, row, 0, row.length);
          rootSift(row, q, i * LocalFeatures.DIMS);
        }
      }
      return new LocalFeatures(w, h, xs, ys, q);
    }
  }

  /** RootSIFT (L1-normalise, square root: Arandjelović and Zisserman 2012), quantised to bytes. */
  static void rootSift(float[] sift, byte[] out, int offset) {
    double sum = 0;
    for (float v : sift) {
      sum += Math.abs(v);
    }
    for (int d = 0; d < sift.length; d++) {
      double r = sum > 0 ? Math.sqrt(Math.abs(sift[d]) / sum) : 0;
      out[offset + d] = (byte) Math.min(255, Math.round(r * LocalFeatures.QUANT));
    }
  }
}
