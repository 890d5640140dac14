package dev.imgmatch.cli.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServiceSettingsTest {
  @Test
  void setsAreGroupedPerServiceAndValuesMayContainColonsAndEquals() {
    var m = ServiceSettings.parse(List.of("index:match.rules=uploads:protected,banned", "index:match.threshold=0.7",
        "embedder:descriptor.head=/h/x.head", "ingest:kafka.sasl.jaas.config=a=b"));
    assertThat(m.get("index")).containsExactlyInAnyOrderEntriesOf(
        Map.of("match.rules", "uploads:protected,banned", "match.threshold", "0.7"));
    assertThat(m.get("embedder")).containsEntry("descriptor.head", "/h/x.head");
    assertThat(m.get("ingest")).containsEntry("kafka.sasl.jaas.config", "a=b");
  }

  @Test
  void badOptionsNameTheOffendingValue() {
    assertThatThrownBy(() -> ServiceSettings.parse(List.of("index.match.threshold=1"))).hasMessageContaining("index.match.threshold=1");
    assertThatThrownBy(() -> ServiceSettings.parse(List.of("indx:a=b"))).hasMessageContaining("indx");
    assertThatThrownBy(() -> ServiceSettings.parse(List.of("index:=b"))).hasMessageContaining("index:=b");
  }

  @Test
  void deleteTreeRemovesEverythingAndToleratesMissing(@TempDir Path dir) throws Exception {
    Path d = Files.createDirectories(dir.resolve("a/b/c"));
    Files.writeString(d.resolve("f.txt"), "x");
    ServiceSettings.deleteTree(dir.resolve("a"));
    assertThat(dir.resolve("a")).doesNotExist();
    ServiceSettings.deleteTree(dir.resolve("nope"));
  }
}
