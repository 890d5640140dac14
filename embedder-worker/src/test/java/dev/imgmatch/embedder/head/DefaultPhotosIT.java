package dev.imgmatch.embedder.head;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.embedder.EmbedderOptions;
import dev.imgmatch.embedder.model.DebianPackage;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The default head's photos, obtained for real: the pinned Debian package from a mirror (or the user's cache), the
 * selected pictures decodable, the same identity for the same pin.
 */
class DefaultPhotosIT {
  @Test
  void thePinnedPackageGivesTheDocumentedPicturesAndEveryOneDecodes() {
    DefaultPhotos photos = new DefaultPhotos(EmbedderOptions.defaultCacheDir());
    List<TrainingPhotos.Photo> list = photos.load(m -> System.err.println("[photos] " + m));
    assertThat(Files.isRegularFile(DebianPackage.cachePath(DefaultPhotos.SCRATCH, EmbedderOptions.defaultCacheDir())))
        .isTrue();
    assertThat(list).hasSize(205);
    assertThat(list.stream().filter(p -> p.name().contains("/Backgrounds/"))).hasSize(74);
    assertThat(list.stream().filter(p -> p.name().contains("/Costumes/"))).hasSize(131);
    assertThat(list).extracting(TrainingPhotos.Photo::name).isSorted();
    List<String> undecodable = new ArrayList<>();
    for (TrainingPhotos.Photo p : list) {
      BufferedImage img = TrainingPhotos.decode(p);
      if (img == null || img.getWidth() < 16 || img.getHeight() < 16) {
        undecodable.add(p.name());
      }
    }
    assertThat(undecodable).isEmpty();
    assertThat(new DefaultPhotos(EmbedderOptions.defaultCacheDir()).identity()).isEqualTo(photos.identity());
  }
}
