package dev.imgmatch.local;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An in-memory inverted index of visual words: which references hold a word. Ranks references for a query by the
 * words they share, each weighted by its rarity (idf = ln(1 + N / references holding it), smoothed so that a word
 * counts even in an index of one reference), divided by the square root of
 * the reference's word count — raw shared counts do not separate copies from unrelated pictures (frequent words such as
 * straight edges are everywhere), the weighting does. The reference implementation of the candidate stage, for
 * benchmarks and tests; not synchronised.
 */
public final class WordPostings {
  private final Map<Integer, IntList> postings = new HashMap<>();
  private final List<Integer> wordCounts = new ArrayList<>();

  /** Adds a reference; returns its number (0, 1, 2 …). {@code words}: its distinct words. */
  public int add(int[] words) {
    int ref = wordCounts.size();
    wordCounts.add(words.length);
    for (int w : words) {
      postings.computeIfAbsent(w, k -> new IntList()).add(ref);
    }
    return ref;
  }

  public int size() {
    return wordCounts.size();
  }

  /** The {@code n} best references for a query's distinct words, best first (ties: lower number first). */
  public int[] top(int[] queryWords, int n) {
    int refs = wordCounts.size();
    double[] score = new double[refs];
    for (int w : queryWords) {
      IntList p = postings.get(w);
      if (p == null) {
        continue;
      }
      double idf = Math.log(1.0 + (double) refs / p.size); // smoothed: positive even in an index of one
      for (int i = 0; i < p.size; i++) {
        score[p.items[i]] += idf;
      }
    }
    Integer[] order = new Integer[refs];
    for (int r = 0; r < refs; r++) {
      score[r] /= Math.sqrt(wordCounts.get(r) + 1.0);
      order[r] = r;
    }
    Arrays.sort(order, (a, b) -> score[a] != score[b] ? Double.compare(score[b], score[a]) : Integer.compare(a, b));
    return Arrays.stream(order).limit(Math.min(n, refs)).mapToInt(Integer::intValue).toArray();
  }

  private static final class IntList {
    int[] items = new int[4];
    int size;

    void add(int v) {
      if (size == items.length) {
        items = Arrays.copyOf(items, size * 2);
      }
      items[size++] = v;
    }
  }
}
