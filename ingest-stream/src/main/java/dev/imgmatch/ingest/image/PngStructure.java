package dev.imgmatch.ingest.image;

import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;

/**
 * Walks a PNG's chunks and verifies each CRC-32 and the overall structure (IHDR first, IEND last). The JDK's
 * PNG reader skips CRC checks, so without this a damaged file could decode to garbage and be indexed.
 */
final class PngStructure {
  private static final int SIGNATURE_LENGTH = 8;

  private PngStructure() {}

  static void verify(byte[] b) throws ImageRejectedException {
    int pos = SIGNATURE_LENGTH;
    boolean first = true;
    CRC32 crc = new CRC32();
    while (true) {
      if (pos + 12 > b.length) {
        throw corrupt("truncated PNG: chunk header at byte " + pos + " runs past the end of the "
            + b.length + "-byte file (no IEND chunk)");
      }
      long length = readU32(b, pos);
      String type = new String(b, pos + 4, 4, StandardCharsets.ISO_8859_1);
      if (length > b.length - pos - 12L) {
        throw corrupt("truncated PNG: chunk '" + printable(type) + "' at byte " + pos + " declares " + length
            + " data bytes but only " + (b.length - pos - 12) + " remain");
      }
      int len = (int) length;
      if (first && (!type.equals("IHDR") || len != 13)) {
        throw corrupt("malformed PNG: the first chunk must be a 13-byte IHDR, found '" + printable(type) + "' of "
            + len + " bytes");
      }
      first = false;
      crc.reset();
      crc.update(b, pos + 4, 4 + len);
      long stored = readU32(b, pos + 8 + len);
      if (crc.getValue() != stored) {
        throw corrupt(String.format("PNG chunk '%s' at byte %d has a bad CRC (stored %08x, computed %08x)",
            printable(type), pos, stored, crc.getValue()));
      }
      pos += 12 + len;
      if (type.equals("IEND")) {
        return;
      }
    }
  }

  private static long readU32(byte[] b, int at) {
    return ((b[at] & 0xFFL) << 24) | ((b[at + 1] & 0xFFL) << 16) | ((b[at + 2] & 0xFFL) << 8) | (b[at + 3] & 0xFFL);
  }

  private static String printable(String s) {
    return s.replaceAll("[^\\x20-\\x7e]", "?");
  }

  private static ImageRejectedException corrupt(String message) {
    return new ImageRejectedException(RejectReason.CORRUPT_IMAGE, message);
  }
}
