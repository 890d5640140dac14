package dev.imgmatch.client;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The one image-file filter: which files of a folder are images to send (by their extension, case-insensitive: the
 * formats ingest-stream decodes), and the id a benchmark image goes by. Used by the CLI's upload, scan, eval and
 * calibrate and by the benchmarks, so that they all pick the same files.
 */
public final class ImageFiles {
  /** Extensions of the formats ingest-stream decodes (JPEG, PNG, GIF, WebP, BMP, TIFF), lower case. */
  public static final Set<String> EXTENSIONS = Set.of("jpg", "jpeg", "png", "gif", "webp", "bmp", "tif", "tiff");

  private ImageFiles() {}

  /** Whether the file's name ends in an image extension ({@link #EXTENSIONS}, any case); the content is not read. */
  public static boolean isImage(Path f) {
    String n = f.getFileName().toString();
    int dot = n.lastIndexOf('.');
    return dot > 0 && EXTENSIONS.contains(n.substring(dot + 1).toLowerCase(Locale.ROOT));
  }

  /** The image files directly in {@code dir}, sorted. */
  public static List<Path> images(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException(dir + " is not a directory");
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(Files::isRegularFile).filter(ImageFiles::isImage).sorted().toList();
    }
  }

  /** The image files under {@code dir}, at any depth, sorted. */
  public static List<Path> imagesUnder(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException(dir + " is not a directory");
    }
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile).filter(ImageFiles::isImage).sorted().toList();
    }
  }

  /** A benchmark image's id: its file name without the extension. */
  public static String idOf(Path f) {
    String n = f.getFileName().toString();
    int dot = n.lastIndexOf('.');
    return dot > 0 ? n.substring(0, dot) : n;
  }
}
