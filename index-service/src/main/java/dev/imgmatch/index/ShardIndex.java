package dev.imgmatch.index;

import dev.imgmatch.common.GrayThumb;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.lucene.codecs.Codec;
import org.apache.lucene.codecs.KnnVectorsFormat;
import org.apache.lucene.codecs.lucene104.Lucene104Codec;
import org.apache.lucene.document.BinaryDocValuesField;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field.Store;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.document.LongPoint;
import org.apache.lucene.document.NumericDocValuesField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.BinaryDocValues;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.FieldInfo;
import org.apache.lucene.index.FieldInfos;
import org.apache.lucene.index.FloatVectorValues;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.KnnVectorValues.DocIndexIterator;
import org.apache.lucene.index.LeafReader;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.NumericDocValues;
import org.apache.lucene.index.ReaderUtil;
import org.apache.lucene.index.SegmentInfos;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.index.Term;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.BooleanClause.Occur;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.CollectorManager;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.KnnFloatVectorQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.ScoreMode;
import org.apache.lucene.search.SearcherManager;
import org.apache.lucene.search.SimpleCollector;
import org.apache.lucene.search.TermInSetQuery;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.util.BytesRef;
import org.apache.lucene.util.VectorUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One shard: a Lucene index on disk holding the images of one partition of the embeddings topic, plus the
 * offsets it has consumed, committed atomically with the documents in the commit's user data.
 *
 * <p>Threads: {@link #upsert}, {@link #delete}, offset setters and {@link #commit} are called by the one
 * ingest thread; {@link #search} and {@link #lookup} by any thread; {@link #refresh} by the refresher.
 * Searches see the documents of the last refresh (near-real-time, never the uncommitted writer directly).
 */
public final class ShardIndex implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(ShardIndex.class);

  /** Commit user data key: next offset of this shard's embeddings partition. */
  static final String EMBEDDINGS_OFFSET = "embeddings.next.offset";
  /** Commit user data key prefix: next offset of a deletions partition ({@code deletions.next.offset.3}). */
  static final String DELETIONS_OFFSET = "deletions.next.offset.";
  static final String TOPIC = "embeddings.topic";

  /** Index-time and search-time knobs (from {@link IndexServiceConfig}). */
  public record Options(VectorFormat format, int hnswM, int beamWidth, int knnCandidates, double rescoreOversample,
      int pdqBruteForceMaxDocs, double ramBufferMb) {
    public static Options defaults() {
      return new Options(VectorFormat.INT7, 16, 100, 100, 2.0, 5_000, 64);
    }

    public static Options from(IndexServiceConfig c) {
      return new Options(c.vectorFormat(), c.getInt(IndexServiceConfig.HNSW_M), c.getInt(IndexServiceConfig.HNSW_BEAM),
          c.getInt(IndexServiceConfig.KNN_CANDIDATES), c.getDouble(IndexServiceConfig.RESCORE_OVERSAMPLE),
          c.getInt(IndexServiceConfig.PDQ_BRUTE_FORCE_MAX_DOCS), c.getDouble(IndexServiceConfig.RAM_BUFFER_MB));
    }

    public Options withFormat(VectorFormat f) {
      return new Options(f, hnswM, beamWidth, knnCandidates, rescoreOversample, pdqBruteForceMaxDocs, ramBufferMb);
    }

    public Options withCandidates(int n) {
      return new Options(format, hnswM, beamWidth, n, rescoreOversample, pdqBruteForceMaxDocs, ramBufferMb);
    }
  }

  /** How PDQ candidates are found (AUTO picks by shard size). */
  public enum PdqMode { AUTO, MIH, SCAN }

  private final int shard;
  private final Path path;
  private final Directory dir;
  private final IndexWriter writer;
  private final SearcherManager manager;
  private final Options opt;
  private final Map<String, Long> tombstones = new ConcurrentHashMap<>();
  private final Map<String, Integer> vectorDims = new ConcurrentHashMap<>();
  /** Small-view vector fields present ({@link Fields#smallVector}): searched beside their model's full field. */
  private final Set<String> smallFields = ConcurrentHashMap.newKeySet();
  private final Map<Integer, Long> deletionOffsets = new ConcurrentHashMap<>();
  private volatile long embeddingsOffset;
  private volatile long lastEmbeddingTimestamp = -1;
  private volatile boolean offsetsDirty;

  private ShardIndex(int shard, Path path, Directory dir, IndexWriter writer, Options opt, Map<String, String> userData)
      throws IOException {
    this.shard = shard;
    this.path = path;
    this.dir = dir;
    this.writer = writer;
    this.opt = opt;
    this.manager = new SearcherManager(writer, null);
    this.embeddingsOffset = Long.parseLong(userData.getOrDefault(EMBEDDINGS_OFFSET, "-1"));
    userData.forEach((k, v) -> {
      if (k.startsWith(DELETIONS_OFFSET)) {
        deletionOffsets.put(Integer.parseInt(k.substring(DELETIONS_OFFSET.length())), Long.parseLong(v));
      }
    });
    loadState();
  }

  /** Opens (or creates) the shard's index under {@code root/shard-<n>}; its last commit is what it holds. */
  public static ShardIndex open(Path root, int shard, Options opt) throws IOException {
    Path path = root.resolve("shard-" + shard);
    Files.createDirectories(path);
    Directory dir = FSDirectory.open(path);
    try {
      Map<String, String> userData = DirectoryReader.indexExists(dir)
          ? SegmentInfos.readLatestCommit(dir).getUserData() : Map.of();
      IndexWriterConfig iwc = new IndexWriterConfig()
          .setOpenMode(IndexWriterConfig.OpenMode.CREATE_OR_APPEND)
          .setRAMBufferSizeMB(opt.ramBufferMb())
          .setCodec(codec(opt));
      IndexWriter w = new IndexWriter(dir, iwc);
      if (!DirectoryReader.indexExists(dir)) {
        w.commit(); // an empty first commit, so readers and restarts always find one
      }
      ShardIndex s = new ShardIndex(shard, path, dir, w, opt, userData);
      log.info("shard {} opened at {}: {} images, {} tombstones, next embeddings offset {}, format {}", shard, path,
          s.imageCount(), s.tombstones.size(), s.embeddingsOffset, opt.format().configName());
      return s;
    } catch (IOException | RuntimeException e) {
      dir.close();
      throw e;
    }
  }

  /** Lucene's default codec with our HNSW format on every vector field. */
  static Codec codec(Options opt) {
    KnnVectorsFormat f = opt.format().luceneFormat(opt.hnswM(), opt.beamWidth());
    return new Lucene104Codec() {
      @Override
      public KnnVectorsFormat getKnnVectorsFormatForField(String field) {
        return f;
      }
    };
  }

  private void loadState() throws IOException {
    IndexSearcher s = manager.acquire();
    try {
      FieldInfos infos = FieldInfos.getMergedFieldInfos(s.getIndexReader());
      for (FieldInfo fi : infos) {
        if (fi.getVectorDimension() > 0 && Fields.isVector(fi.name)) {
          vectorDims.put(fi.name, fi.getVectorDimension());
        } else if (fi.getVectorDimension() > 0 && Fields.isSmallVector(fi.name)) {
          smallFields.add(fi.name);
        }
      }
      TopDocs td = s.search(new TermQuery(new Term(Fields.KIND, Fields.KIND_TOMBSTONE)), Integer.MAX_VALUE);
      StoredFields sf = s.storedFields();
      for (ScoreDoc sd : td.scoreDocs) {
        Document d = sf.document(sd.doc);
        tombstones.put(d.get(Fields.UID), d.getField(Fields.DELETED_MS).numericValue().longValue());
      }
    } finally {
      manager.release(s);
    }
  }

  public int shard() {
    return shard;
  }

  public Path path() {
    return path;
  }

  /** Next offset of this shard's embeddings partition the index holds (committed or pending); -1 if none. */
  public long embeddingsOffset() {
    return embeddingsOffset;
  }

  /** Next offset of deletions partition {@code p} applied to this shard; -1 if none. */
  public long deletionOffset(int p) {
    return deletionOffsets.getOrDefault(p, -1L);
  }

  public void setEmbeddingsOffset(long next) {
    embeddingsOffset = next;
    offsetsDirty = true;
  }

  /** The timestamp of the latest embeddings record read (its append time); tombstones are pruned relative to it. */
  public void noteEmbeddingTimestamp(long ts) {
    lastEmbeddingTimestamp = Math.max(lastEmbeddingTimestamp, ts);
  }

  public long lastEmbeddingTimestamp() {
    return lastEmbeddingTimestamp;
  }

  public void setDeletionOffset(int p, long next) {
    deletionOffsets.put(p, next);
    offsetsDirty = true;
  }

  /** Vector field name -> dimension of what this shard holds. */
  public Map<String, Integer> vectorDims() {
    return Map.copyOf(vectorDims);
  }

  /**
   * Adds or replaces the image (upsert by tenant and id, so a redelivered record is harmless).
   *
   * @return false when a deletion requested at or after the image's submission already removed it
   */
  public boolean upsert(IndexedImage img) throws IOException {
    String uid = img.uid();
    Long deletedAt = tombstones.get(uid);
    if (deletedAt != null && img.submittedAtMs() <= deletedAt) {
      return false;
    }
    String field = Fields.vector(img.modelVersion());
    Integer dim = vectorDims.putIfAbsent(field, img.vector().length);
    if (dim != null && dim != img.vector().length) {
      throw new IllegalArgumentException("model version " + img.modelVersion() + " has dimension " + dim
          + " in this index, but the vector has " + img.vector().length);
    }
    writer.updateDocument(new Term(Fields.UID, uid), document(img));
    if (img.smallVector() != null) {
      smallFields.add(Fields.smallVector(img.modelVersion()));
    }
    tombstones.remove(uid);
    return true;
  }

  static Document document(IndexedImage img) {
    Document d = new Document();
    d.add(new StringField(Fields.UID, img.uid(), Store.YES));
    d.add(new StringField(Fields.KIND, Fields.KIND_IMAGE, Store.NO));
    d.add(new StringField(Fields.IMAGE_ID, img.imageId(), Store.YES));
    d.add(new StringField(Fields.TENANT, img.tenant(), Store.YES));
    d.add(new StringField(Fields.COLLECTION, img.collection(), Store.YES));
    if (img.source() != null) {
      d.add(new StringField(Fields.SOURCE, img.source(), Store.YES));
    }
    d.add(new LongPoint(Fields.SUBMITTED_MS, img.submittedAtMs()));
    d.add(new StoredField(Fields.SUBMITTED_MS, img.submittedAtMs()));
    d.add(new StringField(Fields.MODEL_VERSION, img.modelVersion(), Store.YES));
    d.add(new StringField(Fields.SHA256, new BytesRef(img.sha256()), Store.YES));
    d.add(new BinaryDocValuesField(Fields.PDQ, new BytesRef(img.pdq())));
    d.add(new NumericDocValuesField(Fields.PDQ_QUALITY, img.pdqQuality()));
    for (BytesRef t : Pdq.indexTerms(img.pdq())) {
      d.add(new StringField(Fields.PDQ_CHUNKS, t, Store.NO));
    }
    if (!img.attributes().isEmpty()) {
      d.add(new StoredField(Fields.ATTRIBUTES, encodeAttributes(img.attributes())));
    }
    if (img.thumbnail() != null) {
      d.add(new StoredField(Fields.THUMBNAIL, img.thumbnail().encode()));
    }
    d.add(new KnnFloatVectorField(Fields.vector(img.modelVersion()), img.vector(),
        VectorSimilarityFunction.DOT_PRODUCT));
    if (img.smallVector() != null) {
      d.add(new KnnFloatVectorField(Fields.smallVector(img.modelVersion()), img.smallVector(),
          VectorSimilarityFunction.DOT_PRODUCT));
    }
    return d;
  }

  /**
   * Removes the tenant's image and leaves a tombstone, so that an embedding of it submitted at or before
   * {@code requestedAtMs} and arriving later (the embedder is slower than a takedown) is not indexed.
   */
  public void delete(String tenant, String imageId, long requestedAtMs) throws IOException {
    String uid = IndexedImage.uid(tenant, imageId);
    Document t = new Document();
    t.add(new StringField(Fields.UID, uid, Store.YES));
    t.add(new StringField(Fields.KIND, Fields.KIND_TOMBSTONE, Store.NO));
    t.add(new StoredField(Fields.DELETED_MS, requestedAtMs));
    writer.updateDocument(new Term(Fields.UID, uid), t);
    tombstones.merge(uid, requestedAtMs, Math::max);
  }

  /**
   * Drops the tombstones of deletions requested before {@code cutoffMs}: they no longer guard anything once the
   * shard has read embeddings appended long after the deletion (see {@code index.tombstone.grace.ms}).
   *
   * @return how many were dropped
   */
  public int pruneTombstones(long cutoffMs) throws IOException {
    int n = 0;
    for (Map.Entry<String, Long> e : List.copyOf(tombstones.entrySet())) {
      if (e.getValue() < cutoffMs) {
        writer.deleteDocuments(new BooleanQuery.Builder()
            .add(new TermQuery(new Term(Fields.UID, e.getKey())), Occur.FILTER)
            .add(new TermQuery(new Term(Fields.KIND, Fields.KIND_TOMBSTONE)), Occur.FILTER).build());
        tombstones.remove(e.getKey(), e.getValue());
        n++;
      }
    }
    return n;
  }

  /** Tombstones held (deletions still guarding against late embeddings). */
  public int tombstoneCount() {
    return tombstones.size();
  }

  /** True when documents or offsets changed since the last commit. */
  public boolean needsCommit() {
    return offsetsDirty || writer.hasUncommittedChanges();
  }

  /** Makes every change durable together with the offsets it reflects (one Lucene commit). */
  public void commit(String embeddingsTopic) throws IOException {
    if (!needsCommit()) {
      return;
    }
    Map<String, String> data = new TreeMap<>();
    data.put(TOPIC, embeddingsTopic);
    data.put(EMBEDDINGS_OFFSET, Long.toString(embeddingsOffset));
    deletionOffsets.forEach((p, o) -> data.put(DELETIONS_OFFSET + p, Long.toString(o)));
    offsetsDirty = false;
    writer.setLiveCommitData(data.entrySet());
    writer.commit();
  }

  /** Makes recent changes searchable (called by the background refresher). */
  public void refresh() throws IOException {
    manager.maybeRefreshBlocking();
  }

  /** Live images (not tombstones) in the last refreshed view. */
  public int imageCount() throws IOException {
    IndexSearcher s = manager.acquire();
    try {
      return s.count(new TermQuery(new Term(Fields.KIND, Fields.KIND_IMAGE)));
    } finally {
      manager.release(s);
    }
  }

  /** Every image uid in the last refreshed view, with how many documents carry it (tests: exactly once). */
  public Map<String, Integer> uidCounts() throws IOException {
    IndexSearcher s = manager.acquire();
    try {
      Map<String, Integer> m = new HashMap<>();
      StoredFields sf = s.storedFields();
      for (ScoreDoc sd : s.search(new TermQuery(new Term(Fields.KIND, Fields.KIND_IMAGE)), Integer.MAX_VALUE).scoreDocs) {
        m.merge(sf.document(sd.doc).get(Fields.UID), 1, Integer::sum);
      }
      return m;
    } finally {
      manager.release(s);
    }
  }

  /** When the image with this uid was submitted, in the last refreshed view; null when there is none (or a tombstone). */
  public Long submittedAtOf(String uid) throws IOException {
    IndexSearcher s = manager.acquire();
    try {
      Query q = new BooleanQuery.Builder()
          .add(new TermQuery(new Term(Fields.UID, uid)), Occur.FILTER)
          .add(new TermQuery(new Term(Fields.KIND, Fields.KIND_IMAGE)), Occur.FILTER).build();
      TopDocs td = s.search(q, 1);
      if (td.scoreDocs.length == 0) {
        return null;
      }
      List<LeafReaderContext> leaves = s.getIndexReader().leaves();
      int doc = td.scoreDocs[0].doc;
      LeafReaderContext leaf = leaves.get(ReaderUtil.subIndex(doc, leaves));
      return leaf.reader().storedFields().document(doc - leaf.docBase, java.util.Set.of(Fields.SUBMITTED_MS))
          .getField(Fields.SUBMITTED_MS).numericValue().longValue();
    } finally {
      manager.release(s);
    }
  }

  /**
   * The visible image with this id: the tenant's own first, else one in a collection the filter shares.
   */
  public Optional<IndexedImage> lookup(SearchFilter visibility, String imageId) throws IOException {
    IndexSearcher s = manager.acquire();
    try {
      Query q = new BooleanQuery.Builder()
          .add(new TermQuery(new Term(Fields.IMAGE_ID, imageId)), Occur.FILTER)
          .add(visibility.toQuery(), Occur.FILTER).build();
      TopDocs td = s.search(q, 100);
      IndexedImage best = null;
      for (ScoreDoc sd : td.scoreDocs) {
        IndexedImage img = load(s, sd.doc);
        if (best == null || img.tenant().equals(visibility.tenant())) {
          best = img;
        }
      }
      return Optional.ofNullable(best);
    } finally {
      manager.release(s);
    }
  }

  private IndexedImage load(IndexSearcher s, int doc) throws IOException {
    List<LeafReaderContext> leaves = s.getIndexReader().leaves();
    LeafReaderContext leaf = leaves.get(ReaderUtil.subIndex(doc, leaves));
    int local = doc - leaf.docBase;
    Document d = leaf.reader().storedFields().document(local);
    String mv = d.get(Fields.MODEL_VERSION);
    byte[] pdq = pdqOf(leaf.reader(), local);
    return new IndexedImage(d.get(Fields.TENANT), d.get(Fields.IMAGE_ID), d.get(Fields.COLLECTION),
        d.get(Fields.SOURCE), decodeAttributes(d.getBinaryValue(Fields.ATTRIBUTES)), mv,
        vectorOf(leaf.reader(), Fields.vector(mv), local), bytes(d.getBinaryValue(Fields.SHA256)),
        pdq == null ? new byte[Pdq.BYTES] : pdq, (int) qualityOf(leaf.reader(), local),
        d.getField(Fields.SUBMITTED_MS).numericValue().longValue(),
        thumbnail(d.getBinaryValue(Fields.THUMBNAIL)), vectorOf(leaf.reader(), Fields.smallVector(mv), local));
  }

  /**
   * Every signal of the probe against this shard: exact SHA-256 hits, PDQ hits within the policy's
   * distance, and the k nearest descriptors per probe vector; each candidate then gets all its signals
   * measured exactly and a combined score. Unsorted.
   */
  public List<Hit> search(Probe p, MatchPolicy policy) throws IOException {
    return search(p, policy, PdqMode.AUTO);
  }

  List<Hit> search(Probe p, MatchPolicy policy, PdqMode pdqMode) throws IOException {
    IndexSearcher s = manager.acquire();
    try {
      Query filter = p.filter().toQuery();
      java.util.TreeSet<Integer> cands = new java.util.TreeSet<>();
      if (p.sha256() != null) {
        Query q = new BooleanQuery.Builder()
            .add(new TermQuery(new Term(Fields.SHA256, new BytesRef(p.sha256()))), Occur.FILTER)
            .add(filter, Occur.FILTER).build();
        for (ScoreDoc sd : s.search(q, 1000).scoreDocs) {
          cands.add(sd.doc);
        }
      }
      if (!p.pdqHashes().isEmpty() && policy.pdqUsable(p.pdqQuality())) {
        cands.addAll(pdqMatches(s, p.pdqHashes(), policy.pdqMaxDistance(), policy.pdqMinQuality(), filter,
            pdqMode).keySet());
      }
      String field = p.modelVersion() == null ? null : Fields.vector(p.modelVersion());
      if (field != null && vectorDims.containsKey(field)) {
        String small = smallFields.contains(Fields.smallVector(p.modelVersion())) ? Fields.smallVector(p.modelVersion())
            : null;
        for (float[] v : p.vectors()) {
          if (v.length != vectorDims.get(field)) {
            throw new IllegalArgumentException("probe vector has dimension " + v.length + " but model version "
                + p.modelVersion() + " has " + vectorDims.get(field));
          }
          for (ScoreDoc sd : knn(s, field, v, p.k(), filter)) {
            cands.add(sd.doc);
          }
          if (small != null) {
            for (ScoreDoc sd : knn(s, small, v, p.k(), filter)) {
              cands.add(sd.doc);
            }
          }
        }
      }
      List<Hit> out = new ArrayList<>(cands.size());
      List<LeafReaderContext> leaves = s.getIndexReader().leaves();
      for (int doc : cands) {
        LeafReaderContext leaf = leaves.get(ReaderUtil.subIndex(doc, leaves));
        out.add(resolve(leaf, doc - leaf.docBase, p, policy, field));
      }
      return out;
    } finally {
      manager.release(s);
    }
  }

  /**
   * kNN top k for one vector. HNSW explores {@code index.knn.candidates}; with a quantized format the approximate
   * hits are then rescored with the raw float32 vectors (exact dot products), which is what lifts int7/int4/1-bit
   * recall back to float32's. (Our own rescoring rather than RescoreTopNQuery: that one trips an assertion when
   * the approximate search finds nothing, e.g. a tenant with no images yet.)
   */
  ScoreDoc[] knn(IndexSearcher s, String field, float[] v, int k, Query filter) throws IOException {
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

  /** kNN for benchmarks and recall tests: image uids of the top k, best first. */
  public List<String> knnUids(String modelVersion, float[] v, int k, SearchFilter filter) throws IOException {
    IndexSearcher s = manager.acquire();
    try {
      String field = Fields.vector(modelVersion);
      if (!vectorDims.containsKey(field)) {
        return List.of();
      }
      List<String> out = new ArrayList<>();
      StoredFields sf = s.storedFields();
      for (ScoreDoc sd : knn(s, field, v, k, filter.toQuery())) {
        out.add(sf.document(sd.doc).get(Fields.UID));
      }
      return out;
    } finally {
      manager.release(s);
    }
  }

  /** PDQ only (benchmarks): how many images are within the policy's distance of the probe's hashes. */
  public int searchPdq(Probe p, MatchPolicy policy, PdqMode mode) throws IOException {
    IndexSearcher s = manager.acquire();
    try {
      return pdqMatches(s, p.pdqHashes(), policy.pdqMaxDistance(), policy.pdqMinQuality(), p.filter().toQuery(), mode)
          .size();
    } finally {
      manager.release(s);
    }
  }

  /** PDQ matches of this shard by uid, with the distance (tests compare MIH with the scan). */
  Map<String, Integer> pdqMatchesByUid(List<byte[]> hashes, int maxDistance, int minQuality, SearchFilter filter,
      PdqMode mode) throws IOException {
    IndexSearcher s = manager.acquire();
    try {
      Map<String, Integer> out = new TreeMap<>();
      StoredFields sf = s.storedFields();
      for (Map.Entry<Integer, Integer> e : pdqMatches(s, hashes, maxDistance, minQuality, filter.toQuery(), mode)
          .entrySet()) {
        out.put(sf.document(e.getKey()).get(Fields.UID), e.getValue());
      }
      return out;
    } finally {
      manager.release(s);
    }
  }

  /** Global doc id -> smallest distance, for every doc within {@code maxDistance} whose quality suffices. */
  private Map<Integer, Integer> pdqMatches(IndexSearcher s, List<byte[]> hashes, int maxDistance, int minQuality,
      Query filter, PdqMode mode) throws IOException {
    boolean scan = switch (mode) {
      case SCAN -> true;
      case MIH -> false;
      case AUTO -> s.getIndexReader().maxDoc() <= opt.pdqBruteForceMaxDocs() || Pdq.radius(maxDistance) > 3;
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

  private Hit resolve(LeafReaderContext leaf, int local, Probe p, MatchPolicy policy, String field)
      throws IOException {
    LeafReader r = leaf.reader();
    Document d = r.storedFields().document(local);
    byte[] sha256 = bytes(d.getBinaryValue(Fields.SHA256));
    boolean exact = p.sha256() != null && Arrays.equals(p.sha256(), sha256);
    Integer pdqDistance = null;
    byte[] pdq = pdqOf(r, local);
    byte[] comparablePdq = pdq != null && policy.pdqUsable((int) qualityOf(r, local)) ? pdq : null;
    if (comparablePdq != null && !p.pdqHashes().isEmpty() && policy.pdqUsable(p.pdqQuality())) {
      int best = Integer.MAX_VALUE;
      for (byte[] h : p.pdqHashes()) {
        best = Math.min(best, Pdq.hamming(h, pdq));
      }
      pdqDistance = best;
    }
    float[] v = field == null ? null : vectorOf(r, field, local);
    // the best over the probe's views, against the full descriptor and the small-view one where there is one
    Float cosine = v == null ? null : p.bestCosine(v, smallFields.contains(Fields.smallVector(p.modelVersion()))
        ? vectorOf(r, Fields.smallVector(p.modelVersion()), local) : null);
    double score = policy.score(exact, pdqDistance, cosine);
    return new Hit(d.get(Fields.UID), d.get(Fields.IMAGE_ID), d.get(Fields.TENANT), d.get(Fields.COLLECTION),
        d.get(Fields.SOURCE), decodeAttributes(d.getBinaryValue(Fields.ATTRIBUTES)),
        d.getField(Fields.SUBMITTED_MS).numericValue().longValue(), exact, pdqDistance, cosine, score, score, shard,
        sha256, comparablePdq, v,
        policy.verification().candidates() > 0 ? thumbnail(d.getBinaryValue(Fields.THUMBNAIL)) : null);
  }

  private static byte[] pdqOf(LeafReader r, int local) throws IOException {
    BinaryDocValues dv = r.getBinaryDocValues(Fields.PDQ);
    if (dv == null || !dv.advanceExact(local)) {
      return null;
    }
    return bytes(dv.binaryValue());
  }

  private static long qualityOf(LeafReader r, int local) throws IOException {
    NumericDocValues dv = r.getNumericDocValues(Fields.PDQ_QUALITY);
    return dv != null && dv.advanceExact(local) ? dv.longValue() : 0;
  }

  private static float[] vectorOf(LeafReader r, String field, int local) throws IOException {
    FloatVectorValues fv = r.getFloatVectorValues(field);
    if (fv == null) {
      return null;
    }
    DocIndexIterator it = fv.iterator();
    if (it.advance(local) != local) {
      return null;
    }
    return fv.vectorValue(it.index()).clone();
  }

  private static byte[] bytes(BytesRef b) {
    return b == null ? null : Arrays.copyOfRange(b.bytes, b.offset, b.offset + b.length);
  }

  static byte[] encodeAttributes(Map<String, String> attrs) {
    StringBuilder sb = new StringBuilder();
    new TreeMap<>(attrs).forEach((k, v) -> sb.append(k).append('\0').append(v).append('\0'));
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  static Map<String, String> decodeAttributes(BytesRef b) {
    if (b == null || b.length == 0) {
      return Map.of();
    }
    String[] parts = new String(b.bytes, b.offset, b.length, StandardCharsets.UTF_8).split("\0", -1);
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i + 1 < parts.length; i += 2) {
      m.put(parts[i], parts[i + 1]);
    }
    return m;
  }

  /** Forces every segment into one (benchmarks: the steady state after merges). */
  public void forceMerge() throws IOException {
    writer.forceMerge(1);
  }

  /** Bytes on disk of the shard's files (benchmarks). */
  public long sizeOnDisk() throws IOException {
    long n = 0;
    for (String f : dir.listAll()) {
      if (!f.equals("write.lock")) {
        n += dir.fileLength(f);
      }
    }
    return n;
  }

  /** Closes without committing: what was not committed is replayed from Kafka on the next start. */
  @Override
  public void close() throws IOException {
    try {
      manager.close();
    } finally {
      try {
        writer.rollback();
      } finally {
        dir.close();
      }
    }
  }

  /** A stored {@link Fields#THUMBNAIL}, or null for an image indexed without one. */
  private static GrayThumb thumbnail(BytesRef b) {
    return b == null ? null : GrayThumb.decode(b.bytes, b.offset, b.length);
  }
}
