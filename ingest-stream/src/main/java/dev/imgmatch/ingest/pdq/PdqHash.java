package dev.imgmatch.ingest.pdq;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * A 256-bit PDQ hash and its quality. Bit {@code k} (0-255) is the DCT coefficient at row {@code k / 16},
 * column {@code k % 16}; the hex form is the reference implementation's (64 digits, bit 255 first), and
 * {@link #toBytes()} is the same big-endian order ({@code PdqHash.hash} in the Avro schema).
 *
 * @param bits 32 bytes, big-endian (byte 0 holds bits 255..248); copied, never shared
 * @param quality 0-100 from the gradient energy of the 64x64 downsample
 */
public record PdqHash(byte[] bits, int quality) {

  public PdqHash {
    if (bits.length != 32) {
      throw new IllegalArgumentException("a PDQ hash has 32 bytes, got " + bits.length);
    }
    bits = bits.clone();
  }

  public static PdqHash fromHex(String hex, int quality) {
    if (hex.length() != 64) {
      throw new IllegalArgumentException("a PDQ hash has 64 hex digits, got " + hex.length() + ": '" + hex + "'");
    }
    return new PdqHash(HexFormat.of().parseHex(hex), quality);
  }

  /** From 256 bits where {@code bit[k]} is bit k. */
  static PdqHash fromBits(boolean[] bit, int quality) {
    byte[] b = new byte[32];
    for (int k = 0; k < 256; k++) {
      if (bit[k]) {
        b[31 - (k >> 3)] |= (byte) (1 << (k & 7));
      }
    }
    return new PdqHash(b, quality);
  }

  public byte[] toBytes() {
    return bits.clone();
  }

  public String toHex() {
    return HexFormat.of().formatHex(bits);
  }

  public boolean bit(int k) {
    return (bits[31 - (k >> 3)] >> (k & 7) & 1) != 0;
  }

  /** Hamming distance 0-256 (similarity is 256 minus it). */
  public int distance(PdqHash other) {
    int d = 0;
    for (int i = 0; i < 32; i++) {
      d += Integer.bitCount((bits[i] ^ other.bits[i]) & 0xFF);
    }
    return d;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PdqHash p && p.quality == quality && Arrays.equals(p.bits, bits);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bits) * 31 + quality;
  }

  @Override
  public String toString() {
    return toHex() + "," + quality;
  }
}
