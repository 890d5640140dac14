package dev.imgmatch.index;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The in-memory PDQ table finds exactly what a brute-force comparison finds, at every chunk radius. */
class PdqTableTest {
  @ParameterizedTest
  @ValueSource(ints = {0, 15, 31, 47, 63, 64})
  void findsEveryHashWithinTheDistanceAndNothingElse(int maxDistance) {
    long seed = ShardIndexTest.seed();
    Synthetic syn = new Synthetic(seed, 8, 2);
    byte[][] hashes = new byte[2_000][];
    for (int i = 0; i < hashes.length; i++) {
      hashes[i] = i % 97 == 0 ? null : syn.hash(); // holes: entries without a PDQ
    }
    PdqTable table = new PdqTable(hashes);
    for (int q = 0; q < 300; q++) {
      // probes near some hashes (every distance up to 70) and far from all
      byte[] base = hashes[1 + (q * 7) % (hashes.length - 1)];
      byte[] probe = q % 5 == 4 || base == null ? syn.hash() : syn.flip(base, q % 71);
      Map<Integer, Integer> found = new HashMap<>();
      table.probe(probe, maxDistance, (i, d) -> {
        assertThat(found.put(i, d)).as("hash %d reported once", i).isNull();
        return 0;
      });
      Map<Integer, Integer> expected = new HashMap<>();
      for (int i = 0; i < hashes.length; i++) {
        if (hashes[i] != null && Pdq.hamming(probe, hashes[i]) <= maxDistance) {
          expected.put(i, Pdq.hamming(probe, hashes[i]));
        }
      }
      assertThat(found).as("probe %d at distance %d (seed %d)", q, maxDistance, seed).isEqualTo(expected);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {31, 64})
  void stopsWhenTheCallerSaysSo(int maxDistance) {
    Synthetic syn = new Synthetic(ShardIndexTest.seed(), 8, 2);
    byte[] h = syn.hash();
    PdqTable table = new PdqTable(new byte[][] {h, syn.flip(h, 1), syn.flip(h, 2)});
    int[] calls = {0};
    table.probe(h, maxDistance, (i, d) -> {
      calls[0]++;
      return -1;
    });
    assertThat(calls[0]).isEqualTo(1);
  }
}
