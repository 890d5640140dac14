package dev.imgmatch.local;

import org.bytedeco.javacpp.Loader;

/**
 * Loads OpenCV's natives (JavaCPP's presets, bundled in the {@code org.bytedeco:opencv} platform jar) once per JVM, and
 * makes OpenCV run each call on the calling thread ({@code cv::setNumThreads(1)}): the services call it from several
 * threads at once already, and OpenCV's own thread pool made SIFT 2-5 times slower on a 2-core machine (256-px icons
 * enlarged to 512: 169 → 32 ms; 512-px queries: 37 → 18 ms at their own size; docs/BENCHMARKS.md, "Small probes
 * enlarged").
 */
public final class OpenCvNatives {
  private static volatile boolean loaded;

  private OpenCvNatives() {}

  /**
   * Loads the natives on first use; later calls return at once. Throws {@link IllegalStateException} with the cause when
   * this platform's natives are not on the class path (the build ships {@code javacpp.platform}, linux-x86_64).
   */
  public static void load() {
    if (loaded) {
      return;
    }
    synchronized (OpenCvNatives.class) {
      if (loaded) {
        return;
      }
      try {
        Loader.load(org.bytedeco.opencv.global.opencv_features2d.class);
        Loader.load(org.bytedeco.opencv.global.opencv_calib3d.class);
        org.bytedeco.opencv.global.opencv_core.setNumThreads(1);
      } catch (Throwable e) {
        throw new IllegalStateException("cannot load OpenCV's natives for " + Loader.getPlatform()
            + " (local-feature verification needs them; the build ships linux-x86_64): " + e, e);
      }
      loaded = true;
    }
  }
}
