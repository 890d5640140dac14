package dev.imgmatch.ingest;

import dev.imgmatch.avro.ImageView;
import dev.imgmatch.avro.PixelEncoding;
import dev.imgmatch.ingest.image.Resize;
import dev.imgmatch.ingest.image.RgbImage;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/** Renders the model-ready views of an oriented image. Thread-safe. */
public final class ViewEncoder {
  private final ViewSpec spec;

  public ViewEncoder(ViewSpec spec) {
    this.spec = spec;
  }

  public ViewSpec spec() {
    return spec;
  }

  /** The 'full' view: the whole image resized to the spec's size. */
  public ImageView full(RgbImage oriented) {
    RgbImage small = Resize.to(oriented, spec.width(), spec.height());
    return ImageView.newBuilder()
        .setName("full")
        .setWidth(small.width())
        .setHeight(small.height())
        .setEncoding(spec.encoding())
        .setPixels(ByteBuffer.wrap(encode(small, spec.encoding(), spec.jpegQuality())))
        .build();
  }

  /** {@code img} as bytes in {@code encoding} (RGB8: 3 bytes per pixel, row-major). */
  public static byte[] encode(RgbImage img, PixelEncoding encoding, int jpegQuality) {
    byte[] rgb = rgb8(img);
    if (encoding == PixelEncoding.RGB8) {
      return rgb;
    }
    BufferedImage bi = new BufferedImage(img.width(), img.height(), BufferedImage.TYPE_3BYTE_BGR);
    byte[] bgr = ((DataBufferByte) bi.getRaster().getDataBuffer()).getData();
    for (int i = 0; i < rgb.length; i += 3) {
      bgr[i] = rgb[i + 2];
      bgr[i + 1] = rgb[i + 1];
      bgr[i + 2] = rgb[i];
    }
    String format = encoding == PixelEncoding.PNG ? "png" : "jpeg";
    ImageWriter writer = ImageIO.getImageWritersByFormatName(format).next();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(rgb.length / 4);
    try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
      writer.setOutput(out);
      ImageWriteParam p = writer.getDefaultWriteParam();
      if (encoding == PixelEncoding.JPEG) {
        p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
        p.setCompressionQuality(jpegQuality / 100f);
      }
      writer.write(null, new IIOImage(bi, null, null), p);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot encode a view as " + format, e); // in-memory: a bug, not bad input
    } finally {
      writer.dispose();
    }
    return bytes.toByteArray();
  }

  static byte[] rgb8(RgbImage img) {
    int[] px = img.pixels();
    byte[] out = new byte[px.length * 3];
    for (int i = 0, o = 0; i < px.length; i++) {
      int p = px[i];
      out[o++] = (byte) (p >> 16);
      out[o++] = (byte) (p >> 8);
      out[o++] = (byte) p;
    }
    return out;
  }
}
