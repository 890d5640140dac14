package dev.imgmatch.ingest.bench;

import dev.imgmatch.ingest.AnimatedImages;
import dev.imgmatch.ingest.ImagePreparer;
import dev.imgmatch.ingest.IngestConfig;
import dev.imgmatch.ingest.TestImages;
import dev.imgmatch.ingest.image.FrameReader;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What looking beyond the first frame costs ingest: a plain harness (not a test), one thread, on generated
 * multi-frame files (each frame a different textured picture, the hardest case for the selection).
 * {@code java -cp <test classpath> dev.imgmatch.ingest.bench.FrameCost [key=value...]} (settings as the service's).
 * Prints per file the median of 5 runs after 2 warm-ups: the first frame alone and with the further frames.
 */
public final class FrameCost {
  private FrameCost() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> settings = new java.util.HashMap<>();
    for (String a : args) {
      settings.put(a.substring(0, a.indexOf('=')), a.substring(a.indexOf('=') + 1));
    }
    ImagePreparer p = ImagePreparer.of(new IngestConfig(settings));
    List<BufferedImage> frames = new ArrayList<>();
    List<AnimatedImages.GifFrame> deltas = new ArrayList<>();
    for (int k = 0; k < 60; k++) {
      frames.add(TestImages.picture(480, 270, 100 + k));
      deltas.add(k == 0 ? new AnimatedImages.GifFrame(frames.getFirst())
          : new AnimatedImages.GifFrame(TestImages.picture(160, 90, 300 + k), (k * 7) % 300, (k * 5) % 170, "none"));
    }
    List<BufferedImage> big = new ArrayList<>();
    for (int k = 0; k < 16; k++) {
      big.add(TestImages.picture(1000, 1000, 500 + k));
    }
    Map<String, byte[]> files = new LinkedHashMap<>();
    files.put("gif 480x270, 60 frames", AnimatedImages.gif(frames));
    files.put("gif 480x270, 60 frames of 160x90", AnimatedImages.gifFrames(deltas));
    files.put("apng 480x270, 60 frames", AnimatedImages.apng(frames));
    files.put("webp 480x270, 20 lossless frames", AnimatedImages.webp(frames.subList(0, 20)));
    files.put("tiff 480x270, 40 pages", AnimatedImages.tiff(frames.subList(0, 40)));
    files.put("gif 1000x1000, 16 frames", AnimatedImages.gif(big));
    for (var e : files.entrySet()) {
      byte[] b = e.getValue();
      for (int w = 0; w < 2; w++) {
        p.fingerprint(b, true);
      }
      long[] one = new long[5];
      long[] all = new long[5];
      FrameReader.Result<?> r = null;
      for (int i = 0; i < 5; i++) {
        long t = System.nanoTime();
        p.fingerprint(b, false);
        one[i] = System.nanoTime() - t;
        t = System.nanoTime();
        r = p.fingerprint(b, true).frames();
        all[i] = System.nanoTime() - t;
      }
      Arrays.sort(one);
      Arrays.sort(all);
      System.out.printf("%-36s %9d bytes: first frame %6.1f ms, with frames %7.1f ms; decoded %d of %d, %.1f Mpx,"
          + " kept %s%n", e.getKey(), b.length, one[2] / 1e6, all[2] / 1e6, r.decoded(), r.found(),
          r.pixels() / 1048576.0, r.kept().stream().map(FrameReader.Kept::index).toList());
    }
  }
}
