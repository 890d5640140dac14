package dev.imgmatch.schemas;

import org.apache.avro.Schema;

/**
 * Walks an Avro binary body along its writer schema, without allocating, and checks that every length and count it
 * declares fits in the bytes that are actually there. Avro allocates what a length prefix asks for before it finds
 * out the bytes are missing: a 20-byte record declaring a 1.5 GB string made it allocate 1.5 GB. After this check
 * a record costs at most about its own size to decode.
 */
final class AvroBounds {
  /** Thrown when the body cannot be what it declares. */
  static final class OutOfBounds extends Exception {
    private static final long serialVersionUID = 1L;

    OutOfBounds(String message) {
      super(message, null, false, false);
    }
  }

  private final byte[] b;
  private int pos;
  private int depth;

  private AvroBounds(byte[] bytes, int offset) {
    this.b = bytes;
    this.pos = offset;
  }

  /** Checks the body of {@code bytes} from {@code offset} against {@code writer}. */
  static void check(Schema writer, byte[] bytes, int offset) throws OutOfBounds {
    new AvroBounds(bytes, offset).value(writer);
  }

  private void value(Schema s) throws OutOfBounds {
    if (++depth > 64) {
      throw new OutOfBounds("nested deeper than 64 levels");
    }
    switch (s.getType()) {
      case NULL -> { }
      case BOOLEAN -> skip(1);
      case INT, LONG, ENUM -> varint();
      case FLOAT -> skip(4);
      case DOUBLE -> skip(8);
      case FIXED -> skip(s.getFixedSize());
      case STRING, BYTES -> skip(length("a string or bytes field"));
      case RECORD -> {
        for (Schema.Field f : s.getFields()) {
          value(f.schema());
        }
      }
      case UNION -> {
        long i = varint();
        if (i < 0 || i >= s.getTypes().size()) {
          throw new OutOfBounds("union branch " + i + " of " + s.getTypes().size());
        }
        value(s.getTypes().get((int) i));
      }
      case ARRAY -> blocks(s.getElementType(), null);
      case MAP -> blocks(s.getValueType(), Schema.create(Schema.Type.STRING));
      default -> throw new OutOfBounds("unsupported type " + s.getType());
    }
    depth--;
  }

  /** Array or map blocks: count (negative: followed by the block's byte size), items, until a count of 0. */
  private void blocks(Schema item, Schema key) throws OutOfBounds {
    while (true) {
      long count = varint();
      if (count == 0) {
        return;
      }
      if (count < 0) {
        count = -count;
        long size = varint();
        if (size < 0 || size > b.length - pos) {
          throw new OutOfBounds("a block of " + size + " bytes where " + (b.length - pos) + " remain");
        }
      }
      // every item takes at least a byte unless it is null (or a zero-size fixed): no count can exceed the rest
      boolean empty = item.getType() == Schema.Type.NULL && key == null;
      if (!empty && count > b.length - pos) {
        throw new OutOfBounds("a block of " + count + " items where " + (b.length - pos) + " bytes remain");
      }
      if (empty && count > 1_000_000) {
        throw new OutOfBounds("a block of " + count + " null items");
      }
      for (long i = 0; i < count; i++) {
        if (key != null) {
          value(key);
        }
        value(item);
      }
    }
  }

  private long length(String what) throws OutOfBounds {
    long n = varint();
    if (n < 0 || n > b.length - pos) {
      throw new OutOfBounds(what + " declares " + n + " bytes where " + (b.length - pos) + " remain");
    }
    return n;
  }

  private void skip(long n) throws OutOfBounds {
    if (n > b.length - pos) {
      throw new OutOfBounds("truncated: " + n + " bytes needed, " + (b.length - pos) + " remain");
    }
    pos += (int) n;
  }

  /** A zig-zag varint (int or long). */
  private long varint() throws OutOfBounds {
    long raw = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (pos >= b.length) {
        throw new OutOfBounds("truncated number");
      }
      int x = b[pos++] & 0xFF;
      raw |= (long) (x & 0x7F) << shift;
      if ((x & 0x80) == 0) {
        return (raw >>> 1) ^ -(raw & 1);
      }
    }
    throw new OutOfBounds("a number longer than 10 bytes");
  }
}
