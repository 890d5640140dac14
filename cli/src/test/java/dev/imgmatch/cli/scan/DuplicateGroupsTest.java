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
      String a = "i" + r.nextInt(120);
      String b = "i" + r.nextInt(120);
      double score = r.nextInt(8) / 8.0; // coarse: many ties
      pairs.add(new Pair(a, b, score, r.nextBoolean(), r.nextBoolean() ? null : r.nextInt(40),
          r.nextBoolean() ? null : r.nextInt(100) / 100f));
      if (r.nextInt(4) == 0) { // the same pair again, seen from the other side with other signals, often tied
        pairs.add(new Pair(b, a, r.nextBoolean() ? score : r.nextInt(8) / 8.0, r.nextBoolean(), r.nextInt(40),
            r.nextInt(100) / 100f));
      }
    }
    DuplicateGroups a = new DuplicateGroups();
    pairs.forEach(a::add);
    for (int shuffle = 0; shuffle < 5; shuffle++) {
      Collections.shuffle(pairs, r);
      DuplicateGroups b = new DuplicateGroups();
      pairs.forEach(b::add);
      assertThat(b.groups()).as("seed %d, shuffle %d: members, pairs and their signals", seed, shuffle)
          .isEqualTo(a.groups());
    }
  }

  @Test
  void aPairSeenTwiceWithEqualScoresKeepsTheSameVersionWhateverTheOrder() {
    Pair forward = new Pair("a", "b", 0.8, false, 12, 0.91f);
    Pair retroactive = new Pair("b", "a", 0.8, false, 12, 0.87f); // same score, other cosine
    DuplicateGroups one = new DuplicateGroups();
    one.add(forward);
    one.add(retroactive);
    DuplicateGroups other = new DuplicateGroups();
    other.add(retroactive);
    other.add(forward);
    assertThat(one.groups()).isEqualTo(other.groups());
    assertThat(one.groups().getFirst().pairs()).containsExactly(forward);
  }

  @Test
  void pairsOfEqualScoreAreListedByTheirOtherSignalsThenByName() {
    DuplicateGroups g = new DuplicateGroups();
    g.add(new Pair("c", "d", 1.0, false, 0, 0.99f));
    g.add(new Pair("b", "c", 1.0, true, 0, 1f));
    g.add(new Pair("a", "b", 1.0, true, 0, 1f));
    g.add(new Pair("d", "e", 0.5, false, null, 0.7f));
    assertThat(g.groups().getFirst().pairs()).extracting(p -> p.a() + p.b()).containsExactly("ab", "bc", "cd", "de");
  }
}
