package dev.imgmatch.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFilesTest {
  @Test
  void picksImagesByExtensionInAnyCase(@TempDir Path dir) throws Exception {
    for (String n : new String[] {"b.jpg", "a.JPEG", "c.png", "d.gif", "e.webp", "f.bmp", "g.tif", "h.TIFF",
        "notes.txt", "jpg", ".png", "archive.jpg.zip"}) {
      Files.write(dir.resolve(n), new byte[] {1});
    }
    Files.createDirectories(dir.resolve("sub.png"));
    Files.write(dir.resolve("sub.png/deep.jpg"), new byte[] {1});
    assertThat(ImageFiles.images(dir)).extracting(p -> p.getFileName().toString())
        .containsExactly("a.JPEG", "b.jpg", "c.png", "d.gif", "e.webp", "f.bmp", "g.tif", "h.TIFF");
    assertThat(ImageFiles.imagesUnder(dir)).extracting(p -> dir.relativize(p).toString())
        .containsExactly("a.JPEG", "b.jpg", "c.png", "d.gif", "e.webp", "f.bmp", "g.tif", "h.TIFF", "sub.png/deep.jpg");
    assertThatThrownBy(() -> ImageFiles.images(dir.resolve("b.jpg"))).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void anImagesIdIsItsNameWithoutTheExtension() {
    assertThat(ImageFiles.idOf(Path.of("x/q00012.jpg"))).isEqualTo("q00012");
    assertThat(ImageFiles.idOf(Path.of("a.b.png"))).isEqualTo("a.b");
    assertThat(ImageFiles.idOf(Path.of("noext"))).isEqualTo("noext");
  }
}
