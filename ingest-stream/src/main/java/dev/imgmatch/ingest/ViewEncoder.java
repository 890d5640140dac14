package dev.imgmatch.ingest;

import dev.imgmatch.avro.ImageView;
import dev.imgmatch.avro.PixelEncoding;
import dev.imgmatch.ingest.image.BorderTrim;
import dev.imgmatch.ingest.image.InsetFinder;
import dev.imgmatch.ingest.image.Keystone;
import dev.imgmatch.ingest.image.MosaicFinder;
import dev.imgmatch.ingest.image.Resize;
import dev.imgmatch.ingest.image.RgbImage;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Renders the model-ready views of an oriented image, each resized to the spec's size (aspect not kept) and
 * encoded alike:
 * <ul>
 *   <li>{@code full}: the whole image (always first);
 *   <li>{@code hflip}: {@code full} mirrored left-right (the resize is symmetric, so this is the mirrored image
 *       resized, up to float rounding, without a second resize);
 *   <li>{@code center80}: the central 80% of each side (10% cut from every edge);
 *   <li>{@code trim}: the region inside uniform margins ({@link BorderTrim}); rendered only when a margin was
 *       found, so most images carry no such view;
 *   <li>{@code inset}: a picture pasted into this one ({@link InsetFinder}: the largest compact region of detail
 *       on a flatter canvas); rendered only when one is found and it is not the picture inside a border (the
 *       {@code trim} view's). Its descriptor does not score candidates (an extra
 *       view raises every competitor's similarity too); index-service uses its nearest references only to choose
 *       which ones local features verify, so a pasted copy whose reference the whole picture's descriptor and its
 *       visual words rank low is still placed;
 *   <li>{@code depixel}: a pixelated picture (a mosaic of flat blocks, {@link MosaicFinder}) as the small picture its
 *       blocks are, one pixel per block, resized to the model's size like any tiny picture: the picture a mosaic
 *       hides, without the grid of sharp edges the model sees in it. Rendered only when the image is a mosaic (also
 *       inside a border, or once a keystone made after the pixelating is undone: {@link #mosaic}); it
 *       scores like {@code full}, and meets the references' {@code small} views at their own resolution;
 *   <li>{@code small}: the whole image as a small copy of it looks — shrunk so that its longer side is
 *       {@code smallSide} px, then resized to the model's size. index-service stores its descriptor beside the full
 *       one, so that tiny, pixelated and pasted-small copies (whose detail is gone) meet their original at their
 *       own resolution: the descriptor depends on resolution (docs/BENCHMARKS.md, "Beyond dev");
 *   <li>{@code frame<i>}: a further frame of a multi-frame image (frame {@code i} of the file, 0-based), whole, like
 *       {@code full} ({@link #frame}).
 * </ul>
 * Thread-safe.
 */
public final class ViewEncoder {
  public static final String FULL = "full";
  public static final String HFLIP = "hflip";
  public static final String CENTER80 = "center80";
  public static final String TRIM = "trim";
  public static final String SMALL = "small";
  public static final String INSET = "inset";
  public static final String DEPIXEL = "depixel";
  /** Prefix of the views of further frames: {@code frame<i>}, {@code i} the frame's 0-based index in the file. */
  public static final String FRAME = "frame";
  /** Every view name that can be configured (frame views come with the image, not from settings). */
  public static final List<String> NAMES = List.of(FULL, HFLIP, CENTER80, TRIM, INSET, DEPIXEL, SMALL);
  /** Longer side of the {@code small} view's shrunk image, unless configured. */
  public static final int DEFAULT_SMALL_SIDE = 96;

  private final ViewSpec spec;
  private final BorderTrim trim;
  private final int smallSide;
  private final InsetFinder insetFinder = InsetFinder.DEFAULT;
  private final MosaicFinder mosaicFinder = MosaicFinder.DEFAULT;

  public ViewEncoder(ViewSpec spec) {
    this(spec, BorderTrim.DEFAULT, DEFAULT_SMALL_SIDE);
  }

  public ViewEncoder(ViewSpec spec, BorderTrim trim, int smallSide) {
    if (smallSide < 8) {
      throw new IllegalArgumentException("small view side must be at least 8 px, got " + smallSide);
    }
    this.spec = spec;
    this.trim = trim;
    this.smallSide = smallSide;
  }

  /**
   * The views named in {@code names} (in that order; {@code full} must be first) that apply to this image:
   * {@code trim} is left out when the image has no uniform margin, {@code inset} when nothing is pasted into it,
   * {@code depixel} when it is no mosaic.
   */
  public List<ImageView> render(RgbImage oriented, List<String> names) {
    BorderTrim.Region margin = names.contains(TRIM) ? margin(oriented) : null;
    return render(oriented, names, margin, names.contains(INSET) ? inset(oriented, margin) : null,
        names.contains(DEPIXEL) ? mosaic(oriented, margin) : null);
  }

  /**
   * As {@link #render(RgbImage, List)}, with the border and the pasted picture already found.
   *
   * @param margin {@link #margin}'s answer for {@code oriented} (null: no border, so no {@code trim} view)
   * @param insetRegion {@link #inset}'s answer for {@code oriented} (null: none, so no {@code inset} view)
   * @param mosaic {@link #mosaic}'s answer for {@code oriented} (null: none, so no {@code depixel} view)
   */
  public List<ImageView> render(RgbImage oriented, List<String> names, BorderTrim.Region margin,
      BorderTrim.Region insetRegion, Mosaic mosaic) {
    if (names.isEmpty() || !names.get(0).equals(FULL)) {
      throw new IllegalArgumentException("views must start with 'full': " + names);
    }
    RgbImage full = Resize.to(oriented, spec.width(), spec.height());
    RgbImage blocks = mosaic == null ? null : mosaic.blocks();
    List<ImageView> out = new ArrayList<>(names.size());
    for (String name : names) {
      switch (name) {
        case FULL -> out.add(view(FULL, full));
        case HFLIP -> out.add(view(HFLIP, mirror(full)));
        case CENTER80 -> out.add(view(CENTER80, Resize.to(BorderTrim.crop(oriented, center(oriented, 0.8)),
            spec.width(), spec.height())));
        case TRIM -> {
          if (margin != null) {
            out.add(view(TRIM, Resize.to(BorderTrim.crop(oriented, margin), spec.width(), spec.height())));
          }
        }
        case INSET -> {
          if (insetRegion != null) {
            out.add(view(INSET, Resize.to(BorderTrim.crop(oriented, insetRegion), spec.width(), spec.height())));
          }
        }
        case DEPIXEL -> {
          if (blocks != null) {
            out.add(view(DEPIXEL, Resize.to(blocks, spec.width(), spec.height())));
          }
        }
        case SMALL -> out.add(view(SMALL, Resize.to(shrink(oriented, smallSide), spec.width(), spec.height())));
        default -> throw new IllegalArgumentException("unknown view '" + name + "' (known: " + NAMES + ")");
      }
    }
    return out;
  }

  /**
   * A pixelated picture's blocks ({@link MosaicFinder}: one pixel per block) and, when they were found only once a
   * keystone made after the pixelating was undone, the picture so unwarped (null otherwise): the picture whose layout
   * index-service compares, so ingest-stream makes the image's thumbnail of it ({@code ImagePreparer}).
   */
  public record Mosaic(RgbImage blocks, RgbImage unwarped) {}

  /**
   * The blocks of a pixelated picture ({@link MosaicFinder}), or null: found in the whole picture or, when a border was
   * added after the pixelating ({@code margin}: the region inside it, or null), inside the border — whose two edges
   * would otherwise hold too much of the differences for the grid to stand out ({@code margin} is the {@code trim}
   * view's, measured only when that view is configured, as it is by default). {@link BorderTrim} stops short of a
   * picture's edge by up to a JPEG block (that block rings), so the finder looks {@value #MARGIN_INWARD} pixels further
   * in from each trimmed side. Measured on ten calibration splits (docs/BENCHMARKS.md, "Mosaics inside a border"):
   * five more of 381 pixelated queries found, none of 4,287 others. Last, in the picture with a keystone undone
   * ({@link Keystone}: a perspective warp after the pixelating, its outside black), by columns, by rows, or both in
   * either order, the first in which the grid is found (docs/BENCHMARKS.md, "Pixelated, then warped").
   */
  public Mosaic mosaic(RgbImage oriented, BorderTrim.Region margin) {
    RgbImage work = MosaicFinder.workingSize(oriented); // shrunk once, for the finder and the unwarping
    RgbImage blocks = mosaicFinder.find(work);
    if (blocks == null && margin != null) {
      BorderTrim.Region in = inward(margin, oriented.width(), oriented.height(), MARGIN_INWARD);
      blocks = in == null ? null : mosaicFinder.find(BorderTrim.crop(oriented, in));
    }
    return blocks != null ? new Mosaic(blocks, null) : unwarpedMosaic(work);
  }

  /**
   * The mosaic found once a keystone of {@code img} is undone ({@link #mosaic}), or null: by columns, by rows, by
   * columns then rows, by rows then columns, each unwarping made only when the ones before it found no grid.
   */
  private Mosaic unwarpedMosaic(RgbImage img) {
    RgbImage byColumns = Keystone.columns(img);
    Mosaic found = mosaicOf(byColumns);
    RgbImage byRows = found == null ? Keystone.rows(img) : null;
    found = found != null ? found : mosaicOf(byRows);
    found = found != null || byColumns == null ? found : mosaicOf(Keystone.rows(byColumns));
    return found != null || byRows == null ? found : mosaicOf(Keystone.columns(byRows));
  }

  /** The mosaic in an unwarped picture (null: none, or no picture). */
  private Mosaic mosaicOf(RgbImage unwarped) {
    RgbImage blocks = unwarped == null ? null : mosaicFinder.find(unwarped);
    return blocks == null ? null : new Mosaic(blocks, unwarped);
  }

  /** How far inside a trimmed side the mosaic finder looks: a JPEG block (8 pixels). */
  static final int MARGIN_INWARD = 8;

  /**
   * {@code r} moved {@code by} pixels inward on each side that is not the image's own edge ({@code w} x {@code h}), or
   * null when nothing of at least {@code 4 by} pixels a side is left.
   */
  static BorderTrim.Region inward(BorderTrim.Region r, int w, int h, int by) {
    int x0 = r.x() > 0 ? r.x() + by : 0;
    int y0 = r.y() > 0 ? r.y() + by : 0;
    int x1 = r.x() + r.width() < w ? r.x() + r.width() - by : w;
    int y1 = r.y() + r.height() < h ? r.y() + r.height() - by : h;
    return x1 - x0 < 4 * by || y1 - y0 < 4 * by ? null : new BorderTrim.Region(x0, y0, x1 - x0, y1 - y0);
  }

  /**
   * The views of a reference (an upload of the collections copies are matched against): the configured ones plus
   * {@code small} (their low-resolution descriptor, indexed beside the full one), without {@code inset} and
   * {@code depixel} (a reference is what pasted and pixelated copies are found of, not a probe for them).
   */
  public static List<String> referenceViews(List<String> names) {
    List<String> out = new ArrayList<>(names);
    if (!out.contains(SMALL)) {
      out.add(SMALL);
    }
    out.remove(INSET);
    out.remove(DEPIXEL);
    return List.copyOf(out);
  }

  /** The region inside {@code oriented}'s uniform margins, or null when it has none (the {@code trim} view's region). */
  public BorderTrim.Region margin(RgbImage oriented) {
    BorderTrim.Region r = trim.find(oriented);
    return r.isWhole(oriented) ? null : r;
  }

  /**
   * The region of a picture pasted into {@code oriented} ({@link InsetFinder}), or null when it holds none or when it
   * is the picture inside the image's border ({@code margin}, {@link #margin}, or null; intersection over union at least
   * {@value #SAME_REGION}): the {@code trim} view already shows that one.
   */
  public BorderTrim.Region inset(RgbImage oriented, BorderTrim.Region margin) {
    InsetFinder.Found f = locateInset(oriented, margin);
    return f == null ? null : f.region();
  }

  /** As {@link #inset}, with whether the pasted picture's four edges were found ({@link InsetFinder.Found}). */
  public InsetFinder.Found locateInset(RgbImage oriented, BorderTrim.Region margin) {
    InsetFinder.Found f = insetFinder.locate(oriented);
    return f != null && margin != null && f.region().iou(margin) >= SAME_REGION ? null : f;
  }

  /** Intersection over union at or above which an inset is the picture inside the border. */
  static final double SAME_REGION = 0.7;

  /** The central {@code share} of each side of {@code img}. */
  static BorderTrim.Region center(RgbImage img, double share) {
    int w = Math.max(1, (int) Math.round(img.width() * share));
    int h = Math.max(1, (int) Math.round(img.height() * share));
    return new BorderTrim.Region((img.width() - w) / 2, (img.height() - h) / 2, w, h);
  }

  /** {@code img} shrunk (aspect kept, area averaging) so that its longer side is at most {@code side}. */
  static RgbImage shrink(RgbImage img, int side) {
    int longer = Math.max(img.width(), img.height());
    if (longer <= side) {
      return img;
    }
    double s = side / (double) longer;
    return Resize.to(img, Math.max(1, (int) Math.round(img.width() * s)), Math.max(1, (int) Math.round(img.height() * s)));
  }

  static RgbImage mirror(RgbImage img) {
    int w = img.width();
    int[] src = img.pixels();
    int[] out = new int[src.length];
    for (int y = 0; y < img.height(); y++) {
      int row = y * w;
      for (int x = 0; x < w; x++) {
        out[row + x] = src[row + w - 1 - x];
      }
    }
    return new RgbImage(w, img.height(), out);
  }

  private ImageView view(String name, RgbImage small) {
    return ImageView.newBuilder()
        .setName(name)
        .setWidth(small.width())
        .setHeight(small.height())
        .setEncoding(spec.encoding())
        .setPixels(ByteBuffer.wrap(encode(small, spec.encoding(), spec.jpegQuality())))
        .build();
  }

  public ViewSpec spec() {
    return spec;
  }

  /** The 'full' view: the whole image resized to the spec's size. */
  public ImageView full(RgbImage oriented) {
    return view(FULL, Resize.to(oriented, spec.width(), spec.height()));
  }

  /** The view of frame {@code index} of a multi-frame image: its picture as displayed, resized like {@code full}. */
  public ImageView frame(int index, RgbImage oriented) {
    return view(FRAME + index, Resize.to(oriented, spec.width(), spec.height()));
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
