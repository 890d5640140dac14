package dev.imgmatch.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.testkit.Seeds;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class AlertStoreTest {
  @Test
  void keepsTheNewestByAlertTimeWithinItsBoundAgainstBruteForce() {
    long seed = Seeds.of("AlertStoreTest", 16L);
    Random r = new Random(seed);
    for (int round = 0; round < 20; round++) {
      int max = 1 + r.nextInt(50);
      AlertStore store = new AlertStore(max);
      List<MatchAlert> all = new ArrayList<>();
      int n = r.nextInt(200);
      for (int i = 0; i < n; i++) {
        // out of order across partitions, with ties
        MatchAlert a = Alerts.alert("img-" + i, 1_000_000L + r.nextInt(500));
        all.add(a);
        store.add(a);
        assertThat(store.size()).as("seed %d", seed).isLessThanOrEqualTo(max);
      }
      // brute force: every alert, newest first (ties: the later arrival first), the first max of them
      List<String> expected = new ArrayList<>();
      List<Integer> order = new ArrayList<>();
      for (int i = 0; i < all.size(); i++) {
        order.add(i);
      }
      order.sort(Comparator.comparingLong((Integer i) -> all.get(i).getAlertedAtMs()).thenComparingInt(i -> i)
          .reversed());
      order.stream().limit(max).forEach(i -> expected.add(all.get(i).getImageId()));
      List<String> listed = store.list(new AlertFilter(java.util.Set.of(), null, null, null, null, null, 1000))
          .stream().map(s -> s.alert().getImageId()).toList();
      assertThat(listed).as("seed %d round %d", seed, round).isEqualTo(expected);
      assertThat(store.dropped()).isEqualTo(Math.max(0, n - max));
    }
  }

  @Test
  void anAlertOlderThanAFullStoreIsDroppedAtOnce() {
    AlertStore store = new AlertStore(2);
    assertThat(store.add(Alerts.alert("a", 200))).isNotNull();
    assertThat(store.add(Alerts.alert("b", 300))).isNotNull();
    assertThat(store.add(Alerts.alert("old", 100))).isNull();
    assertThat(store.list(AlertFilter.ALL)).extracting(s -> s.alert().getImageId()).containsExactly("b", "a");
  }

  @Test
  void afterGivesTheHeldAlertsOfLaterArrivalInArrivalOrder() {
    AlertStore store = new AlertStore(10);
    store.add(Alerts.alert("a", 300));
    long seq = store.lastSeq();
    store.add(Alerts.alert("b", 100)); // older alert time, later arrival
    store.add(Alerts.alert("c", 200));
    assertThat(store.after(seq, AlertFilter.ALL)).extracting(s -> s.alert().getImageId()).containsExactly("b", "c");
    assertThat(store.after(store.lastSeq(), AlertFilter.ALL)).isEmpty();
  }

  @Test
  void listStopsAtTheFilterLimit() {
    AlertStore store = new AlertStore(100);
    for (int i = 0; i < 50; i++) {
      store.add(Alerts.alert("x" + i, i));
    }
    AlertFilter three = new AlertFilter(java.util.Set.of(), null, null, null, null, null, 3);
    assertThat(store.list(three)).extracting(s -> s.alert().getImageId()).containsExactly("x49", "x48", "x47");
  }

  @Test
  void refusesANonPositiveBound() {
    assertThatThrownBy(() -> new AlertStore(0)).hasMessageContaining("at least 1");
  }
}
