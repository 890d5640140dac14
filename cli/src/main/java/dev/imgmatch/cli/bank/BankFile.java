package dev.imgmatch.cli.bank;

import dev.imgmatch.schemas.Limits;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Reads hash lists in the formats teams receive them, one entry per row, without holding the file in memory. Pure
 * logic (no Kafka): {@code ./imgmatch bank import} sends what it yields.
 *
 * <ul>
 *   <li>{@code csv}: imgmatch's own, with a header naming the columns (any order, case-insensitive): {@code pdq},
 *       {@code quality}, {@code md5}, {@code sha256}, {@code id}, {@code tags} (separated by spaces or ';'). What
 *       {@code bank export} writes; the output of {@code ./imgmatch hash} (file,sha256,pdq,quality,md5) is one too,
 *       its {@code file} column serving as the id.
 *   <li>{@code te-csv}: python-threatexchange's {@code threatexchange dataset -P --csv} (header {@code collab,
 *       signal_type,signal_str,category,tags}, tags separated by spaces): rows of signal type {@code pdq}, {@code
 *       photo_md5}, {@code video_md5}, {@code md5} and {@code sha256} are taken, others skipped with a reason.
 *   <li>{@code te-file}: the plain signal file of python-threatexchange's file exchange (what HMA's local file
 *       exchange reads): one {@code <signal_type> <signal>} per line, or one bare signal per line with {@code
 *       --signal-type}.
 * </ul>
 * Lists without a PDQ quality (the ThreatExchange formats) are taken at quality 100: their owner vouches for them.
 * An entry without an id gets {@code <signal_type>:<hex>} of its first signal, so that importing a list again
 * rewrites the same entries instead of adding new ones.
 */
public final class BankFile {
  /** The formats {@link #read} takes. */
  public enum Format {
    AUTO, CSV, TE_CSV, TE_FILE;

    public static Format parse(String s) {
      return valueOf(s.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
    }
  }

  /** One row: at least one signal, an id, tags. Hashes are raw bytes. */
  public record Row(int line, String id, byte[] pdq, int quality, byte[] md5, byte[] sha256, List<String> tags,
      String source) {}

  /** A row that could not be read, with why. */
  public record Problem(int line, String reason) {}

  private static final HexFormat HEX = HexFormat.of();
  private static final Map<String, String> TE_SIGNALS = Map.of("pdq", "pdq", "photo_md5", "md5", "video_md5", "md5",
      "md5", "md5", "sha256", "sha256", "photo_sha256", "sha256");

  private BankFile() {}

  /**
   * Reads every row of {@code in}, handing each to {@code rows} and each unreadable one to {@code problems}.
   *
   * @param signalType for {@code te-file} lines that carry no type (null: such lines are problems)
   * @return the format read (AUTO resolved)
   */
  public static Format read(BufferedReader in, Format format, String signalType, Consumer<Row> rows,
      Consumer<Problem> problems) throws IOException {
    List<String> header = null;
    Format f = format;
    int n = 0;
    for (String line; (line = in.readLine()) != null; ) {
      n++;
      if (n == 1 && line.startsWith("\uFEFF")) {
        line = line.substring(1); // a byte-order mark
      }
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      if (f == Format.AUTO) {
        f = detect(line);
      }
      if ((f == Format.CSV || f == Format.TE_CSV) && header == null) {
        header = csv(line).stream().map(h -> h.trim().toLowerCase(Locale.ROOT)).toList();
        String missing = missingColumns(f, header);
        if (missing != null) {
          throw new IllegalArgumentException("line " + n + ": " + missing);
        }
        continue;
      }
      try {
        Row r = switch (f) {
          case CSV -> csvRow(n, header, csv(line));
          case TE_CSV -> teCsvRow(n, header, csv(line));
          case TE_FILE -> teFileRow(n, line, signalType);
          case AUTO -> throw new IllegalStateException("resolved above");
        };
        rows.accept(r);
      } catch (IllegalArgumentException e) {
        problems.accept(new Problem(n, e.getMessage()));
      }
    }
    return f;
  }

  /** The format of a file from its first line. */
  static Format detect(String first) {
    String l = first.trim().toLowerCase(Locale.ROOT);
    if (l.startsWith("collab,") && l.contains("signal_type") && l.contains("signal_str")) {
      return Format.TE_CSV;
    }
    if (l.contains(",") && (l.contains("pdq") || l.contains("md5") || l.contains("sha256"))) {
      return Format.CSV;
    }
    return Format.TE_FILE;
  }

  private static String missingColumns(Format f, List<String> header) {
    if (f == Format.TE_CSV) {
      return header.contains("signal_type") && header.contains("signal_str") ? null
          : "a ThreatExchange CSV needs the columns signal_type and signal_str; the header is " + header;
    }
    return header.contains("pdq") || header.contains("md5") || header.contains("sha256") ? null
        : "the header names none of the columns pdq, md5, sha256 (it is " + header + ")";
  }

  private static Row csvRow(int line, List<String> header, List<String> cells) {
    Map<String, String> m = byName(header, cells, line);
    byte[] pdq = hex(m.get("pdq"), 32, "pdq");
    byte[] md5 = hex(m.get("md5"), 16, "md5");
    byte[] sha = hex(m.get("sha256"), 32, "sha256");
    int quality = 100;
    String q = m.getOrDefault("quality", "").trim();
    if (!q.isEmpty()) {
      try {
        quality = Integer.parseInt(q);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("quality '" + q + "' is not a number");
      }
      if (quality < 0 || quality > 100) {
        throw new IllegalArgumentException("quality " + quality + " is outside 0-100");
      }
    }
    String id = m.getOrDefault("id", "").trim();
    if (id.isEmpty()) {
      id = m.getOrDefault("file", "").trim();
    }
    List<String> tags = tags(m.getOrDefault("tags", ""), "[;\\s]+");
    return row(line, id, pdq, quality, md5, sha, tags, null);
  }

  private static Row teCsvRow(int line, List<String> header, List<String> cells) {
    Map<String, String> m = byName(header, cells, line);
    String type = m.getOrDefault("signal_type", "").trim().toLowerCase(Locale.ROOT);
    List<String> tags = new ArrayList<>(tags(m.getOrDefault("tags", ""), "\\s+"));
    String category = m.getOrDefault("category", "").trim();
    if (!category.isEmpty()) {
      tags.add(0, "category:" + category);
    }
    String collab = m.getOrDefault("collab", "").trim();
    return signalRow(line, type, m.getOrDefault("signal_str", ""), tags, collab.isEmpty() ? null : collab);
  }

  private static Row teFileRow(int line, String text, String signalType) {
    String s = text.trim();
    int space = s.indexOf(' ');
    if (space > 0) {
      return signalRow(line, s.substring(0, space).toLowerCase(Locale.ROOT), s.substring(space + 1), List.of(), null);
    }
    if (signalType == null) {
      throw new IllegalArgumentException("'" + cut(s) + "' names no signal type (write '<type> <signal>', or pass"
          + " --signal-type)");
    }
    return signalRow(line, signalType.toLowerCase(Locale.ROOT), s, List.of(), null);
  }

  private static Row signalRow(int line, String type, String signal, List<String> tags, String source) {
    String kind = TE_SIGNALS.get(type);
    if (kind == null) {
      throw new IllegalArgumentException("signal type '" + cut(type) + "' is not an image hash imgmatch matches"
          + " (pdq, photo_md5, video_md5, md5, sha256)");
    }
    String v = signal.trim();
    return switch (kind) {
      case "pdq" -> row(line, "", hex(v, 32, type), 100, null, null, tags, source);
      case "md5" -> row(line, "", null, 100, hex(v, 16, type), null, tags, source);
      default -> row(line, "", null, 100, null, hex(v, 32, type), tags, source);
    };
  }

  private static Row row(int line, String id, byte[] pdq, int quality, byte[] md5, byte[] sha, List<String> tags,
      String source) {
    if (pdq == null && md5 == null && sha == null) {
      throw new IllegalArgumentException("no signal: a row needs a pdq, md5 or sha256");
    }
    String entryId = id.isEmpty() ? derivedId(pdq, md5, sha) : id;
    if (entryId.getBytes(StandardCharsets.UTF_8).length > Limits.MAX_ID_BYTES) {
      throw new IllegalArgumentException("id has more than " + Limits.MAX_ID_BYTES + " bytes");
    }
    if (tags.size() > Limits.MAX_ATTRIBUTES) {
      throw new IllegalArgumentException(tags.size() + " tags, more than " + Limits.MAX_ATTRIBUTES);
    }
    return new Row(line, entryId, pdq, quality, md5, sha, List.copyOf(tags), source);
  }

  /** The id of an entry whose list gives none: its first signal, typed. */
  public static String derivedId(byte[] pdq, byte[] md5, byte[] sha) {
    return pdq != null ? "pdq:" + HEX.formatHex(pdq) : md5 != null ? "md5:" + HEX.formatHex(md5)
        : "sha256:" + HEX.formatHex(sha);
  }

  private static Map<String, String> byName(List<String> header, List<String> cells, int line) {
    if (cells.size() > header.size()) {
      throw new IllegalArgumentException(cells.size() + " cells, the header has " + header.size());
    }
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < cells.size(); i++) {
      m.put(header.get(i), cells.get(i));
    }
    return m;
  }

  private static List<String> tags(String s, String separators) {
    List<String> out = new ArrayList<>();
    for (String t : s.trim().split(separators)) {
      if (!t.isBlank()) {
        out.add(t);
      }
    }
    return out;
  }

  /** Null for an empty cell; else exactly {@code bytes} bytes of hex. */
  static byte[] hex(String cell, int bytes, String what) {
    if (cell == null || cell.isBlank()) {
      return null;
    }
    String s = cell.trim();
    if (s.length() != 2 * bytes || !s.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
      throw new IllegalArgumentException(what + " '" + cut(s) + "' is not " + 2 * bytes + " hexadecimal digits");
    }
    return HEX.parseHex(s.toLowerCase(Locale.ROOT));
  }

  private static String cut(String s) {
    return s.length() <= 80 ? s : s.substring(0, 80) + "...";
  }

  /** The cells of one CSV line (RFC 4180 quoting; no line breaks inside a cell). */
  static List<String> csv(String line) {
    List<String> out = new ArrayList<>();
    StringBuilder cell = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (quoted) {
        if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
          cell.append('"');
          i++;
        } else if (c == '"') {
          quoted = false;
        } else {
          cell.append(c);
        }
      } else if (c == '"' && cell.isEmpty()) {
        quoted = true;
      } else if (c == ',') {
        out.add(cell.toString());
        cell.setLength(0);
      } else {
        cell.append(c);
      }
    }
    if (quoted) {
      throw new IllegalArgumentException("a quoted cell is not closed");
    }
    out.add(cell.toString());
    return out;
  }

  /** The CSV line of an entry, as {@code bank export} writes it (header {@link #CSV_HEADER}). */
  public static String csvLine(String id, byte[] pdq, Integer quality, byte[] md5, byte[] sha, List<String> tags) {
    return String.join(",", pdq == null ? "" : HEX.formatHex(pdq), pdq == null || quality == null ? "" : quality.toString(),
        md5 == null ? "" : HEX.formatHex(md5), sha == null ? "" : HEX.formatHex(sha), quote(id),
        quote(String.join(" ", tags)));
  }

  public static final String CSV_HEADER = "pdq,quality,md5,sha256,id,tags";

  private static String quote(String s) {
    return s.contains(",") || s.contains("\"") || s.startsWith(" ") || s.endsWith(" ")
        ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
  }
}
