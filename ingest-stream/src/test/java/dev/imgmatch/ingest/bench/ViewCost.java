package dev.imgmatch.ingest.bench;

import dev.imgmatch.ingest.ImagePreparer;
import dev.imgmatch.ingest.IngestConfig;
import dev.imgmatch.ingest.ViewEncoder;
import dev.imgmatch.ingest.image.BorderTrim;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * What each extra view costs ingest, and how often {@code trim} fires: a plain harness (not a test), one
 * thread. {@code java -cp <test classpath> dev.imgmatch.ingest.bench.ViewCost DIR... [--passes N] [key=value...]}
 * (settings as the service's; {@code --passes 0}: only how often trim fires).
 * Prints, per image and mean over passes after a warm-up pass: decode + SHA-256 + PDQ, the full view, and
 * each extra view alone (the time of rendering [full, X] minus [full]).
 */
public final class ViewCost {
  private ViewCost() {}

  public static void main(String[] args) throws Exception {
    int passes = 3;
    List<Path> files = new ArrayList<>();
    Map<String, String> settings = new java.util.HashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--passes")) {
        passes = Integer.parseInt(args[++i]);
      } else if (args[i].contains("=")) {
        settings.put(args[i].substring(0, args[i].indexOf('=')), args[i].substring(args[i].indexOf('=') + 1));
      } else {
        try (Stream<Path> s = Files.list(Path.of(args[i]))) {
          s.filter(Files::isRegularFile).sorted().forEach(files::add);
        }
      }
    }
    IngestConfig cfg = new IngestConfig(settings);
    ImagePreparer preparer = ImagePreparer.of(cfg);
    ViewEncoder enc = new ViewEncoder(cfg.viewSpec(), cfg.borderTrim(), cfg.getInt(IngestConfig.SMALL_VIEW_SIDE));
    List<ImagePreparer.Fingerprint> fps = new ArrayList<>();
    long fpNanos = 0;
    int trimmed = 0;
    double trimmedShare = 0;
    for (Path f : files) {
      byte[] bytes = read(f);
      try {
        preparer.fingerprint(bytes); // warm
        long t0 = System.nanoTime();
        ImagePreparer.Fingerprint fp = preparer.fingerprint(bytes);
        fpNanos += System.nanoTime() - t0;
        fps.add(fp);
        BorderTrim.Region r = cfg.borderTrim().find(fp.oriented());
        if (!r.isWhole(fp.oriented())) {
          trimmed++;
          trimmedShare += 1 - (double) r.width() * r.height() / ((double) fp.oriented().width() * fp.oriented().height());
          System.out.printf("trim %s %dx%d -> %s%n", f.getFileName(), fp.oriented().width(), fp.oriented().height(), r);
        }
      } catch (Exception e) {
        System.out.println("skip " + f + ": " + e.getMessage());
      }
    }
    if (passes == 0) {
      System.out.printf("images %d, trim fired on %d (%.1f%%)%n", fps.size(), trimmed, 100.0 * trimmed / fps.size());
      return;
    }
    List<List<String>> sets = List.of(List.of("full"), List.of("full", "hflip"), List.of("full", "center80"),
        List.of("full", "trim"), List.of("full", "hflip", "center80", "trim"));
    double[] ms = new double[sets.size()];
    for (int pass = 0; pass <= passes; pass++) {
      for (int s = 0; s < sets.size(); s++) {
        long t0 = System.nanoTime();
        long sink = 0;
        for (ImagePreparer.Fingerprint fp : fps) {
          sink += enc.render(fp.oriented(), sets.get(s)).size();
        }
        double per = (System.nanoTime() - t0) / 1e6 / fps.size();
        if (pass > 0) { // pass 0 warms the JIT
          ms[s] += per / passes;
        }
        if (sink == 0) {
          throw new IllegalStateException();
        }
      }
    }
    System.out.printf("images %d, trim fired on %d (%.1f%%), mean area trimmed when fired %.1f%%%n", fps.size(),
        trimmed, 100.0 * trimmed / fps.size(), trimmed == 0 ? 0 : 100 * trimmedShare / trimmed);
    System.out.printf("decode+sha256+pdq   %.2f ms/image%n", fpNanos / 1e6 / fps.size());
    for (int s = 0; s < sets.size(); s++) {
      System.out.printf("views %-30s %.2f ms/image (%+.2f vs full)%n", String.join(",", sets.get(s)), ms[s],
          ms[s] - ms[0]);
    }
  }

  private static byte[] read(Path f) throws IOException {
    return Files.readAllBytes(f);
  }
}
