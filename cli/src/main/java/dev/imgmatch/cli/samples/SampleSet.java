package dev.imgmatch.cli.samples;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A labelled sample set on disk: originals (to protect), edited copies of them (should be caught) and unrelated
 * pictures (should not). Used by {@code ./imgmatch demo} and by tests.
 *
 * @param originals original files, {@code originals/o<N>.jpg}
 * @param copies edited copies with the original each copies
 * @param unrelated pictures that copy nothing, {@code unrelated/u<N>.jpg}
 */
public record SampleSet(List<Path> originals, List<Copy> copies, List<Path> unrelated) {

  /** One edited copy. */
  public record Copy(Path file, Path original, SampleImages.Edit edit) {}

  /** Writes {@code n} originals, one copy per original (edits in turn) and {@code m} unrelated pictures under dir. */
  public static SampleSet generate(Path dir, int n, int m, long seed) throws IOException {
    Files.createDirectories(dir.resolve("originals"));
    Files.createDirectories(dir.resolve("copies"));
    Files.createDirectories(dir.resolve("unrelated"));
    List<Path> originals = new ArrayList<>();
    List<Copy> copies = new ArrayList<>();
    List<Path> unrelated = new ArrayList<>();
    SampleImages.Edit[] edits = SampleImages.Edit.values();
    for (int i = 0; i < n; i++) {
      var img = SampleImages.original(seed * 1_000 + i, 640, 480);
      Path o = dir.resolve("originals").resolve(String.format("o%02d.jpg", i));
      Files.write(o, SampleImages.jpeg(img, 0.92f));
      originals.add(o);
      SampleImages.Edit e = edits[i % edits.length];
      Path c = dir.resolve("copies").resolve(String.format("c%02d-%s.jpg", i, e.name().toLowerCase()));
      Files.write(c, SampleImages.jpeg(SampleImages.edit(img, e, seed + i), 0.6f + (i % 3) * 0.1f));
      copies.add(new Copy(c, o, e));
    }
    for (int j = 0; j < m; j++) {
      var img = SampleImages.original(seed * 1_000 + 500 + j, 560 + (j % 3) * 40, 420);
      Path u = dir.resolve("unrelated").resolve(String.format("u%02d.jpg", j));
      Files.write(u, SampleImages.jpeg(img, 0.85f));
      unrelated.add(u);
    }
    return new SampleSet(List.copyOf(originals), List.copyOf(copies), List.copyOf(unrelated));
  }
}
