package dev.imgmatch.testkit;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One table of {@code match.rules} cases that the tests of both stages run through: ingest-stream must raise its exact
 * alert for a byte-identical copy exactly in the cases marked {@code exactAlert}, and index-service must leave exactly
 * those (upload, first sighting) pairs out of its alerts. Written out by hand, not computed from the parser, so the
 * table also checks {@code MatchRules} itself.
 */
public final class RuleCases {
  private RuleCases() {}

  /**
   * @param rules a {@code match.rules} value
   * @param upload the collection of the byte-identical copy
   * @param firstSighting the collection of the first sighting of its bytes (same tenant)
   * @param exactAlert whether the rules match {@code upload} against {@code firstSighting}: ingest-stream alerts the
   *     pair at once (detector exact) and index-service leaves it out
   */
  public record Case(String rules, String upload, String firstSighting, boolean exactAlert) {
    @Override
    public String toString() {
      return "'" + rules + "': " + upload + " copy of " + firstSighting + (exactAlert ? " alerts" : " does not alert");
    }
  }

  public static final List<Case> ALL = List.of(
      // the default: uploads of the references' bytes alert, nothing else does
      new Case("uploads:protected,banned", "uploads", "protected", true),
      new Case("uploads:protected,banned", "uploads", "banned", true),
      new Case("uploads:protected,banned", "uploads", "uploads", false),
      new Case("uploads:protected,banned", "protected", "banned", false), // alerted by ingest before the one rule set
      new Case("uploads:protected,banned", "banned", "protected", false), // likewise
      new Case("uploads:protected,banned", "protected", "protected", false),
      new Case("uploads:protected,banned", "other", "protected", false),
      // uploads also matched against earlier uploads: exact re-uploads alert at once too
      new Case("uploads:protected,banned,uploads", "uploads", "uploads", true),
      new Case("uploads:protected,banned,uploads", "uploads", "banned", true),
      new Case("uploads:protected,banned,uploads", "protected", "uploads", false),
      // what ./imgmatch scan sets: one collection matched against itself
      new Case("scan:scan", "scan", "scan", true),
      new Case("scan:scan", "uploads", "scan", false),
      new Case("scan:scan", "uploads", "protected", false),
      // no rules: nothing is matched, nothing alerts
      new Case("", "uploads", "protected", false),
      // two rules, blanks around names
      new Case(" uploads : protected ; partners: protected , partners", "partners", "partners", true),
      new Case(" uploads : protected ; partners: protected , partners", "partners", "protected", true),
      new Case(" uploads : protected ; partners: protected , partners", "uploads", "partners", false),
      new Case(" uploads : protected ; partners: protected , partners", "uploads", "protected", true));

  /** {@link #ALL} by rule set, in the order of the table. */
  public static Map<String, List<Case>> byRules() {
    Map<String, List<Case>> m = new LinkedHashMap<>();
    for (Case c : ALL) {
      m.computeIfAbsent(c.rules(), k -> new ArrayList<>()).add(c);
    }
    return m;
  }
}
