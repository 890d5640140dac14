package dev.imgmatch.ingest.image;

import com.drew.imaging.jpeg.JpegMetadataReader;
import com.drew.imaging.png.PngMetadataReader;
import com.drew.imaging.tiff.TiffMetadataReader;
import com.drew.imaging.webp.WebpMetadataReader;
import com.drew.metadata.Metadata;
import com.drew.metadata.exif.ExifIFD0Directory;
import com.drew.metadata.exif.ExifReader;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Reads the EXIF orientation tag (metadata-extractor). Unreadable metadata never rejects an image. */
final class ExifOrientation {
  private static final Logger log = LoggerFactory.getLogger(ExifOrientation.class);

  private ExifOrientation() {}

  /** The orientation tag 1-8, or 1 when absent, invalid or unreadable. */
  static int read(byte[] bytes, ImageFormat format) {
    if (format == ImageFormat.GIF || format == ImageFormat.BMP) {
      return 1; // no EXIF in these formats
    }
    try (InputStream in = new ByteArrayInputStream(bytes)) {
      Metadata m = switch (format) {
        case JPEG -> JpegMetadataReader.readMetadata(in, List.of(new ExifReader()));
        case PNG -> PngMetadataReader.readMetadata(in);
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
