package dev.imgmatch.index;

import java.util.ArrayList;
import java.util.List;
import org.apache.lucene.util.BytesRef;

/**
 * PDQ hash arithmetic and multi-index hashing (MIH).
 *
 * <p>A 256-bit hash is cut into {@value #CHUNKS} chunks of 16 bits; each chunk is indexed as one term
 * {@code [chunk index, high byte, low byte]}. Two hashes at Hamming distance {@code d} differ by at most
 * {@code floor(d / 16)} bits in at least one chunk (pigeonhole), so searching every chunk for the terms within
 * radius {@code r = floor(maxDistance / 16)} of the probe's chunk finds every hash within {@code maxDistance};
 * candidates are then verified with the exact distance. At the default 31 that is r = 1: 16 x 17 = 272 terms.
 */
public final class Pdq {
  public static final int BYTES = 32;
  public static final int CHUNKS = 16;

  private Pdq() {}

  public static int hamming(byte[] a, byte[] b) {
    int d = 0;
    for (int i = 0; i < BYTES; i += 8) {
      d += Long.bitCount(readLong(a, i) ^ readLong(b, i));
    }
    return d;
  }

  /** Hamming distance between {@code a} and the 32 bytes of {@code b} starting at {@code off}. */
  public static int hamming(byte[] a, byte[] b, int off) {
    int d = 0;
    for (int i = 0; i < BYTES; i += 8) {
      d += Long.bitCount(readLong(a, i) ^ readLong(b, off + i));
    }
    return d;
  }

  private static long readLong(byte[] b, int off) {
    return ((long) (b[off] & 0xff) << 56) | ((long) (b[off + 1] & 0xff) << 48) | ((long) (b[off + 2] & 0xff) << 40)
        | ((long) (b[off + 3] & 0xff) << 32) | ((long) (b[off + 4] & 0xff) << 24) | ((b[off + 5] & 0xff) << 16)
        | ((b[off + 6] & 0xff) << 8) | (b[off + 7] & 0xff);
  }

  /** The 16-bit value of chunk {@code i} (bytes 2i and 2i+1). */
  public static int chunk(byte[] hash, int i) {
    return ((hash[2 * i] & 0xff) << 8) | (hash[2 * i + 1] & 0xff);
  }

  public static BytesRef chunkTerm(int chunkIndex, int value) {
    return new BytesRef(new byte[] {(byte) chunkIndex, (byte) (value >>> 8), (byte) value});
  }

  /** The chunk terms a document with this hash is indexed under. */
  public static List<BytesRef> indexTerms(byte[] hash) {
    List<BytesRef> out = new ArrayList<>(CHUNKS);
    for (int i = 0; i < CHUNKS; i++) {
      out.add(chunkTerm(i, chunk(hash, i)));
    }
    return out;
  }

  /** The chunk radius that guarantees every hash within {@code maxDistance} shares a near chunk. */
  public static int radius(int maxDistance) {
    return maxDistance / CHUNKS;
  }

  /** Every term within chunk radius {@code radius(maxDistance)} of the probe's chunks (radius at most 3). */
  public static List<BytesRef> probeTerms(byte[] hash, int maxDistance) {
    int r = radius(maxDistance);
    if (r > 3) {
      throw new IllegalArgumentException("PDQ max distance " + maxDistance + " needs chunk radius " + r
          + " (> 3): use a brute-force scan instead");
    }
    List<BytesRef> out = new ArrayList<>();
    for (int i = 0; i < CHUNKS; i++) {
      int v = chunk(hash, i);
      out.add(chunkTerm(i, v));
      for (int a = 0; a < 16 && r >= 1; a++) {
        int va = v ^ (1 << a);
        out.add(chunkTerm(i, va));
        for (int b = a + 1; b < 16 && r >= 2; b++) {
          int vb = va ^ (1 << b);
          out.add(chunkTerm(i, vb));
          for (int c = b + 1; c < 16 && r >= 3; c++) {
            out.add(chunkTerm(i, vb ^ (1 << c)));
          }
        }
      }
    }
    return out;
  }

  public static String hex(byte[] hash) {
    StringBuilder sb = new StringBuilder(64);
    for (byte x : hash) {
      sb.append(Character.forDigit((x >> 4) & 0xf, 16)).append(Character.forDigit(x & 0xf, 16));
    }
    return sb.toString();
  }
}
