package dev.imgmatch.schemas;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.message.BadHeaderException;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.message.MissingSchemaException;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

/**
 * Avro single-object encoding (header {@code C3 01}, the writer schema's 64-bit fingerprint, then the
 * binary body) for one record type. Writers always use the current schema; readers resolve any
 * released version through {@link SchemaCatalog}, so no schema registry is needed.
 *
 * <p>Thread-safe: Avro's encoder and decoder keep per-thread buffers.
 */
public final class AvroCodec<T extends SpecificRecord> {
  private final Class<T> type;
  private final Schema schema;
  private final BinaryMessageEncoder<T> encoder;
  private final BinaryMessageDecoder<T> decoder;
  private final org.apache.avro.message.SchemaStore store;

  private AvroCodec(Class<T> type, Schema schema, SchemaCatalog catalog) {
    this.type = type;
    this.schema = schema;
    SpecificData model = SpecificData.getForClass(type);
    this.encoder = new BinaryMessageEncoder<>(model, schema);
    this.store = catalog.store();
    this.decoder = new BinaryMessageDecoder<>(model, schema, store);
  }

  public static <T extends SpecificRecord> AvroCodec<T> of(Class<T> type) {
    return of(type, SchemaCatalog.get());
  }

  public static <T extends SpecificRecord> AvroCodec<T> of(Class<T> type, SchemaCatalog catalog) {
    return new AvroCodec<>(type, SpecificData.get().getSchema(type), catalog);
  }

  public Class<T> type() {
    return type;
  }

  public Schema schema() {
    return schema;
  }

  public byte[] encode(T value) {
    try {
      ByteBuffer buf = encoder.encode(value);
      byte[] out = new byte[buf.remaining()];
      buf.get(out);
      return out;
    } catch (IOException | RuntimeException e) {
      // a record that breaks its own schema (e.g. a null in a non-null field) is a programming error
      throw new IllegalArgumentException("cannot encode " + type.getSimpleName() + ": " + e.getMessage(), e);
    }
  }

  /**
   * Decodes one record.
   *
   * @throws RecordDecodingException with reason EMPTY_RECORD, MALFORMED_RECORD or UNKNOWN_SCHEMA;
   *     never any other exception for any input
   */
  public T decode(byte[] bytes) {
    if (bytes == null || bytes.length == 0) {
      throw new RecordDecodingException(RecordDecodingException.Reason.EMPTY_RECORD,
          "expected a " + type.getSimpleName() + " record but the value is " + (bytes == null ? "null" : "empty"), null);
    }
    checkBounds(bytes);
    return guard(() -> decoder.decode(bytes), bytes.length);
  }

  /**
   * Before Avro allocates what a length prefix asks for: every declared length must fit in the record's own bytes
   * ({@link AvroBounds}). Headers and fingerprints Avro itself reports (MALFORMED_RECORD, UNKNOWN_SCHEMA) are left
   * to it.
   */
  private void checkBounds(byte[] bytes) {
    if (bytes.length < 10 || bytes[0] != (byte) 0xC3 || bytes[1] != (byte) 0x01) {
      return;
    }
    long fingerprint = 0;
    for (int i = 9; i >= 2; i--) {
      fingerprint = (fingerprint << 8) | (bytes[i] & 0xFF);
    }
    Schema writer = store.findByFingerprint(fingerprint);
    if (writer == null) {
      return;
    }
    try {
      AvroBounds.check(writer, bytes, 10);
    } catch (AvroBounds.OutOfBounds e) {
      throw new RecordDecodingException(RecordDecodingException.Reason.MALFORMED_RECORD,
          "corrupt " + type.getSimpleName() + " record of " + bytes.length + " bytes: " + e.getMessage(), null);
    }
  }

  private T guard(Decoding<T> d, int size) {
    try {
      return d.run();
    } catch (MissingSchemaException e) {
      throw new RecordDecodingException(RecordDecodingException.Reason.UNKNOWN_SCHEMA,
          "no known " + type.getSimpleName() + " schema has the record's fingerprint (" + e.getMessage()
              + "); was it written by a newer, unreleased build?", e);
    } catch (BadHeaderException e) {
      throw new RecordDecodingException(RecordDecodingException.Reason.MALFORMED_RECORD,
          "not an Avro single-object encoded " + type.getSimpleName() + " (" + e.getMessage() + ")", e);
    } catch (IOException | AvroRuntimeException | IndexOutOfBoundsException | ClassCastException
        | NegativeArraySizeException | IllegalArgumentException | IllegalStateException
        | NullPointerException | UnsupportedOperationException e) {
      throw new RecordDecodingException(RecordDecodingException.Reason.MALFORMED_RECORD,
          "corrupt " + type.getSimpleName() + " record of " + size + " bytes: " + e, e);
    } catch (OutOfMemoryError e) {
      // a corrupt length prefix can ask for a huge array; Avro caps it, but be safe
      throw new RecordDecodingException(RecordDecodingException.Reason.MALFORMED_RECORD,
          "corrupt " + type.getSimpleName() + " record of " + size + " bytes declares an impossible length", null);
    }
  }

  @FunctionalInterface
  private interface Decoding<T> {
    T run() throws IOException;
  }

}
