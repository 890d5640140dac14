package dev.imgmatch.bench.index;

import dev.imgmatch.common.GrayThumb;
import dev.imgmatch.ingest.image.GrayThumbnails;
import dev.imgmatch.ingest.image.RgbImage;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/** Image files of a benchmark split and their verification thumbnails, made as ingest-stream makes them (64 px). */
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
    int w = b.getWidth();
    int h = b.getHeight();
    return GrayThumbnails.of(new RgbImage(w, h, b.getRGB(0, 0, w, h, null, 0, w)), 64);
  }
}
