package dev.imgmatch.embedder.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.PixelEncoding;
import dev.imgmatch.avro.PreparedImage;
import dev.imgmatch.avro.Purpose;
import dev.imgmatch.embedder.Embedder;
import dev.imgmatch.embedder.Fixtures;
import dev.imgmatch.embedder.model.RgbImage;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RecordEmbeddingTest {
  @Test
  void theBackgroundIsTakenOverTheScoringViewsDepixelIncludedNotTheSmallOrTheInsetView() {
    RgbImage pic = Fixtures.picture(1, 8, 8);
    List<String> names = List.of("full", "hflip", "inset", "trim", "small", "depixel");
    PreparedImage p = Fixtures.prepared("q", Purpose.QUERY,
        names.stream().map(n -> Fixtures.view(n, pic, PixelEncoding.RGB8)).toList());
    List<Embedder.Embedding> results = new java.util.ArrayList<>();
    for (int i = 0; i < names.size(); i++) {
      results.add(new Embedder.Embedding(new float[] {i}, Map.of()));
    }
    assertThat(RecordEmbedding.probeVectors(p, results)).extracting(v -> v[0]).containsExactly(0f, 1f, 3f, 5f);
    // the first view always counts, whatever its name
    PreparedImage odd = Fixtures.prepared("u", Purpose.INDEX, List.of(Fixtures.view("inset", pic, PixelEncoding.RGB8)));
    assertThat(RecordEmbedding.probeVectors(odd, results.subList(0, 1))).hasSize(1);
  }

  @Test
  void theRecordCarriesTheDecodedImagesSize() {
    RgbImage pic = Fixtures.picture(1, 12, 8);
    PreparedImage p = Fixtures.prepared("u", Purpose.INDEX, List.of(Fixtures.view("full", pic, PixelEncoding.RGB8)));
    p.setWidth(40);
    p.setHeight(30);
    var e = RecordEmbedding.toRecord(p, List.of(new Embedder.Embedding(new float[] {1}, Map.of())), "m", "v", 1L);
    // index-service judges an upload of a few dozen pixels also by its layout (match.layout.tiny.max.side)
    assertThat(e.getWidth()).isEqualTo(40);
    assertThat(e.getHeight()).isEqualTo(30);
  }
}
