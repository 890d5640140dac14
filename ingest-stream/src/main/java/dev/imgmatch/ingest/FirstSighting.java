package dev.imgmatch.ingest;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HexFormat;

/**
 * Value of the exact-copy store, keyed by {@link #key(String, byte[])}: which image these exact bytes were
 * first seen as. Stored as a version byte (1), then the id and collection (modified UTF-8) and the time.
 *
 * @param imageId the first sighting's image id
 * @param collection its collection
 * @param seenAtMs when ingest-stream saw it, epoch ms
 */
public record FirstSighting(String imageId, String collection, long seenAtMs) {
  private static final byte VERSION = 1;

  /** Store and repartition key: the SHA-256 in hex (fixed 64 characters), a colon, then the tenant. */
  public static String key(String tenant, byte[] sha256) {
    return HexFormat.of().formatHex(sha256) + ":" + tenant;
  }

  public byte[] encode() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(VERSION);
      out.writeUTF(imageId);
      out.writeUTF(collection);
      out.writeLong(seenAtMs);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  public static FirstSighting decode(byte[] b) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(b))) {
      byte v = in.readByte();
      if (v != VERSION) {
        throw new IllegalStateException("exact-copy store value of unknown version " + v);
      }
      return new FirstSighting(in.readUTF(), in.readUTF(), in.readLong());
    } catch (IOException e) {
      throw new IllegalStateException("corrupt exact-copy store value", e);
    }
  }
}
