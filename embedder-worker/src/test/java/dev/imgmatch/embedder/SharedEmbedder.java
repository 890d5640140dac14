package dev.imgmatch.embedder;

/**
 * One real Embedder (default model + default head) per test JVM: loading TensorFlow and the model takes seconds, so
 * the integration tests share it. Built into the user's cache on first use (npm + conversion + head fit).
 */
public final class SharedEmbedder {
  /**
   * Builds the shared model before a test class's tests (extend the class with it): on an empty cache that is the npm
   * package, its conversion and the head fit — minutes on a 2-core machine — which a test's {@code @Timeout} must not
   * count, and a test that starts a child process needs in the cache first.
   */
  public static final class Warm implements org.junit.jupiter.api.extension.BeforeAllCallback {
    @Override
    public void beforeAll(org.junit.jupiter.api.extension.ExtensionContext context) {
      get();
    }
  }

  private static Embedder instance;

  private SharedEmbedder() {}

  public static synchronized Embedder get() {
    if (instance == null) {
      instance = Embedder.open(EmbedderOptions.defaults(), m -> System.err.println("[model] " + m));
      Runtime.getRuntime().addShutdownHook(new Thread(instance::close));
    }
    return instance;
  }
}
