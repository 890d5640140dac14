package dev.imgmatch.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

class IngestCountersTest {
  @Test
  void everyCounterIsAMeterWithItsReasonOrInputOrViewAsATag() {
    IngestCounters c = new IngestCounters();
    SimpleMeterRegistry r = new SimpleMeterRegistry();
    c.bindTo(r);
    c.rejected("CORRUPT_IMAGE");
    c.rejected("CORRUPT_IMAGE");
    c.increment("prepared.query");
    c.increment("view.trim");
    c.increment("exact.alert");
    c.rejected("SOMETHING_NEW"); // a code added later still gets its meter
    c.prepared("uploads", 5_000_000, 1234);
    assertThat(r.get("imgmatch.ingest.rejected").tag("reason", "CORRUPT_IMAGE").functionCounter().count()).isEqualTo(2);
    assertThat(r.get("imgmatch.ingest.rejected").tag("reason", "IMAGE_TOO_SMALL").functionCounter().count()).isZero();
    assertThat(r.get("imgmatch.ingest.rejected").tag("reason", "SOMETHING_NEW").functionCounter().count()).isEqualTo(1);
    assertThat(r.get("imgmatch.ingest.prepared").tag("input", "queries").functionCounter().count()).isEqualTo(1);
    assertThat(r.get("imgmatch.ingest.prepared").tag("input", "uploads").functionCounter().count()).isZero();
    assertThat(r.get("imgmatch.ingest.views").tag("view", "trim").functionCounter().count()).isEqualTo(1);
    assertThat(r.get("imgmatch.ingest.exact.alerts").functionCounter().count()).isEqualTo(1);
    assertThat(r.get("imgmatch.ingest.prepare").tag("input", "uploads").timer().count()).isEqualTo(1);
    assertThat(r.get("imgmatch.ingest.prepare").tag("input", "queries").timer().count()).isZero();
    assertThat(r.get("imgmatch.ingest.image.size").tag("input", "uploads").summary().totalAmount()).isEqualTo(1234);
  }

  @Test
  void withoutARegistryRecordingIsANoOp() {
    IngestCounters c = new IngestCounters();
    c.prepared("uploads", 1, 1);
    c.increment("prepared.upload");
    assertThat(c.get("prepared.upload")).isEqualTo(1);
  }
}
