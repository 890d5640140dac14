package dev.imgmatch.cli.eval;

import dev.imgmatch.cli.scan.ScanReport;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The eval report: metrics, the precision-recall curve of the pooled ranking (the curve µAP integrates), recall@1
 * per transform family, and the worst misses and false alarms side by side with thumbnails.
 */
public final class EvalReport {
  private EvalReport() {}

  /**
   * Recall@1, recall@10 and decision recall (an alert naming a true reference) of positive queries per transform
   * family (a chain counts for each of its families).
   */
  public record FamilyRecall(String family, int queries, double recallAt1, double recallAt10, double decisionRecall) {}

  /** What became of one positive query: a true reference ranked first, among the 10 best, alerted. */
  private record Outcome(boolean first, boolean top10, boolean alerted) {}

  private static Outcome outcome(String query, Map<String, List<Scoring.Row>> byQuery, Scoring.Truth truth) {
    Set<String> want = truth.refsOf(query);
    List<Scoring.Row> ranked = byQuery.getOrDefault(query, List.of());
    return new Outcome(!ranked.isEmpty() && want.contains(ranked.getFirst().ref()),
        ranked.stream().limit(10).anyMatch(r -> want.contains(r.ref())),
        ranked.stream().anyMatch(r -> r.match() && want.contains(r.ref())));
  }

  public static List<FamilyRecall> perFamily(List<Scoring.Row> rows, Scoring.Truth truth) {
    Map<String, List<Scoring.Row>> byQuery = byQuery(rows);
    Map<String, int[]> counts = new TreeMap<>();
    truth.kinds().forEach((q, kind) -> {
      if (!kind.equals("positive")) {
        return;
      }
      String t = truth.transforms().getOrDefault(q, "");
      List<String> families = new ArrayList<>(List.of(t.isEmpty() ? "(unknown)" : t).stream()
          .flatMap(s -> java.util.Arrays.stream(s.split("\\+"))).distinct().toList());
      if (t.contains("+")) {
        families.add("chain of " + t.split("\\+").length + " edits");
      }
      Outcome o = outcome(q, byQuery, truth);
      for (String f : families) {
        int[] c = counts.computeIfAbsent(f, k -> new int[4]);
        c[0]++;
        c[1] += o.first() ? 1 : 0;
        c[2] += o.top10() ? 1 : 0;
        c[3] += o.alerted() ? 1 : 0;
      }
    });
    List<FamilyRecall> out = new ArrayList<>();
    counts.forEach((f, c) -> out.add(new FamilyRecall(f, c[0], c[1] / (double) c[0], c[2] / (double) c[0],
        c[3] / (double) c[0])));
    return out;
  }

  /**
   * One family's positive queries, single edits apart from chains of edits (a chain counts for each of its families):
   * the per-family table of docs/BENCHMARKS.md, which the targets are stated in ("crop_heavy in chains").
   */
  public record FamilySplit(String family, Part alone, Part chains) {
    /** Positive queries, those whose true reference ranks first, and those alerted against a true reference. */
    public record Part(int queries, int rankedFirst, int alerted) {
      public double recallAt1() {
        return queries == 0 ? Double.NaN : rankedFirst / (double) queries;
      }

      public double decisionRecall() {
        return queries == 0 ? Double.NaN : alerted / (double) queries;
      }
    }
  }

  /** {@link FamilySplit} per family, by name; empty when no query has a known transform. */
  public static List<FamilySplit> perFamilyAloneAndInChains(List<Scoring.Row> rows, Scoring.Truth truth) {
    Map<String, List<Scoring.Row>> byQuery = byQuery(rows);
    Map<String, int[]> counts = new TreeMap<>(); // alone: queries, first, alerted; chains: the same
    truth.kinds().forEach((q, kind) -> {
      String t = truth.transforms().getOrDefault(q, "");
      if (!kind.equals("positive") || t.isEmpty()) {
        return;
      }
      String[] edits = t.split("\\+");
      int at = edits.length > 1 ? 3 : 0;
      Outcome o = outcome(q, byQuery, truth);
      for (String f : java.util.Arrays.stream(edits).distinct().toList()) {
        int[] c = counts.computeIfAbsent(f, k -> new int[6]);
        c[at]++;
        c[at + 1] += o.first() ? 1 : 0;
        c[at + 2] += o.alerted() ? 1 : 0;
      }
    });
    List<FamilySplit> out = new ArrayList<>();
    counts.forEach((f, c) -> out.add(new FamilySplit(f, new FamilySplit.Part(c[0], c[1], c[2]),
        new FamilySplit.Part(c[3], c[4], c[5]))));
    return out;
  }

  /**
   * {@link #perFamilyAloneAndInChains} as text lines, each starting with {@code #} (eval prints them after its
   * {@code key: value} metrics): family, then for single edits and for chains the queries, recall@1 and decision
   * recall.
   */
  public static List<String> familyTable(List<FamilySplit> families) {
    List<String> out = new ArrayList<>();
    if (families.isEmpty()) {
      return out;
    }
    int width = Math.max(6, families.stream().mapToInt(f -> f.family().length()).max().orElse(0));
    out.add(String.format(Locale.ROOT, "# %-" + width + "s  %32s  %32s", "family", "alone: n, recall@1, decision",
        "in chains: n, recall@1, decision"));
    for (FamilySplit f : families) {
      out.add(String.format(Locale.ROOT, "# %-" + width + "s  %32s  %32s", f.family(), part(f.alone()),
          part(f.chains())));
    }
    return out;
  }

  private static String part(FamilySplit.Part p) {
    return p.queries() == 0 ? "-" : String.format(Locale.ROOT, "%d, %.2f, %.2f", p.queries(), p.recallAt1(),
        p.decisionRecall());
  }

  private static String cells(FamilySplit.Part p) {
    return p.queries() == 0 ? "<td>0</td><td></td><td></td>" : String.format(Locale.ROOT,
        "<td>%d</td><td>%.3f</td><td>%.3f</td>", p.queries(), p.recallAt1(), p.decisionRecall());
  }

  static Map<String, List<Scoring.Row>> byQuery(List<Scoring.Row> rows) {
    Map<String, List<Scoring.Row>> m = new HashMap<>();
    for (Scoring.Row r : rows) {
      m.computeIfAbsent(r.query(), k -> new ArrayList<>()).add(r);
    }
    m.values().forEach(l -> l.sort(Comparator.comparingDouble(Scoring.Row::score).reversed()));
    return m;
  }

  /** Precision-recall points of the pooled ranking (best score per pair). */
  static List<double[]> prCurve(List<Scoring.Row> rows, Scoring.Truth truth) {
    Map<List<String>, Double> best = new LinkedHashMap<>();
    rows.forEach(r -> best.merge(List.of(r.query(), r.ref()), r.score(), Math::max));
    List<Map.Entry<List<String>, Double>> ranked = new ArrayList<>(best.entrySet());
    ranked.sort(Comparator.comparingDouble((Map.Entry<List<String>, Double> e) -> -e.getValue()));
    List<double[]> pts = new ArrayList<>();
    int tp = 0;
    for (int i = 0; i < ranked.size(); i++) {
      if (truth.pairs().contains(ranked.get(i).getKey())) {
        tp++;
      }
      pts.add(new double[] {tp / (double) Math.max(1, truth.pairs().size()), tp / (double) (i + 1), ranked.get(i).getValue()});
    }
    return pts;
  }

  public static void write(Path dir, Scoring.Result result, List<Scoring.Row> rows, Scoring.Truth truth,
      Function<String, Path> queryFile, Function<String, Path> refFile, Map<String, String> extra) throws IOException {
    Files.createDirectories(dir);
    StringBuilder h = new StringBuilder();
    h.append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>imgmatch eval</title><style>")
        .append("body{font-family:system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse}")
        .append("td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:left}")
        .append(".case{display:flex;gap:12px;align-items:flex-start;margin:10px 0;border:1px solid #ddd;padding:8px;border-radius:6px}")
        .append("figure{margin:0;width:").append(ScanReport.THUMB).append("px}figure img{max-width:")
        .append(ScanReport.THUMB).append("px;max-height:").append(ScanReport.THUMB).append("px;border:1px solid #ccc}")
        .append("figcaption{font-size:12px}</style></head><body>\n<h1>imgmatch eval</h1>\n<h2>Metrics</h2><table>");
    result.asMap().forEach((k, v) -> h.append("<tr><th>").append(k).append("</th><td>").append(v).append("</td></tr>"));
    extra.forEach((k, v) -> h.append("<tr><th>").append(esc(k)).append("</th><td>").append(esc(v)).append("</td></tr>"));
    h.append("</table>\n<h2>Precision–recall (pooled ranking)</h2>\n").append(svg(prCurve(rows, truth)));
    h.append("\n<h2>Recall per transform family</h2><table><tr><th>family</th><th>positive queries</th>")
        .append("<th>recall@1</th><th>recall@10</th><th>decision recall</th></tr>");
    for (FamilyRecall f : perFamily(rows, truth)) {
      h.append(String.format(Locale.ROOT, "<tr><td>%s</td><td>%d</td><td>%.3f</td><td>%.3f</td><td>%.3f</td></tr>",
          esc(f.family()), f.queries(), f.recallAt1(), f.recallAt10(), f.decisionRecall()));
    }
    h.append("</table>\n<h2>Single edits and chains</h2><table><tr><th>family</th><th>alone: queries</th>")
        .append("<th>recall@1</th><th>decision recall</th><th>in chains: queries</th><th>recall@1</th>")
        .append("<th>decision recall</th></tr>");
    for (FamilySplit f : perFamilyAloneAndInChains(rows, truth)) {
      h.append("<tr><td>").append(esc(f.family())).append("</td>").append(cells(f.alone())).append(cells(f.chains()))
          .append("</tr>");
    }
    h.append("</table>\n");
    Map<String, List<Scoring.Row>> byQuery = byQuery(rows);
    h.append("<h2>Worst misses</h2><p>Positive queries whose true reference is not ranked first, lowest true score first.</p>");
    List<String[]> misses = new ArrayList<>(); // query, true ref, top ref, top score, true score
    truth.kinds().forEach((q, kind) -> {
      if (!kind.equals("positive")) {
        return;
      }
      Set<String> want = truth.refsOf(q);
      List<Scoring.Row> ranked = byQuery.getOrDefault(q, List.of());
      if (!ranked.isEmpty() && want.contains(ranked.getFirst().ref())) {
        return;
      }
      double trueScore = ranked.stream().filter(r -> want.contains(r.ref())).mapToDouble(Scoring.Row::score).max().orElse(-1);
      misses.add(new String[] {q, want.iterator().next(), ranked.isEmpty() ? null : ranked.getFirst().ref(),
          ranked.isEmpty() ? "" : fmt(ranked.getFirst().score()), trueScore < 0 ? "not in top 10" : fmt(trueScore)});
    });
    misses.sort(Comparator.comparing(m -> m[4].startsWith("not") ? -1.0 : Double.parseDouble(m[4])));
    for (String[] m : misses.subList(0, Math.min(12, misses.size()))) {
      h.append("<div class=\"case\">").append(fig(queryFile.apply(m[0]), "query " + m[0] + " (" + truth.transforms().getOrDefault(m[0], "") + ")"))
          .append(fig(refFile.apply(m[1]), "true ref " + m[1] + ": " + m[4]));
      if (m[2] != null) {
        h.append(fig(refFile.apply(m[2]), "ranked first " + m[2] + ": " + m[3]));
      }
      h.append("</div>\n");
    }
    h.append("<h2>False alarms</h2><p>Alerted pairs that are not copies, highest score first.</p>");
    List<Scoring.Row> fas = rows.stream().filter(r -> Boolean.TRUE.equals(r.match()))
        .filter(r -> !truth.pairs().contains(List.of(r.query(), r.ref())))
        .sorted(Comparator.comparingDouble(Scoring.Row::score).reversed()).limit(12).toList();
    if (fas.isEmpty()) {
      h.append("<p>None.</p>");
    }
    for (Scoring.Row r : fas) {
      h.append("<div class=\"case\">").append(fig(queryFile.apply(r.query()), "query " + r.query() + " ("
          + truth.kinds().getOrDefault(r.query(), "") + ")")).append(fig(refFile.apply(r.ref()), "alerted ref " + r.ref()
          + ": " + fmt(r.score()))).append("</div>\n");
    }
    h.append("</body></html>\n");
    Files.writeString(dir.resolve("index.html"), h, StandardCharsets.UTF_8);
  }

  private static String fig(Path file, String caption) {
    return "<figure><img src=\"" + ScanReport.thumbnailDataUri(file) + "\" alt=\"" + esc(caption) + "\"><figcaption>"
        + esc(caption) + "</figcaption></figure>";
  }

  static String svg(List<double[]> pts) {
    int w = 520;
    int hgt = 360;
    int pad = 40;
    StringBuilder s = new StringBuilder();
    s.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(w).append("\" height=\"").append(hgt)
        .append("\" style=\"border:1px solid #ddd\">");
    s.append("<line x1=\"").append(pad).append("\" y1=\"").append(hgt - pad).append("\" x2=\"").append(w - 10)
        .append("\" y2=\"").append(hgt - pad).append("\" stroke=\"#333\"/>");
    s.append("<line x1=\"").append(pad).append("\" y1=\"10\" x2=\"").append(pad).append("\" y2=\"").append(hgt - pad)
        .append("\" stroke=\"#333\"/>");
    for (int i = 0; i <= 10; i += 2) {
      double f = i / 10.0;
      int x = (int) (pad + f * (w - pad - 10));
      int y = (int) (hgt - pad - f * (hgt - pad - 10));
      s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"11\">%.1f</text>", x - 8, hgt - pad + 16, f));
      s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"11\">%.1f</text>", 8, y + 4, f));
    }
    s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"12\">recall</text>", w / 2, hgt - 6));
    s.append("<text x=\"4\" y=\"12\" font-size=\"12\">precision</text><polyline fill=\"none\" stroke=\"#1565c0\" stroke-width=\"2\" points=\"");
    int step = Math.max(1, pts.size() / 800);
    for (int i = 0; i < pts.size(); i += step) {
      double[] p = pts.get(i);
      s.append(String.format(Locale.ROOT, "%.1f,%.1f ", pad + p[0] * (w - pad - 10), hgt - pad - p[1] * (hgt - pad - 10)));
    }
    s.append("\"/></svg>");
    return s.toString();
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, "%.4f", v);
  }

  private static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
