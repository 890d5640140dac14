package dev.imgmatch.embedder.model;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.zip.GZIPInputStream;

/**
 * An npm package tarball obtained by name with the user's own {@code npm} ({@code npm pack name@version}), so the
 * registry, proxy and credentials are whatever npm is configured with. Tarballs are kept under
 * {@code <cache>/npm/} and verified against a pinned SHA-256.
 */
public final class NpmPackage {
  private NpmPackage() {}

  /** Thrown when the package cannot be obtained; the message says what to install or fix. */
  public static final class UnavailableException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    UnavailableException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * The tarball of {@code name@version}, from the cache or downloaded with {@code npm pack}.
   *
   * @param sha256 expected SHA-256 of the tarball (hex), or null to accept any
   */
  public static Path obtain(String name, String version, String sha256, Path cacheRoot, Consumer<String> progress) {
    Path dir = cacheRoot.resolve("npm");
    Path tgz = dir.resolve(name + "-" + version + ".tgz");
    try {
      if (Files.isRegularFile(tgz) && (sha256 == null || sha256.equals(sha256(tgz)))) {
        return tgz;
      }
      Files.createDirectories(dir);
      Path tmp = Files.createTempDirectory(dir, "pack");
      String spec = name + "@" + version;
      progress.accept("downloading " + spec + " with npm pack (once) ...");
      List<String> cmd = List.of(npmCommand(), "pack", spec, "--silent", "--pack-destination", tmp.toString());
      Process p;
      try {
        p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      } catch (IOException e) {
        throw new UnavailableException("cannot run 'npm' to download " + spec + " (" + e.getMessage() + "). Install "
            + "Node.js with npm (e.g. 'apt-get install npm', or from https://nodejs.org), or place the tarball at "
            + tgz + " (from 'npm pack " + spec + "' on another machine)", e);
      }
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
        p.destroyForcibly();
        throw new UnavailableException("'npm pack " + spec + "' failed: " + out.strip() + "\nCheck that the npm "
            + "registry is reachable ('npm ping'; proxy: 'npm config set proxy ...'), or place the tarball at " + tgz, null);
      }
      Path got;
      try (var files = Files.list(tmp)) {
        got = files.filter(f -> f.toString().endsWith(".tgz")).findFirst()
            .orElseThrow(() -> new UnavailableException("'npm pack " + spec + "' produced no tarball: " + out, null));
      }
      if (sha256 != null && !sha256.equals(sha256(got))) {
        throw new UnavailableException("downloaded " + spec + " has SHA-256 " + sha256(got) + " but " + sha256
            + " is pinned: the registry served different bytes; refusing to use them", null);
      }
      Files.move(got, tgz, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      Files.deleteIfExists(tmp);
      progress.accept("downloaded " + tgz + " (" + Files.size(tgz) / 1024 + " KiB)");
      return tgz;
    } catch (IOException e) {
      throw new UnavailableException("cannot store npm package in " + dir + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UnavailableException("interrupted while downloading " + name, e);
    }
  }

  private static String npmCommand() {
    String override = System.getProperty("imgmatch.npm", System.getenv("IMGMATCH_NPM"));
    return override != null && !override.isBlank() ? override : "npm";
  }

  /** Hex SHA-256 of a file. */
  public static String sha256(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
      return HexFormat.of().formatHex(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The regular files of a {@code .tgz} whose path matches, path to bytes (see {@link Tar}). */
  public static Map<String, byte[]> readTgz(Path tgz, Predicate<String> wanted) throws IOException {
    try (InputStream in = new GZIPInputStream(Files.newInputStream(tgz), 1 << 16)) {
      return Tar.read(in, wanted, 1L << 30, 1L << 31);
    }
  }
}
