package dev.imgmatch.local;

/** Loads OpenCV's natives (bundled in the {@code org.openpnp:opencv} jar) once per JVM. */
public final class OpenCvNatives {
  private static volatile boolean loaded;

  private OpenCvNatives() {}

  /**
   * Loads the natives on first use; later calls return at once. Throws {@link IllegalStateException} with the cause when
   * this platform has no bundled build (the jar carries Linux, macOS and Windows builds for x86-64 and ARM).
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
        nu.pattern.OpenCV.loadLocally();
      } catch (Throwable e) {
        throw new IllegalStateException("cannot load OpenCV's natives for " + System.getProperty("os.name") + " "
            + System.getProperty("os.arch") + " (local-feature verification needs them): " + e, e);
      }
      loaded = true;
    }
  }
}
