package dev.imgmatch.index;

import java.util.Set;
import org.apache.lucene.document.LongPoint;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause.Occur;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.TermQuery;

/**
 * What a search may return: the asker's tenant (plus the shared collections), optionally restricted by
 * collection, source and time. Every clause is ANDed; empty sets mean no restriction.
 *
 * @param tenant the asker; images of other tenants are visible only in {@code shared} collections; null = every
 *     tenant (the retroactive search of a reference of a shared collection, which every tenant's uploads meet)
 * @param shared collections visible to every tenant
 * @param excludeUid a document never returned (the probe itself), or null
 */
public record SearchFilter(String tenant, Set<String> shared, Set<String> collections, Set<String> sources,
    Long fromMs, Long toMs, String excludeUid) {

  public SearchFilter {
    shared = Set.copyOf(shared);
    collections = Set.copyOf(collections);
    sources = Set.copyOf(sources);
  }

  public static SearchFilter tenantOnly(String tenant, Set<String> shared) {
    return new SearchFilter(tenant, shared, Set.of(), Set.of(), null, null, null);
  }

  public SearchFilter withCollections(Set<String> c) {
    return new SearchFilter(tenant, shared, c, sources, fromMs, toMs, excludeUid);
  }

  public SearchFilter excluding(String uid) {
    return new SearchFilter(tenant, shared, collections, sources, fromMs, toMs, uid);
  }

  /** The Lucene filter (images only, never tombstones). */
  public Query toQuery() {
    BooleanQuery.Builder b = new BooleanQuery.Builder();
    b.add(new TermQuery(new Term(Fields.KIND, Fields.KIND_IMAGE)), Occur.FILTER);
    if (tenant != null) {
      BooleanQuery.Builder vis = new BooleanQuery.Builder();
      vis.add(new TermQuery(new Term(Fields.TENANT, tenant)), Occur.SHOULD);
      for (String c : shared) {
        vis.add(new TermQuery(new Term(Fields.COLLECTION, c)), Occur.SHOULD);
      }
      b.add(vis.build(), Occur.FILTER);
    }
    if (!collections.isEmpty()) {
      b.add(anyOf(Fields.COLLECTION, collections), Occur.FILTER);
    }
    if (!sources.isEmpty()) {
      b.add(anyOf(Fields.SOURCE, sources), Occur.FILTER);
    }
    if (fromMs != null || toMs != null) {
      long lo = fromMs == null ? Long.MIN_VALUE : fromMs;
      long hi = toMs == null ? Long.MAX_VALUE : toMs - 1; // toMs is exclusive
      b.add(LongPoint.newRangeQuery(Fields.SUBMITTED_MS, lo, hi), Occur.FILTER);
    }
    if (excludeUid != null) {
      b.add(new TermQuery(new Term(Fields.UID, excludeUid)), Occur.MUST_NOT);
    }
    return b.build();
  }

  private static Query anyOf(String field, Set<String> values) {
    BooleanQuery.Builder b = new BooleanQuery.Builder();
    values.forEach(v -> b.add(new TermQuery(new Term(field, v)), Occur.SHOULD));
    return b.build();
  }

  /** The same restriction as a predicate (brute-force reference in tests, pending documents). */
  public boolean accepts(IndexedImage img) {
    if (tenant != null && !img.tenant().equals(tenant) && !shared.contains(img.collection())) {
      return false;
    }
    if (!collections.isEmpty() && !collections.contains(img.collection())) {
      return false;
    }
    if (!sources.isEmpty() && (img.source() == null || !sources.contains(img.source()))) {
      return false;
    }
    if (fromMs != null && img.submittedAtMs() < fromMs) {
      return false;
    }
    if (toMs != null && img.submittedAtMs() >= toMs) {
      return false;
    }
    return excludeUid == null || !excludeUid.equals(img.uid());
  }
}
