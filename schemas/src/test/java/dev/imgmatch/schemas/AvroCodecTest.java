package dev.imgmatch.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.imgmatch.avro.Deletion;
import dev.imgmatch.avro.ImageEmbedding;
import dev.imgmatch.testkit.Seeds;
import java.util.Arrays;
import java.util.Random;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;

class AvroCodecTest {

  @SuppressWarnings({"unchecked", "rawtypes"})
  @Test
  void everyRecordRoundTrips() {
    for (SpecificRecord r : new SampleRecords(1).all()) {
      AvroCodec codec = AvroCodec.of(r.getClass());
      byte[] bytes = codec.encode(r);
      // single-object encoding: C3 01 marker + 8-byte fingerprint + body
      assertThat(bytes[0]).isEqualTo((byte) 0xC3);
      assertThat(bytes[1]).isEqualTo((byte) 0x01);
      Object back = codec.decode(bytes);
      assertThat(back).as(r.getClass().getSimpleName()).isEqualTo(r);
    }
  }

  @Test
  void emptyAndNullValuesAreTypedErrors() {
    AvroCodec<Deletion> codec = AvroCodec.of(Deletion.class);
    assertThatThrownBy(() -> codec.decode(new byte[0])).isInstanceOfSatisfying(RecordDecodingException.class,
        e -> assertThat(e.reason()).isEqualTo(RecordDecodingException.Reason.EMPTY_RECORD));
    assertThatThrownBy(() -> codec.decode(null)).isInstanceOfSatisfying(RecordDecodingException.class,
        e -> assertThat(e.reason()).isEqualTo(RecordDecodingException.Reason.EMPTY_RECORD));
  }

  @Test
  void bytesWithoutTheHeaderAreMalformed() {
    AvroCodec<Deletion> codec = AvroCodec.of(Deletion.class);
    byte[] json = "{\"imageId\":\"x\"}".getBytes();
    assertThatThrownBy(() -> codec.decode(json)).isInstanceOfSatisfying(RecordDecodingException.class,
        e -> {
          assertThat(e.reason()).isEqualTo(RecordDecodingException.Reason.MALFORMED_RECORD);
          assertThat(e.reasonCode()).isEqualTo("MALFORMED_RECORD");
          assertThat(e.getMessage()).contains("Deletion");
        });
  }

  @Test
  void unknownFingerprintIsUnknownSchema() {
    AvroCodec<Deletion> codec = AvroCodec.of(Deletion.class);
    byte[] bytes = codec.encode(new SampleRecords(2).all().stream().filter(Deletion.class::isInstance)
        .map(Deletion.class::cast).findFirst().orElseThrow());
    bytes[5] ^= 0x5A; // corrupt the fingerprint (bytes 2..9)
    assertThatThrownBy(() -> codec.decode(bytes)).isInstanceOfSatisfying(RecordDecodingException.class,
        e -> assertThat(e.reason()).isEqualTo(RecordDecodingException.Reason.UNKNOWN_SCHEMA));
  }

  @Test
  void aRecordOfAnotherTopicIsUnknownSchema() {
    byte[] deletion = AvroCodec.of(Deletion.class).encode(Deletion.newBuilder().setImageId("a").setTenant("t")
        .setRequestedAtMs(1).build());
    assertThatThrownBy(() -> AvroCodec.of(ImageEmbedding.class).decode(deletion))
        .isInstanceOf(RecordDecodingException.class);
  }

  /**
   * A 20-byte record declaring a 1.5 GB string (or a billion array items) is refused before Avro allocates what it
   * declares: it costs kilobytes, whatever the heap (with a 4 GB heap Avro alone allocated 1.4 GB for it).
   */
  @Test
  void aTinyRecordDeclaringAHugeLengthCostsKilobytes() {
    AvroCodec<Deletion> codec = AvroCodec.of(Deletion.class);
    byte[] good = codec.encode(Deletion.newBuilder().setImageId("a").setTenant("t").setRequestedAtMs(1).build());
    for (long declared : new long[] {1_500_000_000L, 11L, Integer.MAX_VALUE}) {
      byte[] bomb = java.util.Arrays.copyOf(good, 20);
      int i = 10;
      long z = declared << 1; // the imageId's length, zig-zag varint
      while ((z & ~0x7FL) != 0) {
        bomb[i++] = (byte) ((z & 0x7F) | 0x80);
        z >>>= 7;
      }
      bomb[i] = (byte) z;
      com.sun.management.ThreadMXBean mx =
          (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
      long before = mx.getCurrentThreadAllocatedBytes();
      assertThatThrownBy(() -> codec.decode(bomb)).isInstanceOfSatisfying(RecordDecodingException.class,
          e -> assertThat(e.reasonCode()).isEqualTo("MALFORMED_RECORD")).hasMessageContaining("remain");
      assertThat(mx.getCurrentThreadAllocatedBytes() - before).as("bytes allocated for a %d-byte declaration", declared)
          .isLessThan(4L << 20);
    }
  }

  @Test
  void truncatedRecordsAreMalformed() {
    AvroCodec<ImageEmbedding> codec = AvroCodec.of(ImageEmbedding.class);
    ImageEmbedding e = new SampleRecords(3).all().stream().filter(ImageEmbedding.class::isInstance)
        .map(ImageEmbedding.class::cast).findFirst().orElseThrow();
    byte[] full = codec.encode(e);
    for (int len = 1; len < full.length; len += Math.max(1, full.length / 97)) {
      byte[] cut = Arrays.copyOf(full, len);
      assertThatThrownBy(() -> codec.decode(cut)).as("cut at %d of %d", len, full.length)
          .isInstanceOf(RecordDecodingException.class);
    }
  }

  /** Random corruption of valid records: either a record comes back or the typed error, nothing else. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  @Test
  void corruptedBytesNeverThrowAnythingButTheTypedError() {
    long seed = Seeds.of("AvroCodecTest", 20261207L);
    Random rnd = new Random(seed);
    int typed = 0;
    for (SpecificRecord r : new SampleRecords(seed).all()) {
      AvroCodec codec = AvroCodec.of(r.getClass());
      byte[] good = codec.encode(r);
      for (int i = 0; i < 400; i++) {
        byte[] bad = good.clone();
        int flips = 1 + rnd.nextInt(8);
        for (int f = 0; f < flips; f++) {
          int at = 10 + rnd.nextInt(bad.length - 10); // keep the header so the body parser is exercised
          bad[at] = (byte) rnd.nextInt(256);
        }
        try {
          codec.decode(bad);
        } catch (RecordDecodingException expected) {
          typed++;
        } catch (Throwable t) {
          throw new AssertionError("seed " + seed + ": " + r.getClass().getSimpleName() + " mutation " + i
              + " threw " + t, t);
        }
      }
    }
    assertThat(typed).as("seed %d: some corruptions must be detected", seed).isPositive();
  }
}
