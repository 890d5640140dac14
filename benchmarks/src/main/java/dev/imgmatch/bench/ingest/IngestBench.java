package dev.imgmatch.bench.ingest;

import dev.imgmatch.avro.PixelEncoding;
import dev.imgmatch.ingest.ImagePreparer;
import dev.imgmatch.ingest.IngestConfig;
import dev.imgmatch.ingest.ViewEncoder;
import dev.imgmatch.ingest.image.ImageDecoder;
import dev.imgmatch.ingest.image.ImageRejectedException;
import dev.imgmatch.ingest.image.Resize;
import dev.imgmatch.ingest.image.RgbImage;
import dev.imgmatch.ingest.pdq.PdqHash;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.utils.ByteBufferOutputStream;

/**
 * ingest-stream's per-image cost: decode + SHA-256 + PDQ images/s on a directory of images (default the dev
 * refs), one thread and all cores, against a baseline measured in the same run (full-resolution decode by
 * the JDK's ImageIO reader + the straightforward PDQ of {@link PlainPdq}, standing in for the reference
 * implementation), plus the view-encoding figures (size and time of RGB8 / PNG / JPEG at 224x224).
 *
 * <pre>
 *   java -cp "benchmarks/target/classes:$(cat benchmarks/target/classpath.txt)" \
 *     dev.imgmatch.bench.ingest.IngestBench --dir ../shared/bench/dev/refs [--pdq ../shared/pdq] [--passes 3]
 * </pre>
 * Prints a Markdown report on stdout.
 */
public final class IngestBench {
  private IngestBench() {}

  public static void main(String[] args) throws Exception {
    Path dir = null; // benchmark folders are always named explicitly
    Path pdq = null; // the PDQ reference photos (e.g. ../shared/pdq), for the big-photo section
    int passes = 3;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--dir" -> dir = Path.of(args[++i]);
        case "--passes" -> passes = Integer.parseInt(args[++i]);
        case "--pdq" -> pdq = Path.of(args[++i]);
        default -> throw new IllegalArgumentException("usage: IngestBench --dir DIR [--pdq DIR] [--passes N]");
      }
    }
    if (dir == null) {
      throw new IllegalArgumentException("usage: IngestBench --dir DIR [--passes N] (e.g. --dir ../shared/bench/dev/refs)");
    }
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(Files::isRegularFile).sorted().toList();
    }
    List<byte[]> images = new ArrayList<>();
    long totalBytes = 0;
    for (Path f : files) {
      byte[] b = Files.readAllBytes(f);
      images.add(b);
      totalBytes += b.length;
    }
    int cores = Runtime.getRuntime().availableProcessors();
    ImagePreparer ours = ImagePreparer.of(new IngestConfig(Map.of()));
    System.out.printf("# ingest-stream decode + SHA-256 + PDQ%n%n");
    System.out.printf("- images: %d files from %s, %.0f KiB mean%n", images.size(), dir.toAbsolutePath().normalize(),
        totalBytes / 1024.0 / images.size());
    System.out.printf("- JVM: %s %s (%s), %d cores available, max heap %d MiB%n", System.getProperty("java.vm.vendor"),
        System.getProperty("java.runtime.version"), System.getProperty("os.arch"), cores,
        Runtime.getRuntime().maxMemory() >> 20);
    System.out.printf("- CPU: %s%n", cpuName());
    System.out.printf("- decoders: %s%n%n", ImageDecoder.describeReaders());

    conformance(dir, files, images, ours);

    Work baseline = IngestBench::baseline;
    Work optimised = b -> {
      try {
        ImagePreparer.Fingerprint f = ours.fingerprint(b);
        return f.pdq().hash().quality();
      } catch (ImageRejectedException e) {
        throw new IllegalStateException(e);
      }
    };
    Work withView = b -> {
      try {
        ImagePreparer.Fingerprint f = ours.fingerprint(b);
        return ours.fullView(f).getWidth() + f.pdq().hash().quality();
      } catch (ImageRejectedException e) {
        throw new IllegalStateException(e);
      }
    };
    // warm-up: one pass of each, single-threaded, then one on all cores
    run(images, baseline, 1);
    run(images, optimised, 1);
    run(images, withView, 1);
    run(images, optimised, cores);

    System.out.printf("## Throughput (images/s over all %d images; median of %d passes, the paths interleaved"
        + " within each pass so machine load hits them alike)%n%n", images.size(), passes);
    System.out.println("| path | 1 thread | " + cores + " threads | ratio to baseline, 1 thread | ratio, " + cores
        + " threads |");
    System.out.println("|---|---|---|---|---|");
    Work[] paths = {baseline, optimised, withView};
    String[] names = {"baseline: JDK ImageIO full-resolution decode + SHA-256 + straightforward PDQ",
        "ingest-stream: validated decode + SHA-256 + PDQ (`ImagePreparer.fingerprint`)",
        "ingest-stream + the 224x224 RGB8 view (all the stream computes per upload)"};
    double[][] one = interleaved(images, paths, 1, passes);
    double[][] all = interleaved(images, paths, cores, passes);
    for (int k = 0; k < paths.length; k++) {
      System.out.printf("| %s | %.1f | %.1f | %.2fx | %.2fx |%n", names[k], medianOf(one[k]), medianOf(all[k]),
          medianRatio(one[k], one[0]), medianRatio(all[k], all[0]));
    }
    System.out.println();

    stages(images, ours);
    views(images, ours);
    if (pdq != null) {
      bigPhotos(pdq, passes);
    } else {
      System.out.println("(no --pdq DIR: big-photo section skipped)");
    }
  }

  /**
   * Reduced-resolution decoding on the reference's 12-megapixel phone photos (pdq/images/exif-rotn-*.jpg):
   * time of decode + PDQ at full resolution against the default source subsampling, and the Hamming distance
   * of the subsampled hash to the reference's (which decodes at full resolution).
   */
  private static void bigPhotos(Path pdqDir, int passes) throws Exception {
    Path csv = pdqDir.resolve("expected.csv");
    if (!Files.exists(csv)) {
      System.out.println("(no " + csv + ": big-photo section skipped)");
      return;
    }
    Map<String, String> expected = new HashMap<>();
    for (String line : Files.readAllLines(csv)) {
      String[] f = line.split(",");
      expected.put(f[2], f[0]);
    }
    List<String> names = List.of("exif-rotn-1.jpg", "exif-rotn-3.jpg", "exif-rotn-6.jpg", "exif-rotn-8.jpg");
    List<byte[]> photos = new ArrayList<>();
    for (String n : names) {
      photos.add(Files.readAllBytes(pdqDir.resolve("images").resolve(n)));
    }
    ImageDecoder full = new ImageDecoder(dev.imgmatch.ingest.image.ImageLimits.defaults().fullResolution());
    ImageDecoder sub = new ImageDecoder(dev.imgmatch.ingest.image.ImageLimits.defaults());
    dev.imgmatch.ingest.pdq.PdqHasher hasher = new dev.imgmatch.ingest.pdq.PdqHasher();
    double[][] ms = new double[2][passes + 1];
    List<Integer> distances = new ArrayList<>();
    int factor = 0;
    for (int p = 0; p <= passes; p++) { // pass 0 warms up
      for (int k = 0; k < 2; k++) {
        long t0 = System.nanoTime();
        for (int i = 0; i < photos.size(); i++) {
          dev.imgmatch.ingest.image.DecodedImage d = (k == 0 ? full : sub).decode(photos.get(i));
          PdqHash h = hasher.hash(d.stored());
          if (k == 1 && p == 0) {
            factor = d.subsampling();
            distances.add(h.distance(PdqHash.fromHex(expected.get("images/" + names.get(i)), 0)));
          }
        }
        ms[k][p] = (System.nanoTime() - t0) / 1e6 / photos.size();
      }
    }
    double[] fullMs = Arrays.copyOfRange(ms[0], 1, passes + 1);
    double[] subMs = Arrays.copyOfRange(ms[1], 1, passes + 1);
    System.out.printf("## Big photos: reduced-resolution decode (4 phone photos 4032x3024, decode + PDQ, one thread)%n%n");
    System.out.println("| decode | ms per photo (median) | speed-up | Hamming distance to the reference |");
    System.out.println("|---|---|---|---|");
    System.out.printf("| full resolution (`ingest.decode.subsample.min.side=0`) | %.0f | 1.00x | 0 0 0 0 |%n",
        medianOf(fullMs));
    System.out.printf("| source subsampling 1/%d (default, short side kept >= 1024) | %.0f | %.2fx | %s |%n%n", factor,
        medianOf(subMs), 1 / medianRatio(subMs, fullMs), distances.toString().replaceAll("[\\[\\],]", ""));
  }

  @FunctionalInterface
  interface Work {
    int apply(byte[] image);
  }

  /** The baseline: decode with the JDK's reader at full resolution, SHA-256, plain PDQ. */
  static int baseline(byte[] bytes) {
    try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
      ImageReader reader = jdkReader(in);
      reader.setInput(in, true);
      BufferedImage img = reader.read(0);
      reader.dispose();
      MessageDigest.getInstance("SHA-256").digest(bytes);
      return PlainPdq.hash(img).length();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static ImageReader jdkReader(ImageInputStream in) {
    Iterator<ImageReader> it = ImageIO.getImageReaders(in);
    ImageReader first = null;
    while (it.hasNext()) {
      ImageReader r = it.next();
      if (r.getClass().getName().startsWith("com.sun.imageio.")) {
        return r;
      }
      first = first == null ? r : first;
    }
    return first;
  }

  /** Images per second for one pass over {@code images} on {@code threads} threads. */
  static double run(List<byte[]> images, Work work, int threads) throws Exception {
    long t0 = System.nanoTime();
    if (threads == 1) {
      int sink = 0;
      for (byte[] b : images) {
        sink += work.apply(b);
      }
      if (sink == 42) {
        System.out.print("");
      }
    } else {
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      AtomicInteger next = new AtomicInteger();
      List<Future<Integer>> fs = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        fs.add(pool.submit(() -> {
          int sink = 0;
          for (int i; (i = next.getAndIncrement()) < images.size(); ) {
            sink += work.apply(images.get(i));
          }
          return sink;
        }));
      }
      for (Future<Integer> f : fs) {
        f.get();
      }
      pool.shutdown();
    }
    return images.size() / ((System.nanoTime() - t0) / 1e9);
  }

  /** rates[path][pass]: every pass runs each path once, in turn. */
  static double[][] interleaved(List<byte[]> images, Work[] paths, int threads, int passes) throws Exception {
    double[][] r = new double[paths.length][passes];
    for (int p = 0; p < passes; p++) {
      for (int k = 0; k < paths.length; k++) {
        r[k][p] = run(images, paths[k], threads);
      }
    }
    return r;
  }

  static double medianOf(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }

  /** Median over passes of the per-pass ratio (robust to load changing between passes). */
  static double medianRatio(double[] v, double[] base) {
    double[] r = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      r[i] = v[i] / base[i];
    }
    return medianOf(r);
  }

  /** Compares our hashes with the reference's (pdq_reference.csv one directory up) and with the baseline. */
  private static void conformance(Path dir, List<Path> files, List<byte[]> images, ImagePreparer ours)
      throws Exception {
    Path csv = dir.resolveSibling("pdq_reference.csv");
    Map<String, String> ref = new HashMap<>();
    if (Files.exists(csv)) {
      for (String line : Files.readAllLines(csv)) {
        String[] f = line.split(",");
        if (f.length == 3 && !f[0].equals("hash")) {
          ref.put(Path.of(f[2]).getFileName().toString(), f[0] + "," + f[1]);
        }
      }
    }
    Map<Integer, Integer> hist = new TreeMap<>();
    int same = 0;
    int compared = 0;
    int baselineAgrees = 0;
    for (int i = 0; i < files.size(); i++) {
      ImagePreparer.Fingerprint f = ours.fingerprint(images.get(i));
      String mine = f.pdq().hash().toHex() + "," + f.pdq().hash().quality();
      try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(images.get(i)))) {
        ImageReader r = jdkReader(in);
        r.setInput(in, true);
        baselineAgrees += PlainPdq.hash(r.read(0)).equals(mine) ? 1 : 0;
        r.dispose();
      }
      String want = ref.get(files.get(i).getFileName().toString());
      if (want != null) {
        compared++;
        same += want.equals(mine) ? 1 : 0;
        String[] w = want.split(",");
        if (Integer.parseInt(w[1]) >= 80) {
          hist.merge(f.pdq().hash().distance(PdqHash.fromHex(w[0], 0)), 1, Integer::sum);
        }
      }
    }
    System.out.printf("## Conformance (same run)%n%n");
    System.out.printf("- identical hash and quality to the reference: %d of %d images%n", same, compared);
    System.out.printf("- Hamming distance to the reference, images of quality >= 80: %s%n", hist);
    System.out.printf("- identical to the baseline's PDQ: %d of %d%n%n", baselineAgrees, files.size());
  }

  /** Where one image's time goes (single thread, mean over all images). */
  private static void stages(List<byte[]> images, ImagePreparer ours) throws Exception {
    ImageDecoder decoder = ours.decoder();
    dev.imgmatch.ingest.pdq.PdqHasher hasher = new dev.imgmatch.ingest.pdq.PdqHasher();
    ViewEncoder view = new ViewEncoder(dev.imgmatch.ingest.ViewSpec.DEFAULT);
    long dec = 0;
    long sha = 0;
    long pdq = 0;
    long resize = 0;
    long baseDecode = 0;
    long basePdq = 0;
    for (int pass = 0; pass < 2; pass++) {
      boolean measure = pass == 1;
      for (byte[] b : images) {
        long t0 = System.nanoTime();
        RgbImage img = decoder.decode(b).oriented();
        long t1 = System.nanoTime();
        MessageDigest.getInstance("SHA-256").digest(b);
        long t2 = System.nanoTime();
        hasher.hash(img);
        long t3 = System.nanoTime();
        view.full(img);
        long t4 = System.nanoTime();
        BufferedImage bi;
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(b))) {
          ImageReader r = jdkReader(in);
          r.setInput(in, true);
          bi = r.read(0);
          r.dispose();
        }
        long t5 = System.nanoTime();
        PlainPdq.hash(bi);
        long t6 = System.nanoTime();
        if (measure) {
          dec += t1 - t0;
          sha += t2 - t1;
          pdq += t3 - t2;
          resize += t4 - t3;
          baseDecode += t5 - t4;
          basePdq += t6 - t5;
        }
      }
    }
    double n = images.size() * 1e6;
    System.out.printf("## Per-image stages (ms, one thread, mean)%n%n");
    System.out.println("| stage | ingest-stream | baseline |");
    System.out.println("|---|---|---|");
    System.out.printf("| decode (+ validation, EXIF, conversion to RGB) | %.2f | %.2f |%n", dec / n, baseDecode / n);
    System.out.printf("| SHA-256 | %.3f | (same) |%n", sha / n);
    System.out.printf("| PDQ | %.2f | %.2f |%n", pdq / n, basePdq / n);
    System.out.printf("| 224x224 RGB8 view (area resize) | %.2f | - |%n%n", resize / n);
  }

  /** Size and time of each view encoding, and what the embedder pays to get pixels back. */
  private static void views(List<byte[]> images, ImagePreparer ours) throws Exception {
    List<RgbImage> smalls = new ArrayList<>();
    for (byte[] b : images) {
      smalls.add(Resize.to(ours.fingerprint(b).oriented(), 224, 224));
    }
    System.out.printf("## View encodings, 224x224 (mean over %d images, one thread)%n%n", smalls.size());
    System.out.println("| encoding | bytes | + lz4 (producer) | + zstd | encode ms | decode ms (embedder) |");
    System.out.println("|---|---|---|---|---|---|");
    for (PixelEncoding enc : PixelEncoding.values()) {
      for (int pass = 0; pass < 2; pass++) { // first pass warms up
        long size = 0;
        long lz4 = 0;
        long zstd = 0;
        long encNs = 0;
        long decNs = 0;
        for (RgbImage s : smalls) {
          long t0 = System.nanoTime();
          byte[] bytes = ViewEncoder.encode(s, enc, 90);
          long t1 = System.nanoTime();
          if (enc != PixelEncoding.RGB8) {
            BufferedImage back = ImageIO.read(new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes)));
            back.getRGB(0, 0, 224, 224, null, 0, 224);
          }
          long t2 = System.nanoTime();
          encNs += t1 - t0;
          decNs += t2 - t1;
          size += bytes.length;
          lz4 += compressed(Compression.lz4().build(), bytes);
          zstd += compressed(Compression.zstd().build(), bytes);
        }
        if (pass == 1) {
          int n = smalls.size();
          System.out.printf("| %s%s | %d | %d | %d | %.2f | %.2f |%n", enc, enc == PixelEncoding.JPEG ? " q90" : "",
              size / n, lz4 / n, zstd / n, encNs / 1e6 / n, decNs / 1e6 / n);
        }
      }
    }
    System.out.println();
  }

  private static long compressed(Compression c, byte[] data) {
    ByteBufferOutputStream buf = new ByteBufferOutputStream(data.length / 2 + 64);
    try (OutputStream out = c.wrapForOutput(buf, RecordBatch.CURRENT_MAGIC_VALUE)) {
      out.write(data);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return buf.position();
  }

  private static String cpuName() {
    try {
      return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
          .findFirst().map(l -> l.substring(l.indexOf(':') + 1).strip()).orElse("unknown");
    } catch (IOException e) {
      return "unknown";
    }
  }
}
