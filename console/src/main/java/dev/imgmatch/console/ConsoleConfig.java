package dev.imgmatch.console;

import dev.imgmatch.common.Settings;
import dev.imgmatch.schemas.Limits;
import dev.imgmatch.schemas.Topics;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.types.Password;

/**
 * Every setting of the review console and HTTP API: one {@link ConfigDef} with a doc, a default and a validator per
 * key; the cross-field rule (no anonymous access off loopback unless asked for) checked in the constructor, failing
 * at start with what to set. Kafka client settings pass through under {@code kafka.} ({@code kafka.security.protocol},
 * {@code kafka.ssl.*}, ...), as for the services.
 */
public final class ConsoleConfig extends AbstractConfig {
  public static final String KAFKA_PREFIX = "kafka.";
  public static final String BOOTSTRAP = "kafka.bootstrap.servers";
  public static final String TOPIC_PREFIX = "topic.prefix";
  public static final String BIND = "console.bind";
  public static final String PORT = "console.port";
  public static final String TOKEN = "console.auth.token";
  /** The environment variable the token may also come from (besides {@code IMGMATCH_CONSOLE_AUTH_TOKEN}). */
  public static final String TOKEN_ENV = "IMGMATCH_CONSOLE_TOKEN";
  public static final String ALLOW_ANONYMOUS = "console.auth.allow.anonymous";
  public static final String SESSION_HOURS = "console.auth.session.hours";
  public static final String MAX_SESSIONS = "console.auth.max.sessions";
  public static final String ALERTS_MAX = "console.alerts.max";
  public static final String ALERTS_LOOKBACK_MS = "console.alerts.lookback.ms";
  public static final String SSE_MAX_CLIENTS = "console.sse.max.clients";
  public static final String SSE_QUEUE = "console.sse.queue";
  public static final String LOOKUP_MAX_BYTES = "console.lookup.max.bytes";
  public static final String LOOKUP_MAX_CONCURRENT = "console.lookup.max.concurrent";
  public static final String QUERY_TIMEOUT_MS = "console.query.timeout.ms";
  public static final String QUERY_MAX_K = "console.query.max.k";
  public static final String QUERY_GATHER = "console.query.gather.partials";
  public static final String TENANT = "console.tenant";
  public static final String PREVIEWS_ENABLED = "console.previews.enabled";
  public static final String PREVIEWS_MAX_BYTES = "console.previews.max.bytes";
  public static final String PREVIEWS_TTL_MS = "console.previews.ttl.ms";
  public static final String SENSITIVE_COLLECTIONS = "console.sensitive.collections";
  /** Shortest token accepted: a guessable token on a network-facing page is worse than none (it looks safe). */
  public static final int MIN_TOKEN_CHARS = 16;

  public static final ConfigDef DEF = new ConfigDef()
      .define(BOOTSTRAP, Type.STRING, "localhost:9092", new ConfigDef.NonEmptyString(), Importance.HIGH,
          "Kafka bootstrap servers of the cluster whose alerts are shown and queried (other kafka.* keys go to the"
              + " Kafka clients unchanged).")
      .define(TOPIC_PREFIX, Type.STRING, Topics.DEFAULT_PREFIX, ConsoleConfig::validatePrefix, Importance.HIGH,
          "Prefix of every imgmatch topic name (one deployment, or one isolated tenant's prefix).")
      .define(BIND, Type.STRING, "127.0.0.1", new ConfigDef.NonEmptyString(), Importance.HIGH,
          "Address the HTTP server binds. Anything but a loopback address needs " + TOKEN + " (or "
              + ALLOW_ANONYMOUS + "=true).")
      .define(PORT, Type.INT, 8090, Range.between(0, 65535), Importance.HIGH, "HTTP port; 0 = a free port.")
      .define(TOKEN, Type.PASSWORD, null, ConsoleConfig::validateToken, Importance.HIGH,
          "Bearer token every endpoint but /health needs (Authorization: Bearer TOKEN; the page logs in with it and"
              + " holds a session cookie). At least " + MIN_TOKEN_CHARS + " characters. Unset: no authentication,"
              + " allowed on a loopback address only (or with " + ALLOW_ANONYMOUS + "). Also read from $"
              + TOKEN_ENV + ".")
      .define(ALLOW_ANONYMOUS, Type.BOOLEAN, false, Importance.HIGH,
          "Serve without a token on a non-loopback address (e.g. behind an authenticating proxy). Logged as a"
              + " warning at start.")
      .define(SESSION_HOURS, Type.INT, 12, Range.between(1, 24 * 30), Importance.LOW,
          "How long a console login lasts.")
      .define(MAX_SESSIONS, Type.INT, 1000, Range.between(1, 100_000), Importance.LOW,
          "Most console logins held at once; the oldest is dropped beyond it.")
      .define(ALERTS_MAX, Type.INT, 10_000, Range.between(1, 1_000_000), Importance.MEDIUM,
          "Most alerts held in memory (the newest by alert time); older ones are dropped from the console, not from"
              + " Kafka.")
      .define(ALERTS_LOOKBACK_MS, Type.LONG, -1L, Range.atLeast(-1), Importance.MEDIUM,
          "How far back the console reads match-alerts at start, in ms: -1 = from the beginning of the topic"
              + " (bounded by " + ALERTS_MAX + "), 0 = only alerts raised from now on.")
      .define(SSE_MAX_CLIENTS, Type.INT, 32, Range.between(1, 10_000), Importance.MEDIUM,
          "Most live alert streams (/v1/alerts/stream) open at once; one more gets 503.")
      .define(SSE_QUEUE, Type.INT, 256, Range.between(1, 100_000), Importance.LOW,
          "Alerts queued for one slow stream client before it is disconnected (it reconnects and resumes from the"
              + " store by Last-Event-ID).")
      .define(LOOKUP_MAX_BYTES, Type.INT, Limits.MAX_IMAGE_BYTES, Range.between(1, Limits.MAX_IMAGE_BYTES),
          Importance.MEDIUM, "Largest image body /v1/lookup accepts (413 beyond it); at most what a query record"
              + " carries (" + Limits.MAX_IMAGE_BYTES + ").")
      .define(LOOKUP_MAX_CONCURRENT, Type.INT, 4, Range.between(1, 1000), Importance.MEDIUM,
          "Lookups in flight at once (each holds its image in memory); one more gets 503 with Retry-After.")
      .define(QUERY_TIMEOUT_MS, Type.INT, 30_000, Range.between(100, 600_000), Importance.MEDIUM,
          "How long a lookup waits for the cluster's reply before answering 504.")
      .define(QUERY_MAX_K, Type.INT, 100, Range.between(1, 1000), Importance.LOW,
          "Largest k a lookup may ask for (400 beyond it).")
      .define(QUERY_GATHER, Type.BOOLEAN, false, Importance.LOW,
          "Fan-out deployments (one query.group.id per index-service instance): merge every instance's PARTIAL"
              + " reply (QueryClient.gatherPartials).")
      .define(TENANT, Type.STRING, "default", new ConfigDef.NonEmptyString(), Importance.MEDIUM,
          "Tenant a lookup asks as when the request names none (?tenant=).")
      .define(PREVIEWS_ENABLED, Type.BOOLEAN, true, Importance.HIGH,
          "Show colour previews of alerted uploads and of the references they match (read from the previews and"
              + " reference-previews topics index-service writes; GET /v1/images/{id}/preview). false = no previews"
              + " read, held or served: the page shows hashes, scores and ids only.")
      .define(PREVIEWS_MAX_BYTES, Type.LONG, 256L * 1024 * 1024, Range.between(1024 * 1024, 64L * 1024 * 1024 * 1024),
          Importance.MEDIUM, "Most bytes of preview JPEGs held in memory; the least recently used are dropped beyond"
              + " it (a dropped one is 404 until the console reads the topics again at its next start).")
      .define(PREVIEWS_TTL_MS, Type.LONG, 7L * 24 * 3600 * 1000, Range.atLeast(60_000), Importance.HIGH,
          "How long after it was written an alerted upload's preview is served (7 days); older ones are dropped."
              + " References' previews are served while they are indexed (a takedown removes them).")
      .define(SENSITIVE_COLLECTIONS, Type.LIST, List.of("banned"), Importance.HIGH,
          "Collections whose previews the page shows blurred and greyscale until the moderator clicks Reveal"
              + " (each reveal is logged: POST /v1/audit/reveal). An alert that matches one of them shows its upload"
              + " blurred too.");

  public ConsoleConfig(Map<String, ?> values) {
    super(DEF, values, false);
    boolean anonymous = token() == null;
    if (anonymous && !getBoolean(ALLOW_ANONYMOUS) && !loopback(getString(BIND))) {
      throw new ConfigException(BIND, getString(BIND), "is not a loopback address and no " + TOKEN + " is set: set"
          + " a token (at least " + MIN_TOKEN_CHARS + " characters; env " + TOKEN_ENV + ", or --token-file), bind"
          + " 127.0.0.1, or set " + ALLOW_ANONYMOUS + "=true to serve without authentication (behind a proxy that"
          + " authenticates)");
    }
  }

  /**
   * Settings from a file, the environment and overrides ({@link Settings#load}), with the token also taken from
   * {@code $IMGMATCH_CONSOLE_TOKEN} when nothing else sets it.
   */
  public static ConsoleConfig load(java.nio.file.Path file, Map<String, String> env, Map<String, String> overrides) {
    Map<String, String> m = new HashMap<>(Settings.load(file, env, overrides));
    String fromEnv = env.get(TOKEN_ENV);
    if (!m.containsKey(TOKEN) && fromEnv != null && !fromEnv.isBlank()) {
      m.put(TOKEN, fromEnv.strip());
    }
    return new ConsoleConfig(m);
  }

  /** The token, or null when authentication is off. */
  public String token() {
    Password p = getPassword(TOKEN);
    return p == null || p.value().isBlank() ? null : p.value();
  }

  public Topics topics() {
    return new Topics(getString(TOPIC_PREFIX));
  }

  /** Kafka client settings: every {@code kafka.*} key without its prefix. */
  public Map<String, Object> kafkaProps() {
    Map<String, Object> m = new HashMap<>(Settings.withPrefix(originals(), KAFKA_PREFIX));
    m.put("bootstrap.servers", getString(BOOTSTRAP));
    return m;
  }

  public Duration queryTimeout() {
    return Duration.ofMillis(getInt(QUERY_TIMEOUT_MS));
  }

  /** Collections whose previews the page blurs until revealed. */
  public java.util.Set<String> sensitiveCollections() {
    return java.util.Set.copyOf(getList(SENSITIVE_COLLECTIONS));
  }

  /** Whether the bind address is a loopback one (anonymous access allowed by default). */
  public boolean loopbackBind() {
    return loopback(getString(BIND));
  }

  static boolean loopback(String host) {
    try {
      return InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      throw new ConfigException(BIND, host, "unknown host: " + e.getMessage());
    }
  }

  /** The resolved settings, secrets masked, one {@code key = value} a line. */
  public String describe() {
    Map<String, Object> shown = new java.util.TreeMap<>(values());
    originals().forEach((k, v) -> { // the kafka.* pass-through too
      if (k.startsWith(KAFKA_PREFIX)) {
        shown.putIfAbsent(k, v);
      }
    });
    return Settings.describe(shown);
  }

  private static void validatePrefix(String name, Object v) {
    try {
      new Topics((String) v);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(name, v, e.getMessage());
    }
  }

  private static void validateToken(String name, Object v) {
    if (v instanceof Password p && !p.value().isBlank() && p.value().strip().length() < MIN_TOKEN_CHARS) {
      throw new ConfigException(name + " must have at least " + MIN_TOKEN_CHARS + " characters (a random one: "
          + "openssl rand -hex 24)");
    }
  }
}
