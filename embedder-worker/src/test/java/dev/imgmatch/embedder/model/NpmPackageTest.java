package dev.imgmatch.embedder.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpmPackageTest {
  @Test
  void aMissingNpmSaysWhatToInstall(@TempDir Path cache) {
    System.setProperty("imgmatch.npm", cache.resolve("no-such-npm").toString());
    try {
      assertThatThrownBy(() -> NpmPackage.obtain("nsfwjs", "4.4.0", null, cache, m -> { }))
          .isInstanceOf(NpmPackage.UnavailableException.class)
          .hasMessageContaining("Install Node.js with npm")
          .hasMessageContaining(cache.resolve("npm").resolve("nsfwjs-4.4.0.tgz").toString());
    } finally {
      System.clearProperty("imgmatch.npm");
    }
  }

  @Test
  void aCachedTarballWithTheRightHashIsUsedWithoutNpm(@TempDir Path cache) throws Exception {
    Path tgz = Files.createDirectories(cache.resolve("npm")).resolve("pkg-1.0.0.tgz");
    Files.write(tgz, tar("package/a.txt", "hello"));
    System.setProperty("imgmatch.npm", cache.resolve("no-such-npm").toString());
    try {
      Path got = NpmPackage.obtain("pkg", "1.0.0", NpmPackage.sha256(tgz), cache, m -> { });
      assertThat(got).isEqualTo(tgz);
      Map<String, byte[]> files = NpmPackage.readTgz(got, n -> n.startsWith("package/"));
      assertThat(new String(files.get("package/a.txt"), StandardCharsets.UTF_8)).isEqualTo("hello");
    } finally {
      System.clearProperty("imgmatch.npm");
    }
  }

  /** A one-file ustar archive, gzipped. */
  static byte[] tar(String name, String content) throws Exception {
    byte[] data = content.getBytes(StandardCharsets.UTF_8);
    byte[] header = new byte[512];
    System.arraycopy(name.getBytes(StandardCharsets.UTF_8), 0, header, 0, name.length());
    byte[] size = String.format("%011o", data.length).getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(size, 0, header, 124, size.length);
    header[156] = '0';
    System.arraycopy("ustar".getBytes(StandardCharsets.US_ASCII), 0, header, 257, 5);
    ByteArrayOutputStream bos = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(bos)) {
      gz.write(header);
      gz.write(data);
      gz.write(new byte[512 - data.length % 512]);
      gz.write(new byte[1024]);
    }
    return bos.toByteArray();
  }
}
