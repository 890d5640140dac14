package dev.imgmatch.cli.stack;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine;

/**
 * How many instances of each service a {@link LocalStack} runs: {@code --instances index=N,embedder=M,ingest=K}
 * (services left out keep 1). One of each (the default) runs the services inside the stack's JVM; more than one of
 * any runs every instance as a process of its own.
 *
 * @param index index-service instances
 * @param embedder embedder-worker instances
 * @param ingest ingest-stream instances
 */
public record Instances(int index, int embedder, int ingest) {
  /** One of each: the services in the stack's own JVM. */
  public static final Instances ONE = new Instances(1, 1, 1);
  /** Most instances of one service a local stack starts (each is a JVM on this machine). */
  public static final int MAX = 16;
  static final String SYNTAX = "SERVICE=N[,SERVICE=N...] with SERVICE one of index, embedder, ingest";

  public Instances {
    check("index", index);
    check("embedder", embedder);
    check("ingest", ingest);
  }

  private static void check(String service, int n) {
    if (n < 1 || n > MAX) {
      throw new IllegalArgumentException("--instances: " + service + "=" + n + " is out of range (1 to " + MAX + ")");
    }
  }

  /** True for one instance of each service: everything runs in the stack's JVM, as without --instances. */
  public boolean inProcess() {
    return index == 1 && embedder == 1 && ingest == 1;
  }

  /** The largest instance count of any service. */
  public int max() {
    return Math.max(index, Math.max(embedder, ingest));
  }

  /**
   * Parses {@code index=N,embedder=M,ingest=K}; services left out keep 1.
   *
   * @throws IllegalArgumentException saying what is wrong and what is expected
   */
  public static Instances parse(String spec) {
    if (spec == null || spec.isBlank()) {
      throw new IllegalArgumentException("--instances wants " + SYNTAX + ", got nothing");
    }
    Map<String, Integer> n = new LinkedHashMap<>();
    for (String part : spec.split(",", -1)) {
      String p = part.strip();
      int eq = p.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("--instances wants " + SYNTAX + ", got '" + spec + "'");
      }
      String service = p.substring(0, eq).strip().toLowerCase(Locale.ROOT);
      if (!ServiceSettings.SERVICES.contains(service)) {
        throw new IllegalArgumentException("--instances: unknown service '" + p.substring(0, eq).strip()
            + "' (index, embedder, ingest)");
      }
      int count;
      try {
        count = Integer.parseInt(p.substring(eq + 1).strip());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--instances: " + service + " wants a whole number of instances, got '"
            + p.substring(eq + 1).strip() + "'");
      }
      if (n.put(service, count) != null) {
        throw new IllegalArgumentException("--instances names " + service + " twice: '" + spec + "'");
      }
    }
    return new Instances(n.getOrDefault("index", 1), n.getOrDefault("embedder", 1), n.getOrDefault("ingest", 1));
  }

  @Override
  public String toString() {
    return "index=" + index + ",embedder=" + embedder + ",ingest=" + ingest;
  }

  /** Picocli converter: a bad value is a usage error (exit status 2) with the message of {@link #parse}. */
  public static final class Converter implements CommandLine.ITypeConverter<Instances> {
    @Override
    public Instances convert(String value) {
      try {
        return parse(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }
}
