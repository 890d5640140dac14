package dev.imgmatch.index;

import dev.imgmatch.local.LocalFeatures;
import dev.imgmatch.local.VisualWords;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.PriorityQueue;
import org.apache.lucene.index.IndexReader;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.NumericDocValues;
import org.apache.lucene.index.PostingsEnum;
import org.apache.lucene.index.TermState;
import org.apache.lucene.index.Terms;
import org.apache.lucene.index.TermsEnum;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreMode;
import org.apache.lucene.search.Scorer;
import org.apache.lucene.search.Weight;
import org.apache.lucene.util.Bits;
import org.apache.lucene.util.BytesRef;

/**
 * The candidate stage of local verification in a shard: the references sharing the most rare visual words with a
 * probe (module local-features' {@code VisualWords}). Score of a reference = Σ idf(w) over the probe's words it
 * holds, idf = ln(1 + N / references holding w) (smoothed: with ln(N / df) every word of a one-reference shard
 * weighed 0 and nothing was found — PastedCopyIT), divided by √(its word count + 1) — the scoring of local-features'
 * {@code WordPostings}, measured there (docs/BENCHMARKS.md, "Local features"), here over the shard's postings.
 */
final class LocalCandidates {
  private LocalCandidates() {}

  /** The distinct words of encoded local features (as indexed in {@link Fields#LOCAL_WORDS}). */
  static int[] words(byte[] encoded) {
    return VisualWords.DEFAULT.distinctWords(LocalFeatures.decode(encoded));
  }

  static BytesRef term(int word) {
    return new BytesRef(new byte[] {(byte) (word >>> 24), (byte) (word >>> 16), (byte) (word >>> 8), (byte) word});
  }

  /**
   * Global doc ids of the {@code n} best references for a probe among the documents {@code filter} accepts.
   *
   * @param words the probe's distinct visual words, sorted ({@link VisualWords#distinctWords}): each leaf's term
   *     dictionary is then walked in order
   */
  static List<Integer> top(IndexSearcher s, int[] words, int n, Query filter) throws IOException {
    IndexReader reader = s.getIndexReader();
    int docs = reader.numDocs();
    if (docs == 0 || n <= 0 || words.length == 0) {
      return List.of();
    }
    BytesRef[] terms = new BytesRef[words.length];
    for (int i = 0; i < words.length; i++) {
      terms[i] = term(words[i]);
    }
    // One dictionary lookup per term and leaf: the document frequency (idf) and the postings' position both come from
    // it (IndexReader.docFreq and a second seek per leaf looked every term up twice: a quarter of a query's
    // index-service time went to the term dictionary; docs/BENCHMARKS.md).
    List<LeafReaderContext> leaves = reader.leaves();
    TermState[][] states = new TermState[leaves.size()][];
    int[] df = new int[words.length];
    for (int l = 0; l < leaves.size(); l++) {
      Terms t = leaves.get(l).reader().terms(Fields.LOCAL_WORDS);
      if (t == null) {
        continue;
      }
      TermsEnum te = t.iterator();
      states[l] = new TermState[terms.length];
      for (int i = 0; i < terms.length; i++) {
        if (te.seekExact(terms[i])) {
          states[l][i] = te.termState();
          df[i] += te.docFreq();
        }
      }
    }
    double[] idf = new double[words.length];
    for (int i = 0; i < words.length; i++) {
      idf[i] = df[i] == 0 ? 0 : Math.log(1.0 + (double) docs / df[i]); // smoothed: positive even in an index of one
    }
    record Scored(int doc, double score) {}
    PriorityQueue<Scored> best = new PriorityQueue<>((a, b) -> a.score() != b.score()
        ? Double.compare(a.score(), b.score()) : Integer.compare(b.doc(), a.doc())); // worst on top
    Weight accepted = s.createWeight(s.rewrite(filter), ScoreMode.COMPLETE_NO_SCORES, 1f);
    for (int l = 0; l < leaves.size(); l++) {
      if (states[l] == null) {
        continue;
      }
      LeafReaderContext leaf = leaves.get(l);
      TermsEnum te = leaf.reader().terms(Fields.LOCAL_WORDS).iterator();
      float[] score = new float[leaf.reader().maxDoc()];
      int[] touched = new int[64];
      int nTouched = 0;
      PostingsEnum pe = null;
      for (int i = 0; i < terms.length; i++) {
        if (idf[i] <= 0 || states[l][i] == null) {
          continue;
        }
        te.seekExact(terms[i], states[l][i]);
        pe = te.postings(pe, PostingsEnum.NONE);
        for (int d = pe.nextDoc(); d != DocIdSetIterator.NO_MORE_DOCS; d = pe.nextDoc()) {
          if (score[d] == 0) {
            if (nTouched == touched.length) {
              touched = Arrays.copyOf(touched, nTouched * 2);
            }
            touched[nTouched++] = d;
          }
          score[d] += (float) idf[i];
        }
      }
      if (nTouched == 0) {
        continue;
      }
      Arrays.sort(touched, 0, nTouched);
      Scorer sc = accepted.scorer(leaf);
      if (sc == null) {
        continue;
      }
      DocIdSetIterator ok = sc.iterator();
      Bits live = leaf.reader().getLiveDocs();
      NumericDocValues counts = leaf.reader().getNumericDocValues(Fields.LOCAL_WORD_COUNT);
      for (int k = 0; k < nTouched; k++) {
        int d = touched[k];
        if (live != null && !live.get(d)) {
          continue;
        }
        if (ok.docID() < d) {
          ok.advance(d);
        }
        if (ok.docID() != d) {
          continue;
        }
        long count = counts != null && counts.advanceExact(d) ? counts.longValue() : 1;
        double v = score[d] / Math.sqrt(count + 1.0);
        Scored cand = new Scored(leaf.docBase + d, v);
        if (best.size() < n) {
          best.add(cand);
        } else if (v > best.peek().score()) {
          best.poll();
          best.add(cand);
        }
      }
    }
    List<Integer> out = new ArrayList<>(best.size());
    while (!best.isEmpty()) {
      out.add(best.poll().doc());
    }
    java.util.Collections.reverse(out);
    return out;
  }
}
