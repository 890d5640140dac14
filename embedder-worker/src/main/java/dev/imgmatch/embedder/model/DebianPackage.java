package dev.imgmatch.embedder.model;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.zip.GZIPInputStream;
import org.tukaani.xz.XZInputStream;

/**
 * A Debian binary package ({@code .deb}) obtained by name and version from a Debian mirror, verified against a
 * pinned SHA-256 (the one in the release's {@code Packages} index) and kept under {@code <cache>/deb/}.
 *
 * <p>Mirrors, tried in order: {@code IMGMATCH_DEBIAN_MIRRORS} (or {@code -Dimgmatch.debian.mirrors}), a comma-separated
 * list of archive roots, else {@link #DEFAULT_MIRRORS}. Proxies: the JVM's {@code https.proxyHost} settings, else
 * {@code https_proxy} / {@code http_proxy} from the environment. Offline: put the file (from {@code apt-get download
 * NAME=VERSION} on any Debian machine) at the cache path the error message names.
 */
public final class DebianPackage {
  /** deb.debian.org (a CDN over every current release) and the archive of retired releases. */
  public static final String DEFAULT_MIRRORS =
      "https://deb.debian.org/debian,http://deb.debian.org/debian,http://archive.debian.org/debian";

  /**
   * One pinned package file.
   *
   * @param name binary package name
   * @param version Debian version
   * @param poolPath path under the archive root, as in the {@code Filename:} field of the Packages index
   * @param size bytes of the file
   * @param sha256 hex SHA-256 of the file
   */
  public record Spec(String name, String version, String poolPath, long size, String sha256) {
    public String fileName() {
      return poolPath.substring(poolPath.lastIndexOf('/') + 1);
    }

    @Override
    public String toString() {
      return name + "=" + version;
    }
  }

  /** Thrown when the package cannot be obtained; the message says what was tried and how to provide it. */
  public static final class UnavailableException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    UnavailableException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private DebianPackage() {}

  /** The cached file of {@code spec}: {@code <cache>/deb/<file name>}. */
  public static Path cachePath(Spec spec, Path cacheRoot) {
    return cacheRoot.resolve("deb").resolve(spec.fileName());
  }

  /** The package file, from the cache or downloaded (once) from the first mirror that serves the pinned bytes. */
  public static Path obtain(Spec spec, Path cacheRoot, Consumer<String> progress) {
    return obtain(spec, cacheRoot, mirrors(), progress);
  }

  /** As {@link #obtain(Spec, Path, Consumer)}, from these archive roots. */
  public static Path obtain(Spec spec, Path cacheRoot, List<String> mirrors, Consumer<String> progress) {
    Path file = cachePath(spec, cacheRoot);
    try {
      if (Files.isRegularFile(file) && Files.size(file) == spec.size() && spec.sha256().equals(NpmPackage.sha256(file))) {
        return file;
      }
      Files.createDirectories(file.getParent());
    } catch (IOException e) {
      throw new UnavailableException("cannot use the cache folder " + file.getParent() + ": " + e.getMessage(), e);
    }
    List<String> tried = new ArrayList<>();
    for (String mirror : mirrors) {
      String url = mirror.replaceAll("/+$", "") + "/" + spec.poolPath();
      try {
        download(URI.create(url), spec, file, progress);
        return file;
      } catch (IOException | RuntimeException e) {
        tried.add(url + ": " + e.getMessage());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new UnavailableException("interrupted while downloading " + spec, e);
      }
    }
    throw new UnavailableException("cannot obtain the Debian package " + spec + " (" + spec.size() / (1 << 20)
        + " MiB, SHA-256 " + spec.sha256() + "). Tried:\n  " + String.join("\n  ", tried)
        + "\nFix the network or proxy (https_proxy), point IMGMATCH_DEBIAN_MIRRORS at a Debian mirror that has it, or "
        + "place the file at " + file + " (on any Debian machine: 'apt-get download " + spec + "', or from "
        + "https://snapshot.debian.org)", null);
  }

  private static void download(URI uri, Spec spec, Path target, Consumer<String> progress)
      throws IOException, InterruptedException {
    progress.accept("downloading " + spec + " (" + spec.size() / (1 << 20) + " MiB, once) from " + uri);
    HttpClient client = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL)
        .connectTimeout(Duration.ofSeconds(20)).proxy(proxy()).build();
    HttpRequest req = HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(10)).GET().build();
    HttpResponse<InputStream> resp = client.send(req, HttpResponse.BodyHandlers.ofInputStream());
    Path tmp = Files.createTempFile(target.getParent(), spec.name(), ".part");
    try (InputStream in = resp.body()) {
      if (resp.statusCode() != 200) {
        throw new IOException("HTTP " + resp.statusCode());
      }
      MessageDigest md = sha256();
      long n = 0;
      long nextReport = 8L << 20;
      try (OutputStream out = new DigestOutputStream(Files.newOutputStream(tmp), md)) {
        byte[] buf = new byte[1 << 16];
        for (int r; (r = in.read(buf)) > 0; ) {
          n += r;
          if (n > spec.size()) {
            throw new IOException("served more than the pinned " + spec.size() + " bytes");
          }
          out.write(buf, 0, r);
          if (n >= nextReport) {
            progress.accept("  " + n / (1 << 20) + " of " + spec.size() / (1 << 20) + " MiB");
            nextReport += 8L << 20;
          }
        }
      }
      String got = HexFormat.of().formatHex(md.digest());
      if (n != spec.size() || !got.equals(spec.sha256())) {
        throw new IOException("served " + n + " bytes with SHA-256 " + got + ", but " + spec.size() + " bytes with "
            + spec.sha256() + " are pinned: refusing them");
      }
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      progress.accept("downloaded " + target + " (SHA-256 verified)");
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /**
   * The regular files of the package's {@code data.tar} whose path (without the leading {@code ./}, e.g.
   * {@code usr/share/...}) matches.
   */
  public static Map<String, byte[]> readData(Path deb, Predicate<String> wanted) throws IOException {
    try (InputStream in = new BufferedInputStream(Files.newInputStream(deb), 1 << 16)) {
      byte[] magic = in.readNBytes(8);
      if (!Arrays.equals(magic, "!<arch>\n".getBytes(StandardCharsets.US_ASCII))) {
        throw new IOException(deb + " is not a Debian package (no ar header)");
      }
      byte[] h = new byte[60];
      while (in.readNBytes(h, 0, 60) == 60) {
        String member = new String(h, 0, 16, StandardCharsets.US_ASCII).trim();
        long size;
        try {
          size = Long.parseLong(new String(h, 48, 10, StandardCharsets.US_ASCII).trim());
        } catch (NumberFormatException e) {
          throw new IOException(deb + ": corrupt ar member header", e);
        }
        if (member.startsWith("data.tar")) {
          InputStream body = new BoundedInputStream(in, size);
          InputStream tar = switch (member.replaceAll("/$", "")) {
            case "data.tar.xz" -> new XZInputStream(body);
            case "data.tar.gz" -> new GZIPInputStream(body, 1 << 16);
            case "data.tar" -> body;
            default -> throw new IOException(deb + ": unsupported member " + member + " (xz, gz or plain tar)");
          };
          return Tar.read(tar, wanted, 256L << 20, 2L << 30);
        }
        in.skipNBytes(size + (size & 1));
      }
    }
    throw new IOException(deb + " has no data.tar member");
  }

  static List<String> mirrors() {
    String m = System.getProperty("imgmatch.debian.mirrors", System.getenv("IMGMATCH_DEBIAN_MIRRORS"));
    String list = m == null || m.isBlank() ? DEFAULT_MIRRORS : m;
    return Arrays.stream(list.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
  }

  /** The JVM's proxy settings when given, else {@code https_proxy} / {@code http_proxy} from the environment. */
  static ProxySelector proxy() {
    if (System.getProperty("https.proxyHost") != null || System.getProperty("http.proxyHost") != null) {
      return ProxySelector.getDefault();
    }
    for (String var : List.of("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY")) {
      String v = System.getenv(var);
      if (v != null && !v.isBlank()) {
        try {
          URI u = URI.create(v.contains("://") ? v : "http://" + v);
          if (u.getHost() != null) {
            return ProxySelector.of(new InetSocketAddress(u.getHost(), u.getPort() > 0 ? u.getPort() : 80));
          }
        } catch (IllegalArgumentException ignored) {
          // not a usable proxy address: fall through to a direct connection
        }
      }
    }
    return HttpClient.Builder.NO_PROXY;
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** At most {@code limit} bytes of the underlying stream; close leaves it open. */
  private static final class BoundedInputStream extends InputStream {
    private final InputStream in;
    private long left;

    BoundedInputStream(InputStream in, long limit) {
      this.in = in;
      this.left = limit;
    }

    @Override
    public int read() throws IOException {
      if (left <= 0) {
        return -1;
      }
      int b = in.read();
      if (b >= 0) {
        left--;
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (left <= 0) {
        return -1;
      }
      int n = in.read(b, off, (int) Math.min(len, left));
      if (n > 0) {
        left -= n;
      }
      return n;
    }

    @Override
    public void close() {
      // the ar stream is closed by its owner
    }
  }
}
