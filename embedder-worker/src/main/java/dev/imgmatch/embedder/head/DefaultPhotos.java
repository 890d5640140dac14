package dev.imgmatch.embedder.head;

import dev.imgmatch.embedder.model.DebianPackage;
import dev.imgmatch.embedder.model.Hashing;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * The photos the default descriptor head is fitted on, obtained by package name like the model: pinned Debian
 * packages (name, version, SHA-256), downloaded once into {@code <cache>/deb/} by {@link DebianPackage}. None of them
 * is among the packages the project's benchmarks are built from.
 *
 * <p>{@link #SOURCES} lists each package, the files taken from it and their licence. The {@link #identity()} is
 * computed from that pinned list alone, so a cached head is found without reading the packages, and every machine
 * fitting from the same list gets the same model version.
 */
public final class DefaultPhotos implements TrainingPhotos {
  /**
   * Pictures taken from one package.
   *
   * @param pkg the pinned file
   * @param folder folder inside the package whose pictures are taken (recursively)
   * @param extensions the file name extensions taken (lower case, without the dot)
   * @param licence licence of those pictures (from the package's {@code debian/copyright})
   */
  public record Source(DebianPackage.Spec pkg, String folder, Set<String> extensions, String licence) {
    boolean wants(String path) {
      int dot = path.lastIndexOf('.');
      return path.startsWith(folder) && dot > 0
          && extensions.contains(path.substring(dot + 1).toLowerCase(Locale.ROOT));
    }
  }

  /** Bump when the selection rule (not the list) changes. */
  static final String SELECTION_VERSION = "sel-1";

  /** Scratch 1.4 (MIT), whose media library is CC-BY-SA-3.0. */
  static final DebianPackage.Spec SCRATCH = new DebianPackage.Spec("scratch", "1.4.0.6~dfsg1-6.1",
      "pool/main/s/scratch/scratch_1.4.0.6~dfsg1-6.1_all.deb", 25_654_320L,
      "36c582eb93110f64f06c4e685c41e933ccba2fa68db12f79b10bfe840b21fc10");

  /**
   * 205 pictures of Scratch 1.4's media library, 25 MiB to download once: its 74 backgrounds (most of them
   * photographs: indoors, outdoors, nature, sports; some drawn) and the 131 PNG costumes (clip-art characters and
   * things, a few photographs, on transparent backgrounds: seen on white). Chosen on the dev benchmark against
   * the alternatives measured in docs/BENCHMARKS.md ("The default head's photos").
   */
  public static final List<Source> SOURCES = List.of(
      new Source(SCRATCH, "usr/share/scratch/Media/Backgrounds/", Set.of("jpg", "gif", "png"), "CC-BY-SA-3.0"),
      new Source(SCRATCH, "usr/share/scratch/Media/Costumes/", Set.of("png"), "CC-BY-SA-3.0"));

  private final List<Source> sources;
  private final Path cacheRoot;

  public DefaultPhotos(Path cacheRoot) {
    this(SOURCES, cacheRoot);
  }

  DefaultPhotos(List<Source> sources, Path cacheRoot) {
    this.sources = List.copyOf(sources);
    this.cacheRoot = cacheRoot;
  }

  @Override
  public String source() {
    StringBuilder sb = new StringBuilder("Debian packages ");
    for (int i = 0; i < sources.size(); i++) {
      Source s = sources.get(i);
      sb.append(i == 0 ? "" : ", ").append(s.pkg()).append(" (").append(s.folder()).append(", ").append(s.licence())
          .append(')');
    }
    return sb.toString();
  }

  @Override
  public String identity() {
    StringBuilder sb = new StringBuilder(SELECTION_VERSION).append('\n');
    for (Source s : sources) {
      sb.append(s.pkg().sha256()).append(' ').append(s.folder()).append(' ').append(new TreeSet<>(s.extensions()))
          .append('\n');
    }
    return Hashing.sha256Hex(sb.toString());
  }

  @Override
  public List<Photo> load(Consumer<String> progress) {
    List<Photo> out = new ArrayList<>();
    Map<DebianPackage.Spec, List<Source>> byPackage = new LinkedHashMap<>();
    sources.forEach(s -> byPackage.computeIfAbsent(s.pkg(), k -> new ArrayList<>()).add(s));
    for (var e : byPackage.entrySet()) {
      Path deb = DebianPackage.obtain(e.getKey(), cacheRoot, progress);
      try {
        Map<String, byte[]> files = DebianPackage.readData(deb, path -> e.getValue().stream().anyMatch(s -> s.wants(path)));
        files.forEach((path, bytes) -> out.add(new Photo(e.getKey().name() + ":" + path, bytes)));
        progress.accept("  " + files.size() + " pictures from " + e.getKey());
      } catch (IOException ex) {
        throw new UncheckedIOException("cannot read " + deb + ": " + ex.getMessage() + " (delete it to download it "
            + "again)", ex);
      }
    }
    out.sort(Comparator.comparing(Photo::name));
    return out;
  }
}
