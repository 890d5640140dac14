package dev.imgmatch.local;

import org.bytedeco.javacpp.Loader;

/** Loads OpenCV's natives (JavaCPP's presets, bundled in the {@code org.bytedeco:opencv} platform jar) once per JVM. */
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
      } catch (Throwable e) {
        throw new IllegalStateException("cannot load OpenCV's natives for " + Loader.getPlatform()
            + " (local-feature verification needs them; the build ships linux-x86_64): " + e, e);
      }
      loaded = true;
    }
  }
}
