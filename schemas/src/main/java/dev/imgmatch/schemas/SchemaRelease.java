package dev.imgmatch.schemas;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;

/**
 * Writes released schema files as <em>plain</em> Avro: self-contained JSON with no Java-only properties (the build
 * sets Java's string type, {@code avro.java.string}, on the generated classes; a released file must not carry it,
 * because some libraries keep unknown properties in the parsing canonical form and so compute another fingerprint
 * than Java does). Also prints the table of fingerprints that docs/SCHEMAS.md lists.
 *
 * <p>Release the current version of a record: {@code java -cp schemas/target/classes:... dev.imgmatch.schemas
 * .SchemaRelease release dev.imgmatch.avro.MatchAlert schemas/src/main/resources/imgmatch/schemas/released}.
 */
public final class SchemaRelease {
  private SchemaRelease() {}

  /** The schema as self-contained JSON without any {@code avro.java.*} property, pretty-printed. */
  public static String plainJson(Schema schema) {
    // the build's only Java property is the string type: on a string ({"type":"string","avro.java.string":..})
    // and on a map (for its keys)
    String json = JAVA_STRING_TYPE.matcher(schema.toString(false)).replaceAll("\"string\"");
    json = JAVA_PROPERTY.matcher(json).replaceAll("");
    Schema plain = new Schema.Parser().parse(json);
    if (SchemaNormalization.parsingFingerprint64(plain) != SchemaNormalization.parsingFingerprint64(schema)) {
      throw new IllegalStateException("stripping Java properties changed " + schema.getFullName());
    }
    String out = plain.toString(true);
    if (hasJavaProperties(out)) {
      throw new IllegalStateException(schema.getFullName() + " has a Java property this tool does not strip: " + out);
    }
    return out + "\n";
  }

  /** True when the JSON text of a schema file names a Java-only property anywhere. */
  public static boolean hasJavaProperties(String json) {
    return json.contains("\"avro.java.");
  }

  private static final Pattern JAVA_STRING_TYPE =
      Pattern.compile("\\{\"type\":\"string\",\"avro\\.java\\.string\":\"[A-Za-z]+\"\\}");
  private static final Pattern JAVA_PROPERTY = Pattern.compile(",\"avro\\.java\\.[a-z]+\":\"[A-Za-z]+\"");

  /** The CRC-64-AVRO fingerprint as the single-object header carries it (little-endian), in hex. */
  public static String headerHex(long fingerprint) {
    StringBuilder sb = new StringBuilder("c301");
    for (int i = 0; i < 8; i++) {
      sb.append(String.format(Locale.ROOT, "%02x", (fingerprint >>> (8 * i)) & 0xff));
    }
    return sb.toString();
  }

  /** A line of index.txt: the file name and its fingerprint in hex. */
  public static String indexLine(String file, long fingerprint) {
    return String.format(Locale.ROOT, "%s %016x%n", file, fingerprint);
  }

  /** The Markdown table of every released version with its fingerprint, as docs/SCHEMAS.md lists it. */
  public static String fingerprintTable(SchemaCatalog catalog) {
    StringBuilder sb = new StringBuilder();
    sb.append("| File | CRC-64-AVRO fingerprint (signed decimal, as Java prints it) | hex | single-object header |\n");
    sb.append("|---|---|---|---|\n");
    catalog.byRecord().values().forEach(versions -> versions.forEach(r -> {
      long fp = r.fingerprint();
      sb.append(String.format(Locale.ROOT, "| `%s.v%d.avsc` | %d | %016x | `%s` |%n", r.recordName(), r.version(),
          fp, fp, headerHex(fp)));
    }));
    return sb.toString();
  }

  /**
   * {@code release <record class> <released dir>}: writes {@code <Record>.v<N+1>.avsc} (plain) and lists it in
   * index.txt, unless the current schema already is the last release. {@code table}: prints the fingerprint table.
   */
  public static void main(String[] args) throws Exception {
    if (args.length == 1 && args[0].equals("table")) {
      System.out.print(fingerprintTable(SchemaCatalog.get()));
      return;
    }
    if (args.length == 2 && args[0].equals("plain")) {
      // rewrites every released file of the folder as plain JSON (idempotent; the fingerprints cannot change)
      try (var files = Files.list(Path.of(args[1]))) {
        for (Path f : files.filter(p -> p.toString().endsWith(".avsc")).sorted().toList()) {
          String before = Files.readString(f);
          String after = plainJson(new Schema.Parser().parse(before));
          if (!after.equals(before)) {
            Files.writeString(f, after, StandardCharsets.UTF_8);
            System.out.println("rewrote " + f);
          }
        }
      }
      return;
    }
    if (args.length != 3 || !args[0].equals("release")) {
      System.err.println("usage: SchemaRelease release <record class, e.g. dev.imgmatch.avro.MatchAlert> <released dir>"
          + "\n       SchemaRelease plain <released dir>\n       SchemaRelease table");
      System.exit(2);
    }
    Schema current = (Schema) Class.forName(args[1]).getField("SCHEMA$").get(null);
    Path dir = Path.of(args[2]);
    List<SchemaCatalog.Released> versions = SchemaCatalog.get().byRecord().getOrDefault(current.getName(), List.of());
    long fp = SchemaNormalization.parsingFingerprint64(current);
    if (!versions.isEmpty() && versions.getLast().fingerprint() == fp) {
      System.out.printf("%s is already released as v%d%n", current.getName(), versions.getLast().version());
      return;
    }
    int next = versions.isEmpty() ? 1 : versions.getLast().version() + 1;
    String file = current.getName() + ".v" + next + ".avsc";
    Files.writeString(dir.resolve(file), plainJson(current), StandardCharsets.UTF_8);
    Files.writeString(dir.resolve("index.txt"), indexLine(file, fp), StandardCharsets.UTF_8,
        StandardOpenOption.APPEND);
    System.out.printf("wrote %s (fingerprint %d); now update docs/SCHEMAS.md (SchemaRelease table)%n",
        dir.resolve(file), fp);
  }
}
