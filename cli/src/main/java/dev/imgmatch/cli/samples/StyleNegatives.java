package dev.imgmatch.cli.samples;

import dev.imgmatch.embedder.EmbedderOptions;
import dev.imgmatch.embedder.model.DebianPackage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * A same-style negative set from pinned Debian packages (issue 18: "same style is not same picture"): pictures that
 * share a look but are different pictures — the GNOME help's figures (screenshots of one desktop, with one photo in
 * three colour renderings), the Rust documentation's images (two editions of one book ship the same figures; dialogs,
 * diagrams, logos) and 25 device icons of one icon theme (GNOME's, 256 px: headphones and a headset, two cameras, two
 * drives...). None of these packages is a benchmark source or a source of the embedder's background set.
 *
 * <p>Which pictures are one picture is labelled by hand ({@link #samePicture}): the colour renderings of the help's
 * photo, a book figure in several editions, the Rust logo at several sizes, and two captures of one dialog that
 * differ by a row. Any other pair that {@code scan} groups is two different pictures of one style: a false alarm.
 *
 * <pre>
 *   java -cp "cli/target/classes:$(cat cli/target/classpath.txt)" dev.imgmatch.cli.samples.StyleNegatives --out neg/
 *   ./imgmatch scan neg/
 * </pre>
 */
public final class StyleNegatives {
  record Source(DebianPackage.Spec pkg, Predicate<String> wanted, String prefix, String strip) {}

  static final DebianPackage.Spec GNOME_USER_DOCS = new DebianPackage.Spec("gnome-user-docs", "43.0-2",
      "pool/main/g/gnome-user-docs/gnome-user-docs_43.0-2_all.deb", 8_523_220L,
      "0d635a840747958ca84da778b40d341f1155603851f922c9a171f5a181d6a39f");
  static final DebianPackage.Spec RUST_DOC = new DebianPackage.Spec("rust-doc", "1.63.0+dfsg1-2",
      "pool/main/r/rustc/rust-doc_1.63.0+dfsg1-2_all.deb", 17_000_500L,
      "96ef96fe6df87d939ca713bd7df3d15c2b778ccb892eca025c4ee504146f697b");
  static final DebianPackage.Spec GNOME_ICONS = new DebianPackage.Spec("gnome-icon-theme", "3.12.0-5",
      "pool/main/g/gnome-icon-theme/gnome-icon-theme_3.12.0-5_all.deb", 9_867_072L,
      "243520edcff2c309065b7e12ae08f666580e6098ecafa0c0f7d28c75aedcfdc3");

  /** Distinct objects among the theme's device icons (aliases of one picture left out). */
  static final Set<String> DEVICE_ICONS = Set.of("ac-adapter", "audio-headphones", "audio-headset",
      "audio-input-microphone", "audio-speakers", "battery", "camera-photo", "camera-web", "computer",
      "drive-harddisk", "drive-optical", "drive-removable-media", "input-dialpad", "input-keyboard", "input-mouse",
      "input-tablet", "media-flash", "media-floppy", "media-optical", "multimedia-player", "phone", "printer",
      "scanner", "uninterruptible-power-supply", "video-display");

  static final List<Source> SOURCES = List.of(
      new Source(GNOME_USER_DOCS, p -> p.matches("usr/share/help/C/gnome-help/figures/[^/]+\\.png"), "gnome-help/",
          "usr/share/help/C/gnome-help/figures/"),
      new Source(RUST_DOC, p -> p.startsWith("usr/share/doc/rust-doc/html/") && p.matches(".*\\.(png|jpg|jpeg)"),
          "rust-doc/", "usr/share/doc/rust-doc/html/"),
      new Source(GNOME_ICONS, p -> {
        String name = p.substring(p.lastIndexOf('/') + 1).replaceAll("\\.png$", "");
        return p.startsWith("usr/share/icons/gnome/256x256/devices/") && DEVICE_ICONS.contains(name);
      }, "gnome-icons/", "usr/share/icons/gnome/256x256/devices/"));

  private StyleNegatives() {}

  /** Writes the set's pictures under {@code out} (relative names: {@code gnome-help/...} and so on); their names. */
  public static List<String> write(Path out, Path cacheRoot, Consumer<String> progress) throws IOException {
    List<String> names = new ArrayList<>();
    for (Source s : SOURCES) {
      Path deb = DebianPackage.obtain(s.pkg(), cacheRoot, progress);
      Map<String, byte[]> files = new TreeMap<>(DebianPackage.readData(deb, s.wanted()));
      for (var e : files.entrySet()) {
        String name = s.prefix() + e.getKey().substring(s.strip().length());
        Path f = out.resolve(name);
        Files.createDirectories(f.getParent());
        Files.write(f, e.getValue());
        names.add(name);
      }
      progress.accept(files.size() + " pictures from " + s.pkg());
    }
    return names;
  }

  /**
   * True when two of the set's pictures (names as {@link #write} gives them) are one picture by the hand labels (class
   * comment); everything else in the set is a different picture.
   */
  public static boolean samePicture(String a, String b) {
    return label(a) != null && label(a).equals(label(b));
  }

  private static String label(String name) {
    String file = name.substring(name.lastIndexOf('/') + 1);
    if (name.startsWith("gnome-help/color-") && Set.of("color-camera.png", "color-display.png", "color-printer.png")
        .contains(file)) {
      return "the help's colour-managed photo";
    }
    if (name.startsWith("rust-doc/book/") && name.contains("/img/")) {
      return "book figure " + file;
    }
    if (name.startsWith("rust-doc/") && (file.startsWith("favicon") || file.startsWith("rust-logo"))) {
      return "the Rust logo";
    }
    if (name.equals("rust-doc/rustc/images/image1.png") || name.equals("rust-doc/rustc/images/image2.png")) {
      return "one dialog, a row more";
    }
    return null;
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 2 || !args[0].equals("--out")) {
      throw new IllegalArgumentException("usage: StyleNegatives --out DIR");
    }
    List<String> names = write(Path.of(args[1]), EmbedderOptions.defaultCacheDir(), System.err::println);
    System.err.println(names.size() + " pictures in " + Path.of(args[1]).toAbsolutePath());
  }
}
