package dev.imgmatch.schemas;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.message.SchemaStore;

/**
 * Every released version of every top-level record schema, so that a reader decodes records written
 * by older (or newer, compatible) writers without a schema registry.
 *
 * <p>Released versions live on the classpath under {@code imgmatch/schemas/released/}, one file per
 * version named {@code <Record>.v<N>.avsc}, listed in {@code index.txt} there. Changing a schema in
 * {@code src/main/avro} means adding the new version to that folder; {@code ReleasedSchemasTest} fails
 * until the current schema is released and compatible (both ways) with every earlier version.
 */
public final class SchemaCatalog {
  public static final String RELEASED_ROOT = "imgmatch/schemas/released/";

  /** One released version of a record schema. */
  public record Released(String recordName, int version, Schema schema) {
    public long fingerprint() {
      return SchemaNormalization.parsingFingerprint64(schema);
    }
  }

  private static final SchemaCatalog DEFAULT = load(SchemaCatalog.class.getClassLoader());

  private final List<Released> released;
  private final SchemaStore.Cache store = new SchemaStore.Cache();

  private SchemaCatalog(List<Released> released) {
    this.released = List.copyOf(released);
    for (Released r : released) {
      store.addSchema(r.schema());
    }
  }

  /** A catalog of exactly these versions (tests, tools). */
  public static SchemaCatalog of(List<Released> versions) {
    return new SchemaCatalog(versions);
  }

  public static SchemaCatalog get() {
    return DEFAULT;
  }

  /** Loads the released versions listed in {@code index.txt} from the given class loader. */
  public static SchemaCatalog load(ClassLoader loader) {
    List<Released> out = new ArrayList<>();
    for (String file : readIndex(loader)) {
      String base = file.substring(0, file.length() - ".avsc".length());
      int dot = base.lastIndexOf(".v");
      if (dot < 0) {
        throw new IllegalStateException("released schema file " + file + " is not named <Record>.v<N>.avsc");
      }
      String name = base.substring(0, dot);
      int version = Integer.parseInt(base.substring(dot + 2));
      try (InputStream in = Objects.requireNonNull(
          loader.getResourceAsStream(RELEASED_ROOT + file), () -> "missing released schema " + file)) {
        // each released file is self-contained (named types inlined), so a fresh parser per file
        Schema schema = new Schema.Parser().parse(in);
        if (!schema.getName().equals(name)) {
          throw new IllegalStateException(file + " holds record " + schema.getName());
        }
        out.add(new Released(name, version, schema));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read released schema " + file, e);
      }
    }
    return new SchemaCatalog(out);
  }

  private static List<String> readIndex(ClassLoader loader) {
    InputStream in = loader.getResourceAsStream(RELEASED_ROOT + "index.txt");
    if (in == null) {
      throw new IllegalStateException("no " + RELEASED_ROOT + "index.txt on the classpath");
    }
    List<String> files = new ArrayList<>();
    try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      for (String line; (line = r.readLine()) != null; ) {
        line = line.strip();
        if (!line.isEmpty() && !line.startsWith("#")) {
          files.add(line.split("\\s+")[0]); // then the fingerprint, for other languages (checked by a test)
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return files;
  }

  /** A schema store holding every released version, for {@code BinaryMessageDecoder}. */
  public SchemaStore store() {
    return store;
  }

  public List<Released> released() {
    return released;
  }

  /** Released versions per record name, oldest first. */
  public Map<String, List<Released>> byRecord() {
    Map<String, List<Released>> m = new LinkedHashMap<>();
    for (Released r : released) {
      m.computeIfAbsent(r.recordName(), k -> new ArrayList<>()).add(r);
    }
    m.values().forEach(l -> l.sort((a, b) -> Integer.compare(a.version(), b.version())));
    m.replaceAll((k, v) -> Collections.unmodifiableList(v));
    return Collections.unmodifiableMap(m);
  }
}
