package dev.imgmatch.index;

import java.util.function.IntBinaryOperator;

/**
 * An in-memory multi-index hash table of PDQ hashes ({@link Pdq}'s 16 chunks of 16 bits, each chunk's buckets laid
 * out contiguously: a start offset per value, then the hash indexes sorted by value), for probing many hashes against
 * a set that is built once — the uploads of a shard against the entries a hash-list import added
 * ({@link BankRetroactive}). The hashes are kept as 4 longs each in one array. Memory: 4 MiB of bucket starts plus
 * 96 bytes a hash. A probe reads every bucket within {@link Pdq#radius} of the probe's chunk values (272 at distance
 * 31) and verifies each candidate with the exact distance; at distance 64 it compares every hash. Work per probe
 * grows with the hashes held (about n / 241 candidates at distance 31): callers bound n.
 */
final class PdqTable {
  private static final int BUCKETS = 1 << 16;
  private final int n;
  /** Hash i is words 4i..4i+3 (big-endian, as {@link Pdq#hamming} reads them); absent ones are in no bucket. */
  private final long[] words;
  private final boolean[] has;
  /** Per chunk: bucket v holds ids[c][start[c][v] .. start[c][v + 1]). */
  private final int[][] start = new int[Pdq.CHUNKS][];
  private final int[][] ids = new int[Pdq.CHUNKS][];
  /** Indexes reported by the probe in progress (a hash may be reached through several chunks). */
  private int[] reported = new int[16];
  private int reportedCount;

  /** @param hashes 32-byte hashes; null entries are skipped (their indexes are never reported) */
  PdqTable(byte[][] hashes) {
    this.n = hashes.length;
    this.words = new long[4 * n];
    this.has = new boolean[n];
    int present = 0;
    for (int i = 0; i < n; i++) {
      if (hashes[i] != null) {
        present++;
        has[i] = true;
        for (int w = 0; w < 4; w++) {
          words[4 * i + w] = readLong(hashes[i], 8 * w);
        }
      }
    }
    for (int c = 0; c < Pdq.CHUNKS; c++) {
      int[] s = new int[BUCKETS + 1];
      for (byte[] h : hashes) {
        if (h != null) {
          s[Pdq.chunk(h, c) + 1]++;
        }
      }
      for (int v = 0; v < BUCKETS; v++) {
        s[v + 1] += s[v];
      }
      int[] fill = java.util.Arrays.copyOf(s, BUCKETS);
      int[] out = new int[present];
      for (int i = 0; i < n; i++) {
        if (hashes[i] != null) {
          out[fill[Pdq.chunk(hashes[i], c)]++] = i;
        }
      }
      start[c] = s;
      ids[c] = out;
    }
  }

  int size() {
    return n;
  }

  /**
   * Calls {@code found.applyAsInt(index, distance)} for every hash within {@code maxDistance} of {@code probe}
   * (each once); stops early when it returns a negative number.
   */
  void probe(byte[] probe, int maxDistance, IntBinaryOperator found) {
    long p0 = readLong(probe, 0);
    long p1 = readLong(probe, 8);
    long p2 = readLong(probe, 16);
    long p3 = readLong(probe, 24);
    reportedCount = 0;
    int r = Pdq.radius(maxDistance);
    if (r > 3) { // 64: every hash is a candidate
      for (int i = 0; i < n; i++) {
        if (has[i] && !check(i, p0, p1, p2, p3, maxDistance, found)) {
          return;
        }
      }
      return;
    }
    for (int c = 0; c < Pdq.CHUNKS; c++) {
      int v = Pdq.chunk(probe, c);
      if (!bucket(c, v, p0, p1, p2, p3, maxDistance, found)) {
        return;
      }
      for (int a = 0; a < 16 && r >= 1; a++) {
        int va = v ^ (1 << a);
        if (!bucket(c, va, p0, p1, p2, p3, maxDistance, found)) {
          return;
        }
        for (int b = a + 1; b < 16 && r >= 2; b++) {
          int vb = va ^ (1 << b);
          if (!bucket(c, vb, p0, p1, p2, p3, maxDistance, found)) {
            return;
          }
          for (int d = b + 1; d < 16 && r >= 3; d++) {
            if (!bucket(c, vb ^ (1 << d), p0, p1, p2, p3, maxDistance, found)) {
              return;
            }
          }
        }
      }
    }
  }

  private boolean bucket(int c, int value, long p0, long p1, long p2, long p3, int maxDistance,
      IntBinaryOperator found) {
    int[] s = start[c];
    int[] list = ids[c];
    for (int k = s[value], end = s[value + 1]; k < end; k++) {
      if (!check(list[k], p0, p1, p2, p3, maxDistance, found)) {
        return false;
      }
    }
    return true;
  }

  private boolean check(int i, long p0, long p1, long p2, long p3, int maxDistance, IntBinaryOperator found) {
    int w = 4 * i;
    int d = Long.bitCount(words[w] ^ p0) + Long.bitCount(words[w + 1] ^ p1) + Long.bitCount(words[w + 2] ^ p2)
        + Long.bitCount(words[w + 3] ^ p3);
    if (d > maxDistance) {
      return true;
    }
    for (int k = 0; k < reportedCount; k++) {
      if (reported[k] == i) {
        return true; // reached through another chunk already
      }
    }
    if (reportedCount == reported.length) {
      reported = java.util.Arrays.copyOf(reported, reportedCount * 2);
    }
    reported[reportedCount++] = i;
    return found.applyAsInt(i, d) >= 0;
  }

  private static long readLong(byte[] b, int off) {
    long v = 0;
    for (int k = 0; k < 8; k++) {
      v = (v << 8) | (b[off + k] & 0xffL);
    }
    return v;
  }
}
