package dev.imgmatch.index;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.ImageEmbedding;
import dev.imgmatch.avro.ImagePreview;
import dev.imgmatch.schemas.Limits;
import dev.imgmatch.schemas.Topics;
import java.nio.ByteBuffer;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Which records carry a preview, and what a preview record holds (pure: no broker). */
class PreviewsTest {
  final Topics topics = new Topics("t.");
  final Random rnd = new Random(ShardIndexTest.seed());

  @Test
  void referencesOfWatchedCollectionsAndAlertedUploadsGetTheirPreviewWithItsSize() throws Exception {
    Previews previews = new Previews(true, Set.of("protected", "banned"), topics);
    byte[] jpeg = PreviewsIT.jpeg(rnd, 120, 90);
    ImageEmbedding ref = image("r1", "banned", jpeg);
    var rec = previews.forReference(ref, 1234L);
    assertThat(rec.topic()).isEqualTo("t.reference-previews");
    assertThat(topics.referencePreviews().deserializeKey(rec.key())).isEqualTo("acme\u001fr1");
    ImagePreview p = topics.referencePreviews().deserializeValue(rec.value());
    assertThat(p.getWidth()).isEqualTo(120);
    assertThat(p.getHeight()).isEqualTo(90);
    assertThat(p.getCollection()).isEqualTo("banned");
    assertThat(p.getCreatedAtMs()).isEqualTo(1234L);
    assertThat(previews.forReference(image("u1", "uploads", jpeg), 1L)).as("an upload is no reference").isNull();
    assertThat(previews.forAlertedUpload(image("u1", "uploads", jpeg), 1L).topic()).isEqualTo("t.previews");
  }

  @Test
  void nothingWithoutAUsablePreviewOrWhenOff() throws Exception {
    Previews previews = new Previews(true, Set.of("protected"), topics);
    assertThat(previews.forReference(image("r", "protected", null), 1L)).as("none carried").isNull();
    assertThat(previews.forReference(image("r", "protected", new byte[] {1, 2, 3, 4}), 1L)).as("not a JPEG").isNull();
    byte[] huge = new byte[Limits.MAX_PREVIEW_BYTES + 1];
    huge[0] = (byte) 0xFF;
    huge[1] = (byte) 0xD8;
    assertThat(previews.forAlertedUpload(image("u", "uploads", huge), 1L)).as("over its bound").isNull();
    byte[] truncated = java.util.Arrays.copyOf(PreviewsIT.jpeg(rnd, 50, 50), 10);
    assertThat(previews.forAlertedUpload(image("u", "uploads", truncated), 1L)).as("a broken header").isNull();

    Previews off = new Previews(false, Set.of("protected"), topics);
    byte[] jpeg = PreviewsIT.jpeg(rnd, 40, 30);
    assertThat(off.forReference(image("r", "protected", jpeg), 1L)).isNull();
    assertThat(off.forAlertedUpload(image("u", "uploads", jpeg), 1L)).isNull();
    assertThat(off.tombstones("acme", "r")).isEmpty();
  }

  @Test
  void aTakedownIsATombstoneOnEachPreviewsTopic() {
    var t = new Previews(true, Set.of(), topics).tombstones("acme", "x");
    assertThat(t).extracting(r -> r.topic()).containsExactly("t.previews", "t.reference-previews");
    assertThat(t).allSatisfy(r -> {
      assertThat(r.value()).isNull();
      assertThat(topics.previews().deserializeKey(r.key())).isEqualTo("acme\u001fx");
    });
  }

  private static ImageEmbedding image(String id, String collection, byte[] jpeg) {
    ImageEmbedding e = ItSupport.embedding(id, "acme", collection, new float[] {1f, 0f}, new byte[32], new byte[32],
        1L);
    e.setPreview(jpeg == null ? null : ByteBuffer.wrap(jpeg));
    return e;
  }
}
