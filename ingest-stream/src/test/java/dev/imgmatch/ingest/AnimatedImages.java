package dev.imgmatch.ingest;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageOutputStream;

/**
 * Multi-frame images made in code: animated GIFs (the JDK's writer), multi-page TIFFs (ImageIO), APNGs (chunks
 * assembled around the JDK's PNG encoding of each frame) and animated WebPs (lossless VP8L frames written here: no
 * Java WebP writer is on the class path).
 */
public final class AnimatedImages {
  private AnimatedImages() {}

  /**
   * One GIF frame.
   *
   * @param disposal the GIF disposal method: {@code none}, {@code doNotDispose}, {@code restoreToBackgroundColor},
   *     {@code restoreToPrevious}
   */
  public record GifFrame(BufferedImage image, int x, int y, String disposal) {
    public GifFrame(BufferedImage image) {
      this(image, 0, 0, "none");
    }
  }

  /** A GIF whose frames all cover the canvas (the first frame's size). */
  public static byte[] gif(List<BufferedImage> frames) {
    return gifFrames(frames.stream().map(GifFrame::new).toList());
  }

  /** A GIF of {@code frames}; the canvas (logical screen) is the first frame's size. */
  public static byte[] gifFrames(List<GifFrame> frames) {
    ImageWriter w = ImageIO.getImageWritersByFormatName("gif").next();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ImageOutputStream out = ImageIO.createImageOutputStream(bytes)) {
      w.setOutput(out);
      w.prepareWriteSequence(null);
      for (GifFrame f : frames) {
        IIOMetadata md = w.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(f.image()), null);
        String format = md.getNativeMetadataFormatName();
        IIOMetadataNode root = (IIOMetadataNode) md.getAsTree(format);
        IIOMetadataNode descriptor = child(root, "ImageDescriptor");
        descriptor.setAttribute("imageLeftPosition", String.valueOf(f.x()));
        descriptor.setAttribute("imageTopPosition", String.valueOf(f.y()));
        IIOMetadataNode gce = child(root, "GraphicControlExtension");
        gce.setAttribute("disposalMethod", f.disposal());
        gce.setAttribute("delayTime", "10");
        gce.setAttribute("transparentColorFlag", "FALSE");
        md.setFromTree(format, root);
        w.writeToSequence(new IIOImage(f.image(), null, md), null);
      }
      w.endWriteSequence();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      w.dispose();
    }
    return bytes.toByteArray();
  }

  /** A frame of one colour ({@code 0xRRGGBB}) filling the rectangle at (x, y). */
  public record FlatFrame(int rgb, int x, int y, int w, int h) {}

  /**
   * A GIF of one-colour frames on a {@code width x height} canvas, written here byte by byte (the JDK's writer takes
   * about a millisecond per frame: too slow for files of thousands of frames). Each frame has a two-colour local
   * table and its pixels as 3-bit LZW codes with a clear code before every second one, so the code size never grows.
   */
  public static byte[] flatGif(int width, int height, List<FlatFrame> frames) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes("GIF89a".getBytes(StandardCharsets.ISO_8859_1));
    out.writeBytes(new byte[] {(byte) width, (byte) (width >> 8), (byte) height, (byte) (height >> 8), 0, 0, 0});
    for (FlatFrame f : frames) {
      out.writeBytes(new byte[] {0x21, (byte) 0xF9, 4, 1 << 2, 10, 0, 0, 0}); // GCE: do not dispose, 0.1 s
      out.writeBytes(new byte[] {0x2C, (byte) f.x(), (byte) (f.x() >> 8), (byte) f.y(), (byte) (f.y() >> 8),
          (byte) f.w(), (byte) (f.w() >> 8), (byte) f.h(), (byte) (f.h() >> 8), (byte) 0x80}); // 2-colour table
      out.writeBytes(new byte[] {(byte) (f.rgb() >> 16), (byte) (f.rgb() >> 8), (byte) f.rgb(), 0, 0, 0});
      out.write(2); // LZW minimum code size: clear = 4, end = 5
      Bits codes = new Bits();
      int n = f.w() * f.h();
      for (int i = 0; i < n; i++) {
        if (i % 2 == 0) {
          codes.put(4, 3);
        }
        codes.put(0, 3);
      }
      codes.put(5, 3);
      byte[] data = codes.bytes();
      for (int at = 0; at < data.length; at += 255) {
        int len = Math.min(255, data.length - at);
        out.write(len);
        out.write(data, at, len);
      }
      out.write(0);
    }
    out.write(0x3B);
    return out.toByteArray();
  }

  private static IIOMetadataNode child(IIOMetadataNode root, String name) {
    if (root.getElementsByTagName(name).getLength() > 0) {
      return (IIOMetadataNode) root.getElementsByTagName(name).item(0);
    }
    IIOMetadataNode n = new IIOMetadataNode(name);
    root.appendChild(n);
    return n;
  }

  /** A TIFF with one page per picture. */
  public static byte[] tiff(List<BufferedImage> pages) {
    ImageWriter w = ImageIO.getImageWritersByFormatName("tiff").next();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ImageOutputStream out = ImageIO.createImageOutputStream(bytes)) {
      w.setOutput(out);
      w.prepareWriteSequence(null);
      for (BufferedImage p : pages) {
        w.writeToSequence(new IIOImage(p, null, null), null);
      }
      w.endWriteSequence();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      w.dispose();
    }
    return bytes.toByteArray();
  }

  /**
   * One APNG frame.
   *
   * @param dispose APNG dispose op: 0 none, 1 background, 2 previous
   * @param blend APNG blend op: 0 source (replace), 1 over
   */
  public record ApngFrame(BufferedImage image, int x, int y, int dispose, int blend) {
    public ApngFrame(BufferedImage image) {
      this(image, 0, 0, 0, 0);
    }
  }

  /** An APNG whose default image is its first frame; every frame covers the canvas. */
  public static byte[] apng(List<BufferedImage> frames) {
    return apng(null, frames.stream().map(ApngFrame::new).toList());
  }

  /**
   * An APNG of {@code frames} (all of one image type: one colour type and bit depth) on the first frame's canvas.
   *
   * @param separateDefault the default image (what non-APNG viewers show), not part of the animation; null = the
   *     default image is frame 0
   */
  public static byte[] apng(BufferedImage separateDefault, List<ApngFrame> frames) {
    BufferedImage canvas = separateDefault != null ? separateDefault : frames.getFirst().image();
    byte[] first = TestImages.encode(canvas, "png");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(first, 0, 8 + 25); // signature + IHDR
    chunk(out, "acTL", ByteBuffer.allocate(8).putInt(frames.size()).putInt(0).array());
    int seq = 0;
    if (separateDefault != null) {
      chunk(out, "IDAT", idat(first));
    }
    for (int k = 0; k < frames.size(); k++) {
      ApngFrame f = frames.get(k);
      ByteBuffer fc = ByteBuffer.allocate(26).putInt(seq++).putInt(f.image().getWidth()).putInt(f.image().getHeight())
          .putInt(f.x()).putInt(f.y()).putShort((short) 1).putShort((short) 10).put((byte) f.dispose())
          .put((byte) f.blend());
      chunk(out, "fcTL", fc.array());
      byte[] data = idat(TestImages.encode(f.image(), "png"));
      if (k == 0 && separateDefault == null) {
        chunk(out, "IDAT", data);
      } else {
        chunk(out, "fdAT", ByteBuffer.allocate(4 + data.length).putInt(seq++).put(data).array());
      }
    }
    chunk(out, "IEND", new byte[0]);
    return out.toByteArray();
  }

  /** The image data of a PNG: its IDAT payloads, concatenated. */
  static byte[] idat(byte[] png) {
    ByteArrayOutputStream data = new ByteArrayOutputStream();
    int pos = 8;
    while (pos + 12 <= png.length) {
      int len = ByteBuffer.wrap(png, pos, 4).getInt();
      String type = new String(png, pos + 4, 4, StandardCharsets.ISO_8859_1);
      if (type.equals("IDAT")) {
        data.write(png, pos + 8, len);
      }
      pos += 12 + len;
    }
    return data.toByteArray();
  }

  /** A PNG chunk with its CRC-32. */
  public static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
    dev.imgmatch.testkit.ImageBytes.chunk(out, type, data);
  }

  /** An animated WebP: every frame a lossless (VP8L) picture covering the canvas, drawn without blending. */
  public static byte[] webp(List<BufferedImage> frames) {
    int w = frames.getFirst().getWidth();
    int h = frames.getFirst().getHeight();
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    ByteArrayOutputStream vp8x = new ByteArrayOutputStream();
    vp8x.write(0x02 | 0x10); // animation, alpha
    vp8x.writeBytes(new byte[3]);
    vp8x.writeBytes(u24(w - 1));
    vp8x.writeBytes(u24(h - 1));
    riffChunk(body, "VP8X", vp8x.toByteArray());
    riffChunk(body, "ANIM", new byte[6]); // background colour 0, loop forever
    for (BufferedImage f : frames) {
      ByteArrayOutputStream anmf = new ByteArrayOutputStream();
      anmf.writeBytes(u24(0));
      anmf.writeBytes(u24(0));
      anmf.writeBytes(u24(f.getWidth() - 1));
      anmf.writeBytes(u24(f.getHeight() - 1));
      anmf.writeBytes(u24(100));
      anmf.write(0x02); // do not blend, do not dispose
      riffChunk(anmf, "VP8L", vp8l(f));
      riffChunk(body, "ANMF", anmf.toByteArray());
    }
    return riff(body.toByteArray());
  }

  /** A still lossless WebP. */
  public static byte[] webpStill(BufferedImage img) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    riffChunk(body, "VP8L", vp8l(img));
    return riff(body.toByteArray());
  }

  private static byte[] riff(byte[] body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes("RIFF".getBytes(StandardCharsets.ISO_8859_1));
    out.writeBytes(le32(body.length + 4));
    out.writeBytes("WEBP".getBytes(StandardCharsets.ISO_8859_1));
    out.writeBytes(body);
    return out.toByteArray();
  }

  private static void riffChunk(ByteArrayOutputStream out, String type, byte[] data) {
    out.writeBytes(type.getBytes(StandardCharsets.ISO_8859_1));
    out.writeBytes(le32(data.length));
    out.writeBytes(data);
    if ((data.length & 1) == 1) {
      out.write(0);
    }
  }

  private static byte[] le32(int v) {
    return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
  }

  private static byte[] u24(int v) {
    return new byte[] {(byte) v, (byte) (v >> 8), (byte) (v >> 16)};
  }

  /**
   * The simplest valid VP8L bitstream: no transforms, no colour cache, one prefix code group whose green, red, blue
   * and alpha codes give every literal 8 bits (a complete code of 256 symbols) and a one-symbol distance code; each
   * pixel is then its four bytes. Not small, but what any VP8L decoder reads.
   */
  static byte[] vp8l(BufferedImage img) {
    int w = img.getWidth();
    int h = img.getHeight();
    Bits b = new Bits();
    b.put(0x2f, 8);
    b.put(w - 1, 14);
    b.put(h - 1, 14);
    b.put(1, 1); // alpha is used
    b.put(0, 3); // version
    b.put(0, 1); // no transform
    b.put(0, 1); // no colour cache
    b.put(0, 1); // no meta prefix codes
    for (int k = 0; k < 4; k++) { // green (256 literals + 24 length prefixes), red, blue, alpha
      int alphabet = k == 0 ? 280 : 256;
      b.put(0, 1); // a normal code
      b.put(12 - 4, 4); // 12 code-length-code lengths, in the order 17 18 0 1 2 3 4 5 16 6 7 8
      for (int sym : new int[] {17, 18, 0, 1, 2, 3, 4, 5, 16, 6, 7, 8}) {
        b.put(sym == 0 || sym == 8 ? 1 : 0, 3); // lengths 0 and 8 get one-bit codes: 0 -> "0", 8 -> "1"
      }
      b.put(0, 1); // max_symbol = the alphabet size
      for (int s = 0; s < alphabet; s++) {
        b.code(s < 256 ? 1 : 0, 1);
      }
    }
    b.put(1, 1); // distance: a simple code of one 1-bit symbol, 0
    b.put(0, 1);
    b.put(0, 1);
    b.put(0, 1);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int p = img.getRGB(x, y);
        b.code((p >> 8) & 0xFF, 8);
        b.code((p >> 16) & 0xFF, 8);
        b.code(p & 0xFF, 8);
        b.code(p >>> 24, 8);
      }
    }
    return b.bytes();
  }

  /** VP8L's bit writer: values least significant bit first, prefix codes most significant bit first. */
  private static final class Bits {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private int acc;
    private int n;

    void put(long v, int bits) {
      for (int i = 0; i < bits; i++) {
        acc |= (int) ((v >> i) & 1) << n;
        if (++n == 8) {
          out.write(acc);
          acc = 0;
          n = 0;
        }
      }
    }

    void code(int c, int len) {
      for (int i = len - 1; i >= 0; i--) {
        put((c >> i) & 1, 1);
      }
    }

    byte[] bytes() {
      if (n > 0) {
        out.write(acc);
        acc = 0;
        n = 0;
      }
      return out.toByteArray();
    }
  }
}
