package dev.imgmatch.ingest.image;

import java.util.Arrays;

/**
 * The canvas an animation's frames are composed on, as a viewer shows them: non-premultiplied ARGB, transparent at
 * the start; each frame is drawn into its rectangle (replacing it, or blended over it: "source over"), and after it
 * was shown its rectangle is left alone, cleared to transparent, or restored to what it was before the frame (GIF
 * disposal methods, APNG dispose ops, WebP's dispose flag). Parts of a frame outside the canvas are cut off.
 */
final class Canvas {
  private final int width;
  private final int height;
  private final int[] argb;
  private Animation.Frame shown; // the last frame drawn, whose disposal is still to do
  private int[] saved; // its rectangle before it was drawn, when it is disposed to PREVIOUS

  Canvas(int width, int height) {
    this.width = width;
    this.height = height;
    this.argb = new int[Math.multiplyExact(width, height)];
  }

  /** Empties the canvas (before a frame that does not depend on the ones before it). */
  void clear() {
    Arrays.fill(argb, 0);
    shown = null;
    saved = null;
  }

  /**
   * Disposes of the previous frame, then draws {@code f} with {@code pixels} ({@code f.w() x f.h()} ARGB, or null for
   * a frame with nothing to draw).
   */
  void draw(Animation.Frame f, int[] pixels) {
    dispose();
    int x0 = Math.max(0, f.x());
    int y0 = Math.max(0, f.y());
    int x1 = (int) Math.min(width, (long) f.x() + f.w());
    int y1 = (int) Math.min(height, (long) f.y() + f.h());
    if (f.dispose() == Animation.Dispose.PREVIOUS && x1 > x0 && y1 > y0) {
      saved = new int[(x1 - x0) * (y1 - y0)];
      for (int y = y0; y < y1; y++) {
        System.arraycopy(argb, y * width + x0, saved, (y - y0) * (x1 - x0), x1 - x0);
      }
    }
    shown = f;
    if (pixels == null) {
      return;
    }
    for (int y = y0; y < y1; y++) {
      int src = (y - f.y()) * f.w() + (x0 - f.x());
      int dst = y * width + x0;
      if (!f.blend()) {
        System.arraycopy(pixels, src, argb, dst, x1 - x0);
        continue;
      }
      for (int x = x0; x < x1; x++, src++, dst++) {
        argb[dst] = over(pixels[src], argb[dst]);
      }
    }
  }

  private void dispose() {
    Animation.Frame f = shown;
    if (f == null || f.dispose() == Animation.Dispose.NONE) {
      return;
    }
    int x0 = Math.max(0, f.x());
    int y0 = Math.max(0, f.y());
    int x1 = (int) Math.min(width, (long) f.x() + f.w());
    int y1 = (int) Math.min(height, (long) f.y() + f.h());
    for (int y = y0; y < y1; y++) {
      if (f.dispose() == Animation.Dispose.PREVIOUS && saved != null) {
        System.arraycopy(saved, (y - y0) * (x1 - x0), argb, y * width + x0, x1 - x0);
      } else {
        Arrays.fill(argb, y * width + x0, y * width + x1, 0);
      }
    }
    saved = null;
  }

  /** {@code src} over {@code dst}, both non-premultiplied ARGB. */
  static int over(int src, int dst) {
    int sa = src >>> 24;
    if (sa == 255) {
      return src;
    }
    if (sa == 0) {
      return dst;
    }
    int da = dst >>> 24;
    if (da == 0) {
      return src;
    }
    // out alpha = sa + da (1 - sa); colour = (c_s sa + c_d da (1 - sa)) / out alpha, in 0..255 fixed point
    int dw = da * (255 - sa); // destination weight x 255
    int oa255 = sa * 255 + dw; // out alpha x 255
    int r = (((src >> 16) & 0xFF) * sa * 255 + ((dst >> 16) & 0xFF) * dw + oa255 / 2) / oa255;
    int g = (((src >> 8) & 0xFF) * sa * 255 + ((dst >> 8) & 0xFF) * dw + oa255 / 2) / oa255;
    int b = ((src & 0xFF) * sa * 255 + (dst & 0xFF) * dw + oa255 / 2) / oa255;
    int a = (oa255 + 127) / 255;
    return a << 24 | r << 16 | g << 8 | b;
  }

  /** The canvas as shown: every pixel composited on {@code background} ({@code 0xRRGGBB}). */
  RgbImage flatten(int background) {
    int[] out = new int[argb.length];
    for (int i = 0; i < out.length; i++) {
      int p = argb[i];
      out[i] = Pixels.composite(p & 0xFFFFFF, p >>> 24, background);
    }
    return new RgbImage(width, height, out);
  }
}
