package dev.imgmatch.ingest.image;

/** Counts the scans of a JPEG without decoding it (pure logic). */
final class JpegScans {
  private JpegScans() {}

  /**
   * The number of start-of-scan markers (FF DA). Inside entropy-coded data a 0xFF byte is always followed by 0x00 (byte
   * stuffing) or a restart marker, so every FF DA in the file starts a scan; the count is exact for valid files and an
   * upper bound for damaged ones.
   */
  static int count(byte[] jpeg) {
    int n = 0;
    for (int i = 0; i + 1 < jpeg.length; i++) {
      if (jpeg[i] == (byte) 0xFF && jpeg[i + 1] == (byte) 0xDA) {
        n++;
        i++;
      }
    }
    return n;
  }
}
