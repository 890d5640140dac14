package dev.imgmatch.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;

/**
 * Byte-level surgery on image files for tests: PNG chunks with their CRCs, headers that declare what the data does
 * not hold, bombs. Shared by ingest-stream's decoder tests and the fault-injection suite.
 */
public final class ImageBytes {
  private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};

  private ImageBytes() {}

  /** Appends a PNG chunk (length, type, data, CRC-32 of type and data). */
  public static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
    byte[] t = type.getBytes(StandardCharsets.ISO_8859_1);
    out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
    out.writeBytes(t);
    out.writeBytes(data);
    CRC32 crc = new CRC32();
    crc.update(t);
    crc.update(data);
    out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
  }

  /** A valid-CRC PNG whose IHDR declares {@code w x h} (RGB, 8 bits) but holds almost no data: a "bomb" header. */
  public static byte[] pngHeaderOnly(int w, int h) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(PNG_SIGNATURE);
    chunk(out, "IHDR", ByteBuffer.allocate(13).putInt(w).putInt(h).put((byte) 8).put((byte) 2).put((byte) 0)
        .put((byte) 0).put((byte) 0).array());
    chunk(out, "IDAT", new byte[] {0x78, (byte) 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01});
    chunk(out, "IEND", new byte[0]);
    return out.toByteArray();
  }

  /** The PNG with one more chunk right after its IHDR. */
  public static byte[] withPngChunk(byte[] png, String type, byte[] data) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(png, 0, 33); // signature + IHDR
    chunk(out, type, data);
    out.write(png, 33, png.length - 33);
    return out.toByteArray();
  }

  /** A zTXt chunk's data ("Comment", deflate) inflating to {@code mib} MiB of zeros: a text decompression bomb. */
  public static byte[] zTxtBomb(int mib) {
    ByteArrayOutputStream z = new ByteArrayOutputStream();
    try (DeflaterOutputStream d = new DeflaterOutputStream(z, new Deflater(9))) {
      byte[] zeros = new byte[1 << 20];
      for (int i = 0; i < mib; i++) {
        d.write(zeros);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ByteArrayOutputStream data = new ByteArrayOutputStream();
    data.writeBytes("Comment".getBytes(StandardCharsets.ISO_8859_1));
    data.write(0); // keyword terminator
    data.write(0); // compression method
    data.writeBytes(z.toByteArray());
    return data.toByteArray();
  }

  /** The PNG with its first IDAT's CRC-32 broken while the data stays intact (the JDK's reader does not notice). */
  public static byte[] withBadIdatCrc(byte[] png) {
    byte[] b = png.clone();
    int idat = indexOf(b, "IDAT".getBytes(StandardCharsets.ISO_8859_1));
    int len = ByteBuffer.wrap(b, idat - 4, 4).getInt();
    b[idat + 4 + len] ^= 0x55; // first byte of the chunk's CRC
    return b;
  }

  /** A baseline JPEG whose SOF0 now declares {@code w x h}: enough for a reader to report that size. */
  public static byte[] jpegDeclaring(byte[] jpeg, int w, int h) {
    byte[] out = jpeg.clone();
    int sof = indexOf(out, new byte[] {(byte) 0xFF, (byte) 0xC0});
    out[sof + 5] = (byte) (h >> 8);
    out[sof + 6] = (byte) h;
    out[sof + 7] = (byte) (w >> 8);
    out[sof + 8] = (byte) w;
    return out;
  }

  /** The JPEG with {@code n} empty scans (SOS segments) before its end marker: a progressive scan bomb. */
  public static byte[] withEmptyScans(byte[] jpeg, int n) {
    byte[] sos = {(byte) 0xFF, (byte) 0xDA, 0, 8, 1, 1, 0, 0, 0x3F, 0};
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(jpeg, 0, jpeg.length - 2);
    for (int i = 0; i < n; i++) {
      out.writeBytes(sos);
    }
    out.write(jpeg, jpeg.length - 2, 2);
    return out.toByteArray();
  }

  /** The first index of {@code needle} in {@code hay}. */
  public static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    throw new IllegalArgumentException("not found");
  }
}
