package dev.imgmatch.ingest;

import dev.imgmatch.testkit.ImageBytes;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/** Test images generated in code (java.awt + ImageIO writers), and hand-made broken files. */
public final class TestImages {
  private TestImages() {}

  /** A textured picture (gradient, shapes, lines) whose PDQ quality is high; {@code seed} varies it. */
  public static BufferedImage picture(int w, int h, long seed, int type) {
    BufferedImage img = new BufferedImage(w, h, type);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    Random r = new Random(seed);
    g.setPaint(new GradientPaint(0, 0, new Color(r.nextInt(0xFFFFFF)), w, h, new Color(r.nextInt(0xFFFFFF))));
    g.fillRect(0, 0, w, h);
    for (int i = 0; i < 12; i++) {
      g.setColor(new Color(r.nextInt(0xFFFFFF)));
      int x = r.nextInt(w);
      int y = r.nextInt(h);
      if (i % 2 == 0) {
        g.fillOval(x - w / 8, y - h / 8, w / 4 + r.nextInt(w / 4 + 1), h / 4 + r.nextInt(h / 4 + 1));
      } else {
        g.setStroke(new BasicStroke(Math.max(1, w / 40f)));
        g.drawLine(x, y, r.nextInt(w), r.nextInt(h));
      }
    }
    g.dispose();
    return img;
  }

  public static BufferedImage picture(int w, int h, long seed) {
    return picture(w, h, seed, BufferedImage.TYPE_INT_RGB);
  }

  public static byte[] encode(BufferedImage img, String format) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      if (!ImageIO.write(img, format, out)) {
        throw new IllegalStateException("no " + format + " writer for image type " + img.getType());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  public static byte[] jpeg(int w, int h, long seed) {
    return jpeg(picture(w, h, seed), 0.9f);
  }

  public static byte[] jpeg(BufferedImage img, float quality) {
    ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
      writer.setOutput(out);
      ImageWriteParam p = writer.getDefaultWriteParam();
      p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
      p.setCompressionQuality(quality);
      writer.write(null, new IIOImage(img, null, null), p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      writer.dispose();
    }
    return bytes.toByteArray();
  }

  public static byte[] png(int w, int h, long seed) {
    return encode(picture(w, h, seed), "png");
  }

  /** A 4-channel CMYK JPEG (no Adobe marker), written from a raster: the JDK reader refuses these. */
  public static byte[] cmykJpeg(int w, int h) {
    WritableRaster raster = java.awt.image.Raster.createInterleavedRaster(java.awt.image.DataBuffer.TYPE_BYTE, w, h,
        4, null);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        raster.setPixel(x, y, new int[] {x * 255 / w, y * 255 / h, (x + y) % 256, 30});
      }
    }
    ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
      writer.setOutput(out);
      writer.write(null, new IIOImage(raster, null, null), writer.getDefaultWriteParam());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      writer.dispose();
    }
    return bytes.toByteArray();
  }

  /** {@code jpeg} with an EXIF APP1 segment carrying only the orientation tag, right after SOI. */
  public static byte[] withExifOrientation(byte[] jpeg, int orientation) {
    ByteBuffer tiff = ByteBuffer.allocate(8 + 2 + 12 + 4).order(ByteOrder.BIG_ENDIAN);
    tiff.put((byte) 'M').put((byte) 'M').putShort((short) 42).putInt(8); // header, IFD0 at 8
    tiff.putShort((short) 1); // one entry
    tiff.putShort((short) 0x0112).putShort((short) 3).putInt(1).putShort((short) orientation).putShort((short) 0);
    tiff.putInt(0); // no next IFD
    byte[] exif = new byte[6 + tiff.capacity()];
    System.arraycopy("Exif\0\0".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1), 0, exif, 0, 6);
    System.arraycopy(tiff.array(), 0, exif, 6, tiff.capacity());
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(0xFF);
    out.write(0xD8);
    out.write(0xFF);
    out.write(0xE1);
    int len = exif.length + 2;
    out.write(len >> 8);
    out.write(len & 0xFF);
    out.writeBytes(exif);
    out.write(jpeg, 2, jpeg.length - 2);
    return out.toByteArray();
  }

  /** {@code png} with one more chunk right after IHDR (length, type, data, CRC-32). */
  public static byte[] withPngChunk(byte[] png, String type, byte[] data) {
    return ImageBytes.withPngChunk(png, type, data);
  }

  /** A PNG whose zTXt chunk inflates to {@code mib} MiB of zeros (a text decompression bomb). */
  public static byte[] pngWithTextBomb(int mib) {
    return withPngChunk(png(64, 48, 3), "zTXt", ImageBytes.zTxtBomb(mib));
  }

  /** A PNG with an eXIf chunk carrying only the orientation tag. */
  public static byte[] pngWithExifOrientation(int orientation) {
    ByteBuffer tiff = ByteBuffer.allocate(8 + 2 + 12 + 4).order(ByteOrder.BIG_ENDIAN);
    tiff.put((byte) 'M').put((byte) 'M').putShort((short) 42).putInt(8);
    tiff.putShort((short) 1);
    tiff.putShort((short) 0x0112).putShort((short) 3).putInt(1).putShort((short) orientation).putShort((short) 0);
    tiff.putInt(0);
    return withPngChunk(png(80, 40, 4), "eXIf", tiff.array());
  }

  /** A minimal valid-CRC PNG whose IHDR declares {@code w x h} but holds almost no data (a "bomb" header). */
  public static byte[] pngHeaderOnly(int w, int h) {
    return ImageBytes.pngHeaderOnly(w, h);
  }

  private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
    ImageBytes.chunk(out, type, data);
  }

  /**
   * A PNG whose first IDAT chunk has a wrong CRC-32 while its data is intact: the JDK's PNG reader decodes
   * it without a word, so only a CRC check catches it.
   */
  public static byte[] pngWithBadCrc(int w, int h, long seed) {
    return ImageBytes.withBadIdatCrc(png(w, h, seed));
  }

  /** A JPEG header (SOI, DQT-less SOF0) declaring {@code w x h}: enough for the reader to report its size. */
  public static byte[] jpegHeaderDeclaring(int w, int h) {
    return ImageBytes.jpegDeclaring(jpeg(64, 64, 1), w, h);
  }

  public static byte[] truncated(byte[] b, double keep) {
    return Arrays.copyOf(b, (int) (b.length * keep));
  }

  public static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  public static byte[] fixture(String name) {
    try (InputStream in = TestImages.class.getResourceAsStream("/fixtures/" + name)) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static int indexOf(byte[] hay, byte[] needle) {
    return ImageBytes.indexOf(hay, needle);
  }
}
