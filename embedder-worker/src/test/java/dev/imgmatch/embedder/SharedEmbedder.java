package dev.imgmatch.embedder;

/**
 * One real Embedder (default model + default head) per test JVM: loading TensorFlow and the model takes seconds, so
 * the integration tests share it. Built into the user's cache on first use (npm + conversion + head fit).
 */
public final class SharedEmbedder {
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
