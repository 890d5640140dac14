package dev.imgmatch.console;

/**
 * Tells an image file by its first bytes, before a lookup is sent: what is not one of the formats ingest-stream
 * decodes is refused here with a 400 instead of travelling through the pipeline to come back REJECTED. Decoding
 * (and refusing a damaged file) stays ingest-stream's job.
 */
final class ImageSniffer {
  private ImageSniffer() {}

  /** {@code jpg}, {@code png}, {@code gif}, {@code webp}, {@code bmp} or {@code tif}; null for anything else. */
  static String format(byte[] b) {
    if (starts(b, 0xFF, 0xD8, 0xFF)) {
      return "jpg";
    }
    if (starts(b, 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A)) {
      return "png";
    }
    if (starts(b, 'G', 'I', 'F', '8') && b.length > 5 && (b[4] == '7' || b[4] == '9') && b[5] == 'a') {
      return "gif";
    }
    if (starts(b, 'R', 'I', 'F', 'F') && b.length >= 12 && b[8] == 'W' && b[9] == 'E' && b[10] == 'B'
        && b[11] == 'P') {
      return "webp";
    }
    if (starts(b, 'B', 'M') && b.length >= 26) {
      return "bmp";
    }
    if (starts(b, 'I', 'I', 0x2A, 0x00) || starts(b, 'M', 'M', 0x00, 0x2A)) {
      return "tif";
    }
    return null;
  }

  private static boolean starts(byte[] b, int... magic) {
    if (b.length < magic.length) {
      return false;
    }
    for (int i = 0; i < magic.length; i++) {
      if ((b[i] & 0xFF) != magic[i]) {
        return false;
      }
    }
    return true;
  }
}
