package dev.imgmatch.embedder.head;

import dev.imgmatch.embedder.model.DebianPackage;
import dev.imgmatch.embedder.model.Hashing;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The background set: descriptors of pictures unrelated to anything indexed, in the head's space, against which a
 * probe's similarity is normalised (issue 18, "same style is not same picture"). A dialog is about as similar to
 * every other dialog as to a second dialog in the index, an icon to every icon of its theme: the CNN's descriptor sees
 * the style. {@link #maxCosine} says how similar the most similar unrelated picture is; index-service's margin treats
 * that as a competing work, so a candidate must stand out from the background as it must from other indexed works.
 *
 * <p>The pictures come from pinned Debian packages, obtained by name on first use and cached like the default head's
 * photos, none of them a benchmark source (../shared/bench/SOURCES-NOT-FOR-FITTING.txt) nor a source of the
 * same-style negative set the setting is measured on ({@code StyleNegatives} in module benchmarks): GIMP's
 * manual (screenshots of dialogs, menus and tool options: user-interface captures of one look), two icon themes of
 * other looks (Tango at 32 px, Oxygen at 128 px) and Octave's manual (plots of one look), each picture once
 * (byte-identical files dropped): about 1,400 pictures, ~90 MB of packages to download once. Photographs are left out on purpose: on the dev benchmark a photo background cost three times the
 * recall for no gain on same-style pictures (docs/BENCHMARKS.md), and photos of the same subject are what the
 * index's own margin and verification already tell apart.
 *
 * <p>Built once per model version (the head decides the space) and cached under {@code <cache>/background/}.
 */
public final class BackgroundSet {
  /** Bump when the selection or the file format changes. */
  static final String VERSION = "bg-1";

  static final DebianPackage.Spec GIMP_HELP = new DebianPackage.Spec("gimp-help-en", "2.10.34-2",
      "pool/main/g/gimp-help/gimp-help-en_2.10.34-2_all.deb", 49_612_664L,
      "a2deec76763aaf2fcdd197bac0736cdcb0770ba993d48d233329e1c92b0bfe36");
  static final DebianPackage.Spec TANGO = new DebianPackage.Spec("tango-icon-theme", "0.8.90-11",
      "pool/main/t/tango-icon-theme/tango-icon-theme_0.8.90-11_all.deb", 1_249_680L,
      "dff317aca52fde744b884a02dd9fc2702a0cc6aaecc22271b5abf6906cd90b94");
  static final DebianPackage.Spec OXYGEN = new DebianPackage.Spec("oxygen-icon-theme", "5:5.103.0-1",
      "pool/main/o/oxygen-icons5/oxygen-icon-theme_5.103.0-1_all.deb", 31_761_936L,
      "3e49023e148906e41457a98a19a09858ddd761ef4f212fa356232924b3cebcce");
  static final DebianPackage.Spec OCTAVE_DOC = new DebianPackage.Spec("octave-doc", "7.3.0-2",
      "pool/main/o/octave/octave-doc_7.3.0-2_all.deb", 8_270_064L,
      "b27897cc7e3d688daa5cb8f8d1ea47077f3fbd205ce32e22522200ff0c1eadd5");

  private static final String GIMP_IMAGES = "usr/share/gimp/2.0/help/en/images/";
  public static final List<DefaultPhotos.Source> SOURCES = List.of(
      new DefaultPhotos.Source(GIMP_HELP, GIMP_IMAGES + "dialogs/", Set.of("png"), "GFDL-1.2+"),
      new DefaultPhotos.Source(GIMP_HELP, GIMP_IMAGES + "menus/", Set.of("png"), "GFDL-1.2+"),
      new DefaultPhotos.Source(GIMP_HELP, GIMP_IMAGES + "tool-options/", Set.of("png"), "GFDL-1.2+"),
      new DefaultPhotos.Source(TANGO, "usr/share/icons/Tango/32x32/", Set.of("png"), "public domain"),
      new DefaultPhotos.Source(OXYGEN, "usr/share/icons/oxygen/base/128x128/", Set.of("png"), "LGPL-3+"),
      new DefaultPhotos.Source(OCTAVE_DOC, "usr/share/doc/octave/octave.html/", Set.of("png"), "GPL-3+"));

  private final float[][] vectors;
  private final String identity;

  BackgroundSet(float[][] vectors, String identity) {
    this.vectors = vectors;
    this.identity = identity;
  }

  /** How many pictures. */
  public int size() {
    return vectors.length;
  }

  /** Digest of the selection and the model version the descriptors were made with. */
  public String identity() {
    return identity;
  }

  /** The highest cosine between {@code v} (L2-normalised, the head's dimension) and any background picture. */
  public float maxCosine(float[] v) {
    double best = -1;
    for (float[] b : vectors) {
      if (b.length != v.length) {
        throw new IllegalArgumentException("background descriptors have " + b.length + " dimensions, got "
            + v.length);
      }
      double d = 0;
      for (int i = 0; i < v.length; i++) {
        d += (double) b[i] * v[i];
      }
      best = Math.max(best, d);
    }
    return (float) best;
  }

  /** The highest {@link #maxCosine} over several views of one picture; null for none. */
  public Float maxCosine(List<float[]> views) {
    Float best = null;
    for (float[] v : views) {
      float c = maxCosine(v);
      best = best == null ? c : Math.max(best, c);
    }
    return best;
  }

  /**
   * The background set of {@code modelVersion}: read from the cache, else obtained, embedded with {@code embed} (one
   * L2-normalised descriptor per encoded picture, null for a picture it cannot read) and cached.
   */
  public static BackgroundSet ensure(Path cacheRoot, String modelVersion,
      Function<List<byte[]>, List<float[]>> embed, Consumer<String> progress) {
    return ensure(cacheRoot, modelVersion, new DefaultPhotos(SOURCES, cacheRoot), embed, progress);
  }

  /** {@link #ensure(Path, String, Function, Consumer)} of other pictures (tests). */
  static BackgroundSet ensure(Path cacheRoot, String modelVersion, TrainingPhotos photos,
      Function<List<byte[]>, List<float[]>> embed, Consumer<String> progress) {
    String identity = Hashing.sha256Hex(VERSION + "\n" + photos.identity() + "\n" + modelVersion).substring(0, 16);
    Path file = cacheRoot.resolve("background").resolve(VERSION + "-" + identity + ".f32");
    if (Files.isRegularFile(file)) {
      try {
        return new BackgroundSet(read(file), identity);
      } catch (IOException | RuntimeException e) {
        progress.accept("background set " + file + " unreadable (" + e.getMessage() + "): building it again");
      }
    }
    progress.accept("building the background set (pictures unrelated to anything indexed, once per model version)");
    List<byte[]> pictures = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (TrainingPhotos.Photo p : photos.load(progress)) {
      if (seen.add(Hashing.sha256Hex(p.bytes()))) {
        pictures.add(p.bytes());
      }
    }
    List<float[]> out = new ArrayList<>(pictures.size());
    int step = 64;
    for (int from = 0; from < pictures.size(); from += step) {
      for (float[] v : embed.apply(pictures.subList(from, Math.min(pictures.size(), from + step)))) {
        if (v != null) {
          out.add(v);
        }
      }
      progress.accept("  background: " + Math.min(pictures.size(), from + step) + " of " + pictures.size()
          + " pictures embedded");
    }
    if (out.isEmpty()) {
      throw new IllegalStateException("no background picture could be embedded");
    }
    float[][] vectors = out.toArray(new float[0][]);
    write(file, vectors);
    progress.accept("background set: " + vectors.length + " pictures, cached in " + file);
    return new BackgroundSet(vectors, identity);
  }

  static float[][] read(Path file) throws IOException {
    try (DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(Files.newInputStream(file)))) {
      int n = in.readInt();
      int dim = in.readInt();
      if (n < 1 || n > 1_000_000 || dim < 1 || dim > 65_536 || (long) n * dim * 4 + 8 != Files.size(file)) {
        throw new IOException("bad header " + n + " x " + dim);
      }
      float[][] v = new float[n][dim];
      for (float[] row : v) {
        for (int i = 0; i < dim; i++) {
          row[i] = in.readFloat();
        }
      }
      return v;
    }
  }

  static void write(Path file, float[][] vectors) {
    try {
      Files.createDirectories(file.getParent());
      Path tmp = Files.createTempFile(file.getParent(), file.getFileName().toString(), ".tmp");
      try (DataOutputStream out = new DataOutputStream(new java.io.BufferedOutputStream(Files.newOutputStream(tmp)))) {
        out.writeInt(vectors.length);
        out.writeInt(vectors[0].length);
        for (float[] row : vectors) {
          for (float x : row) {
            out.writeFloat(x);
          }
        }
      }
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the background set " + file + ": " + e.getMessage(), e);
    }
  }
}
