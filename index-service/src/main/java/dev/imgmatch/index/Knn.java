package dev.imgmatch.index;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import org.apache.lucene.index.FloatVectorValues;
import org.apache.lucene.index.KnnVectorValues.DocIndexIterator;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.ReaderUtil;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.KnnFloatVectorQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.util.VectorUtil;

/** The nearest descriptors of one shard (HNSW, rescored with the raw floats when the format is quantized). */
final class Knn {
  private Knn() {}

  /**
   * kNN top k for one vector. HNSW explores {@code index.knn.candidates}; with a quantized format the approximate
   * hits are then rescored with the raw float32 vectors (exact dot products), which is what lifts int7/int4/1-bit
   * recall back to float32's. (Our own rescoring rather than RescoreTopNQuery: that one trips an assertion when
   * the approximate search finds nothing, e.g. a tenant with no images yet.)
   */
  static ScoreDoc[] topK(IndexSearcher s, String field, float[] v, int k, Query filter, ShardIndex.Options opt)
      throws IOException {
    int explore = Math.max(k, opt.knnCandidates());
    if (!opt.format().quantized()) {
      return s.search(new KnnFloatVectorQuery(field, v, explore, filter), k).scoreDocs;
    }
    explore = Math.max(explore, (int) Math.ceil(k * opt.rescoreOversample()));
    ScoreDoc[] approx = s.search(new KnnFloatVectorQuery(field, v, explore, filter), explore).scoreDocs;
    if (approx.length == 0) {
      return approx;
    }
    Arrays.sort(approx, (a, b) -> Integer.compare(a.doc, b.doc));
    List<LeafReaderContext> leaves = s.getIndexReader().leaves();
    int leafIdx = -1;
    FloatVectorValues fv = null;
    DocIndexIterator it = null;
    LeafReaderContext leaf = null;
    for (ScoreDoc sd : approx) {
      int li = ReaderUtil.subIndex(sd.doc, leaves);
      if (li != leafIdx) {
        leafIdx = li;
        leaf = leaves.get(li);
        fv = leaf.reader().getFloatVectorValues(field);
        it = fv == null ? null : fv.iterator();
      }
      int local = sd.doc - leaf.docBase;
      if (it != null && it.docID() <= local && it.advance(local) == local) {
        // same formula as Lucene's DOT_PRODUCT score, on the full-precision vector
        sd.score = Math.max((1 + VectorUtil.dotProduct(v, fv.vectorValue(it.index()))) / 2, 0);
      }
    }
    Arrays.sort(approx, (a, b) -> a.score != b.score ? Float.compare(b.score, a.score) : Integer.compare(a.doc, b.doc));
    return Arrays.copyOf(approx, Math.min(k, approx.length));
  }
}
