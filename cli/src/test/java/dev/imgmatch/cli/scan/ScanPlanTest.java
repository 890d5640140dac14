package dev.imgmatch.cli.scan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.imgmatch.embedder.worker.EmbedderWorkerConfig;
import dev.imgmatch.index.IndexServiceConfig;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ScanPlanTest {
  private static final Path DIR = Path.of("/photos");

  private static String idOf(Path f) {
    return DIR.relativize(f).toString();
  }

  @Test
  void uploadsAreInIdOrderWithDistinctIncreasingSubmissionTimesEndingNow() {
    List<Path> listed = List.of(DIR.resolve("sub/b.jpg"), DIR.resolve("c.png"), DIR.resolve("a.jpg"),
        DIR.resolve("sub/a.jpg"));
    List<ScanPlan.Upload> plan = ScanPlan.uploads(listed, ScanPlanTest::idOf, 1_000_000L);
    assertThat(plan).extracting(ScanPlan.Upload::id).containsExactly("a.jpg", "c.png", "sub/a.jpg", "sub/b.jpg");
    assertThat(plan).extracting(ScanPlan.Upload::submittedAtMs).containsExactly(999_997L, 999_998L, 999_999L,
        1_000_000L);
    assertThat(plan.get(2).file()).isEqualTo(DIR.resolve("sub/a.jpg"));
    assertThat(ScanPlan.uploads(listed.reversed(), ScanPlanTest::idOf, 1_000_000L)).as("listing order").isEqualTo(plan);
  }

  @Test
  void twoFilesWithOneIdAreRefused() {
    assertThatThrownBy(() -> ScanPlan.uploads(List.of(DIR.resolve("x/a.jpg"), DIR.resolve("y/a.jpg")),
        f -> f.getFileName().toString(), 0L))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("a.jpg");
  }

  @Test
  void everyEarlierImageIsACandidateUpToTheExhaustiveBound() {
    for (int images : new int[] {1, 9, 71, 999, 1000, 1001, 50_000}) {
      Map<String, String> s = ScanPlan.indexSettings(images);
      int k = Integer.parseInt(s.get(IndexServiceConfig.MATCH_K));
      assertThat(k).as("k for %d images", images).isGreaterThanOrEqualTo(Math.min(images, ScanPlan.EXHAUSTIVE_MAX))
          .isGreaterThanOrEqualTo(10);
      assertThat(Integer.parseInt(s.get(IndexServiceConfig.KNN_CANDIDATES))).isGreaterThanOrEqualTo(k);
      assertThat(Integer.parseInt(s.get(IndexServiceConfig.RETROACTIVE_MAX_CANDIDATES))).isGreaterThanOrEqualTo(k);
      assertThat(s).containsEntry("match.rules", "scan:scan");
      // index-service accepts them (its cross-checks included)
      Map<String, String> cfg = new HashMap<>(s);
      cfg.put("index.dir", "/tmp/unused");
      IndexServiceConfig.load(null, Map.of(), cfg);
    }
  }

  @Test
  void theModelRunsOnePictureAtATime() {
    Map<String, String> s = ScanPlan.embedderSettings();
    assertThat(s).containsEntry(EmbedderWorkerConfig.INFERENCE_BATCH_SIZE, "1");
    assertThat(new EmbedderWorkerConfig(s).embedderOptions().inferenceBatch()).isEqualTo(1);
  }

  @Test
  void extraSettingsMayNotUndoWhatKeepsTheGroupsIndependentOfTiming() {
    Map<String, String> fixed = ScanPlan.embedderSettings();
    assertThat(ScanPlan.withExtra("embedder", fixed, Map.of("batch.max.records", "64")))
        .containsEntry("batch.max.records", "64").containsEntry(EmbedderWorkerConfig.INFERENCE_BATCH_SIZE, "1");
    assertThat(ScanPlan.withExtra("embedder", fixed, Map.of(EmbedderWorkerConfig.INFERENCE_BATCH_SIZE, "1")))
        .isEqualTo(Map.of(EmbedderWorkerConfig.INFERENCE_BATCH_SIZE, "1"));
    assertThatThrownBy(() -> ScanPlan.withExtra("embedder", fixed, Map.of(EmbedderWorkerConfig.INFERENCE_BATCH_SIZE, "8")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--set embedder:inference.batch.size=8").hasMessageContaining("inference.batch.size=1");
    assertThatThrownBy(() -> ScanPlan.withExtra("index", ScanPlan.indexSettings(50), Map.of("match.knn.k", "5")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("match.knn.k=50");
  }
}
