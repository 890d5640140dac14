package dev.imgmatch.cli.scan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.cli.scan.DuplicateGroups.Pair;
import dev.imgmatch.testkit.Seeds;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DuplicateGroupsTest {
  @Test
  void transitivePairsFormOneGroupAndExactnessIsTracked() {
    DuplicateGroups g = new DuplicateGroups();
    g.add(new Pair("b", "a", 0.9, false, 20, 0.8f));
    g.add(new Pair("b", "c", 0.95, false, 10, 0.9f));
    g.add(new Pair("x", "y", 1.0, true, 0, 1f));
    g.add(new Pair("y", "x", 1.0, true, 0, 1f)); // the same pair seen from the other side
    g.add(new Pair("z", "z", 1.0, true, 0, 1f)); // self pairs are ignored
    var groups = g.groups();
    assertThat(groups).hasSize(2);
    assertThat(groups.get(0).members()).containsExactly("a", "b", "c");
    assertThat(groups.get(0).exact()).isFalse();
    assertThat(groups.get(0).pairs()).extracting(Pair::score).containsExactly(0.95, 0.9);
    assertThat(groups.get(1).members()).containsExactly("x", "y");
    assertThat(groups.get(1).exact()).isTrue();
    assertThat(groups.get(1).pairs()).hasSize(1);
  }

  @Test
  void groupsDoNotDependOnPairOrder() {
    long seed = Seeds.of("DuplicateGroupsTest", 20261202L);
    Random r = new Random(seed);
    List<Pair> pairs = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      pairs.add(new Pair("i" + r.nextInt(120), "i" + r.nextInt(120), r.nextDouble(), false, null, null));
    }
    DuplicateGroups a = new DuplicateGroups();
    pairs.forEach(a::add);
    Collections.shuffle(pairs, r);
    DuplicateGroups b = new DuplicateGroups();
    pairs.forEach(b::add);
    assertThat(b.groups().stream().map(DuplicateGroups.Group::members).toList()).as("seed %d", seed)
        .isEqualTo(a.groups().stream().map(DuplicateGroups.Group::members).toList());
  }
}
