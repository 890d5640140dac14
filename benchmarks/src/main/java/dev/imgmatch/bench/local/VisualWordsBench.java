package dev.imgmatch.bench.local;

import dev.imgmatch.local.LocalFeatures;
import dev.imgmatch.local.SiftExtractor;
import dev.imgmatch.local.VisualWords;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * The cost of hashing a picture's SIFT descriptors into visual words ({@link VisualWords#distinctWords}), against the
 * plain loop it replaced (one hyperplane at a time: one chain of dependent double additions), in the same run on the
 * same features; and that both give the same words. Features: the first {@code --pictures} images of {@code --images}
 * at the references' settings (512 px, 500 keypoints) and the probes' (640 px, 800 keypoints).
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp "benchmarks/target/classes:$(cat benchmarks/target/classpath.txt)" \
 *   dev.imgmatch.bench.local.VisualWordsBench --images ../shared/bench/dev/refs --pictures 60 --rounds 5
 * </pre>
 */
public final class VisualWordsBench {
  public static void main(String[] args) throws IOException {
    File images = null;
    int pictures = 60;
    int rounds = 5;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--images" -> images = new File(args[++i]);
        case "--pictures" -> pictures = Integer.parseInt(args[++i]);
        case "--rounds" -> rounds = Integer.parseInt(args[++i]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    if (images == null) {
      throw new IllegalArgumentException("--images DIR is required");
    }
    File[] files = images.listFiles((d, n) -> n.matches("(?i).*\\.(jpe?g|png)"));
    if (files == null || files.length == 0) {
      throw new IllegalArgumentException("no JPEG or PNG in " + images);
    }
    Arrays.sort(files);
    List<LocalFeatures> features = new ArrayList<>();
    SiftExtractor refs = new SiftExtractor(512, 500);
    SiftExtractor probes = new SiftExtractor(640, 800);
    for (int i = 0; i < Math.min(pictures, files.length); i++) {
      BufferedImage img = ImageIO.read(files[i]);
      if (img != null) {
        features.add(refs.extract(img));
        features.add(probes.extract(img));
      }
    }
    int keypoints = features.stream().mapToInt(LocalFeatures::size).sum();
    VisualWords vw = VisualWords.DEFAULT;
    for (LocalFeatures f : features) {
      if (!Arrays.equals(vw.distinctWords(f), oneAtATime(vw, f))) {
        throw new IllegalStateException("the shipped hashing and the plain loop disagree");
      }
    }
    System.out.printf(Locale.ROOT, "%d feature sets, %d keypoints; the same words from both%n", features.size(),
        keypoints);
    System.out.println("round,plain_ms_per_set,shipped_ms_per_set,speed-up");
    long sink = 0;
    for (int r = 0; r < rounds; r++) {
      long t0 = System.nanoTime();
      for (LocalFeatures f : features) {
        sink += oneAtATime(vw, f).length;
      }
      long t1 = System.nanoTime();
      for (LocalFeatures f : features) {
        sink += vw.distinctWords(f).length;
      }
      long t2 = System.nanoTime();
      double a = (t1 - t0) / 1e6 / features.size();
      double b = (t2 - t1) / 1e6 / features.size();
      System.out.printf(Locale.ROOT, "%d,%.2f,%.2f,%.2f%n", r, a, b, a / b);
    }
    System.out.println("(checksum " + sink + ")");
  }

  /** {@link VisualWords#distinctWords} with the plain loop ({@link VisualWords#wordsOneAtATime}). */
  private static int[] oneAtATime(VisualWords vw, LocalFeatures f) {
    int[] all = new int[f.size() * vw.tables()];
    for (int i = 0; i < f.size(); i++) {
      System.arraycopy(vw.wordsOneAtATime(f, i), 0, all, i * vw.tables(), vw.tables());
    }
    return Arrays.stream(all).sorted().distinct().toArray();
  }
}
