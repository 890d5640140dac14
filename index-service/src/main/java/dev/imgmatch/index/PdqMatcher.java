package dev.imgmatch.index;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.lucene.index.BinaryDocValues;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.NumericDocValues;
import org.apache.lucene.search.BooleanClause.Occur;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.CollectorManager;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreMode;
import org.apache.lucene.search.SimpleCollector;
import org.apache.lucene.search.TermInSetQuery;
import org.apache.lucene.util.BytesRef;

/** PDQ search of one shard: the images within a Hamming distance of any of the probe's hashes. */
final class PdqMatcher {
  private PdqMatcher() {}

  /**
   * Global doc id -> smallest distance, for every doc within {@code maxDistance} whose quality suffices: a linear
   * scan of the PDQ doc values for small shards or wide radii, else multi-index hashing ({@link Pdq#probeTerms})
   * to find candidates first.
   */
  static Map<Integer, Integer> matches(IndexSearcher s, List<byte[]> hashes, int maxDistance, int minQuality,
      Query filter, ShardIndex.PdqMode mode, int bruteForceMaxDocs) throws IOException {
    boolean scan = switch (mode) {
      case SCAN -> true;
      case MIH -> false;
      case AUTO -> s.getIndexReader().maxDoc() <= bruteForceMaxDocs || Pdq.radius(maxDistance) > 3;
    };
    Query candidates;
    if (scan) {
      candidates = filter;
    } else {
      List<BytesRef> terms = new ArrayList<>();
      for (byte[] h : hashes) {
        terms.addAll(Pdq.probeTerms(h, maxDistance));
      }
      candidates = new BooleanQuery.Builder()
          .add(new TermInSetQuery(Fields.PDQ_CHUNKS, terms), Occur.FILTER)
          .add(filter, Occur.FILTER).build();
    }
    return s.search(candidates, new PdqCollectorManager(hashes, maxDistance, minQuality));
  }

  private record PdqCollectorManager(List<byte[]> hashes, int maxDistance, int minQuality)
      implements CollectorManager<PdqCollector, Map<Integer, Integer>> {
    @Override
    public PdqCollector newCollector() {
      return new PdqCollector(hashes, maxDistance, minQuality);
    }

    @Override
    public Map<Integer, Integer> reduce(Collection<PdqCollector> collectors) {
      Map<Integer, Integer> m = new HashMap<>();
      collectors.forEach(c -> m.putAll(c.found));
      return m;
    }
  }

  private static final class PdqCollector extends SimpleCollector {
    private final List<byte[]> hashes;
    private final int maxDistance;
    private final int minQuality;
    final Map<Integer, Integer> found = new HashMap<>();
    private BinaryDocValues pdq;
    private NumericDocValues quality;
    private int docBase;

    PdqCollector(List<byte[]> hashes, int maxDistance, int minQuality) {
      this.hashes = hashes;
      this.maxDistance = maxDistance;
      this.minQuality = minQuality;
    }

    @Override
    protected void doSetNextReader(LeafReaderContext ctx) throws IOException {
      pdq = ctx.reader().getBinaryDocValues(Fields.PDQ);
      quality = ctx.reader().getNumericDocValues(Fields.PDQ_QUALITY);
      docBase = ctx.docBase;
    }

    @Override
    public void collect(int doc) throws IOException {
      if (pdq == null || quality == null || !pdq.advanceExact(doc) || !quality.advanceExact(doc)
          || quality.longValue() < minQuality) {
        return;
      }
      BytesRef b = pdq.binaryValue();
      int best = Integer.MAX_VALUE;
      byte[] arr = b.length == Pdq.BYTES && b.offset == 0 ? b.bytes : Arrays.copyOfRange(b.bytes, b.offset, b.offset + b.length);
      for (byte[] h : hashes) {
        best = Math.min(best, Pdq.hamming(h, arr, 0));
      }
      if (best <= maxDistance) {
        found.put(docBase + doc, best);
      }
    }

    @Override
    public ScoreMode scoreMode() {
      return ScoreMode.COMPLETE_NO_SCORES;
    }
  }
}
