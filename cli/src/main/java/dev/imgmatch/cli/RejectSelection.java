package dev.imgmatch.cli;

import dev.imgmatch.avro.Reject;
import dev.imgmatch.schemas.Rejects;
import dev.imgmatch.schemas.Topic;
import dev.imgmatch.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which dead letters a {@code rejects} command selects, and whether a selected one can be re-submitted. Pure: no Kafka.
 *
 * <p>A reject is <em>selected</em> when its reason is one of {@link #reasons} (all when empty), its stage one of
 * {@link #stages}, its source topic one of {@link #sourceTopics} and {@code since <= rejectedAtMs < until}. A selected
 * reject can be re-submitted only when its source topic is one of this stack's input topics (never a topic merely
 * named inside a record) and it kept the whole original record.
 *
 * @param reasons reason codes (upper case), empty = any
 * @param stages stage names, empty = any
 * @param sourceTopics full source topic names, empty = any
 * @param sinceMs first rejectedAtMs selected (inclusive), or null
 * @param untilMs rejectedAtMs selected up to (exclusive), or null
 * @param inputTopics the topics a reject may be re-submitted to: the input topics of this stack, prefix included
 */
record RejectSelection(Set<String> reasons, Set<String> stages, Set<String> sourceTopics, Long sinceMs, Long untilMs,
    Set<String> inputTopics) {

  enum Outcome {
    /** Selected, and the whole original record is in the reject: re-submit it to its source topic. */
    RESUBMIT,
    /** Another reason, stage, source topic or time than asked for. */
    NOT_SELECTED,
    /** Selected, but its source topic is not one of this stack's input topics: never produced to. */
    FOREIGN_TOPIC,
    /** Selected, but the reject kept only part of the record (or none of it): cannot be re-submitted. */
    INCOMPLETE_PAYLOAD
  }

  record Verdict(Outcome outcome, String why) {}

  RejectSelection {
    reasons = Set.copyOf(reasons);
    stages = Set.copyOf(stages);
    sourceTopics = Set.copyOf(sourceTopics);
    inputTopics = Set.copyOf(inputTopics);
    if (sinceMs != null && untilMs != null && sinceMs >= untilMs) {
      throw new IllegalArgumentException("--since must be before --until");
    }
  }

  /**
   * A selection for the stack under {@code topics}: reason codes are compared in upper case, a source topic may be
   * named with or without the prefix.
   */
  static RejectSelection of(Topics topics, Collection<String> reasons, Collection<String> stages,
      Collection<String> sourceTopics, Long sinceMs, Long untilMs) {
    Set<String> inputs = new LinkedHashSet<>();
    for (Topic<?, ?> t : inputTopics(topics)) {
      inputs.add(t.name());
    }
    Set<String> sources = new LinkedHashSet<>();
    for (String s : sourceTopics) {
      String name = s.trim();
      // "uploads" means the stack's uploads topic; a full name is taken as it is
      sources.add(!name.startsWith(topics.prefix()) && inputs.contains(topics.prefix() + name) ? topics.prefix() + name
          : name);
    }
    return new RejectSelection(clean(reasons, true), clean(stages, false), sources, sinceMs, untilMs, inputs);
  }

  private static Set<String> clean(Collection<String> values, boolean upper) {
    Set<String> out = new LinkedHashSet<>();
    for (String v : values) {
      String t = v.trim();
      if (!t.isEmpty()) {
        out.add(upper ? t.toUpperCase(Locale.ROOT) : t);
      }
    }
    return out;
  }

  /**
   * The topics a stage reads records from, so the only ones a reject can come from and be re-submitted to: not
   * {@code rejects} itself, not the output-only {@code match-alerts} and {@code query-replies}, not internal topics.
   */
  static List<Topic<?, ?>> inputTopics(Topics topics) {
    return List.of(topics.uploads(), topics.queries(), topics.prepared(), topics.embeddings(), topics.probes(),
        topics.deletions());
  }

  boolean selects(Reject r) {
    return (reasons.isEmpty() || reasons.contains(r.getReasonCode().toUpperCase(Locale.ROOT)))
        && (stages.isEmpty() || stages.contains(r.getStage()))
        && (sourceTopics.isEmpty() || sourceTopics.contains(r.getSourceTopic()))
        && (sinceMs == null || r.getRejectedAtMs() >= sinceMs)
        && (untilMs == null || r.getRejectedAtMs() < untilMs);
  }

  Verdict judge(Reject r) {
    if (!selects(r)) {
      return new Verdict(Outcome.NOT_SELECTED, "not selected");
    }
    if (!inputTopics.contains(r.getSourceTopic())) {
      return new Verdict(Outcome.FOREIGN_TOPIC, "source topic '" + r.getSourceTopic()
          + "' is not one of this stack's input topics " + new TreeSet<>(inputTopics));
    }
    String incomplete = incompleteness(r);
    return incomplete == null ? new Verdict(Outcome.RESUBMIT, "") : new Verdict(Outcome.INCOMPLETE_PAYLOAD, incomplete);
  }

  /** Why the reject does not hold the whole original record, or null when it does. */
  static String incompleteness(Reject r) {
    if (r.getOriginalValue() == null) {
      return r.getOriginalValueSize() < 0 ? "the original value was null (a tombstone): nothing to re-submit"
          : "the reject kept none of the original " + r.getOriginalValueSize() + "-byte value";
    }
    int kept = r.getOriginalValue().remaining();
    if (kept != r.getOriginalValueSize()) {
      return "the reject kept " + kept + " of the original " + r.getOriginalValueSize() + " bytes (cut by the stage's "
          + "reject payload limit, 1 MiB by default)";
    }
    if (r.getOriginalKey() != null && r.getOriginalKey().remaining() >= Rejects.MAX_KEY_BYTES) {
      return "the key is " + r.getOriginalKey().remaining() + " bytes: rejects keep at most " + Rejects.MAX_KEY_BYTES
          + ", so it may have been cut";
    }
    return null;
  }

  /** The selection in one stable line (what a redrive group remembers its position for). */
  String canonical() {
    return "reasons=" + new TreeSet<>(reasons) + ";stages=" + new TreeSet<>(stages) + ";sources="
        + new TreeSet<>(sourceTopics) + ";since=" + sinceMs + ";until=" + untilMs;
  }

  /**
   * The default consumer group of a redrive of this selection: under the topic prefix (so PREFIXED ACLs cover it),
   * readable, and distinct per selection, so that a redrive of one reason never hides the rejects of another.
   */
  String defaultGroup(Topics topics) {
    StringBuilder readable = new StringBuilder();
    for (String r : new TreeSet<>(reasons)) {
      readable.append(readable.isEmpty() ? "" : "+").append(r.replaceAll("[^A-Za-z0-9_]", "_"));
    }
    String head = readable.length() > 100 ? readable.substring(0, 100) : readable.toString();
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(canonical().getBytes(StandardCharsets.UTF_8));
      return topics.prefix() + "rejects-redrive-" + head + "-" + HexFormat.of().formatHex(h, 0, 6);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * A time given as epoch milliseconds or ISO-8601: an instant ({@code 2026-12-03T10:15:00Z}), a date-time with an
   * offset, a date-time without one (UTC) or a date (its midnight UTC).
   */
  static long parseTime(String s) {
    String t = s.trim();
    if (t.matches("\\d{1,18}")) {
      return Long.parseLong(t);
    }
    try {
      return OffsetDateTime.parse(t).toInstant().toEpochMilli();
    } catch (DateTimeParseException e) {
      // next form
    }
    try {
      return Instant.parse(t).toEpochMilli();
    } catch (DateTimeParseException e) {
      // next form
    }
    try {
      return LocalDateTime.parse(t).toInstant(ZoneOffset.UTC).toEpochMilli();
    } catch (DateTimeParseException e) {
      // next form
    }
    try {
      return LocalDate.parse(t).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("'" + s + "' is neither epoch milliseconds nor an ISO-8601 time "
          + "(2026-12-03T10:15:00Z, 2026-12-03T11:15:00+01:00, 2026-12-03)");
    }
  }
}
