package dev.imgmatch.index;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.lucene.codecs.Codec;
import org.apache.lucene.codecs.KnnVectorsFormat;
import org.apache.lucene.codecs.lucene104.Lucene104Codec;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field.Store;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.FieldInfo;
import org.apache.lucene.index.FieldInfos;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.ReaderUtil;
import org.apache.lucene.index.SegmentInfos;
import org.apache.lucene.index.StoredFields;
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
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.util.BytesRef;
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
  /**
   * Local verification of the references that share the most rare visual words with a probe, one verifier per
   * {@code match.local.min.inliers} (made on first use: it loads OpenCV's natives, which only deployments sending local
   * features need). RANSAC is skipped below that many distinctive matches: no placement could count then.
   */
  private static final java.util.concurrent.ConcurrentMap<Integer, dev.imgmatch.local.GeometricVerifier> LOCAL_VERIFIERS =
      new java.util.concurrent.ConcurrentHashMap<>();

  static dev.imgmatch.local.GeometricVerifier localVerifier(MatchPolicy policy) {
    return LOCAL_VERIFIERS.computeIfAbsent(policy.local().minInliers(),
        min -> new dev.imgmatch.local.GeometricVerifier(0.8, 5.0, min));
  }

  private static final Logger log = LoggerFactory.getLogger(ShardIndex.class);

  /** Commit user data key: next offset of this shard's embeddings partition. */
  static final String EMBEDDINGS_OFFSET = "embeddings.next.offset";
  /** Commit user data key prefix: next offset of a deletions partition ({@code deletions.next.offset.3}). */
  static final String DELETIONS_OFFSET = "deletions.next.offset.";
  static final String TOPIC = "embeddings.topic";
  /** Commit user data key: the model version a retirement in progress keeps (absent when none). */
  static final String RETIRING = "versions.retiring";
  /** The bank-entries offsets (partition:offset,...) before which entries are visible to this shard's matching. */
  static final String BANK_HORIZON = "bank.horizon";

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
  private volatile Map<Integer, Long> bankHorizon;
  private volatile long lastEmbeddingTimestamp = -1;
  private volatile boolean offsetsDirty;
  private final ShardVersions versions;

  private ShardIndex(int shard, Path path, Directory dir, IndexWriter writer, Options opt, Map<String, String> userData)
      throws IOException {
    this.shard = shard;
    this.path = path;
    this.dir = dir;
    this.writer = writer;
    this.opt = opt;
    this.manager = new SearcherManager(writer, null);
    this.versions = new ShardVersions(writer, manager, vectorDims, smallFields, tombstones,
        () -> offsetsDirty = true);
    this.embeddingsOffset = Long.parseLong(userData.getOrDefault(EMBEDDINGS_OFFSET, "-1"));
    this.bankHorizon = Map.copyOf(BankIndex.parseOffsets(userData.getOrDefault(BANK_HORIZON, "")));
    userData.forEach((k, v) -> {
      if (k.startsWith(DELETIONS_OFFSET)) {
        deletionOffsets.put(Integer.parseInt(k.substring(DELETIONS_OFFSET.length())), Long.parseLong(v));
      }
    });
    loadState();
    if (userData.get(RETIRING) != null) {
      versions.startRetiring(userData.get(RETIRING)); // interrupted by a restart: go on
    }
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
        if (fi.getVectorDimension() > 0 && s.count(new FieldExistsQuery(fi.name)) == 0) {
          continue; // a version retired here (its field lingers in segments until they merge)
        }
        if (fi.getVectorDimension() > 0 && Fields.isVector(fi.name)) {
          vectorDims.put(fi.name, fi.getVectorDimension());
        } else if (fi.getVectorDimension() > 0 && Fields.isSmallVector(fi.name)) {
          smallFields.add(fi.name);
        }
      }
      versions.loadPending(s);
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

  /**
   * Per bank-entries partition, the offset before which hash-list bank entries are visible to this shard's matching
   * (advanced by the BANKS_ADDED operations {@code ./imgmatch bank import} writes into the partition after its
   * entries; see {@link BankRetroactive}). Empty before the first import: no entry is visible.
   */
  public Map<Integer, Long> bankHorizon() {
    return bankHorizon;
  }

  /** Moves the horizon up to {@code to} (never back: a later import's operation may arrive first). */
  public void advanceBankHorizon(Map<Integer, Long> to) {
    Map<Integer, Long> m = new java.util.HashMap<>(bankHorizon);
    to.forEach((p, o) -> m.merge(p, o, Math::max));
    bankHorizon = Map.copyOf(m);
    offsetsDirty = true;
  }

  /** A function of the shard's searcher (the last refreshed view). */
  @FunctionalInterface
  interface SearcherFunction<T> {
    T apply(IndexSearcher s) throws IOException;
  }

  /** Runs {@code f} with the shard's current searcher, released afterwards. */
  <T> T withSearcher(SearcherFunction<T> f) throws IOException {
    IndexSearcher s = manager.acquire();
    try {
      return f.apply(s);
    } finally {
      manager.release(s);
    }
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
    writer.updateDocument(new Term(Fields.UID, uid), ShardDocs.document(img, versions.onUpsert(img)));
    if (img.smallVector() != null) {
      smallFields.add(Fields.smallVector(img.modelVersion()));
    }
    tombstones.remove(uid);
    return true;
  }

  /** The shard's model versions: adding a new version's descriptors, retiring the older ones. */
  public ShardVersions versions() {
    return versions;
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
    if (versions.retiring() != null) {
      data.put(RETIRING, versions.retiring());
    }
    if (!bankHorizon.isEmpty()) {
      data.put(BANK_HORIZON, BankIndex.formatOffsets(bankHorizon));
    }
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
      TopDocs td = s.search(ShardDocs.imageByUid(uid), 1);
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
        IndexedImage img = ShardDocs.load(s, sd.doc);
        if (best == null || img.tenant().equals(visibility.tenant())) {
          best = img;
        }
      }
      return Optional.ofNullable(best);
    } finally {
      manager.release(s);
    }
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
        cands.addAll(PdqMatcher.matches(s, p.pdqHashes(), policy.pdqMaxDistance(), policy.pdqMinQuality(), filter,
            pdqMode, opt.pdqBruteForceMaxDocs()).keySet());
      }
      String field = p.modelVersion() == null ? null : Fields.vector(p.modelVersion());
      if (field != null && vectorDims.containsKey(field)) {
        String small = smallField(p.modelVersion());
        for (float[] v : p.vectors()) {
          if (v.length != vectorDims.get(field)) {
            throw new IllegalArgumentException("probe vector has dimension " + v.length + " but model version "
                + p.modelVersion() + " has " + vectorDims.get(field));
          }
          for (ScoreDoc sd : nearest(s, field, small, v, p.k(), filter)) {
            cands.add(sd.doc);
          }
        }
      }
      List<Hit> out = new ArrayList<>(cands.size());
      for (int doc : cands) {
        IndexedImage img = ShardDocs.load(s, doc, policy.verification().candidates() > 0, false, p.modelVersion());
        out.add(CandidateScorer.hit(p, policy, img, shard));
      }
      return out;
    } finally {
      manager.release(s);
    }
  }

  /**
   * Local verification in this shard: the {@code match.local.candidates} references sharing the most rare visual words
   * with the probe ({@link LocalCandidates}), and half as many with the probe mirrored ({@link
   * dev.imgmatch.local.LocalFeatures#mirrored}: SIFT is not mirror-invariant), each with every signal measured (as
   * {@link #search}) and its best RANSAC placement inside the probe, either way round. Empty when the probe carries no
   * local features or the policy verifies none.
   *
   * @param lp the probe's local features, mirrored and as visual words, made once per probe by the caller
   * @param alsoUids images verified whatever their words (both ways round) when this shard holds them: the global
   *     search's best candidates, whose few shared words a small or tiny probe does not rank first
   */
  List<Hit> localHits(Probe p, LocalProbe lp, java.util.Collection<String> alsoUids, MatchPolicy policy)
      throws IOException {
    if (p.local() == null || policy.local().candidates() <= 0) {
      return List.of();
    }
    IndexSearcher s = manager.acquire();
    try {
      Query filter = p.filter().toQuery();
      dev.imgmatch.local.LocalFeatures mirror = lp.mirror();
      List<Integer> direct = LocalCandidates.top(s, lp.words(), policy.local().candidates(), filter);
      List<Integer> mirrored = LocalCandidates.top(s, lp.mirrorWords(), Math.max(1, policy.local().candidates() / 2),
          filter);
      java.util.LinkedHashSet<Integer> cands = new java.util.LinkedHashSet<>(direct);
      cands.addAll(mirrored);
      java.util.Set<Integer> global = new java.util.HashSet<>();
      for (String uid : alsoUids) {
        for (ScoreDoc sd : s.search(oneImage(uid, filter), 1).scoreDocs) {
          global.add(sd.doc);
          cands.add(sd.doc);
        }
      }
      if (cands.isEmpty()) {
        return List.of();
      }
      List<Hit> out = new ArrayList<>(cands.size());
      dev.imgmatch.local.GeometricVerifier verifier = localVerifier(policy);
      try (dev.imgmatch.local.GeometricVerifier.Query local = verifier.prepare(p.local());
          dev.imgmatch.local.GeometricVerifier.Query flipped = verifier.prepare(mirror)) {
        for (int doc : cands) {
          IndexedImage img = ShardDocs.load(s, doc, policy.verification().candidates() > 0, true, p.modelVersion());
          Hit h = CandidateScorer.hit(p, policy, img, shard);
          if (img.localFeatures() != null) {
            dev.imgmatch.local.LocalFeatures ref = dev.imgmatch.local.LocalFeatures.decode(img.localFeatures());
            Hit.Placement best = null;
            if (direct.contains(doc) || global.contains(doc)) {
              dev.imgmatch.local.GeometricVerifier.Verification v = verifier.verify(local, ref);
              best = new Hit.Placement(v.inliers(), v.queryBox());
            }
            boolean mirrorToo = mirrored.contains(doc) || global.contains(doc);
            if (mirrorToo && (best == null || best.inliers() < policy.local().minInliers())) {
              dev.imgmatch.local.GeometricVerifier.Verification v = verifier.verify(flipped, ref);
              if (best == null || v.inliers() > best.inliers()) {
                float[] b = v.queryBox(); // in the mirrored probe: back to the probe's own x
                best = new Hit.Placement(v.inliers(), b.length == 4 ? new float[] {1 - b[2], b[1], 1 - b[0], b[3]} : b);
              }
            }
            h = h.withPlacement(best);
          }
          out.add(h);
        }
      }
      return out;
    } finally {
      manager.release(s);
    }
  }

  /** The live image {@code uid} ({@link ShardDocs#imageByUid}) if {@code filter} lets it through. */
  private static Query oneImage(String uid, Query filter) {
    return new BooleanQuery.Builder().add(ShardDocs.imageByUid(uid), Occur.FILTER).add(filter, Occur.FILTER).build();
  }

  /**
   * The stored local features ({@link dev.imgmatch.local.LocalFeatures#encode}) of image {@code uid} in this shard, as
   * probe {@code p} may see it; null when the shard holds no such image or it has none.
   */
  byte[] localFeatures(Probe p, String uid) throws IOException {
    IndexSearcher s = manager.acquire();
    try {
      for (ScoreDoc sd : s.search(oneImage(uid, p.filter().toQuery()), 1).scoreDocs) {
        return ShardDocs.load(s, sd.doc, false, true, p.modelVersion()).localFeatures();
      }
      return null;
    } finally {
      manager.release(s);
    }
  }

  /**
   * A probe's local features as every shard's {@link #localHits} needs them, made once per probe: mirrored (SIFT is
   * not mirror-invariant) and both ways round as distinct visual words (hashing 800 descriptors twice is a few
   * milliseconds, repeated for every shard of an instance before).
   */
  record LocalProbe(dev.imgmatch.local.LocalFeatures mirror, int[] words, int[] mirrorWords) {
    static LocalProbe of(dev.imgmatch.local.LocalFeatures direct) {
      dev.imgmatch.local.LocalFeatures m = direct.mirrored();
      return new LocalProbe(m, dev.imgmatch.local.VisualWords.DEFAULT.distinctWords(direct),
          dev.imgmatch.local.VisualWords.DEFAULT.distinctWords(m));
    }
  }

  /**
   * Layout matching in this shard ({@link Layout}): the {@code match.layout.candidates} references nearest to each
   * of the probe's four flipped coarse layouts ({@code q}, made once per probe), among what the probe may see, each
   * with every signal measured (as {@link #search}) and its fine layout correlation with the probe; only images
   * marked as mosaics ({@link Fields#MOSAIC}) when {@code mosaicsOnly}. Empty when the policy matches none by layout.
   * {@code by} says which layouts are compared ({@link LayoutLookup}).
   */
  List<Layout.Candidate> layoutCandidates(Probe p, Layout.ProbeLayout q, MatchPolicy policy, boolean mosaicsOnly,
      LayoutLookup by) throws IOException {
    int k = policy.layout().candidates();
    if (k <= 0) {
      return List.of();
    }
    List<String> fields = new ArrayList<>();
    List<float[]> queries;
    switch (by) {
      case WHOLE -> {
        fields.add(Fields.LAYOUT);
        queries = q.coarse();
      }
      case WINDOWS -> {
        k = Layout.WINDOW_LOOKUP;
        for (int i = 0; i < Fields.LAYOUT_WINDOWS; i++) {
          fields.add(Fields.layoutWindow(i));
        }
        queries = q.windowQueries();
      }
      default -> {
        k = Layout.WINDOW_LOOKUP;
        fields.add(Fields.LAYOUT);
        queries = q.cropQueries();
      }
    }
    IndexSearcher s = manager.acquire();
    try {
      Query filter = p.filter().toQuery();
      if (mosaicsOnly) {
        filter = new BooleanQuery.Builder().add(filter, Occur.FILTER)
            .add(new TermQuery(new Term(Fields.MOSAIC, Fields.MOSAIC_YES)), Occur.FILTER).build();
      }
      java.util.TreeSet<Integer> docs = new java.util.TreeSet<>();
      for (String field : fields) {
        for (float[] v : queries) {
          for (ScoreDoc sd : Knn.topK(s, field, v, k, filter, opt)) {
            docs.add(sd.doc);
          }
        }
      }
      List<Layout.Candidate> out = new ArrayList<>(docs.size());
      for (int doc : docs) {
        IndexedImage img = ShardDocs.load(s, doc, true, false, p.modelVersion());
        Layout.Candidate c = Layout.candidate(q, CandidateScorer.hit(p, policy, img, shard), img.thumbnail());
        if (c != null) {
          out.add(c);
        }
      }
      return out;
    } finally {
      manager.release(s);
    }
  }

  /** Which layouts a layout look-up compares ({@link #layoutCandidates}). */
  enum LayoutLookup {
    /** The probe's coarse layouts with the indexed images' ({@link Fields#LAYOUT}; {@code match.layout.candidates}). */
    WHOLE,
    /**
     * The probe's, smoothed ({@link Layout.ProbeLayout#windowQueries}), with the indexed images' windows
     * ({@link Fields#layoutWindow}; {@link Layout#WINDOW_LOOKUP} per field and query): the probe taken for a crop.
     */
    WINDOWS,
    /**
     * The probe's windows ({@link Layout.ProbeLayout#cropQueries}) with the indexed images' whole layouts
     * ({@link Layout#WINDOW_LOOKUP} per query): the indexed images taken for crops of the probe.
     */
    CROPS
  }

  /** The small-view vector field of a model version when this shard holds one, else null. */
  private String smallField(String modelVersion) {
    String small = Fields.smallVector(modelVersion);
    return smallFields.contains(small) ? small : null;
  }

  /** The {@code k} nearest by the full descriptor, then the {@code k} nearest by the small one ({@code small}: none). */
  private List<ScoreDoc> nearest(IndexSearcher s, String field, String small, float[] v, int k, Query filter)
      throws IOException {
    List<ScoreDoc> out = new ArrayList<>(List.of(Knn.topK(s, field, v, k, filter, opt)));
    if (small != null) {
      out.addAll(List.of(Knn.topK(s, small, v, k, filter, opt)));
    }
    return out;
  }

  /** A reference nominated for local verification ({@link #nominees}) and its kNN score (higher is nearer). */
  record Nominee(String uid, float score) {}

  /**
   * The references of this shard nearest to the probe's nominators ({@link Probe#nominators}) by their full or small
   * descriptor: the {@code n} best over every nominator, best first (ties: uid), among what the probe may see.
   */
  List<Nominee> nominees(Probe p, int n) throws IOException {
    if (p.nominators().isEmpty() || n <= 0 || p.modelVersion() == null) {
      return List.of();
    }
    String field = Fields.vector(p.modelVersion());
    Integer dim = vectorDims.get(field);
    if (dim == null) {
      return List.of();
    }
    String small = smallField(p.modelVersion());
    IndexSearcher s = manager.acquire();
    try {
      Query filter = p.filter().toQuery();
      Map<Integer, Float> best = new HashMap<>();
      for (float[] v : p.nominators()) {
        if (v.length != dim) {
          continue; // another model's dimension: nothing to compare
        }
        for (ScoreDoc sd : nearest(s, field, small, v, n, filter)) {
          best.merge(sd.doc, sd.score, Math::max);
        }
      }
      StoredFields sf = s.storedFields();
      List<Nominee> out = new ArrayList<>(best.size());
      for (Map.Entry<Integer, Float> e : best.entrySet()) {
        out.add(new Nominee(sf.document(e.getKey(), Set.of(Fields.UID)).get(Fields.UID), e.getValue()));
      }
      out.sort(java.util.Comparator.comparingDouble((Nominee x) -> -x.score()).thenComparing(Nominee::uid));
      return out.size() > n ? List.copyOf(out.subList(0, n)) : out;
    } finally {
      manager.release(s);
    }
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
      for (ScoreDoc sd : Knn.topK(s, field, v, k, filter.toQuery(), opt)) {
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
      return PdqMatcher.matches(s, p.pdqHashes(), policy.pdqMaxDistance(), policy.pdqMinQuality(), p.filter().toQuery(), mode,
          opt.pdqBruteForceMaxDocs())
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
      for (Map.Entry<Integer, Integer> e : PdqMatcher.matches(s, hashes, maxDistance, minQuality, filter.toQuery(), mode,
          opt.pdqBruteForceMaxDocs())
          .entrySet()) {
        out.put(sf.document(e.getKey()).get(Fields.UID), e.getValue());
      }
      return out;
    } finally {
      manager.release(s);
    }
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


}
