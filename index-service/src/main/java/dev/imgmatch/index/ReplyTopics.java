package dev.imgmatch.index;

import dev.imgmatch.avro.MatchedImage;
import dev.imgmatch.avro.QueryReply;
import dev.imgmatch.schemas.Topic;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * Where a query's reply may go, and how large it may be. A query may name its own reply topic, but only one that
 * matches {@code query.reply.topic.pattern} (default: the deployment's {@code <prefix>query-replies}, optionally
 * followed by {@code .}, {@code -} or {@code _} and a suffix) and that exists: a client cannot aim replies at another
 * topic, and a missing one costs one rejected query, never a thread blocked waiting for its metadata. Existence is
 * asked through {@code exists} (the Admin client) and remembered: 10 minutes when present, 30 seconds when absent.
 * A reply larger than its topic takes loses its results' attributes first, then its weakest results.
 */
final class ReplyTopics {
  static final long KNOWN_MS = 10 * 60_000;
  static final long MISSING_MS = 30_000;

  /** Why a named reply topic cannot be used (or null for the topic itself). */
  record Choice(String topic, String refusal) {}

  private final Pattern allowed;
  private final String defaultTopic;
  private final Predicate<String> exists;
  private final Map<String, long[]> checked = new ConcurrentHashMap<>(); // name -> {until, present 0/1}

  ReplyTopics(String pattern, String defaultTopic, Predicate<String> exists) {
    this.allowed = Pattern.compile(pattern);
    this.defaultTopic = defaultTopic;
    this.exists = exists;
  }

  /** The default pattern for a topic prefix. */
  static String defaultPattern(String prefix) {
    return Pattern.quote(prefix + "query-replies") + "([._-][A-Za-z0-9._-]{1,100})?";
  }

  /** The topic to reply on for a query naming {@code named} (null or blank: the default topic). */
  Choice choose(String named, long nowMs) {
    if (named == null || named.isBlank() || named.equals(defaultTopic)) {
      return new Choice(defaultTopic, null);
    }
    if (!allowed.matcher(named).matches()) {
      return new Choice(null, "reply topic '" + cut(named) + "' is not allowed (query.reply.topic.pattern "
          + allowed.pattern() + ")");
    }
    long[] c = checked.get(named);
    if (c == null || c[0] < nowMs) {
      boolean present = exists.test(named);
      c = new long[] {nowMs + (present ? KNOWN_MS : MISSING_MS), present ? 1 : 0};
      checked.put(named, c);
    }
    return c[1] == 1 ? new Choice(named, null) : new Choice(null, "reply topic '" + named + "' does not exist");
  }

  /** Forgets what is known of a topic (e.g. a send to it failed). */
  void forget(String topic) {
    checked.remove(topic);
  }

  /** A reply that fits its topic, with its serialized value (serialized once, to measure it). */
  record Fitted(QueryReply reply, byte[] value) {}

  /**
   * {@code reply}, made to fit {@code topic} (its serialized size within {@link Topic#maxMessageBytes} less
   * {@code framing}): without the results' attributes if needed, then with fewer results (the weakest dropped).
   */
  static Fitted fit(QueryReply reply, Topic<String, QueryReply> topic, int framing) {
    int max = topic.maxMessageBytes() - framing;
    byte[] value = topic.serializeValue(reply);
    if (value.length <= max) {
      return new Fitted(reply, value);
    }
    List<MatchedImage> bare = new ArrayList<>();
    for (MatchedImage m : reply.getResults()) {
      bare.add(MatchedImage.newBuilder(m).setAttributes(Map.of()).build());
    }
    QueryReply r = QueryReply.newBuilder(reply).setResults(bare).build();
    value = topic.serializeValue(r);
    while (value.length > max && !r.getResults().isEmpty()) {
      List<MatchedImage> fewer = new ArrayList<>(r.getResults().subList(0, r.getResults().size() * 3 / 4));
      r = QueryReply.newBuilder(r).setResults(fewer).build();
      value = topic.serializeValue(r);
    }
    return new Fitted(r, value);
  }

  private static String cut(String s) {
    return s.length() <= 120 ? s : s.substring(0, 120) + "...";
  }
}
