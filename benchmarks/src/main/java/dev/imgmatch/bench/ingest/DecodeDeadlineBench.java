package dev.imgmatch.bench.ingest;

import dev.imgmatch.ingest.image.DeadlineImageInputStream;
import java.awt.Color;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageInputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Does a decode deadline really stop the decode? Decodes a large baseline and a large progressive JPEG with the JDK's
 * reader under a short deadline enforced two ways — {@code ImageReader.abort()} from a watchdog thread, and
 * {@link DeadlineImageInputStream} failing every read after the deadline — and prints how long each decode went on
 * (median of the passes; the no-deadline decode is the baseline of the same run).
 *
 * <pre>
 *   java -cp "benchmarks/target/classes:$(cat benchmarks/target/classpath.txt)" \
 *     dev.imgmatch.bench.ingest.DecodeDeadlineBench [--side 6000] [--deadline-ms 20] [--passes 5]
 * </pre>
 */
public final class DecodeDeadlineBench {
  private DecodeDeadlineBench() {}

  public static void main(String[] args) throws Exception {
    int side = 6000;
    long deadlineMs = 20;
    int passes = 5;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--side" -> side = Integer.parseInt(args[++i]);
        case "--deadline-ms" -> deadlineMs = Long.parseLong(args[++i]);
        case "--passes" -> passes = Integer.parseInt(args[++i]);
        default -> throw new IllegalArgumentException("usage: DecodeDeadlineBench [--side N] [--deadline-ms N] [--passes N]");
      }
    }
    BufferedImage img = picture(side);
    ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor();
    System.out.printf("| JPEG %dx%d | no deadline | abort() after %d ms | stream deadline %d ms |%n|---|---|---|---|%n",
        side, side, deadlineMs, deadlineMs);
    for (boolean progressive : new boolean[] {false, true}) {
      byte[] jpeg = encode(img, progressive);
      double[][] ms = new double[3][passes];
      for (int p = 0; p < passes; p++) {
        ms[0][p] = decode(jpeg, 0, false, watchdog);
        ms[1][p] = decode(jpeg, deadlineMs, false, watchdog);
        ms[2][p] = decode(jpeg, deadlineMs, true, watchdog);
      }
      System.out.printf("| %s (%d KB) | %.0f ms | %.0f ms | %.0f ms |%n", progressive ? "progressive" : "baseline",
          jpeg.length / 1024, median(ms[0]), median(ms[1]), median(ms[2]));
    }
    watchdog.shutdownNow();
  }

  /** Milliseconds until the decode returned or failed. */
  private static double decode(byte[] jpeg, long deadlineMs, boolean streamDeadline, ScheduledExecutorService wd)
      throws Exception {
    ImageReader reader = ImageIO.getImageReadersByFormatName("jpeg").next();
    long t0 = System.nanoTime();
    AtomicBoolean expired = new AtomicBoolean();
    var in = streamDeadline
        ? new DeadlineImageInputStream(jpeg, t0 + TimeUnit.MILLISECONDS.toNanos(deadlineMs), expired)
        : new MemoryCacheImageInputStream(new java.io.ByteArrayInputStream(jpeg));
    var abort = deadlineMs > 0 && !streamDeadline ? wd.schedule(reader::abort, deadlineMs, TimeUnit.MILLISECONDS) : null;
    try {
      reader.setInput(in);
      reader.read(0);
    } catch (Exception e) {
      // the deadline tripped
    } finally {
      if (abort != null) {
        abort.cancel(false);
      }
      reader.dispose();
      in.close();
    }
    return (System.nanoTime() - t0) / 1e6;
  }

  private static BufferedImage picture(int side) {
    BufferedImage img = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    Random r = new Random(7);
    g.setPaint(new GradientPaint(0, 0, Color.ORANGE, side, side, Color.BLUE));
    g.fillRect(0, 0, side, side);
    for (int i = 0; i < 400; i++) {
      g.setColor(new Color(r.nextInt(0xFFFFFF)));
      g.fillOval(r.nextInt(side), r.nextInt(side), 20 + r.nextInt(side / 8), 20 + r.nextInt(side / 8));
    }
    g.dispose();
    return img;
  }

  private static byte[] encode(BufferedImage img, boolean progressive) throws Exception {
    Iterator<ImageWriter> it = ImageIO.getImageWritersByFormatName("jpeg");
    ImageWriter w = it.next();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
      w.setOutput(out);
      ImageWriteParam p = w.getDefaultWriteParam();
      p.setProgressiveMode(progressive ? ImageWriteParam.MODE_DEFAULT : ImageWriteParam.MODE_DISABLED);
      p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
      p.setCompressionQuality(0.9f);
      w.write(null, new IIOImage(img, null, null), p);
    } finally {
      w.dispose();
    }
    return bytes.toByteArray();
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }
}
