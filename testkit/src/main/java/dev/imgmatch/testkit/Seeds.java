package dev.imgmatch.testkit;

/**
 * Seeds of tests' random inputs: fixed, so a run is repeatable on any machine, printed, so a failure names its
 * input, and overridable ({@code -Dimgmatch.test.seed=N} or {@code IMGMATCH_TEST_SEED=N}) to explore other inputs.
 */
public final class Seeds {
  public static final String PROPERTY = "imgmatch.test.seed";

  private Seeds() {}

  /** The override when one is given, else {@code fixed}; printed with {@code who}. */
  public static long of(String who, long fixed) {
    String s = System.getProperty(PROPERTY, System.getenv("IMGMATCH_TEST_SEED"));
    long seed = s == null || s.isBlank() ? fixed : Long.parseLong(s.strip());
    System.out.println(who + " seed=" + seed + " (override: -D" + PROPERTY + "=N)");
    return seed;
  }
}
