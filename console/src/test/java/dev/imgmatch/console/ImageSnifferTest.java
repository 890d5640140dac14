package dev.imgmatch.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class ImageSnifferTest {
  @Test
  void recognisesWhatTheJdkWrites() throws Exception {
    BufferedImage img = new BufferedImage(32, 24, BufferedImage.TYPE_INT_RGB);
    for (String f : new String[] {"jpg", "png", "gif", "bmp", "tif"}) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      assertThat(ImageIO.write(img, f.equals("tif") ? "tiff" : f, out)).as(f).isTrue();
      assertThat(ImageSniffer.format(out.toByteArray())).as(f).isEqualTo(f);
    }
  }

  @Test
  void recognisesWebpByItsRiffHeader() {
    byte[] webp = "RIFF\0\0\0\0WEBPVP8 ".getBytes(StandardCharsets.ISO_8859_1);
    assertThat(ImageSniffer.format(webp)).isEqualTo("webp");
    assertThat(ImageSniffer.format("RIFF\0\0\0\0WAVEfmt ".getBytes(StandardCharsets.ISO_8859_1))).isNull();
  }

  @Test
  void refusesWhatIsNotAnImage() {
    assertThat(ImageSniffer.format(new byte[0])).isNull();
    assertThat(ImageSniffer.format("hello, world".getBytes(StandardCharsets.UTF_8))).isNull();
    assertThat(ImageSniffer.format("%PDF-1.7".getBytes(StandardCharsets.UTF_8))).isNull();
    assertThat(ImageSniffer.format(new byte[] {(byte) 0xFF, (byte) 0xD8})).as("truncated JPEG magic").isNull();
  }
}
