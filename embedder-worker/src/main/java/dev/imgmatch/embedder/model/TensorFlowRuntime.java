package dev.imgmatch.embedder.model;

import ai.djl.engine.Engine;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TensorFlow native runtime, set up once per JVM, always offline.
 *
 * <p>DJL's TensorFlow engine 0.36 cannot unpack the natives of {@code org.tensorflow:tensorflow-core-native}
 * (it would try to download its own). We copy the three shared libraries out of that jar (the classpath folder
 * {@code org/tensorflow/internal/c_api/<classifier>/}) into {@code <cache>/natives/<classifier>-<version>/} once,
 * point the system property {@code TENSORFLOW_LIBRARY_PATH} there, and only then ask DJL for the engine.
 * {@code ai.djl.offline=true} and {@code OPT_OUT_TRACKING=true} keep DJL from probing the network.
 *
 * <p>The CPU classifier ({@code linux-x86_64}) is the default; the {@code tf-gpu} Maven profile puts the CUDA build
 * ({@code linux-x86_64-gpu}) on the classpath instead, and TensorFlow then places ops on the first visible GPU by
 * itself. {@link #describeDevice()} says which one is in use.
 */
public final class TensorFlowRuntime {
  private static final Logger log = LoggerFactory.getLogger(TensorFlowRuntime.class);
  private static final String NATIVE_ROOT = "org/tensorflow/internal/c_api/";
  private static final List<String> CLASSIFIERS = List.of("linux-x86_64-gpu", "linux-x86_64");
  private static final List<String> LIBS =
      List.of("libtensorflow_framework.so.2", "libtensorflow_cc.so.2", "libjnitensorflow.so");

  private static volatile Engine engine;

  private TensorFlowRuntime() {}

  /** DJL never goes online: no model downloads, no native downloads, no telemetry. */
  public static void offline() {
    System.setProperty("ai.djl.offline", "true");
    System.setProperty("OPT_OUT_TRACKING", "true");
    System.setProperty("ai.djl.default_engine", "TensorFlow");
  }

  /** The DJL TensorFlow engine, natives extracted into {@code cacheRoot} on first use. */
  public static Engine engine(Path cacheRoot) {
    Engine e = engine;
    if (e == null) {
      synchronized (TensorFlowRuntime.class) {
        e = engine;
        if (e == null) {
          offline();
          if (System.getProperty("TENSORFLOW_LIBRARY_PATH") == null && System.getenv("TENSORFLOW_LIBRARY_PATH") == null) {
            Path dir = extractNatives(cacheRoot);
            System.setProperty("TENSORFLOW_LIBRARY_PATH", dir.toString());
          }
          long t0 = System.nanoTime();
          e = Engine.getEngine("TensorFlow");
          log.info("TensorFlow engine {} ready in {} ms on {}", e.getVersion(), (System.nanoTime() - t0) / 1_000_000,
              describeDevice(e));
          engine = e;
        }
      }
    }
    return e;
  }

  /** "gpu(0) (n GPUs visible)" or "cpu". */
  public static String describeDevice(Engine e) {
    int gpus = e.getGpuCount();
    return gpus > 0 ? "gpu(0) (" + gpus + " GPU(s) visible, CUDA natives)" : "cpu";
  }

  /** Which native build is on the classpath: linux-x86_64-gpu or linux-x86_64. */
  public static String nativeClassifier() {
    ClassLoader cl = TensorFlowRuntime.class.getClassLoader();
    for (String c : CLASSIFIERS) {
      if (cl.getResource(NATIVE_ROOT + c + "/" + LIBS.get(2)) != null) {
        return c;
      }
    }
    throw new IllegalStateException("no TensorFlow natives on the classpath: the module needs "
        + "org.tensorflow:tensorflow-core-native:<version>:linux-x86_64 (or linux-x86_64-gpu with -Ptf-gpu)");
  }

  /** Copies the shared libraries out of the natives jar once; returns the folder. */
  static Path extractNatives(Path cacheRoot) {
    String classifier = nativeClassifier();
    ClassLoader cl = TensorFlowRuntime.class.getClassLoader();
    String version = implementationVersion();
    Path dir = cacheRoot.resolve("natives").resolve(classifier + "-" + version);
    Path done = dir.resolve(".complete");
    if (Files.exists(done)) {
      return dir;
    }
    try {
      Files.createDirectories(dir);
      log.info("extracting TensorFlow natives ({}) into {} (once)", classifier, dir);
      for (String lib : LIBS) {
        try (InputStream in = cl.getResourceAsStream(NATIVE_ROOT + classifier + "/" + lib)) {
          if (in == null) {
            throw new IllegalStateException("natives jar lacks " + lib);
          }
          Path tmp = Files.createTempFile(dir, lib, ".part");
          Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
          Files.move(tmp, dir.resolve(lib), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
      }
      Files.writeString(done, classifier + " " + version + "\n");
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot extract TensorFlow natives into " + dir + ": " + e.getMessage(), e);
    }
  }

  private static String implementationVersion() {
    // the jar name carries the version; the manifest of tensorflow-core-native does not
    var url = TensorFlowRuntime.class.getClassLoader().getResource(NATIVE_ROOT + nativeClassifier() + "/" + LIBS.get(2));
    String s = String.valueOf(url);
    int i = s.indexOf("tensorflow-core-native-");
    if (i >= 0) {
      int j = s.indexOf(".jar", i);
      if (j > i) {
        return s.substring(i + "tensorflow-core-native-".length(), j);
      }
    }
    return Integer.toHexString(s.hashCode());
  }
}
