package dev.imgmatch.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.testkit.KafkaBroker;
import dev.imgmatch.testkit.KafkaBrokerExtension;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The README's main command, end to end on the real pipeline: the test broker, ingest-stream, the real model in
 * embedder-worker, a Lucene index on disk in index-service. Every generated copy must be caught, nothing unrelated
 * may raise an alert.
 */
@ExtendWith(KafkaBrokerExtension.class)
class DemoIT {
  @Test
  void demoCatchesEveryCopyWithoutFalseAlarms(KafkaBroker broker, @TempDir Path dir) {
    DemoCommand demo = new DemoCommand();
    int status = new CommandLine(demo).execute("--bootstrap", broker.bootstrapServers(), "--originals", "7",
        "--unrelated", "7", "--seed", "3", "--data-dir", dir.toString());
    DemoCommand.Summary s = demo.lastSummary();
    assertThat(s).as("the demo produced a summary").isNotNull();
    assertThat(s.copies()).isEqualTo(7);
    assertThat(s.caught()).isEqualTo(7);
    assertThat(s.falseAlarms()).isZero();
    assertThat(s.p50Ms()).isPositive();
    assertThat(status).isZero();
  }
}
