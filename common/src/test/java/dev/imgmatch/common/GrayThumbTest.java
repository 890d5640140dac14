package dev.imgmatch.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class GrayThumbTest {
  @Test
  void theStoredFormAndTheAvroRecordRoundTripAndBadShapesAreRefused() {
    byte[] g = new byte[6 * 4];
    for (int i = 0; i < g.length; i++) {
      g[i] = (byte) (i * 10);
    }
    GrayThumb t = new GrayThumb(6, 4, g);
    byte[] stored = t.encode();
    byte[] padded = new byte[stored.length + 5];
    System.arraycopy(stored, 0, padded, 3, stored.length);
    GrayThumb back = GrayThumb.decode(padded, 3, stored.length);
    assertThat(back.width()).isEqualTo(6);
    assertThat(back.height()).isEqualTo(4);
    assertThat(back.gray()).isEqualTo(g);
    GrayThumb viaAvro = GrayThumb.fromAvro(t.toAvro());
    assertThat(viaAvro.width()).isEqualTo(6);
    assertThat(viaAvro.gray()).isEqualTo(g);
    assertThat(GrayThumb.fromAvro(null)).isNull();
    assertThat(GrayThumb.decode(null, 0, 0)).isNull();
    assertThat(GrayThumb.decode(new byte[1], 0, 1)).isNull();
    assertThatThrownBy(() -> new GrayThumb(10, 10, new byte[99])).hasMessageContaining("width*height");
    assertThatThrownBy(() -> new GrayThumb(256, 1, new byte[256])).hasMessageContaining("1-255");
    assertThatThrownBy(() -> GrayThumb.decode(new byte[] {3, 3, 0}, 0, 3)).hasMessageContaining("3x3");
  }
}
