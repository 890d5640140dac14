package dev.imgmatch.embedder.head;

import dev.imgmatch.embedder.model.Hashing;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * The photos a descriptor head is fitted on: where they come from (for the head's provenance), an identity that
 * changes whenever the photos could (part of the head's cache key and of the model version), and the photos
 * themselves, loaded only when a head has to be fitted.
 *
 * <p>Two kinds: {@link DefaultPhotos} (pinned Debian packages, obtained on first use) and a folder an operator
 * names explicitly ({@link #ofDir}). Nothing is ever looked up relative to the working directory.
 */
public interface TrainingPhotos {
  /** One photo: a stable name (sorts the set) and its encoded bytes. */
  record Photo(String name, byte[] bytes) {}

  /** Where the photos come from, in words (written into the head's provenance). */
  String source();

  /** Changes whenever the set of photos could change; equal on every machine for the same inputs. */
  String identity();

  /** The photos, sorted by name. */
  List<Photo> load(Consumer<String> progress);

  /** The pictures (jpg, jpeg, png, gif) directly in {@code dir}; its identity is the digest of names and bytes. */
  static TrainingPhotos ofDir(Path dir) {
    Path abs = dir.toAbsolutePath().normalize();
    if (!Files.isDirectory(abs)) {
      throw new IllegalArgumentException("training photo folder " + abs + " does not exist");
    }
    List<Path> files = listPictures(abs);
    if (files.isEmpty()) {
      throw new IllegalArgumentException("training photo folder " + abs + " holds no jpg, png or gif file");
    }
    return new TrainingPhotos() {
      @Override
      public String source() {
        return files.size() + " photos of " + abs;
      }

      @Override
      public String identity() {
        StringBuilder sb = new StringBuilder("dir\n");
        for (Photo p : load(m -> {})) {
          sb.append(p.name()).append(' ').append(Hashing.sha256Hex(p.bytes())).append('\n');
        }
        return Hashing.sha256Hex(sb.toString());
      }

      @Override
      public List<Photo> load(Consumer<String> progress) {
        List<Photo> out = new ArrayList<>(files.size());
        try {
          for (Path f : files) {
            out.add(new Photo(f.getFileName().toString(), Files.readAllBytes(f)));
          }
        } catch (IOException e) {
          throw new UncheckedIOException("cannot read training photos in " + abs + ": " + e.getMessage(), e);
        }
        return out;
      }
    };
  }

  /** Picture files directly in {@code dir}, sorted by name. */
  static List<Path> listPictures(Path dir) {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(Files::isRegularFile).filter(p -> isPictureName(p.getFileName().toString())).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir, e);
    }
  }

  static boolean isPictureName(String name) {
    return name.toLowerCase(Locale.ROOT).matches(".*\\.(jpe?g|png|gif)");
  }

  /**
   * Decodes a photo (first frame) into opaque RGB, transparent parts on white (clip art is seen on white pages far
   * more often than on black); null when it is not a decodable picture.
   */
  static BufferedImage decode(Photo p) {
    BufferedImage img;
    try {
      img = ImageIO.read(new ByteArrayInputStream(p.bytes()));
    } catch (IOException | RuntimeException e) {
      return null;
    }
    if (img == null) {
      return null;
    }
    BufferedImage rgb = new BufferedImage(img.getWidth(), img.getHeight(), BufferedImage.TYPE_INT_RGB);
    Graphics2D g = rgb.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, rgb.getWidth(), rgb.getHeight());
    g.drawImage(img, 0, 0, null);
    g.dispose();
    return rgb;
  }
}
