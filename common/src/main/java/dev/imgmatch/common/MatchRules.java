package dev.imgmatch.common;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

/**
 * Which collections alert against which: the one rule set ({@value #KEY}) that both stages read, so they cannot
 * disagree. A new image of collection S is matched against the collections listed for S ({@link #targetsOf});
 * collections without a rule are only indexed.
 *
 * <ul>
 *   <li>index-service matches a new image of S against {@code targetsOf(S)} on every signal;</li>
 *   <li>ingest-stream alerts a byte-identical copy at once (detector {@code exact}) when the first sighting of its
 *       bytes is in T and {@link #alerts alerts(S, T)}; it keeps the first sightings of the {@link #watched}
 *       collections (the targets of some rule) until their takedown;</li>
 *   <li>index-service leaves the pair (upload, {@code exactDuplicateOf}) out of its own alert exactly when
 *       {@code alerts(S, T)}: ingest-stream has reported it.</li>
 * </ul>
 *
 * <p>Syntax: {@code source:target,target;source2:target}, blanks around names ignored, empty = no rules (match
 * nothing). {@code uploads:protected,banned,uploads} also matches uploads against earlier uploads.
 */
public final class MatchRules {
  /** The setting both ingest-stream and index-service read. */
  public static final String KEY = "match.rules";
  public static final String DEFAULT = "uploads:protected,banned";
  /** The setting's documentation, the same in both services' settings. */
  public static final String DOC = "Which new images are matched against which collections:"
      + " 'source:target,target;source2:target'. Add 'uploads' as a target to match uploads against earlier uploads."
      + " One rule set for ingest-stream and index-service (set the same value for both): ingest-stream alerts a"
      + " byte-identical copy at once (detector exact) when its first sighting is in a target of the upload's"
      + " collection, and index-service leaves exactly those pairs out of its alerts"
      + " (docs/modules/index-service.md#matching).";
  /** No rules: every image is only indexed. */
  public static final MatchRules NONE = new MatchRules(Map.of());
  /** Checks the syntax where the setting is defined; the message is {@link #parse}'s. */
  public static final ConfigDef.Validator VALIDATOR = (name, value) -> {
    try {
      parse((String) value);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(name, value, e.getMessage());
    }
  };

  private final Map<String, Set<String>> targets;
  private final Set<String> watched;
  /** Per target, the other collections matched against it ({@link #sourcesOf}: asked for every indexed image). */
  private final Map<String, Set<String>> sources;

  private MatchRules(Map<String, Set<String>> targets) {
    Map<String, Set<String>> m = new LinkedHashMap<>();
    Set<String> w = new LinkedHashSet<>();
    Map<String, Set<String>> src = new LinkedHashMap<>();
    targets.forEach((source, ts) -> {
      m.put(source, Collections.unmodifiableSet(new LinkedHashSet<>(ts)));
      w.addAll(ts);
      for (String t : ts) {
        if (!t.equals(source)) {
          src.computeIfAbsent(t, k -> new LinkedHashSet<>()).add(source);
        }
      }
    });
    src.replaceAll((t, s) -> Collections.unmodifiableSet(s));
    this.targets = Collections.unmodifiableMap(m);
    this.watched = Collections.unmodifiableSet(w);
    this.sources = Collections.unmodifiableMap(src);
  }

  /**
   * Parses {@code uploads:protected,banned;other:protected}; empty or blank = no rules.
   *
   * @throws IllegalArgumentException naming the rule that is not {@code source:target[,target...]}, the source whose
   *     rule names no target, or the source with two rules
   */
  public static MatchRules parse(String spec) {
    Map<String, Set<String>> m = new LinkedHashMap<>();
    for (String rule : (spec == null ? "" : spec).split(";")) {
      if (rule.isBlank()) {
        continue;
      }
      int colon = rule.indexOf(':');
      if (colon <= 0) {
        throw new IllegalArgumentException("rule '" + rule.strip() + "' is not 'source:target[,target...]'");
      }
      String source = rule.substring(0, colon).strip();
      Set<String> targets = new LinkedHashSet<>();
      for (String t : rule.substring(colon + 1).split(",")) {
        if (!t.isBlank()) {
          targets.add(t.strip());
        }
      }
      if (targets.isEmpty()) {
        throw new IllegalArgumentException("rule for '" + source + "' names no target collection");
      }
      if (m.put(source, targets) != null) {
        throw new IllegalArgumentException("collection '" + source + "' has two rules");
      }
    }
    return new MatchRules(m);
  }

  /**
   * Rules given as source -&gt; targets (tests, tools).
   *
   * @throws IllegalArgumentException for a source with no target
   */
  public static MatchRules of(Map<String, ? extends Collection<String>> rules) {
    rules.forEach((source, ts) -> {
      if (ts.isEmpty()) {
        throw new IllegalArgumentException("rule for '" + source + "' names no target collection");
      }
    });
    Map<String, Set<String>> m = new LinkedHashMap<>();
    rules.forEach((source, ts) -> m.put(source, new LinkedHashSet<>(ts)));
    return new MatchRules(m);
  }

  /** The collections a new image of {@code collection} is matched against; empty = it is only indexed. */
  public Set<String> targetsOf(String collection) {
    return targets.getOrDefault(collection, Set.of());
  }

  /**
   * The collections whose new images are matched against {@code target}, other than {@code target} itself: the
   * uploads a reference added to {@code target} is matched against retroactively (an image of a collection matched
   * against itself met the earlier ones when it arrived).
   */
  public Set<String> sourcesOf(String target) {
    return sources.getOrDefault(target, Set.of());
  }

  /** Every collection some rule matches against: the union of all targets. */
  public Set<String> watched() {
    return watched;
  }

  /**
   * True when a new image of {@code source} is matched against {@code target} (target in {@code targetsOf(source)}):
   * for a byte-identical copy whose first sighting is in {@code target}, ingest-stream raises the exact alert and
   * index-service leaves the pair out.
   */
  public boolean alerts(String source, String target) {
    return targetsOf(source).contains(target);
  }

  /** source -&gt; targets, in the order of the rules (unmodifiable). */
  public Map<String, Set<String>> asMap() {
    return targets;
  }

  public boolean isEmpty() {
    return targets.isEmpty();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof MatchRules r && r.targets.equals(targets);
  }

  @Override
  public int hashCode() {
    return Objects.hash(targets);
  }

  /** The rules in the setting's syntax ({@code parse(toString())} equals this). */
  @Override
  public String toString() {
    return targets.entrySet().stream().map(e -> e.getKey() + ":" + String.join(",", e.getValue()))
        .collect(Collectors.joining(";"));
  }
}
