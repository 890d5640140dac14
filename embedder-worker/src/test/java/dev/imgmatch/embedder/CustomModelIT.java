package dev.imgmatch.embedder;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.embedder.model.ModelSpec;
import dev.imgmatch.embedder.worker.EmbedderWorkerConfig;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A SavedModel plugged in by settings alone (here the converted default model's folder under another id). */
class CustomModelIT {
  private static Map<String, String> settings(ModelSpec def) {
    Map<String, String> m = new HashMap<>();
    m.put("model.path", def.path().toString());
    m.put("model.id", "my-model");
    m.put("model.output.scores", "");
    m.put("descriptor.head", "none");
    return m;
  }

  @Test
  void aSavedModelConfiguredBySettingsEmbedsAndItsVersionFollowsThePreprocessing() throws Exception {
    ModelSpec def = SharedEmbedder.get().spec();
    EmbedderWorkerConfig plain = new EmbedderWorkerConfig(settings(def));
    Map<String, String> shifted = settings(def);
    shifted.put("model.pixel.mean", "0.5,0.5,0.5");
    shifted.put("model.pixel.std", "0.5,0.5,0.5");
    try (Embedder a = Embedder.open(plain.embedderOptions(), m -> { });
        Embedder b = Embedder.open(new EmbedderWorkerConfig(shifted).embedderOptions(), m -> { })) {
      Embedder.Embedding v = a.embed(List.of(Fixtures.picture(7, 240, 180))).get(0);
      assertThat(a.modelId()).isEqualTo("my-model");
      assertThat(a.dim()).isEqualTo(1792);
      assertThat(v.vector()).hasSize(1792);
      assertThat(v.classScores()).isEmpty();
      assertThat(a.modelVersion()).startsWith("raw1792.m");
      assertThat(b.modelVersion()).as("other pixel normalisation, other version").isNotEqualTo(a.modelVersion());
      assertThat(a.modelVersion()).isNotEqualTo(SharedEmbedder.get().modelVersion());
      // raw features are for tools (embed, train); a worker refuses to emit what the index must refuse
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> new dev.imgmatch.embedder.worker.EmbedderWorker(plain, a,
          null)).hasMessageContaining("1792 dimensions").hasMessageContaining("descriptor.head=learned-whiten");
    }
  }
}
