package dev.imgmatch.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.Deletion;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.junit.jupiter.api.Test;

/**
 * Schema evolution rules, checked mechanically:
 * <ol>
 *   <li>every topic's current schema is a released version (a change must be released on purpose);
 *   <li>the current schema reads every earlier version (backward) and every earlier reader can read
 *       the current one (forward);
 *   <li>records written with an earlier version decode through the catalog.
 * </ol>
 */
class ReleasedSchemasTest {
  private final SchemaCatalog catalog = SchemaCatalog.get();

  @Test
  void everyTopicValueSchemaIsReleased() {
    Map<String, List<SchemaCatalog.Released>> byRecord = catalog.byRecord();
    for (var topic : Topics.defaults().all()) {
      Schema current = AvroCodec.of(valueType(topic)).schema();
      List<SchemaCatalog.Released> versions = byRecord.get(current.getName());
      assertThat(versions).as("released versions of %s (topic %s)", current.getName(), topic.name()).isNotEmpty();
      long fp = SchemaNormalization.parsingFingerprint64(current);
      assertThat(versions.getLast().fingerprint())
          .as("%s changed since its last release v%d: add it to imgmatch/schemas/released as v%d",
              current.getName(), versions.getLast().version(), versions.getLast().version() + 1)
          .isEqualTo(fp);
    }
  }

  @Test
  void currentSchemasAreBackwardAndForwardCompatibleWithEveryRelease() {
    int checked = 0;
    for (var topic : Topics.defaults().all()) {
      Schema current = AvroCodec.of(valueType(topic)).schema();
      for (SchemaCatalog.Released old : catalog.byRecord().get(current.getName())) {
        assertCompatible(current, old.schema(), current.getName() + " v" + old.version());
        checked++;
      }
    }
    assertThat(checked).isGreaterThanOrEqualTo(8);
  }

  @Test
  void theCheckCatchesIncompatibleChanges() {
    Schema current = Deletion.getClassSchema();
    // a new required field without a default: old records cannot be read
    Schema addedRequired = withExtraField(current, "{\"name\":\"severity\",\"type\":\"int\"}");
    assertThat(SchemaCompatibility.checkReaderWriterCompatibility(addedRequired, current).getType())
        .isEqualTo(SchemaCompatibilityType.INCOMPATIBLE);
    // the same field with a default is fine both ways
    Schema addedOptional = withExtraField(current, "{\"name\":\"severity\",\"type\":\"int\",\"default\":0}");
    assertCompatible(addedOptional, current, "Deletion + optional field");
  }

  @Test
  void aRecordWrittenWithAnOlderVersionDecodes() throws Exception {
    // an older Deletion without requestedBy and reason, as a v0 that a previous build could have written
    Schema v0 = new Schema.Parser().parse("""
        {"type":"record","name":"Deletion","namespace":"dev.imgmatch.avro","fields":[
          {"name":"imageId","type":"string"},{"name":"tenant","type":"string"},
          {"name":"requestedAtMs","type":"long"}]}""");
    List<SchemaCatalog.Released> versions = new ArrayList<>(catalog.released());
    versions.add(new SchemaCatalog.Released("Deletion", 0, v0));
    AvroCodec<Deletion> codec = AvroCodec.of(Deletion.class, SchemaCatalog.of(versions));

    GenericRecord old = new GenericData.Record(v0);
    old.put("imageId", "img-7");
    old.put("tenant", "t1");
    old.put("requestedAtMs", 123L);
    byte[] bytes = bytesOf(new BinaryMessageEncoder<GenericRecord>(GenericData.get(), v0).encode(old));

    Deletion d = codec.decode(bytes);
    assertThat(d.getImageId()).isEqualTo("img-7");
    assertThat(d.getRequestedAtMs()).isEqualTo(123L);
    assertThat(d.getReason()).isNull();
    // without v0 in the catalog, the same bytes are an unknown schema
    assertThat(org.assertj.core.api.Assertions.catchThrowableOfType(RecordDecodingException.class,
        () -> AvroCodec.of(Deletion.class).decode(bytes)).reason())
        .isEqualTo(RecordDecodingException.Reason.UNKNOWN_SCHEMA);
  }

  private static byte[] bytesOf(ByteBuffer b) {
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return out;
  }

  private static void assertCompatible(Schema current, Schema old, String what) {
    var backward = SchemaCompatibility.checkReaderWriterCompatibility(current, old);
    assertThat(backward.getType()).as("%s: current cannot read it: %s", what, backward.getDescription())
        .isEqualTo(SchemaCompatibilityType.COMPATIBLE);
    var forward = SchemaCompatibility.checkReaderWriterCompatibility(old, current);
    assertThat(forward.getType()).as("%s: it cannot read current: %s", what, forward.getDescription())
        .isEqualTo(SchemaCompatibilityType.COMPATIBLE);
  }

  private static Schema withExtraField(Schema s, String fieldJson) {
    String json = s.toString();
    int end = json.lastIndexOf("]");
    return new Schema.Parser().parse(json.substring(0, end) + "," + fieldJson + json.substring(end));
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static Class valueType(Topic<?, ?> t) {
    return t.valueType();
  }

  @Test
  void indexListsEveryReleasedFile() throws Exception {
    var dir = java.nio.file.Path.of("src/main/resources/" + SchemaCatalog.RELEASED_ROOT);
    try (var files = java.nio.file.Files.list(dir)) {
      var onDisk = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".avsc")).collect(Collectors.toSet());
      var listed = catalog.released().stream().map(r -> r.recordName() + ".v" + r.version() + ".avsc")
          .collect(Collectors.toSet());
      assertThat(listed).isEqualTo(onDisk);
    }
  }

  @Test
  void releasedFilesArePlainAvroAndTheIndexCarriesTheirFingerprints() throws Exception {
    var dir = java.nio.file.Path.of("src/main/resources/" + SchemaCatalog.RELEASED_ROOT);
    int checked = 0;
    for (String line : java.nio.file.Files.readAllLines(dir.resolve("index.txt"))) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      String[] cols = line.trim().split("\\s+");
      assertThat(cols).as("index line '%s': <file> <fingerprint hex>", line).hasSize(2);
      String json = java.nio.file.Files.readString(dir.resolve(cols[0]));
      assertThat(SchemaRelease.hasJavaProperties(json)).as("%s carries avro.java.* properties", cols[0]).isFalse();
      long fp = SchemaNormalization.parsingFingerprint64(new Schema.Parser().parse(json));
      assertThat(cols[1]).as("fingerprint of %s in index.txt", cols[0]).isEqualTo(String.format("%016x", fp));
      checked++;
    }
    assertThat(checked).isEqualTo(catalog.released().size());
  }

  @Test
  void plainJsonDropsJavaPropertiesAndKeepsTheFingerprint() {
    for (var topic : Topics.defaults().all()) {
      Schema current = AvroCodec.of(valueType(topic)).schema();
      String plain = SchemaRelease.plainJson(current);
      assertThat(SchemaRelease.hasJavaProperties(plain)).as(current.getName()).isFalse();
      assertThat(SchemaNormalization.parsingFingerprint64(new Schema.Parser().parse(plain)))
          .isEqualTo(SchemaNormalization.parsingFingerprint64(current));
    }
    // the generated classes do carry the property, so the check above is not vacuous
    assertThat(SchemaRelease.hasJavaProperties(dev.imgmatch.avro.MatchAlert.getClassSchema().toString())).isTrue();
  }

  @Test
  void docsListEveryReleasedFingerprint() throws Exception {
    String doc = java.nio.file.Files.readString(java.nio.file.Path.of("../docs/SCHEMAS.md"));
    assertThat(doc).as("docs/SCHEMAS.md's fingerprint table; regenerate it with SchemaRelease table")
        .contains(SchemaRelease.fingerprintTable(catalog));
  }

  @Test
  void theHeaderCarriesTheFingerprintLittleEndian() {
    assertThat(SchemaRelease.headerHex(0x0102030405060708L)).isEqualTo("c3010807060504030201");
  }
}
