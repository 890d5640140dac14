package dev.imgmatch.embedder.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.imgmatch.embedder.Fixtures;
import org.junit.jupiter.api.Test;

class ImageOpsTest {
  @Test
  void aUniformPictureStaysUniformAndIsNormalised() {
    byte[] px = new byte[500 * 300 * 3];
    for (int i = 0; i < px.length; i += 3) {
      px[i] = (byte) 255;
      px[i + 1] = (byte) 51;
      px[i + 2] = 0;
    }
    float[] out = new float[224 * 224 * 3];
    ImageOps.toModelInput(new RgbImage(500, 300, px), 224, 224, new float[] {0.5f, 0, 0}, new float[] {0.5f, 1, 1},
        out, 0);
    for (int i = 0; i < out.length; i += 3) {
      assertThat(out[i]).isCloseTo(1f, within(1e-5f));
      assertThat(out[i + 1]).isCloseTo(0.2f, within(1e-5f));
      assertThat(out[i + 2]).isCloseTo(0f, within(1e-6f));
    }
  }

  @Test
  void pngRoundTripIsLossless() {
    RgbImage img = Fixtures.picture(4, 64, 48);
    RgbImage back = ImageOps.decode(Fixtures.encode(img, "png"));
    assertThat(back.width()).isEqualTo(64);
    assertThat(back.rgb()).isEqualTo(img.rgb());
  }

  @Test
  void undecodableBytesFailWithAClearMessage() {
    assertThatThrownBy(() -> ImageOps.decode(new byte[] {1, 2, 3})).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("3 bytes");
    assertThatThrownBy(() -> new RgbImage(10, 10, new byte[5])).hasMessageContaining("needs 300 bytes");
  }
}
