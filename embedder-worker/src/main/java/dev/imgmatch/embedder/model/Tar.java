package dev.imgmatch.embedder.model;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * A minimal reader of tar streams (ustar, GNU long names, pax {@code path} records): the regular files whose path
 * matches, path to bytes. Enough for npm tarballs and Debian {@code data.tar}; paths are reported without a leading
 * {@code ./}. Every entry kept is bounded by {@code maxEntryBytes}, and the sum by {@code maxTotalBytes}, before it
 * is read into memory.
 */
public final class Tar {
  private Tar() {}

  public static Map<String, byte[]> read(InputStream in, Predicate<String> wanted, long maxEntryBytes,
      long maxTotalBytes) throws IOException {
    Map<String, byte[]> out = new LinkedHashMap<>();
    byte[] header = new byte[512];
    String longName = null;
    long total = 0;
    while (in.readNBytes(header, 0, 512) == 512) {
      if (isZero(header)) {
        break;
      }
      String name = field(header, 0, 100);
      String prefix = field(header, 345, 155);
      if (!prefix.isEmpty() && isUstar(header)) {
        name = prefix + "/" + name;
      }
      if (longName != null) {
        name = longName;
        longName = null;
      }
      long size = size(header);
      char type = (char) header[156];
      long padded = (size + 511) / 512 * 512;
      boolean regular = type == '0' || type == 0;
      boolean meta = type == 'L' || type == 'x';
      String path = name.startsWith("./") ? name.substring(2) : name;
      if (meta || (regular && wanted.test(path))) {
        if (size > (meta ? 1 << 20 : maxEntryBytes) || total + size > maxTotalBytes) {
          throw new IOException("tar entry " + path + " of " + size + " bytes is over the limit");
        }
        byte[] data = in.readNBytes((int) size);
        if (data.length != size) {
          throw new IOException("truncated tar entry " + path);
        }
        in.skipNBytes(padded - size);
        if (type == 'L') {
          longName = new String(data, StandardCharsets.UTF_8).replace("\0", "");
        } else if (type == 'x') {
          longName = paxPath(data);
        } else {
          total += size;
          out.put(path, data);
        }
      } else {
        in.skipNBytes(padded);
      }
    }
    return out;
  }

  /** POSIX ustar ("ustar\0"), whose bytes 345-499 are a path prefix; GNU tar ("ustar  ") keeps times there. */
  private static boolean isUstar(byte[] h) {
    return h[257] == 'u' && h[258] == 's' && h[259] == 't' && h[260] == 'a' && h[261] == 'r' && h[262] == 0;
  }

  private static long size(byte[] h) throws IOException {
    if ((h[124] & 0x80) != 0) { // GNU base-256 for sizes over 8 GiB
      throw new IOException("tar entry over 8 GiB");
    }
    String s = field(h, 124, 12).trim();
    try {
      return s.isEmpty() ? 0 : Long.parseLong(s, 8);
    } catch (NumberFormatException e) {
      throw new IOException("corrupt tar header (size '" + s + "')", e);
    }
  }

  /** The {@code path} of a pax extended header ("LEN path=VALUE\n" records), or null. */
  private static String paxPath(byte[] data) {
    String s = new String(data, StandardCharsets.UTF_8);
    for (String rec : s.split("\n")) {
      int sp = rec.indexOf(' ');
      if (sp > 0 && rec.startsWith("path=", sp + 1)) {
        return rec.substring(sp + 6);
      }
    }
    return null;
  }

  private static boolean isZero(byte[] b) {
    for (byte x : b) {
      if (x != 0) {
        return false;
      }
    }
    return true;
  }

  private static String field(byte[] h, int off, int len) {
    int end = off;
    while (end < off + len && h[end] != 0) {
      end++;
    }
    return new String(h, off, end - off, StandardCharsets.UTF_8);
  }
}
