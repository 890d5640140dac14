package dev.imgmatch.console;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.console.PreviewStore.Kind;
import dev.imgmatch.console.PreviewStore.Preview;
import dev.imgmatch.testkit.Seeds;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The preview store's bounds: total bytes (least recently used dropped), the upload TTL, the two kinds. */
class PreviewStoreTest {
  private static final long DAY = 24 * 3600 * 1000L;

  @Test
  void staysWithinItsBytesDroppingTheLeastRecentlyUsedAsABruteForceModelDoes() {
    long seed = Seeds.of("PreviewStoreTest", 256L);
    Random rnd = new Random(seed);
    long max = 100_000;
    PreviewStore store = new PreviewStore(max, DAY);
    LinkedHashMap<String, Integer> model = new LinkedHashMap<>(16, 0.75f, true); // id -> size, access order
    for (int step = 0; step < 5_000; step++) {
      String id = "i" + rnd.nextInt(60);
      if (rnd.nextInt(3) == 0) {
        Preview got = store.get("t", id, 0);
        Integer size = model.get(id);
        assertThat(got == null ? null : got.jpeg().length).as("step %d get %s", step, id).isEqualTo(size);
      } else {
        int size = 1 + rnd.nextInt(20_000);
        store.put(preview(Kind.REFERENCE, id, size, 0), 0);
        model.remove(id);
        model.put(id, size);
        long total = model.values().stream().mapToLong(Integer::longValue).sum();
        var it = model.entrySet().iterator();
        while (total > max) {
          total -= it.next().getValue();
          it.remove();
        }
      }
      assertThat(store.bytes()).isLessThanOrEqualTo(max)
          .isEqualTo(model.values().stream().mapToLong(Integer::longValue).sum());
      assertThat(store.size()).isEqualTo(model.size());
    }
    assertThat(store.evicted()).isPositive();
  }

  @Test
  void anUploadsPreviewIsServedForItsTtlAReferencesWhileHeld() {
    PreviewStore store = new PreviewStore(1 << 20, 7 * DAY);
    long t0 = 1_000_000_000L;
    store.put(preview(Kind.UPLOAD, "u", 100, t0), t0);
    store.put(preview(Kind.REFERENCE, "r", 100, t0), t0);
    assertThat(store.get("t", "u", t0 + 7 * DAY)).isNotNull();
    assertThat(store.get("t", "u", t0 + 7 * DAY + 1)).as("expired").isNull();
    assertThat(store.get("t", "u", t0)).as("and gone").isNull();
    assertThat(store.get("t", "r", t0 + 365 * DAY)).as("a reference does not expire").isNotNull();
    assertThat(store.expired()).isEqualTo(1);
    store.put(preview(Kind.UPLOAD, "old", 100, t0), t0 + 8 * DAY);
    assertThat(store.size()).as("one read after its TTL is not held").isEqualTo(1);
    store.put(preview(Kind.UPLOAD, "u2", 100, t0), t0);
    assertThat(store.sweep(t0 + 8 * DAY)).isEqualTo(1);
    assertThat(store.bytes()).isEqualTo(100);
  }

  @Test
  void aTombstoneRemovesItsOwnKindOnlyAndReferencesAreServedFirst() {
    PreviewStore store = new PreviewStore(1 << 20, DAY);
    store.put(preview(Kind.UPLOAD, "x", 10, 0), 0);
    store.put(preview(Kind.REFERENCE, "x", 20, 0), 0);
    assertThat(store.get("t", "x", 0).kind()).isEqualTo(Kind.REFERENCE);
    store.remove(Kind.REFERENCE, "t", "x");
    assertThat(store.get("t", "x", 0).kind()).isEqualTo(Kind.UPLOAD);
    store.remove(Kind.UPLOAD, "t", "x");
    assertThat(store.get("t", "x", 0)).isNull();
    assertThat(store.bytes()).isZero();
    store.put(preview(Kind.REFERENCE, "x", 10, 0), 0);
    assertThat(store.get("other", "x", 0)).as("tenants apart").isNull();
  }

  @Test
  void replacingAPreviewCountsItsBytesOnce() {
    PreviewStore store = new PreviewStore(1000, DAY);
    List<Integer> sizes = new ArrayList<>(List.of(300, 500, 200));
    for (int s : sizes) {
      store.put(preview(Kind.REFERENCE, "same", s, 0), 0);
    }
    assertThat(store.bytes()).isEqualTo(200);
    assertThat(store.size()).isEqualTo(1);
    assertThat(Map.of("evicted", store.evicted())).containsEntry("evicted", 0L);
  }

  private static Preview preview(Kind kind, String id, int bytes, long createdAtMs) {
    return new Preview(kind, "t", id, "c", new byte[bytes], 10, 10, createdAtMs);
  }
}
