package dev.imgmatch.common;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * Where a service's settings come from, lowest precedence first: the service's defaults (its ConfigDef),
 * a properties file ({@code --config FILE}), environment variables, then explicit overrides (command line).
 *
 * <p>Environment variables: {@code IMGMATCH_FOO_BAR=x} sets {@code foo.bar=x}; a double underscore keeps a
 * literal underscore ({@code IMGMATCH_KAFKA_SASL__JAAS__CONFIG} is not needed in practice: Kafka client
 * settings pass through as {@code kafka.*}, e.g. {@code IMGMATCH_KAFKA_SECURITY_PROTOCOL=SASL_SSL}).
 */
public final class Settings {
  public static final String ENV_PREFIX = "IMGMATCH_";

  private Settings() {}

  /**
   * A service main's command line: {@code [--config FILE] [key=value ...] [--help]}.
   *
   * @param configFile the {@code --config} file, or null
   * @param overrides {@code key=value} arguments, in order
   * @param help whether {@code --help} / {@code -h} was given
   */
  public record Args(Path configFile, Map<String, String> overrides, boolean help) {
    /** Parses the arguments; an unexpected one is an {@link IllegalArgumentException} naming it. */
    public static Args parse(String... args) {
      Path file = null;
      Map<String, String> overrides = new LinkedHashMap<>();
      boolean help = false;
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        if (a.equals("--config") && i + 1 < args.length) {
          file = Path.of(args[++i]);
        } else if (a.equals("--help") || a.equals("-h")) {
          help = true;
        } else if (a.indexOf('=') > 0) {
          int eq = a.indexOf('=');
          overrides.put(a.substring(0, eq).strip(), a.substring(eq + 1).strip());
        } else {
          throw new IllegalArgumentException("unexpected argument '" + a
              + "' (want --config FILE, key=value or --help)");
        }
      }
      return new Args(file, java.util.Collections.unmodifiableMap(overrides), help);
    }

    /**
     * {@link #parse} for a service's {@code main}: on an unexpected argument prints "{@code service}: reason" to
     * {@code err} and returns null (the caller exits with status 2).
     */
    public static Args parseOrReport(String service, java.io.PrintStream err, String... args) {
      try {
        return parse(args);
      } catch (IllegalArgumentException e) {
        err.println(service + ": " + e.getMessage());
        return null;
      }
    }

    /** File, environment and these overrides merged (see {@link Settings#load}). */
    public Map<String, String> load(Map<String, String> env) {
      return Settings.load(configFile, env, overrides);
    }
  }

  /** Merges file, environment and overrides into one map of raw strings. */
  public static Map<String, String> load(Path file, Map<String, String> env, Map<String, String> overrides) {
    Map<String, String> out = new LinkedHashMap<>();
    if (file != null) {
      out.putAll(readFile(file));
    }
    out.putAll(fromEnv(env));
    out.putAll(overrides);
    return out;
  }

  public static Map<String, String> readFile(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("configuration file " + file.toAbsolutePath() + " does not exist");
    }
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(file)) {
      p.load(r);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read configuration file " + file + ": " + e.getMessage(), e);
    }
    Map<String, String> m = new TreeMap<>();
    p.stringPropertyNames().forEach(k -> m.put(k.strip(), p.getProperty(k).strip()));
    return m;
  }

  /** {@code IMGMATCH_INGEST_MAX_IMAGE_BYTES} becomes {@code ingest.max.image.bytes}; {@code __} becomes {@code _}. */
  public static Map<String, String> fromEnv(Map<String, String> env) {
    Map<String, String> m = new TreeMap<>();
    env.forEach((k, v) -> {
      if (k.startsWith(ENV_PREFIX) && k.length() > ENV_PREFIX.length()) {
        String key = k.substring(ENV_PREFIX.length()).toLowerCase(Locale.ROOT)
            .replace("__", "\u0000").replace('_', '.').replace('\u0000', '_');
        m.put(key, v);
      }
    });
    return m;
  }

  /** The entries under {@code prefix} with the prefix removed (e.g. Kafka client pass-through {@code kafka.}). */
  public static Map<String, Object> withPrefix(Map<String, ?> all, String prefix) {
    Map<String, Object> m = new TreeMap<>();
    all.forEach((k, v) -> {
      if (k.startsWith(prefix)) {
        m.put(k.substring(prefix.length()), v);
      }
    });
    return m;
  }

  /** Renders settings for the start-up log with secrets masked. */
  public static String describe(Map<String, ?> values) {
    StringBuilder sb = new StringBuilder();
    new TreeMap<>(values).forEach((k, v) -> {
      String lower = k.toLowerCase(Locale.ROOT);
      boolean secret = lower.contains("password") || lower.contains("secret") || lower.contains("jaas")
          || lower.contains("token") || lower.endsWith(".key");
      sb.append("  ").append(k).append(" = ").append(secret ? "[hidden]" : String.valueOf(v)).append('\n');
    });
    return sb.toString();
  }
}
