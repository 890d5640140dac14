package dev.imgmatch.common;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

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

  /**
   * Refuses a setting that no longer exists: the first key of {@code removed} (in key order) that {@code settings}
   * sets is a {@link ConfigException} "no longer exists: " + what {@code removed} says instead (its replacement), so
   * a deployment that still sets it fails at start instead of being silently ignored.
   *
   * @param removed old key -&gt; why it went and what to set instead
   */
  public static void refuseRemoved(Map<String, ?> settings, Map<String, String> removed) {
    for (Map.Entry<String, String> r : new TreeMap<>(removed).entrySet()) {
      if (settings.containsKey(r.getKey())) {
        throw new ConfigException(r.getKey(), settings.get(r.getKey()), "no longer exists: " + r.getValue());
      }
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

  /** What a masked value prints as. */
  public static final String HIDDEN = "[hidden]";

  /**
   * Every setting Kafka's own clients declare as {@code Type.PASSWORD} (producer, consumer, admin; Kafka Streams
   * declares no others), read from their {@code ConfigDef}s so that a setting a later Kafka adds is masked too.
   * Read on first use, not when settings are loaded: Kafka's config classes create loggers, and a service must
   * choose its logging configuration before the first logger exists.
   */
  private static final class KafkaPasswords {
    static final Set<String> KEYS = kafkaPasswordKeys();
  }

  /** Words that make any key a secret wherever they appear in it. */
  private static final List<String> SECRET_PARTS = List.of("password", "passwd", "passphrase", "secret", "jaas");
  /** Last words (after the final '.', '_' or '-') that make a key a secret: {@code ssl.keystore.key}, {@code bearer.auth.token}. */
  private static final Set<String> SECRET_LAST_WORDS = Set.of("key", "pwd", "token", "tokens", "credentials",
      "apikey", "privatekey", "userinfo");
  /** {@code scheme://user:password@host}: the password part of a URL's user information. */
  private static final Pattern URL_PASSWORD = Pattern.compile("(://[^/@:\\s]*):([^/@\\s]+)@");

  private static Set<String> kafkaPasswordKeys() {
    Set<String> keys = new TreeSet<>();
    for (ConfigDef def : List.of(ProducerConfig.configDef(), ConsumerConfig.configDef(),
        AdminClientConfig.configDef())) {
      def.configKeys().values().stream().filter(k -> k.type == ConfigDef.Type.PASSWORD).forEach(k -> keys.add(k.name));
    }
    return Collections.unmodifiableSet(keys);
  }

  /**
   * Whether a setting's value is a secret: a key Kafka declares as a password, under any prefix ({@code kafka.},
   * Kafka Streams' {@code producer.}/{@code main.consumer.}..., {@code listener.name.x.plain.}), or whose name says
   * so: it contains password, passwd, passphrase, secret or jaas, or its last word is key, pwd, token(s),
   * credentials, apikey, privatekey or (as in {@code basic.auth.user.info}) user info. Keys that merely start with
   * such a word ({@code key.serializer}, {@code sasl.oauthbearer.token.endpoint.url},
   * {@code sasl.oauthbearer.client.credentials.client.id}) are not secrets.
   */
  public static boolean isSecret(String key) {
    String k = key.strip().toLowerCase(Locale.ROOT);
    for (String pw : KafkaPasswords.KEYS) {
      if (k.equals(pw) || k.endsWith("." + pw)) {
        return true;
      }
    }
    for (String part : SECRET_PARTS) {
      if (k.contains(part)) {
        return true;
      }
    }
    String[] words = k.split("[._\\-]");
    String last = words.length == 0 ? "" : words[words.length - 1];
    return SECRET_LAST_WORDS.contains(last) || k.endsWith("user.info") || k.endsWith("user_info");
  }

  /**
   * A value as it may be shown: {@link #HIDDEN} for a secret key (see {@link #isSecret}); otherwise the value with
   * the password of any {@code scheme://user:password@host} in it hidden.
   */
  public static String mask(String key, Object value) {
    if (isSecret(key)) {
      return HIDDEN;
    }
    return URL_PASSWORD.matcher(String.valueOf(value)).replaceAll("$1:" + Matcher.quoteReplacement(HIDDEN) + "@");
  }

  /** Masked copies of the entries ({@link #mask}), for anything that shows settings. */
  public static Map<String, String> masked(Map<String, ?> values) {
    Map<String, String> m = new TreeMap<>();
    values.forEach((k, v) -> m.put(k, mask(k, v)));
    return m;
  }

  /** Renders settings for the start-up log with secrets masked ({@link #mask}), one {@code key = value} a line. */
  public static String describe(Map<String, ?> values) {
    StringBuilder sb = new StringBuilder();
    masked(values).forEach((k, v) -> sb.append("  ").append(k).append(" = ").append(v).append('\n'));
    return sb.toString();
  }
}
