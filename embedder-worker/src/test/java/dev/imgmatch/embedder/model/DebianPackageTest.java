package dev.imgmatch.embedder.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.XZOutputStream;

/**
 * Debian packages: reading {@code .deb} files built here (ar + tar, xz or gzip), and obtaining a pinned one from
 * mirrors served by a real HTTP server on loopback (not found, wrong bytes, too many bytes, then the right ones).
 */
class DebianPackageTest {
  @TempDir
  Path dir;

  private HttpServer server;
  private final Map<String, byte[]> served = new LinkedHashMap<>();
  private final AtomicInteger requests = new AtomicInteger();

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", ex -> {
      requests.incrementAndGet();
      byte[] body = served.get(ex.getRequestURI().getPath());
      if (body == null) {
        ex.sendResponseHeaders(404, -1);
      } else {
        ex.sendResponseHeaders(200, body.length);
        try (OutputStream o = ex.getResponseBody()) {
          o.write(body);
        }
      }
      ex.close();
    });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private String root(String name) {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/" + name;
  }

  @Test
  void readsTheMatchingFilesOfTheDataArchiveCompressedWithXzOrGzip() throws IOException {
    Map<String, byte[]> files = new LinkedHashMap<>();
    files.put("./usr/share/p/Backgrounds/a.jpg", bytes(1000, 1));
    files.put("./usr/share/p/Backgrounds/sub/b.png", bytes(513, 2));
    files.put("./usr/share/p/Sounds/c.wav", bytes(700, 3));
    files.put("./usr/share/p/Backgrounds/" + "long-name-".repeat(12) + ".gif", bytes(10, 4)); // > 100 chars: GNU 'L'
    for (String comp : List.of("xz", "gz")) {
      Path deb = dir.resolve("p-" + comp + ".deb");
      Files.write(deb, deb(files, comp));
      Map<String, byte[]> got = DebianPackage.readData(deb, p -> p.startsWith("usr/share/p/Backgrounds/"));
      assertThat(got.keySet()).as(comp).containsExactly("usr/share/p/Backgrounds/a.jpg",
          "usr/share/p/Backgrounds/sub/b.png", "usr/share/p/Backgrounds/" + "long-name-".repeat(12) + ".gif");
      assertThat(got.get("usr/share/p/Backgrounds/sub/b.png")).isEqualTo(files.get("./usr/share/p/Backgrounds/sub/b.png"));
    }
  }

  @Test
  void refusesAFileThatIsNoDebianPackage() throws IOException {
    Path f = Files.write(dir.resolve("x.deb"), "not an archive".getBytes(StandardCharsets.UTF_8));
    assertThatThrownBy(() -> DebianPackage.readData(f, p -> true)).hasMessageContaining("not a Debian package");
  }

  @Test
  void takesThePinnedBytesFromTheFirstMirrorThatServesThemAndCachesThem() throws IOException {
    byte[] good = deb(Map.of("./usr/share/x/a.jpg", bytes(300, 5)), "xz");
    String pool = "pool/main/x/x/x_1.0_all.deb";
    DebianPackage.Spec spec = new DebianPackage.Spec("x", "1.0", pool, good.length, Hashing.sha256Hex(good));
    byte[] wrong = good.clone();
    wrong[wrong.length - 1] ^= 1;
    byte[] tooLong = java.util.Arrays.copyOf(good, good.length + 10);
    served.put("/wrong/" + pool, wrong);
    served.put("/long/" + pool, tooLong);
    served.put("/good/" + pool, good);
    List<String> log = new ArrayList<>();
    Path cache = dir.resolve("cache");
    Path got = DebianPackage.obtain(spec, cache, List.of(root("missing"), root("wrong"), root("long"), root("good")),
        log::add);
    assertThat(got).isEqualTo(DebianPackage.cachePath(spec, cache));
    assertThat(Files.readAllBytes(got)).isEqualTo(good);
    assertThat(requests.get()).isEqualTo(4);
    assertThat(log).anyMatch(l -> l.contains("SHA-256 verified"));
    try (var left = Files.list(got.getParent())) {
      assertThat(left).as("no partial downloads left behind").containsExactly(got);
    }

    // cached: no request at all
    DebianPackage.obtain(spec, cache, List.of(root("good")), log::add);
    assertThat(requests.get()).isEqualTo(4);
  }

  @Test
  void saysWhatWasTriedAndHowToProvideThePackageWhenNoMirrorHasIt() {
    byte[] good = bytes(100, 6);
    DebianPackage.Spec spec = new DebianPackage.Spec("y", "2.0", "pool/main/y/y/y_2.0_all.deb", good.length,
        Hashing.sha256Hex(good));
    served.put("/wrong/pool/main/y/y/y_2.0_all.deb", bytes(100, 7));
    assertThatThrownBy(() -> DebianPackage.obtain(spec, dir, List.of(root("missing"), root("wrong")), m -> {}))
        .isInstanceOf(DebianPackage.UnavailableException.class)
        .hasMessageContaining("y=2.0")
        .hasMessageContaining("HTTP 404")
        .hasMessageContaining("refusing them")
        .hasMessageContaining("IMGMATCH_DEBIAN_MIRRORS")
        .hasMessageContaining("apt-get download y=2.0")
        .hasMessageContaining(DebianPackage.cachePath(spec, dir).toString());
  }

  static byte[] bytes(int n, int seed) {
    byte[] b = new byte[n];
    new java.util.Random(seed).nextBytes(b);
    return b;
  }

  /** A .deb: ar archive of debian-binary, control.tar.gz and data.tar.{xz,gz} holding {@code files}. */
  static byte[] deb(Map<String, byte[]> files, String compression) throws IOException {
    byte[] tar = tar(files);
    ByteArrayOutputStream data = new ByteArrayOutputStream();
    try (OutputStream o = compression.equals("xz") ? new XZOutputStream(data, new LZMA2Options())
        : new GZIPOutputStream(data)) {
      o.write(tar);
    }
    ByteArrayOutputStream control = new ByteArrayOutputStream();
    try (OutputStream o = new GZIPOutputStream(control)) {
      o.write(tar(Map.of("./control", "Package: x\n".getBytes(StandardCharsets.US_ASCII))));
    }
    ByteArrayOutputStream ar = new ByteArrayOutputStream();
    ar.write("!<arch>\n".getBytes(StandardCharsets.US_ASCII));
    member(ar, "debian-binary", "2.0\n".getBytes(StandardCharsets.US_ASCII));
    member(ar, "control.tar.gz", control.toByteArray());
    member(ar, "data.tar." + compression, data.toByteArray());
    return ar.toByteArray();
  }

  private static void member(ByteArrayOutputStream ar, String name, byte[] body) throws IOException {
    String h = String.format("%-16s%-12s%-6s%-6s%-8s%-10d`\n", name, "0", "0", "0", "100644", body.length);
    ar.write(h.getBytes(StandardCharsets.US_ASCII));
    ar.write(body);
    if (body.length % 2 == 1) {
      ar.write('\n');
    }
  }

  /** A GNU tar (long names as 'L' entries) of regular files. */
  static byte[] tar(Map<String, byte[]> files) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (var e : files.entrySet()) {
      byte[] name = e.getKey().getBytes(StandardCharsets.UTF_8);
      if (name.length > 99) {
        byte[] longName = java.util.Arrays.copyOf(name, name.length + 1);
        out.write(header("././@LongLink", longName.length, 'L'));
        out.write(longName);
        out.write(new byte[(512 - longName.length % 512) % 512]);
      }
      out.write(header(name.length > 99 ? e.getKey().substring(0, 99) : e.getKey(), e.getValue().length, '0'));
      out.write(e.getValue());
      out.write(new byte[(512 - e.getValue().length % 512) % 512]);
    }
    out.write(new byte[1024]);
    return out.toByteArray();
  }

  private static byte[] header(String name, long size, char type) {
    byte[] h = new byte[512];
    put(h, 0, name);
    put(h, 100, "0000644");
    put(h, 108, "0000000");
    put(h, 116, "0000000");
    put(h, 124, String.format("%011o", size));
    put(h, 136, "00000000000");
    h[156] = (byte) type;
    put(h, 257, "ustar  ");
    java.util.Arrays.fill(h, 148, 156, (byte) ' ');
    int sum = 0;
    for (byte b : h) {
      sum += b & 0xFF;
    }
    put(h, 148, String.format("%06o", sum));
    return h;
  }

  private static void put(byte[] h, int off, String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    System.arraycopy(b, 0, h, off, b.length);
  }
}
