package dev.imgmatch.index;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.imgmatch.local.LocalFeatures;
import dev.imgmatch.local.SiftExtractor;
import dev.imgmatch.testkit.Seeds;
import dev.imgmatch.testkit.TexturedPictures;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReader;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.util.BytesRef;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How a reference's local features are stored in a real Lucene index on disk: deflated (a quarter smaller), read back
 * byte for byte; documents of shards written before (the encoding stored as is) read back too; a search's hits leave
 * them out.
 */
class ShardDocsTest {
  private static final long SEED = Seeds.of("ShardDocsTest", 17L);

  @TempDir
  Path dir;

  private final Synthetic syn = new Synthetic(SEED, 16, 4);

  private IndexedImage image(String id, byte[] local) {
    return new IndexedImage("t1", id, "protected", null, Map.of(), "mv", syn.gaussianUnit(), syn.hash(), syn.hash(),
        90, 1, null, null, null, local);
  }

  @Test
  void localFeaturesAreStoredDeflatedAndReadBackExactlyAsOlderShardsStoredThemAreToo() throws Exception {
    byte[] raw = new SiftExtractor(512, 500).extract(TexturedPictures.random(new Random(SEED), 480, 360)).encode();
    assertThat(LocalFeatures.decode(raw).size()).isGreaterThan(100);
    Document current = ShardDocs.document(image("new", raw));
    Document older = ShardDocs.document(image("old", raw));
    older.removeField(Fields.LOCAL_FEATURES_DEFLATED);
    older.add(new StoredField(Fields.LOCAL_FEATURES, raw)); // what shards written before the seventeenth session hold
    BytesRef deflated = current.getBinaryValue(Fields.LOCAL_FEATURES_DEFLATED);
    assertThat(current.getBinaryValue(Fields.LOCAL_FEATURES)).isNull();
    System.out.printf("ShardDocsTest: %d keypoints, %d bytes stored deflated of %d%n", LocalFeatures.decode(raw).size(),
        deflated.length, raw.length);
    assertThat(deflated.length).isLessThan(raw.length * 9 / 10);
    try (FSDirectory d = FSDirectory.open(dir); IndexWriter w = new IndexWriter(d, new IndexWriterConfig())) {
      w.addDocument(current);
      w.addDocument(older);
      w.addDocument(ShardDocs.document(image("none", null)));
      w.commit();
      try (DirectoryReader r = DirectoryReader.open(w)) {
        LeafReader leaf = r.leaves().get(0).reader();
        for (int doc = 0; doc < 3; doc++) {
          IndexedImage full = ShardDocs.load(leaf, doc, false);
          IndexedImage hit = ShardDocs.load(leaf, doc, false, false, null);
          assertThat(hit.imageId()).isEqualTo(full.imageId());
          assertThat(hit.vector()).isEqualTo(full.vector());
          assertThat(hit.localFeatures()).as("a hit leaves them out").isNull();
          if (full.imageId().equals("none")) {
            assertThat(full.localFeatures()).isNull();
          } else {
            assertThat(full.localFeatures()).as(full.imageId()).isEqualTo(raw);
          }
        }
      }
    }
  }

  @Test
  void storedFeaturesThatDoNotInflateWithinTheBoundAreAnErrorNotAnAllocation() {
    byte[] raw = new byte[100_000];
    Arrays.fill(raw, (byte) 7);
    BytesRef z = new BytesRef(ShardDocs.deflate(raw));
    assertThat(z.length).isLessThan(1_000);
    assertThatThrownBy(() -> ShardDocs.inflate(z, 50_000)).isInstanceOf(IOException.class)
        .hasMessageContaining("more than 50000 bytes");
    assertThatThrownBy(() -> ShardDocs.inflate(new BytesRef(z.bytes, 0, z.length / 2), 200_000))
        .isInstanceOf(IOException.class).hasMessageContaining("truncated");
    assertThatThrownBy(() -> ShardDocs.inflate(new BytesRef(new byte[] {(byte) 0xff, 1, 2, 3}), 200_000))
        .isInstanceOf(IOException.class);
  }
}
