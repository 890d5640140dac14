package dev.imgmatch.ingest.image;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;

/**
 * The image formats ingest accepts, recognised from the file's first bytes (its signature), never from a
 * file name or a producer's claim.
 */
public enum ImageFormat {
  JPEG,
  PNG,
  GIF,
  WEBP,
  BMP,
  TIFF;

  /** Lower-case name as written to {@code PreparedImage.format}. */
  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The format whose signature starts {@code b}, if any. */
  public static Optional<ImageFormat> sniff(byte[] b) {
    if (startsWith(b, 0, 0xFF, 0xD8, 0xFF)) {
      return Optional.of(JPEG);
    }
    if (startsWith(b, 0, 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A)) {
      return Optional.of(PNG);
    }
    if (startsWith(b, 0, 'G', 'I', 'F', '8', '7', 'a') || startsWith(b, 0, 'G', 'I', 'F', '8', '9', 'a')) {
      return Optional.of(GIF);
    }
    if (startsWith(b, 0, 'R', 'I', 'F', 'F') && startsWith(b, 8, 'W', 'E', 'B', 'P')) {
      return Optional.of(WEBP);
    }
    if (startsWith(b, 0, 'B', 'M') && b.length >= 26) { // BITMAPFILEHEADER (14) + at least a core header
      return Optional.of(BMP);
    }
    if (startsWith(b, 0, 'I', 'I', 42, 0) || startsWith(b, 0, 'M', 'M', 0, 42)) {
      return Optional.of(TIFF);
    }
    return Optional.empty();
  }

  /** Names what an unsupported file looks like, for the reject message. */
  public static String describeUnknown(byte[] b) {
    String known = null;
    if (startsWith(b, 4, 'f', 't', 'y', 'p')) {
      String brand = new String(b, 8, Math.min(4, b.length - 8), StandardCharsets.US_ASCII);
      known = brand.startsWith("avi") ? "AVIF" : brand.startsWith("hei") || brand.startsWith("mif") ? "HEIF/HEIC"
          : "an ISO media file (brand '" + brand.strip() + "')";
    } else if (startsWith(b, 0, '%', 'P', 'D', 'F')) {
      known = "PDF";
    } else if (startsWith(b, 0, 0x00, 0x00, 0x01, 0x00)) {
      known = "ICO";
    } else if (startsWith(b, 0, '<')) {
      known = "text/markup (SVG or HTML?)";
    } else if (startsWith(b, 0, 0xFF, 0x0A) || startsWith(b, 4, 'j', 'P', ' ', ' ')) {
      known = "JPEG XL or JPEG 2000";
    } else if (startsWith(b, 0, 'P', 'K', 3, 4)) {
      known = "a ZIP archive";
    }
    String head = HexFormat.of().formatHex(b, 0, Math.min(8, b.length));
    return (known == null ? "an unrecognised file" : known) + " (first bytes " + head + ")";
  }

  private static boolean startsWith(byte[] b, int at, int... sig) {
    if (b.length < at + sig.length) {
      return false;
    }
    for (int i = 0; i < sig.length; i++) {
      if ((b[at + i] & 0xFF) != sig[i]) {
        return false;
      }
    }
    return true;
  }
}
