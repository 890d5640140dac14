package dev.imgmatch.console;

import dev.imgmatch.avro.Decision;
import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.avro.MatchedImage;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Which alerts a listing or a stream shows: every given criterion must hold.
 *
 * @param decisions decisions shown (empty: all)
 * @param collection the upload's collection, or null
 * @param matched a collection (or hash-list bank) one of the matched images is in, or null
 * @param tenant the upload's tenant, or null
 * @param sinceMs alerts raised at or after this time (epoch ms), or null
 * @param untilMs alerts raised before this time (epoch ms), or null
 * @param limit most alerts listed
 */
record AlertFilter(Set<Decision> decisions, String collection, String matched, String tenant, Long sinceMs,
    Long untilMs, int limit) {
  static final int DEFAULT_LIMIT = 100;
  static final int MAX_LIMIT = 1000;
  static final AlertFilter ALL = new AlertFilter(Set.of(), null, null, null, null, null, DEFAULT_LIMIT);

  AlertFilter {
    decisions = decisions.isEmpty() ? Set.of() : Set.copyOf(decisions);
  }

  boolean test(MatchAlert a) {
    if (!decisions.isEmpty() && !decisions.contains(a.getDecision())) {
      return false;
    }
    if (collection != null && !collection.equals(a.getCollection())) {
      return false;
    }
    if (tenant != null && !tenant.equals(a.getTenant())) {
      return false;
    }
    if (sinceMs != null && a.getAlertedAtMs() < sinceMs) {
      return false;
    }
    if (untilMs != null && a.getAlertedAtMs() >= untilMs) {
      return false;
    }
    if (matched != null) {
      for (MatchedImage m : a.getMatches()) {
        if (matched.equals(m.getCollection())) {
          return true;
        }
      }
      return false;
    }
    return true;
  }

  /**
   * From query parameters {@code decision} (MATCH, REVIEW or both comma-separated), {@code collection},
   * {@code matched}, {@code tenant}, {@code since}, {@code until} (ISO-8601 instants such as
   * {@code 2026-12-01T10:00:00Z}, or epoch milliseconds) and {@code limit} (1-1000, default 100). A value that
   * cannot be read is a 400 naming it; an unknown parameter too (a typo must not silently show everything), except
   * those of {@code alsoAllowed} (the caller reads them).
   */
  static AlertFilter parse(Map<String, String> q, String... alsoAllowed) {
    for (String k : q.keySet()) {
      if (!Set.of("decision", "collection", "matched", "tenant", "since", "until", "limit").contains(k)
          && !java.util.Arrays.asList(alsoAllowed).contains(k)) {
        throw ApiException.badRequest("unknown parameter '" + k + "' (filters: decision, collection, matched,"
            + " tenant, since, until, limit)");
      }
    }
    Set<Decision> decisions = EnumSet.noneOf(Decision.class);
    String d = blankToNull(q.get("decision"));
    if (d != null) {
      for (String part : d.split(",")) {
        try {
          decisions.add(Decision.valueOf(part.strip().toUpperCase(Locale.ROOT)));
        } catch (IllegalArgumentException e) {
          throw ApiException.badRequest("decision must be MATCH or REVIEW (or both, comma-separated), got '"
              + part.strip() + "'");
        }
      }
    }
    Long since = time(q, "since");
    Long until = time(q, "until");
    if (since != null && until != null && since >= until) {
      throw ApiException.badRequest("since (" + q.get("since") + ") must be before until (" + q.get("until") + ")");
    }
    int limit = DEFAULT_LIMIT;
    String l = blankToNull(q.get("limit"));
    if (l != null) {
      try {
        limit = Integer.parseInt(l);
      } catch (NumberFormatException e) {
        limit = -1;
      }
      if (limit < 1 || limit > MAX_LIMIT) {
        throw ApiException.badRequest("limit must be 1-" + MAX_LIMIT + ", got '" + l + "'");
      }
    }
    return new AlertFilter(decisions, blankToNull(q.get("collection")), blankToNull(q.get("matched")),
        blankToNull(q.get("tenant")), since, until, limit);
  }

  private static Long time(Map<String, String> q, String name) {
    String v = blankToNull(q.get(name));
    if (v == null) {
      return null;
    }
    if (v.chars().allMatch(Character::isDigit) && v.length() <= 15) {
      return Long.parseLong(v);
    }
    try {
      return Instant.parse(v).toEpochMilli();
    } catch (DateTimeParseException e) {
      throw ApiException.badRequest(name + " must be an ISO-8601 instant (e.g. 2026-12-01T10:00:00Z) or epoch"
          + " milliseconds, got '" + v + "'");
    }
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.strip();
  }
}
