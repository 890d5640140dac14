package dev.imgmatch.local;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.MatOfKeyPoint;
import org.opencv.features2d.SIFT;

/**
 * SIFT keypoints and RootSIFT descriptors of a picture (OpenCV's SIFT): the picture is turned grey and scaled so that
 * its longer side is at most {@code maxSide} (never enlarged), then the {@code maxKeypoints} strongest keypoints are
 * kept. Thread-safe (one OpenCV detector per call; creating one costs microseconds).
 */
public final class SiftExtractor {
  private final int maxSide;
  private final int maxKeypoints;

  /**
   * @param maxSide longest side the picture is scaled to (16..{@value LocalFeatures#MAX_SIDE})
   * @param maxKeypoints keypoints kept, strongest first (1..{@value LocalFeatures#MAX_KEYPOINTS})
   */
  public SiftExtractor(int maxSide, int maxKeypoints) {
    if (maxSide < 16 || maxSide > LocalFeatures.MAX_SIDE) {
      throw new IllegalArgumentException("maxSide " + maxSide + " outside 16.." + LocalFeatures.MAX_SIDE);
    }
    if (maxKeypoints < 1 || maxKeypoints > LocalFeatures.MAX_KEYPOINTS) {
      throw new IllegalArgumentException("maxKeypoints " + maxKeypoints + " outside 1.." + LocalFeatures.MAX_KEYPOINTS);
    }
    OpenCvNatives.load();
    this.maxSide = maxSide;
    this.maxKeypoints = maxKeypoints;
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

  /** The features of a grey picture given as {@code w × h} bytes, row after row, already at the size to use. */
  public LocalFeatures extractGrey(byte[] grey, int w, int h) {
    if (grey.length != w * h) {
      throw new IllegalArgumentException(grey.length + " grey bytes for a " + w + "x" + h + " picture");
    }
    if (w < 16 || h < 16) {
      return LocalFeatures.empty(Math.max(1, w), Math.max(1, h));
    }
    Mat img = new Mat(h, w, CvType.CV_8UC1);
    MatOfKeyPoint kps = new MatOfKeyPoint();
    Mat desc = new Mat();
    try {
      img.put(0, 0, grey);
      SIFT.create(maxKeypoints).detectAndCompute(img, new Mat(), kps, desc);
      int n = Math.min(maxKeypoints, (int) kps.rows());
      if (n == 0 || desc.rows() < n) {
        return LocalFeatures.empty(w, h);
      }
      float[] kp = new float[(int) kps.total() * 7];
      kps.get(0, 0, kp); // x, y, size, angle, response, octave, class_id
      float[] xs = new float[n];
      float[] ys = new float[n];
      byte[] q = new byte[n * LocalFeatures.DIMS];
      float[] row = new float[LocalFeatures.DIMS];
      for (int i = 0; i < n; i++) {
        xs[i] = Math.min(w, Math.max(0, kp[i * 7]));
        ys[i] = Math.min(h, Math.max(0, kp[i * 7 + 1]));
        desc.get(i, 0, row);
        rootSift(row, q, i * LocalFeatures.DIMS);
      }
      return new LocalFeatures(w, h, xs, ys, q);
    } finally {
      img.release();
      kps.release();
      desc.release();
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
