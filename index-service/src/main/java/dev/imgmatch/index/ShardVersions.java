package dev.imgmatch.index;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.ReaderUtil;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause.Occur;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.FieldExistsQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.SearcherManager;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TopDocs;

/**
 * A shard's model versions: the descriptors {@code ./imgmatch reindex} adds to indexed images beside the version
 * they were indexed with (IndexOp ADD_VECTORS), and the retirement of the older versions once the new one serves
 * (RETIRE_OTHERS). Called on the ingest thread only, like the rest of {@link ShardIndex}'s writes.
 */
public final class ShardVersions {
  private final IndexWriter writer;
  private final SearcherManager manager;
  private final Map<String, Integer> vectorDims;
  private final Set<String> smallFields;
  /** The shard's deletions (uid to request time): descriptors of a deleted upload are not kept pending. */
  private final Map<String, Long> tombstones;
  /** Marks the shard as needing a commit (the retirement in progress is part of its commit). */
  private final Runnable changed;
  private final Map<String, Pending> pending = new java.util.concurrent.ConcurrentHashMap<>();
  /** The version a retirement in progress keeps, or null. */
  private volatile String retiring;

  ShardVersions(IndexWriter writer, SearcherManager manager, Map<String, Integer> vectorDims, Set<String> smallFields,
      Map<String, Long> tombstones, Runnable changed) {
    this.tombstones = tombstones;
    this.changed = changed;
    this.writer = writer;
    this.manager = manager;
    this.vectorDims = vectorDims;
    this.smallFields = smallFields;
  }

  /**
   * Adds the descriptors of {@code v}'s model version to the indexed upload with its uid and submission time, beside
   * the versions it has; replaces them when it has that version already. Everything else of the image is kept.
   * Descriptors of an upload not indexed yet (the embedder is slower than reindex, or a newer upload of the id is on
   * its way) are kept pending and added when it arrives ({@link #onUpsert}); those of an older upload than the one
   * indexed, or of a deleted one, are dropped.
   *
   * @return true when added to the indexed image now
   */
  public boolean add(IndexedImage v) throws IOException {
    String uid = v.uid();
    Optional<Located> at = locate(uid);
    if (at.isEmpty() && writer.hasUncommittedChanges()) {
      manager.maybeRefreshBlocking(); // indexed moments ago, not yet refreshed
      at = locate(uid);
    }
    checkDimension(v);
    if (at.isPresent() && at.get().image().submittedAtMs() == v.submittedAtMs()) {
      IndexedImage img = at.get().image();
      Map<String, ShardDocs.VersionVectors> extra = new TreeMap<>(at.get().extra());
      if (img.modelVersion().equals(v.modelVersion())) {
        img = withVersion(img, v.modelVersion(), new ShardDocs.VersionVectors(v.vector(), v.smallVector()));
      } else {
        extra.put(v.modelVersion(), new ShardDocs.VersionVectors(v.vector(), v.smallVector()));
      }
      writer.updateDocument(new Term(Fields.UID, uid), ShardDocs.document(img, extra));
      noteSmall(v);
      return true;
    }
    Long deletedAt = tombstones.get(uid);
    boolean stale = (at.isPresent() && at.get().image().submittedAtMs() > v.submittedAtMs())
        || (deletedAt != null && v.submittedAtMs() <= deletedAt);
    if (!stale) {
      Pending p = new Pending(v.modelVersion(), v.submittedAtMs(), v.vector(), v.smallVector());
      pending.put(uid, p);
      writer.updateDocument(new Term(Fields.PENDING_UID, uid), p.document(uid));
    }
    return false;
  }

  /**
   * Moves the indexed image with this uid into {@code collection}, everything else kept (its versions included).
   *
   * @return the image as it was, or empty when this shard does not hold it
   */
  public Optional<IndexedImage> setCollection(String uid, String collection) throws IOException {
    Optional<Located> at = locate(uid);
    if (at.isEmpty() && writer.hasUncommittedChanges()) {
      manager.maybeRefreshBlocking();
      at = locate(uid);
    }
    if (at.isEmpty()) {
      return Optional.empty();
    }
    IndexedImage img = at.get().image();
    writer.updateDocument(new Term(Fields.UID, uid), ShardDocs.document(img.withCollection(collection),
        at.get().extra()));
    return Optional.of(img);
  }

  /** Descriptors waiting for their upload, by uid (tests, metrics). */
  public int pendingCount() {
    return pending.size();
  }

  /**
   * The further versions' descriptors to index with {@code img}: those pending for this very upload (then no longer
   * pending); pending ones of an older upload of the id are dropped.
   */
  Map<String, ShardDocs.VersionVectors> onUpsert(IndexedImage img) throws IOException {
    Pending p = pending.get(img.uid());
    if (p == null || p.submittedAtMs() > img.submittedAtMs()) {
      return Map.of();
    }
    pending.remove(img.uid());
    writer.deleteDocuments(new Term(Fields.PENDING_UID, img.uid()));
    if (p.submittedAtMs() < img.submittedAtMs() || p.version().equals(img.modelVersion())) {
      return Map.of();
    }
    noteSmall(new IndexedImage(img.tenant(), img.imageId(), img.collection(), null, Map.of(), p.version(), p.vector(),
        img.sha256(), img.pdq(), 0, 0, null, p.small()));
    return Map.of(p.version(), new ShardDocs.VersionVectors(p.vector(), p.small()));
  }

  /** Drops pending descriptors of uploads submitted before {@code cutoffMs} (theirs never came); how many. */
  public int prunePending(long cutoffMs) throws IOException {
    int n = 0;
    for (var e : List.copyOf(pending.entrySet())) {
      if (e.getValue().submittedAtMs() < cutoffMs) {
        pending.remove(e.getKey(), e.getValue());
        writer.deleteDocuments(new Term(Fields.PENDING_UID, e.getKey()));
        n++;
      }
    }
    return n;
  }

  /** Reads the pending descriptors a shard holds (on open). */
  void loadPending(IndexSearcher s) throws IOException {
    for (ScoreDoc sd : s.search(new TermQuery(new Term(Fields.KIND, Fields.KIND_PENDING)), Integer.MAX_VALUE).scoreDocs) {
      var d = s.storedFields().document(sd.doc);
      pending.put(d.get(Fields.PENDING_UID), Pending.of(d));
    }
  }

  private void checkDimension(IndexedImage v) {
    Integer dim = vectorDims.putIfAbsent(Fields.vector(v.modelVersion()), v.vector().length);
    if (dim != null && dim != v.vector().length) {
      throw new IllegalArgumentException("model version " + v.modelVersion() + " has dimension " + dim
          + " in this index, but the vector has " + v.vector().length);
    }
  }

  private void noteSmall(IndexedImage v) {
    if (v.smallVector() != null) {
      smallFields.add(Fields.smallVector(v.modelVersion()));
    }
  }

  /** Descriptors waiting for their upload. */
  private record Pending(String version, long submittedAtMs, float[] vector, float[] small) {
    org.apache.lucene.document.Document document(String uid) {
      var d = new org.apache.lucene.document.Document();
      d.add(new org.apache.lucene.document.StringField(Fields.PENDING_UID, uid,
          org.apache.lucene.document.Field.Store.YES));
      d.add(new org.apache.lucene.document.StringField(Fields.KIND, Fields.KIND_PENDING,
          org.apache.lucene.document.Field.Store.NO));
      d.add(new org.apache.lucene.document.StoredField(Fields.PENDING_VERSION, version));
      d.add(new org.apache.lucene.document.StoredField(Fields.PENDING_SUBMITTED_MS, submittedAtMs));
      d.add(new org.apache.lucene.document.StoredField(Fields.PENDING_VECTOR, bytes(vector)));
      if (small != null) {
        d.add(new org.apache.lucene.document.StoredField(Fields.PENDING_SMALL, bytes(small)));
      }
      return d;
    }

    static Pending of(org.apache.lucene.document.Document d) {
      var small = d.getBinaryValue(Fields.PENDING_SMALL);
      return new Pending(d.get(Fields.PENDING_VERSION), d.getField(Fields.PENDING_SUBMITTED_MS).numericValue().longValue(),
          floats(d.getBinaryValue(Fields.PENDING_VECTOR)), small == null ? null : floats(small));
    }

    private static byte[] bytes(float[] v) {
      java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(v.length * 4);
      b.asFloatBuffer().put(v);
      return b.array();
    }

    private static float[] floats(org.apache.lucene.util.BytesRef r) {
      float[] v = new float[r.length / 4];
      java.nio.ByteBuffer.wrap(r.bytes, r.offset, r.length).asFloatBuffer().get(v);
      return v;
    }
  }

  /**
   * Starts keeping only the descriptors of {@code keep} on every image of this shard that has them: the other
   * versions' are removed and {@code keep} becomes the version the image is seen through. Images without a
   * descriptor of {@code keep} are left as they are. The work is done by {@link #retireStep} a bounded number of images
   * at a time, between the ingest loop's polls, so that alerts do not wait for a whole shard's rewrite; it survives a
   * restart ({@link #retiring()} is kept in the shard's commit).
   */
  public void startRetiring(String keep) {
    retiring = keep;
    changed.run();
  }

  /** The version being kept by a retirement in progress, or null. */
  public String retiring() {
    return retiring;
  }

  /**
   * Rewrites up to {@code max} images of the retirement in progress (each with {@code keep}'s descriptors only; its
   * vectors go into the HNSW graph again); when none is left, forgets the vector fields without documents and ends it.
   *
   * @return how many images were rewritten
   */
  public int retireStep(int max) throws IOException {
    String keep = retiring;
    if (keep == null) {
      return 0;
    }
    changed.run();
    manager.maybeRefreshBlocking(); // what the previous step rewrote no longer matches
    IndexSearcher s = manager.acquire();
    int n = 0;
    try {
      Query stale = new BooleanQuery.Builder()
          .add(new BooleanQuery.Builder().add(new org.apache.lucene.search.MatchAllDocsQuery(), Occur.FILTER)
              .add(new TermQuery(new Term(Fields.MODEL_VERSION, keep)), Occur.MUST_NOT).build(), Occur.SHOULD)
          .add(new org.apache.lucene.search.TermRangeQuery(Fields.MODEL_VERSION_EXTRA, null, null, true, true),
              Occur.SHOULD)
          .setMinimumNumberShouldMatch(1).build();
      Query q = new BooleanQuery.Builder()
          .add(new FieldExistsQuery(Fields.vector(keep)), Occur.FILTER)
          .add(new TermQuery(new Term(Fields.KIND, Fields.KIND_IMAGE)), Occur.FILTER)
          .add(stale, Occur.FILTER).build();
      List<LeafReaderContext> leaves = s.getIndexReader().leaves();
      for (ScoreDoc sd : s.search(q, Math.max(1, max)).scoreDocs) {
        LeafReaderContext leaf = leaves.get(ReaderUtil.subIndex(sd.doc, leaves));
        int local = sd.doc - leaf.docBase;
        IndexedImage img = ShardDocs.load(leaf.reader(), local, true);
        Map<String, ShardDocs.VersionVectors> extra = ShardDocs.extraVersions(leaf.reader(), local);
        IndexedImage kept = img.modelVersion().equals(keep) ? img : withVersion(img, keep, extra.get(keep));
        writer.updateDocument(new Term(Fields.UID, img.uid()), ShardDocs.document(kept));
        n++;
      }
    } finally {
      manager.release(s);
    }
    if (n == 0) {
      forgetEmptyFields();
      retiring = null;
    }
    return n;
  }

  /** Keeps only {@code keep}'s descriptors where images have them, all at once (tools and tests). */
  public int retireOthers(String keep) throws IOException {
    startRetiring(keep);
    int n = 0;
    for (int step = retireStep(10_000); step > 0; step = retireStep(10_000)) {
      n += step;
    }
    return n;
  }

  private void forgetEmptyFields() throws IOException {
    IndexSearcher after = manager.acquire();
    try {
      for (String f : List.copyOf(vectorDims.keySet())) {
        if (after.count(new FieldExistsQuery(f)) == 0) {
          vectorDims.remove(f);
        }
      }
      for (String f : List.copyOf(smallFields)) {
        if (after.count(new FieldExistsQuery(f)) == 0) {
          smallFields.remove(f);
        }
      }
    } finally {
      manager.release(after);
    }
  }

  /** An indexed image with its further versions' descriptors. */
  private record Located(IndexedImage image, Map<String, ShardDocs.VersionVectors> extra) {}

  private Optional<Located> locate(String uid) throws IOException {
    IndexSearcher s = manager.acquire();
    try {
      TopDocs td = s.search(ShardDocs.imageByUid(uid), 1);
      if (td.scoreDocs.length == 0) {
        return Optional.empty();
      }
      List<LeafReaderContext> leaves = s.getIndexReader().leaves();
      int doc = td.scoreDocs[0].doc;
      LeafReaderContext leaf = leaves.get(ReaderUtil.subIndex(doc, leaves));
      int local = doc - leaf.docBase;
      return Optional.of(new Located(ShardDocs.load(leaf.reader(), local, true),
          ShardDocs.extraVersions(leaf.reader(), local)));
    } finally {
      manager.release(s);
    }
  }

  /** The image seen through another version's descriptors. */
  private static IndexedImage withVersion(IndexedImage img, String version, ShardDocs.VersionVectors v) {
    return new IndexedImage(img.tenant(), img.imageId(), img.collection(), img.source(), img.attributes(), version,
        v.vector(), img.sha256(), img.pdq(), img.pdqQuality(), img.submittedAtMs(), img.thumbnail(), v.small(), null,
        null, null, img.mosaic());
  }
}
