package dev.imgmatch.ingest.image;

import com.drew.imaging.jpeg.JpegMetadataReader;
import com.drew.imaging.tiff.TiffMetadataReader;
import com.drew.imaging.webp.WebpMetadataReader;
import com.drew.lang.ByteArrayReader;
import com.drew.metadata.Metadata;
import com.drew.metadata.exif.ExifIFD0Directory;
import com.drew.metadata.exif.ExifReader;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the EXIF orientation tag (metadata-extractor). Unreadable metadata never rejects an image. Only what holds
 * the tag is read: for a PNG its {@code eXIf} chunk alone — a PNG metadata reader would also inflate {@code zTXt},
 * {@code iTXt} and {@code iCCP} chunks, and a 2 MB PNG whose text inflates to 2 GB ran a 512 MB heap out of memory.
 */
final class ExifOrientation {
  private static final Logger log = LoggerFactory.getLogger(ExifOrientation.class);

  private ExifOrientation() {}

  /** The EXIF of a PNG's {@code eXIf} chunk (never inflating anything), or null when it has none. */
  private static Metadata pngExif(byte[] b) throws java.io.IOException {
    int pos = 8; // after the signature
    while (pos + 12 <= b.length) {
      long len = ((b[pos] & 0xFFL) << 24) | ((b[pos + 1] & 0xFF) << 16) | ((b[pos + 2] & 0xFF) << 8) | (b[pos + 3] & 0xFF);
      if (len > b.length - pos - 12L) {
        return null;
      }
      String type = new String(b, pos + 4, 4, java.nio.charset.StandardCharsets.ISO_8859_1);
      if (type.equals("eXIf")) {
        Metadata m = new Metadata();
        new ExifReader().extract(new ByteArrayReader(java.util.Arrays.copyOfRange(b, pos + 8, pos + 8 + (int) len)), m, 0);
        return m;
      }
      if (type.equals("IDAT") || type.equals("IEND")) {
        return null; // eXIf must come before the image data
      }
      pos += 12 + (int) len;
    }
    return null;
  }

  /** The orientation tag 1-8, or 1 when absent, invalid or unreadable. */
  static int read(byte[] bytes, ImageFormat format) {
    if (format == ImageFormat.GIF || format == ImageFormat.BMP) {
      return 1; // no EXIF in these formats
    }
    try (InputStream in = new ByteArrayInputStream(bytes)) {
      Metadata m = switch (format) {
        case JPEG -> JpegMetadataReader.readMetadata(in, List.of(new ExifReader()));
        case PNG -> pngExif(bytes);
        case WEBP -> WebpMetadataReader.readMetadata(in);
        case TIFF -> TiffMetadataReader.readMetadata(in);
        default -> null;
      };
      if (m == null) {
        return 1;
      }
      ExifIFD0Directory dir = m.getFirstDirectoryOfType(ExifIFD0Directory.class);
      if (dir == null || !dir.containsTag(ExifIFD0Directory.TAG_ORIENTATION)) {
        return 1;
      }
      int o = dir.getInt(ExifIFD0Directory.TAG_ORIENTATION);
      return o >= 1 && o <= 8 ? o : 1;
    } catch (Exception | StackOverflowError e) {
      log.debug("ignoring unreadable EXIF metadata ({}): {}", format, e.toString());
      return 1;
    }
  }
}
