package dev.imgmatch.bench.index;

import dev.imgmatch.common.GrayThumb;
import dev.imgmatch.ingest.image.GrayThumbnails;
import dev.imgmatch.ingest.image.RgbImage;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * Image files of a benchmark split, their verification thumbnails (made as ingest-stream makes them, 64 px) and its
 * CSV columns: shared by the index studies.
 */
final class BenchThumbs {
  private BenchThumbs() {}

  /** The image {@code id} (file name without extension) in {@code dir}. */
  static Path find(Path dir, String id) throws IOException {
    for (String ext : new String[] {".jpg", ".jpeg", ".png", ".webp"}) {
      Path p = dir.resolve(id + ext);
      if (Files.exists(p)) {
        return p;
      }
    }
    throw new IOException("no image " + id + " in " + dir);
  }

  static GrayThumb of(Path file) throws IOException {
    BufferedImage b = ImageIO.read(file.toFile());
    if (b == null) {
      throw new IOException("not an image: " + file);
    }
    return of(b);
  }

  /** The thumbnail of a decoded picture. */
  static GrayThumb of(BufferedImage b) {
    return GrayThumbnails.of(rgb(b), 64);
  }

  static RgbImage rgb(BufferedImage b) {
    int w = b.getWidth();
    int h = b.getHeight();
    return new RgbImage(w, h, b.getRGB(0, 0, w, h, null, 0, w));
  }

  /** An image file's id: its name without the extension. */
  static String id(Path p) {
    String n = p.getFileName().toString();
    int dot = n.lastIndexOf('.');
    return dot < 0 ? n : n.substring(0, dot);
  }

  /** Column {@code col} of a CSV file with a header line, by its first column, in the file's order. */
  static Map<String, String> column(Path csv, int col) throws IOException {
    Map<String, String> out = new LinkedHashMap<>();
    List<String> lines = Files.readAllLines(csv);
    for (String l : lines.subList(1, lines.size())) {
      String[] f = l.split(",");
      out.put(f[0], f.length > col ? f[col] : "");
    }
    return out;
  }
}
