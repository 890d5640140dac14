package dev.imgmatch.bench;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/** The harnesses' {@code --name value} arguments. */
public final class BenchArgs {
  private BenchArgs() {}

  /** {@code --name value} pairs by name (without the dashes); anything else fails with {@code usage}. */
  public static Map<String, String> parse(String[] args, String usage) {
    Map<String, String> m = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (!args[i].startsWith("--") || i + 1 >= args.length) {
        throw new IllegalArgumentException("usage: " + usage + " (got " + Arrays.toString(args) + ")");
      }
      m.put(args[i].substring(2), args[++i]);
    }
    return m;
  }
}
