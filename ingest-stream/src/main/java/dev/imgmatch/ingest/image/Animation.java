package dev.imgmatch.ingest.image;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The frames of an animated GIF, APNG or animated WebP as the file declares them, read from its structure alone
 * (block and chunk headers; no pixel is decoded, nothing is inflated): the canvas size, and per frame its rectangle
 * on the canvas and how it is composed (blend) and cleared afterwards (dispose). Parsing stops at the first
 * structural problem (a truncated or malformed block): the frames before it are kept and {@code damage} says why the
 * rest is not.
 *
 * @param width canvas width (GIF logical screen, APNG IHDR, WebP VP8X canvas)
 * @param height canvas height
 * @param frames the frames in file order, at most {@link #MAX_FRAMES}
 * @param firstIsDefault whether frame 0 is the picture the first-frame decode already returned (GIF, WebP, and an APNG
 *     whose default image is its first frame); false for an APNG whose default image is not part of the animation
 * @param damage why parsing stopped before the end, or null
 */
record Animation(int width, int height, List<Frame> frames, boolean firstIsDefault, String damage) {
  /** Frames past this many are not looked at (the structure of a 20 MB file of 3-byte frames stays cheap). */
  static final int MAX_FRAMES = 100_000;

  /** What happens to a frame's rectangle after it was shown. */
  enum Dispose { NONE, BACKGROUND, PREVIOUS }

  /**
   * One frame.
   *
   * @param x left of its rectangle on the canvas
   * @param y top
   * @param w width of its rectangle (what its decoder allocates)
   * @param h height
   * @param blend drawn over the canvas (transparent pixels show what is below); false: replaces its rectangle
   * @param dispose how its rectangle is cleared before the next frame
   * @param data APNG only: offset and length pairs of its compressed image data in the file (IDAT payloads, or fdAT
   *     payloads without their sequence number); null for the other formats
   */
  record Frame(int x, int y, int w, int h, boolean blend, Dispose dispose, int[] data) {
    long pixels() {
      return (long) w * h;
    }
  }

  /** Pixels of the canvas. */
  long canvasPixels() {
    return (long) width * height;
  }

  /**
   * Whether frame {@code i} can be shown without the frames before it: the first frame (on an empty canvas), or one
   * that covers the whole canvas and replaces it.
   */
  boolean standalone(int i) {
    Frame f = frames.get(i);
    return i == 0 || (!f.blend() && f.x() == 0 && f.y() == 0 && f.w() >= width && f.h() >= height);
  }

  // ---------------------------------------------------------------- GIF

  /** The frames of a GIF (image descriptors with their graphic control extensions). */
  static Animation gif(byte[] b) {
    if (b.length < 13) {
      return new Animation(1, 1, List.of(), true, "no logical screen descriptor");
    }
    int width = u16le(b, 6);
    int height = u16le(b, 8);
    int pos = 13;
    if ((b[10] & 0x80) != 0) {
      pos += 3 << ((b[10] & 7) + 1); // global colour table
    }
    List<Frame> frames = new ArrayList<>();
    boolean transparent = false;
    Dispose dispose = Dispose.NONE;
    String damage = null;
    while (frames.size() < MAX_FRAMES) {
      if (pos >= b.length) {
        break; // no trailer: common, and every frame before it is whole
      }
      int block = b[pos] & 0xFF;
      if (block == 0x3B) {
        break; // trailer
      } else if (block == 0x21) {
        if (pos + 2 > b.length) {
          damage = "truncated extension at byte " + pos;
          break;
        }
        int label = b[pos + 1] & 0xFF;
        if (label == 0xF9 && pos + 7 < b.length && (b[pos + 2] & 0xFF) == 4) {
          int packed = b[pos + 3] & 0xFF;
          int method = (packed >> 2) & 7;
          dispose = method == 2 ? Dispose.BACKGROUND : method == 3 ? Dispose.PREVIOUS : Dispose.NONE;
          transparent = (packed & 1) != 0;
        }
        int end = skipSubBlocks(b, pos + 2);
        if (end < 0) {
          damage = "truncated extension at byte " + pos;
          break;
        }
        pos = end;
      } else if (block == 0x2C) {
        if (pos + 10 > b.length) {
          damage = "truncated image descriptor at byte " + pos;
          break;
        }
        int x = u16le(b, pos + 1);
        int y = u16le(b, pos + 3);
        int w = u16le(b, pos + 5);
        int h = u16le(b, pos + 7);
        int packed = b[pos + 9] & 0xFF;
        int p = pos + 10;
        if ((packed & 0x80) != 0) {
          p += 3 << ((packed & 7) + 1); // local colour table
        }
        int end = p + 1 < b.length ? skipSubBlocks(b, p + 1) : -1; // after the LZW minimum code size
        if (end < 0) {
          damage = "frame " + frames.size() + " is truncated";
          break;
        }
        frames.add(new Frame(x, y, w, h, transparent, dispose, null));
        transparent = false;
        dispose = Dispose.NONE;
        pos = end;
      } else {
        damage = String.format("unknown block 0x%02x at byte %d after %d frames", block, pos, frames.size());
        break;
      }
    }
    if ((width == 0 || height == 0) && !frames.isEmpty()) { // no logical screen: viewers take the first frame's
      width = frames.getFirst().x() + frames.getFirst().w();
      height = frames.getFirst().y() + frames.getFirst().h();
    }
    return new Animation(Math.max(1, width), Math.max(1, height), List.copyOf(frames), true, damage);
  }

  /** The position after a chain of GIF data sub-blocks starting at {@code pos}, or -1 when it runs past the end. */
  private static int skipSubBlocks(byte[] b, int pos) {
    while (pos < b.length) {
      int n = b[pos] & 0xFF;
      pos += 1 + n;
      if (n == 0) {
        return pos;
      }
    }
    return -1;
  }

  // ---------------------------------------------------------------- APNG

  /**
   * The frames of an APNG ({@code acTL}, then one {@code fcTL} per frame followed by its {@code IDAT} or {@code fdAT}
   * chunks), or null for a PNG without {@code acTL} (a still picture). The chunk CRCs were already verified.
   */
  static Animation apng(byte[] b) {
    int pos = 8;
    int width = 0;
    int height = 0;
    boolean animated = false;
    boolean sawIdat = false;
    boolean firstIsDefault = false;
    List<Frame> frames = new ArrayList<>();
    int[] pending = null; // x, y, w, h, blend, dispose of the frame whose data is being collected
    List<Integer> data = new ArrayList<>();
    String damage = null;
    while (pos + 12 <= b.length) {
      int len = (int) Math.min(Integer.MAX_VALUE, u32be(b, pos));
      String type = new String(b, pos + 4, 4, StandardCharsets.ISO_8859_1);
      int body = pos + 8;
      if (len > b.length - body - 4) {
        damage = "chunk " + type + " at byte " + pos + " runs past the end";
        break;
      }
      switch (type) {
        case "IHDR" -> {
          width = (int) u32be(b, body);
          height = (int) u32be(b, body + 4);
        }
        case "acTL" -> animated = true;
        case "fcTL" -> {
          if (pending != null) {
            damage = finish(frames, pending, data, width, height);
          }
          if (len < 26) {
            damage = "fcTL of " + len + " bytes at byte " + pos;
          } else if (frames.size() >= MAX_FRAMES) {
            pending = null;
            pos = b.length; // stop: enough frames
            continue;
          } else {
            int op = b[body + 24] & 0xFF;
            pending = new int[] {(int) u32be(b, body + 12), (int) u32be(b, body + 16), (int) u32be(b, body + 4),
                (int) u32be(b, body + 8), b[body + 25] & 0xFF, op};
            if (!sawIdat && frames.isEmpty()) {
              firstIsDefault = true; // an fcTL before IDAT: the default image is frame 0
            }
          }
        }
        case "IDAT" -> {
          sawIdat = true;
          if (pending != null && firstIsDefault && frames.isEmpty()) {
            data.add(body);
            data.add(len);
          }
        }
        case "fdAT" -> {
          if (pending != null && len >= 4) {
            data.add(body + 4);
            data.add(len - 4);
          }
        }
        case "IEND" -> {
          if (pending != null) {
            damage = finish(frames, pending, data, width, height);
            pending = null;
          }
          pos = b.length;
          continue;
        }
        default -> { }
      }
      if (damage != null) {
        break;
      }
      pos = body + len + 4;
    }
    if (!animated) {
      return null;
    }
    if (damage == null && pending != null) {
      damage = "the file ends inside frame " + frames.size();
    }
    return new Animation(Math.max(1, width), Math.max(1, height), List.copyOf(frames), firstIsDefault, damage);
  }

  /** Adds the pending APNG frame; returns why it is unusable (and stops there), or null. */
  private static String finish(List<Frame> frames, int[] p, List<Integer> data, int width, int height) {
    int x = p[0];
    int y = p[1];
    int w = p[2];
    int h = p[3];
    if (w <= 0 || h <= 0 || x < 0 || y < 0 || (long) x + w > width || (long) y + h > height) {
      return "frame " + frames.size() + " (" + w + "x" + h + " at " + x + "," + y + ") does not fit the " + width
          + "x" + height + " canvas";
    }
    if (data.isEmpty()) {
      return "frame " + frames.size() + " has no image data";
    }
    int[] d = data.stream().mapToInt(Integer::intValue).toArray();
    data.clear();
    Dispose dispose = p[5] == 1 ? Dispose.BACKGROUND : p[5] == 2 ? Dispose.PREVIOUS : Dispose.NONE;
    frames.add(new Frame(x, y, w, h, p[4] == 1, dispose, d));
    return null;
  }

  // ---------------------------------------------------------------- WebP

  /**
   * The frames of an animated WebP (the {@code VP8X} canvas, one {@code ANMF} chunk per frame), or null for a still
   * WebP.
   */
  static Animation webp(byte[] b) {
    int pos = 12;
    int width = 0;
    int height = 0;
    boolean animated = false;
    List<Frame> frames = new ArrayList<>();
    String damage = null;
    while (pos + 8 <= b.length && frames.size() < MAX_FRAMES) {
      String type = new String(b, pos, 4, StandardCharsets.ISO_8859_1);
      long len = u32le(b, pos + 4);
      int body = pos + 8;
      if (len > b.length - body) {
        damage = "chunk " + type + " at byte " + pos + " runs past the end";
        break;
      }
      if (type.equals("VP8X") && len >= 10) {
        animated = (b[body] & 0x02) != 0;
        width = u24le(b, body + 4) + 1;
        height = u24le(b, body + 7) + 1;
      } else if (type.equals("ANMF")) {
        if (len < 16) {
          damage = "ANMF of " + len + " bytes at byte " + pos;
          break;
        }
        int flags = b[body + 15] & 0xFF;
        frames.add(new Frame(2 * u24le(b, body), 2 * u24le(b, body + 3), u24le(b, body + 6) + 1,
            u24le(b, body + 9) + 1, (flags & 0x02) == 0, (flags & 0x01) != 0 ? Dispose.BACKGROUND : Dispose.NONE,
            null));
      }
      pos = body + (int) len + (int) (len & 1); // chunks are padded to an even size
    }
    if (!animated) {
      return null;
    }
    return new Animation(Math.max(1, width), Math.max(1, height), List.copyOf(frames), true, damage);
  }

  private static int u16le(byte[] b, int at) {
    return (b[at] & 0xFF) | (b[at + 1] & 0xFF) << 8;
  }

  private static int u24le(byte[] b, int at) {
    return (b[at] & 0xFF) | (b[at + 1] & 0xFF) << 8 | (b[at + 2] & 0xFF) << 16;
  }

  private static long u32le(byte[] b, int at) {
    return (b[at] & 0xFFL) | (b[at + 1] & 0xFFL) << 8 | (b[at + 2] & 0xFFL) << 16 | (b[at + 3] & 0xFFL) << 24;
  }

  static long u32be(byte[] b, int at) {
    return (b[at] & 0xFFL) << 24 | (b[at + 1] & 0xFFL) << 16 | (b[at + 2] & 0xFFL) << 8 | (b[at + 3] & 0xFFL);
  }
}
