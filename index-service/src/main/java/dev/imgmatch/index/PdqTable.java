package dev.imgmatch.index;

import java.util.Arrays;
import java.util.function.IntBinaryOperator;

/**
 * An in-memory multi-index hash table of PDQ hashes ({@link Pdq}'s 16 chunks of 16 bits, each addressed directly:
 * 16 x 65,536 bucket heads), for probing many hashes against a set that is built once — the uploads of a shard
 * against the entries a hash-list import added ({@link BankRetroactive}). Memory: 4 MiB of heads plus 68 bytes a
 * hash. A probe looks up every chunk value within {@link Pdq#radius} of the probe's (272 at distance 31) and
 * verifies each candidate with the exact distance; at distance 64 it compares every hash.
 */
final class PdqTable {
  private static final int BUCKETS = 1 << 16;
  private final byte[][] hashes;
  /** Per chunk, the first hash index in each bucket, or -1. */
  private final int[][] heads = new int[Pdq.CHUNKS][BUCKETS];
  /** Per chunk, the next hash index in the same bucket, or -1. */
  private final int[][] next;
  /** Probe stamp per hash: a candidate found through several chunks is verified once. */
  private final int[] seen;
  private int stamp;

  PdqTable(byte[][] hashes) {
    this.hashes = hashes;
    this.next = new int[Pdq.CHUNKS][hashes.length];
    this.seen = new int[hashes.length];
    for (int[] h : heads) {
      Arrays.fill(h, -1);
    }
    for (int i = hashes.length - 1; i >= 0; i--) {
      if (hashes[i] == null) {
        continue;
      }
      for (int c = 0; c < Pdq.CHUNKS; c++) {
        int v = Pdq.chunk(hashes[i], c);
        next[c][i] = heads[c][v];
        heads[c][v] = i;
      }
    }
  }

  int size() {
    return hashes.length;
  }

  /**
   * Calls {@code found.applyAsInt(index, distance)} for every hash within {@code maxDistance} of {@code probe}
   * (each once); stops early when it returns a negative number.
   */
  void probe(byte[] probe, int maxDistance, IntBinaryOperator found) {
    int r = Pdq.radius(maxDistance);
    if (r > 3) { // 64: every hash is a candidate
      for (int i = 0; i < hashes.length; i++) {
        if (hashes[i] != null) {
          int d = Pdq.hamming(probe, hashes[i]);
          if (d <= maxDistance && found.applyAsInt(i, d) < 0) {
            return;
          }
        }
      }
      return;
    }
    if (++stamp == 0) { // wrapped: forget every earlier probe
      Arrays.fill(seen, 0);
      stamp = 1;
    }
    for (int c = 0; c < Pdq.CHUNKS; c++) {
      int v = Pdq.chunk(probe, c);
      if (!bucket(c, v, probe, maxDistance, found)) {
        return;
      }
      for (int a = 0; a < 16 && r >= 1; a++) {
        int va = v ^ (1 << a);
        if (!bucket(c, va, probe, maxDistance, found)) {
          return;
        }
        for (int b = a + 1; b < 16 && r >= 2; b++) {
          int vb = va ^ (1 << b);
          if (!bucket(c, vb, probe, maxDistance, found)) {
            return;
          }
          for (int d = b + 1; d < 16 && r >= 3; d++) {
            if (!bucket(c, vb ^ (1 << d), probe, maxDistance, found)) {
              return;
            }
          }
        }
      }
    }
  }

  private boolean bucket(int c, int value, byte[] probe, int maxDistance, IntBinaryOperator found) {
    for (int i = heads[c][value]; i >= 0; i = next[c][i]) {
      if (seen[i] == stamp) {
        continue;
      }
      seen[i] = stamp;
      int d = Pdq.hamming(probe, hashes[i]);
      if (d <= maxDistance && found.applyAsInt(i, d) < 0) {
        return false;
      }
    }
    return true;
  }
}
