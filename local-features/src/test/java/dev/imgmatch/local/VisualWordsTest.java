package dev.imgmatch.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.testkit.Seeds;
import dev.imgmatch.testkit.TexturedPictures;
import java.awt.image.BufferedImage;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class VisualWordsTest {
  private static final long SEED = Seeds.of("VisualWordsTest", 7L);
  private final SiftExtractor sift = new SiftExtractor(512, 500);

  @Test
  void wordsAreOnePerTableAndTheSameOnEveryCall() {
    LocalFeatures f = sift.extract(TexturedPictures.random(new Random(SEED), 320, 240));
    VisualWords vw = VisualWords.DEFAULT;
    for (int i = 0; i < f.size(); i++) {
      int[] w = vw.words(f, i);
      assertThat(w).hasSize(vw.tables());
      for (int t = 0; t < w.length; t++) {
        assertThat(w[t] >>> vw.bits()).isEqualTo(t);
      }
      assertThat(new VisualWords(8, 16, 18L).words(f, i)).containsExactly(w);
    }
    int[] distinct = vw.distinctWords(f);
    assertThat(distinct).isSorted().doesNotHaveDuplicates();
    assertThat(distinct.length).isLessThanOrEqualTo(f.size() * vw.tables());
  }

  @Test
  void wordsAreBitForBitThoseOfThePlainLoopReferencesWereIndexedWith() {
    // the words of indexed references are stored: a faster hashing must give exactly the same ones
    Random rnd = new Random(SEED + 2);
    LocalFeatures[] pictures = new LocalFeatures[4];
    for (int k = 0; k < pictures.length; k++) {
      pictures[k] = sift.extract(TexturedPictures.random(rnd, 320 + 40 * k, 240));
    }
    int[][] configs = {{8, 16, 18}, {3, 10, 5}, {2, 3, 9}}; // the default; groups of four plus a rest; a rest alone
    int checked = 0;
    for (int[] cfg : configs) {
      VisualWords vw = new VisualWords(cfg[0], cfg[1], cfg[2]);
      for (LocalFeatures f : pictures) {
        for (int i = 0; i < f.size(); i++) {
          assertThat(vw.words(f, i)).containsExactly(vw.wordsOneAtATime(f, i));
          checked++;
        }
      }
    }
    assertThat(checked).isGreaterThan(1000);
  }

  @Test
  void rareSharedWordsRankAPastedCopysReferenceFirstAmongUnrelatedOnes() {
    Random rnd = new Random(SEED + 1);
    VisualWords vw = VisualWords.DEFAULT;
    SiftExtractor queries = new SiftExtractor(640, 1000);
    WordPostings index = new WordPostings();
    BufferedImage[] refs = new BufferedImage[12];
    for (int r = 0; r < refs.length; r++) {
      refs[r] = TexturedPictures.random(rnd, 480, 360);
      assertThat(index.add(vw.distinctWords(sift.extract(refs[r])))).isEqualTo(r);
    }
    int first = 0;
    for (int r = 0; r < 4; r++) {
      BufferedImage query = TexturedPictures.pasted(refs[r], TexturedPictures.random(rnd, 320, 240), 0.5, rnd);
      int[] q = vw.distinctWords(queries.extract(query));
      int[] top = index.top(q, 3);
      System.out.println("pasted copy of " + r + ": candidates " + Arrays.toString(top) + "; raw shared words with it "
          + shared(q, vw.distinctWords(sift.extract(refs[r]))) + ", with " + (r + 1) + " "
          + shared(q, vw.distinctWords(sift.extract(refs[r + 1]))));
      assertThat(top).contains(r);
      first += top[0] == r ? 1 : 0;
    }
    assertThat(first).isGreaterThanOrEqualTo(3);
  }

  private static int shared(int[] a, int[] b) {
    return (int) Arrays.stream(a).filter(x -> Arrays.binarySearch(b, x) >= 0).count();
  }
}
