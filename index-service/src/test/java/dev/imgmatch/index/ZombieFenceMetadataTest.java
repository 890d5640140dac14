package dev.imgmatch.index;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Offset metadata: the committer's transactional id, and the shard state committed beside it. */
class ZombieFenceMetadataTest {
  @Test
  void theCommitterAndTheExtraStateComeBackApart() {
    String plain = ZombieFence.metadata("index-service-host-1");
    assertThat(ZombieFence.committer(plain)).isEqualTo("index-service-host-1");
    assertThat(ZombieFence.extra(plain)).isNull();
    String withState = ZombieFence.metadata("index-service-host-1", "bankretro=42:1099511627777");
    assertThat(ZombieFence.committer(withState)).isEqualTo("index-service-host-1");
    assertThat(ZombieFence.extra(withState)).isEqualTo("bankretro=42:1099511627777");
    assertThat(ZombieFence.metadata("tx", null)).isEqualTo(ZombieFence.metadata("tx"));
    assertThat(ZombieFence.committer(null)).isNull();
    assertThat(ZombieFence.extra(null)).isNull();
    assertThat(ZombieFence.committer("something else")).isNull();
  }
}
