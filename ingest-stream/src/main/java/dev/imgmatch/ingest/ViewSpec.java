package dev.imgmatch.ingest;

import dev.imgmatch.avro.PixelEncoding;

/**
 * The model-ready view: the whole oriented image resized to exactly {@code width x height} (aspect not kept,
 * as the default MobileNetV2 expects), encoded as {@code encoding}.
 *
 * @param jpegQuality 1-100, used when {@code encoding} is JPEG
 */
public record ViewSpec(int width, int height, PixelEncoding encoding, int jpegQuality) {
  public static final ViewSpec DEFAULT = new ViewSpec(224, 224, PixelEncoding.RGB8, 90);

  public ViewSpec {
    if (width < 1 || height < 1 || jpegQuality < 1 || jpegQuality > 100) {
      throw new IllegalArgumentException("bad view spec " + width + "x" + height + " quality " + jpegQuality);
    }
  }
}
