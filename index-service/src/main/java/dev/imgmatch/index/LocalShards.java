package dev.imgmatch.index;

import dev.imgmatch.common.GrayThumb;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The shards this instance owns (one per assigned partition of the embeddings topic), a background thread
 * refreshing their searchers every {@code refreshIntervalMs}, and searches over all of them.
 */
public final class LocalShards implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(LocalShards.class);

  private final Path root;
  private final ShardIndex.Options options;
  private final Map<Integer, ShardIndex> shards = new ConcurrentSkipListMap<>();
  private final Map<String, Integer> dims = new ConcurrentHashMap<>();
  private final ScheduledExecutorService refresher;
  private volatile int totalShards;
  /** Images upserted since the last completed refresh: searched by brute force so nothing indexed is missed. */
  private final ConcurrentLinkedDeque<Recent> recent = new ConcurrentLinkedDeque<>();
  /** Uids deleted since the last completed refresh: hidden from the (older) searchers. */
  private final Map<String, Long> recentDeletes = new ConcurrentHashMap<>();

  private record Recent(IndexedImage img, int shard, long addedNanos) {}

  public LocalShards(Path root, ShardIndex.Options options, long refreshIntervalMs) {
    this.root = root;
    this.options = options;
    this.refresher = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "index-refresher");
      t.setDaemon(true);
      return t;
    });
    refresher.scheduleWithFixedDelay(this::refreshAll, refreshIntervalMs, refreshIntervalMs, TimeUnit.MILLISECONDS);
  }

  private void refreshAll() {
    long started = System.nanoTime();
    boolean all = true;
    for (ShardIndex s : shards.values()) {
      try {
        s.refresh();
      } catch (org.apache.lucene.store.AlreadyClosedException e) {
        // closed by a rebalance between listing and refreshing: nothing to do
      } catch (IOException | RuntimeException e) {
        all = false;
        log.warn("refreshing shard {} failed (retried next period): {}", s.shard(), e.toString());
      }
    }
    if (all) {
      forgetBefore(started);
    }
  }

  /** What was changed before {@code nanos} is now in every searcher. */
  private void forgetBefore(long nanos) {
    recent.removeIf(r -> r.addedNanos() < nanos);
    recentDeletes.values().removeIf(t -> t < nanos);
  }

  /** Refreshes every shard now (tests and start-up). */
  public void refreshNow() throws IOException {
    long started = System.nanoTime();
    for (ShardIndex s : shards.values()) {
      s.refresh();
    }
    forgetBefore(started);
  }

  /**
   * Upserts into a shard and makes the image visible to {@link #search} at once (until the next refresh it is
   * found by a brute-force pass over the recent images).
   *
   * <p>Submission and request times decide, never arrival order: an upload older than the one of the same id already
   * indexed is not indexed, nor one submitted at or before a deletion of it ({@link ShardIndex#upsert}); a deletion
   * requested before the indexed upload of that id was submitted (a re-upload) leaves it ({@link #delete}). Uploads
   * and deletions replayed after a crash, in whatever interleaving, end in the same index.
   *
   * @return false when a deletion or a newer upload of the same id came first
   */
  public boolean upsert(ShardIndex shard, IndexedImage img) throws IOException {
    Long live = liveSubmittedAt(shard, img.uid());
    if (live != null && live > img.submittedAtMs()) {
      return false;
    }
    if (!shard.upsert(img)) {
      return false;
    }
    String uid = img.uid();
    recent.removeIf(r -> r.img().uid().equals(uid));
    recentDeletes.remove(uid);
    recent.add(new Recent(img, shard.shard(), System.nanoTime()));
    return true;
  }

  /**
   * Adds another model version's descriptors to an indexed image ({@link ShardVersions#add}). An image upserted
   * since the last refresh is refreshed into the searcher first, so that the version is added to what was indexed.
   *
   * @return false when the shard holds no such image
   */
  public boolean addVersion(ShardIndex shard, IndexedImage v) throws IOException {
    String uid = v.uid();
    if (recent.stream().anyMatch(r -> r.shard() == shard.shard() && r.img().uid().equals(uid))) {
      shard.refresh();
    }
    return shard.versions().add(v);
  }

  /**
   * Deletes from the shard (the image lives in one; the tombstone guards all) and hides it at once, unless the
   * image there was submitted after the deletion was requested (a re-upload): then the deletion does not concern it.
   *
   * @return whether the shard now holds a tombstone for the id
   */
  public boolean delete(ShardIndex shard, String tenant, String imageId, long requestedAtMs) throws IOException {
    String uid = IndexedImage.uid(tenant, imageId);
    Long live = liveSubmittedAt(shard, uid);
    if (live != null && live > requestedAtMs) {
      return false;
    }
    shard.delete(tenant, imageId, requestedAtMs);
    recent.removeIf(r -> r.img().uid().equals(uid));
    recentDeletes.put(uid, System.nanoTime());
    return true;
  }

  /** When the live image of this uid in the shard was submitted, changes not yet refreshed included; null if none. */
  private Long liveSubmittedAt(ShardIndex shard, String uid) throws IOException {
    for (Recent r : recent) {
      if (r.shard() == shard.shard() && r.img().uid().equals(uid)) {
        return r.img().submittedAtMs();
      }
    }
    // a searcher not yet refreshed after a deletion may still show the deleted image: harmless here, since a
    // deleted image was submitted at or before the deletion, which its tombstone enforces anyway
    return shard.submittedAtOf(uid);
  }

  /** Opens the shard of partition {@code p} (from disk if present). */
  public ShardIndex open(int p) throws IOException {
    ShardIndex existing = shards.get(p);
    if (existing != null) {
      return existing;
    }
    ShardIndex s = ShardIndex.open(root, p, options);
    for (Map.Entry<String, Integer> e : s.vectorDims().entrySet()) {
      Integer prev = dims.putIfAbsent(e.getKey(), e.getValue());
      if (prev != null && !prev.equals(e.getValue())) {
        log.error("shard {} holds {} with dimension {}, other shards {}", p, e.getKey(), e.getValue(), prev);
      }
    }
    shards.put(p, s);
    return s;
  }

  /** Commits (when {@code embeddingsTopic} is non-null) and closes the shard of partition {@code p}. */
  public void close(int p, String embeddingsTopic) throws IOException {
    ShardIndex s = shards.remove(p);
    recent.removeIf(r -> r.shard() == p);
    if (s != null) {
      try {
        if (embeddingsTopic != null) {
          s.commit(embeddingsTopic);
        }
      } finally {
        s.close();
      }
    }
  }

  public Optional<ShardIndex> get(int p) {
    return Optional.ofNullable(shards.get(p));
  }

  public List<ShardIndex> all() {
    return List.copyOf(shards.values());
  }

  public Set<Integer> owned() {
    return Set.copyOf(shards.keySet());
  }

  public void setTotalShards(int n) {
    totalShards = n;
  }

  /** Shards that exist (partitions of the embeddings topic), or the owned count before it is known. */
  public int totalShards() {
    return Math.max(totalShards, shards.size());
  }

  /**
   * Checks a new image's vector against the dimension its model version has anywhere in this instance.
   *
   * @throws IllegalArgumentException naming both dimensions
   */
  public void checkDimension(String modelVersion, int dim) {
    Integer prev = dims.putIfAbsent(Fields.vector(modelVersion), dim);
    if (prev != null && prev != dim) {
      throw new IllegalArgumentException("model version '" + modelVersion + "' has dimension " + prev
          + " in the index, but this vector has " + dim);
    }
  }

  /** Model versions held, with their dimension. */
  public Map<String, Integer> modelVersions() {
    Map<String, Integer> m = new HashMap<>();
    dims.forEach((k, v) -> m.put(k.substring("vec:".length()), v));
    return m;
  }

  /**
   * The global search's best candidates that local verification places in the probe besides each shard's word
   * candidates: a tiny or small probe has few keypoints, so its true reference, ranked first by the descriptor, is
   * often not among the references sharing the most words (docs/BENCHMARKS.md, "Small probes enlarged").
   */
  static final int GLOBAL_VERIFIED = 2;

  /**
   * How many references nearest to the probe's nominators (the inset view: a picture pasted into it) local verification
   * places as well: a pasted copy's reference is often ranked low by the whole picture's descriptor and by its visual
   * words, and near the top by the pasted picture's own descriptor (calibration split: 1st to 4th;
   * docs/BENCHMARKS.md, "Pasted copies: the inset").
   */
  static final int NOMINATED_VERIFIED = 4;

  /**
   * Every local shard's hits plus the images upserted since the last refresh (exact brute force over those few),
   * ranked by {@link MatchPolicy#rank(List, GrayThumb)} (decision score after the margin against the best competing
   * work, the best candidates verified against the probe's thumbnail). Images deleted since the last refresh are left out.
   * When the probe carries local features and nothing decided it, each shard's best word candidates, the
   * {@value #GLOBAL_VERIFIED} best hits and the {@value #NOMINATED_VERIFIED} references nearest to its nominators are
   * then placed inside it ({@link ShardIndex#localHits}) and everything is
   * ranked again.
   */
  public List<Hit> search(Probe p, MatchPolicy policy) throws IOException {
    // Read the recent changes before the searchers: the refresher forgets a change only once every shard's searcher
    // holds it, so a change missing from these copies is in the searchers acquired below. (Read after, a refresh
    // finishing in between made an image vanish from both: LocalShardsTest.)
    List<Recent> recentNow = List.copyOf(recent);
    Set<String> deletedNow = Set.copyOf(recentDeletes.keySet());
    Map<String, Hit> byUid = new HashMap<>();
    for (ShardIndex s : shards.values()) {
      try {
        for (Hit h : s.search(p, policy)) {
          byUid.put(h.uid(), h);
        }
      } catch (org.apache.lucene.store.AlreadyClosedException e) {
        // partition revoked during the search: its new owner answers for it
      }
    }
    for (Recent r : recentNow) {
      Hit h = recentHit(r, p, policy);
      if (h != null) {
        byUid.put(h.uid(), h); // newer than what the searcher holds for that uid
      }
    }
    byUid.keySet().removeAll(deletedNow);
    Layout.Decided byLayout = byLayout(p, policy, byUid.values(), recentNow, deletedNow);
    if (byLayout != null) {
      byUid.putIfAbsent(byLayout.hit().uid(), byLayout.hit());
    }
    Map<String, Double> evidence = new HashMap<>(); // thumbnail alignments, not repeated by the second ranking
    List<Hit> ranked = policy.liftByLayout(
        policy.rank(new ArrayList<>(byUid.values()), p.thumbnail(), p.background(), evidence), byLayout);
    if (byLayout == null && !policy.decidedGlobally(ranked)) {
      byLayout = tiny(p, policy, ranked, recentNow, deletedNow);
      if (byLayout != null && !byUid.containsKey(byLayout.hit().uid())) {
        // found by the look-up alone: ranked with the others (the margin it gives them), then lifted
        byUid.put(byLayout.hit().uid(), byLayout.hit());
        ranked = policy.rank(new ArrayList<>(byUid.values()), p.thumbnail(), p.background(), evidence);
      }
      ranked = policy.liftByLayout(ranked, byLayout);
    }
    Set<String> contradicted = contradicted(p, policy, ranked, byLayout, recentNow);
    ranked = policy.holdContradicted(ranked, contradicted);
    if (p.local() == null || policy.local().candidates() <= 0 || policy.decidedGlobally(ranked)) {
      return ranked;
    }
    // Not decided by the global signals: look for a reference inside the probe. Only now, since a placement does not
    // change a decided probe's outcome (MatchPolicy#rank) and verification is most of a probe's cost.
    Set<String> recentUids = new java.util.HashSet<>();
    recentNow.forEach(r -> recentUids.add(r.img().uid()));
    boolean placed = false;
    ShardIndex.LocalProbe lp = ShardIndex.LocalProbe.of(p.local());
    List<String> globalBest = new ArrayList<>();
    for (Hit h : ranked) {
      if (globalBest.size() == GLOBAL_VERIFIED) {
        break;
      }
      if (!recentUids.contains(h.uid())) {
        globalBest.add(h.uid());
      }
    }
    addNominees(p, globalBest, recentUids, deletedNow);
    for (ShardIndex s : shards.values()) {
      try {
        for (Hit h : s.localHits(p, lp, globalBest, policy)) {
          // only placements that count: the other word candidates would only add competitors to the margins
          if (h.localInliers() >= policy.local().minInliers() && !recentUids.contains(h.uid())
              && !deletedNow.contains(h.uid())) {
            byUid.put(h.uid(), h); // the same signals as before, with the placement
            placed = true;
          }
        }
      } catch (org.apache.lucene.store.AlreadyClosedException e) {
        // partition revoked during the search: its new owner answers for it
      }
    }
    return placed ? policy.liftByLayout(policy.rank(new ArrayList<>(byUid.values()), p.thumbnail(), p.background(),
        evidence, contradicted), byLayout) : ranked;
  }

  /** The most descriptor-only matches of one probe checked against its local features (one or two placements each). */
  static final int CONTRADICTIONS_CHECKED = 3;

  /**
   * The uids of the ranked candidates whose MATCH rests on the descriptor alone and whose placement inside the probe
   * contradicts it ({@link MatchPolicy.LocalVerification#contradicts}): the best {@value #CONTRADICTIONS_CHECKED}
   * such with stored local features, placed directly and, unless that lines up as a placement would, mirrored. None
   * when the probe has no local features or is a mosaic (its keypoints are the grid's), or the check is off.
   */
  private Set<String> contradicted(Probe p, MatchPolicy policy, List<Hit> ranked, Layout.Decided byLayout,
      List<Recent> recentNow) throws IOException {
    if (p.local() == null || p.mosaic() || !policy.local().contradict()) {
      return Set.of();
    }
    String layoutUid = byLayout == null ? null : byLayout.hit().uid();
    Set<String> out = new java.util.HashSet<>();
    dev.imgmatch.local.LocalFeatures mirror = null;
    int checked = 0;
    for (Hit h : ranked) {
      if (checked == CONTRADICTIONS_CHECKED || policy.decide(h.score()) != dev.imgmatch.avro.Decision.MATCH) {
        break; // sorted best first: no further MATCH
      }
      if (!policy.restsOnDescriptor(h) || h.uid().equals(layoutUid)) {
        continue;
      }
      byte[] stored = storedLocalFeatures(p, h, recentNow);
      if (stored == null) {
        continue;
      }
      checked++;
      dev.imgmatch.local.LocalFeatures ref = dev.imgmatch.local.LocalFeatures.decode(stored);
      if (ref.size() < MatchPolicy.LocalVerification.CONTRADICTING_KEYPOINTS) {
        continue; // a plain reference: its features say nothing either way
      }
      dev.imgmatch.local.GeometricVerifier verifier = ShardIndex.localVerifier(policy);
      dev.imgmatch.local.GeometricVerifier.Verification direct = verifier.verify(p.local(), ref);
      if (direct.inliers() >= policy.local().minInliers()) {
        continue; // it lines up as a placement would: most copies end here, without the mirrored try
      }
      mirror = mirror == null ? p.local().mirrored() : mirror;
      dev.imgmatch.local.GeometricVerifier.Verification mirrored = verifier.verify(mirror, ref);
      if (MatchPolicy.LocalVerification.contradicts(Math.max(direct.matches(), mirrored.matches()),
          Math.max(direct.inliers(), mirrored.inliers()), ref.size())) {
        log.debug("the probe's local features contradict {}'s descriptor match ({} / {} matches, {} / {} inliers)",
            h.imageId(), direct.matches(), mirrored.matches(), direct.inliers(), mirrored.inliers());
        out.add(h.uid());
      }
    }
    return out;
  }

  /** A candidate's stored local features: from the images not yet refreshed, else from its shard; null if none. */
  private byte[] storedLocalFeatures(Probe p, Hit h, List<Recent> recentNow) throws IOException {
    for (Recent r : recentNow) {
      if (r.img().uid().equals(h.uid())) {
        return r.img().localFeatures();
      }
    }
    ShardIndex s = shards.get(h.shard());
    try {
      return s == null ? null : s.localFeatures(p, h.uid());
    } catch (org.apache.lucene.store.AlreadyClosedException e) {
      return null; // partition revoked during the search: its new owner answers for it
    }
  }

  /**
   * The reference a pixelated probe copies by its layout ({@link Layout}), judged over every local shard's layout
   * candidates and the images upserted since the last refresh (brute force over those few) — by their whole layouts,
   * then, where those decide nothing, by windows of them with the probe's shape ({@link Layout#windowed}), together
   * with the {@code match.layout.candidates} best of the probe's other hits ({@code hits}: a heavily cropped copy's
   * descriptor often still finds its original when its coarse layout does not); null when the probe is no mosaic, has
   * no thumbnail, layout matching is off, or no reference stands out.
   */
  private Layout.Decided byLayout(Probe p, MatchPolicy policy, Collection<Hit> hits, List<Recent> recentNow,
      Set<String> deletedNow) throws IOException {
    if (!p.mosaic() || policy.layout().candidates() <= 0) {
      return null;
    }
    Layout.ProbeLayout q = Layout.ProbeLayout.of(p.thumbnail());
    if (q == null) {
      return null; // no thumbnail, or a flat one: no layout
    }
    List<Layout.Candidate> candidates = layoutCandidates(p, q, policy, false, ShardIndex.LayoutLookup.WHOLE, recentNow,
        deletedNow);
    Layout.Decided whole = Layout.decide(candidates, policy.layout(), policy::sameWork, policy.matchThreshold());
    if (whole != null || !policy.layout().windows()) {
      return whole;
    }
    long t0 = System.nanoTime();
    List<Layout.Candidate> nearWindows = Layout.withOthers(candidates,
        layoutCandidates(p, q, policy, false, ShardIndex.LayoutLookup.WINDOWS, List.of(), deletedNow));
    List<Layout.Candidate> windowed = Layout.windowed(q,
        Layout.withBestHits(q, nearWindows, hits, policy.layout().candidates()));
    Layout.Decided byWindows = Layout.decide(windowed, policy.layout(), policy::sameWork, policy.matchThreshold());
    if (log.isDebugEnabled()) {
      log.debug("layout windows of {} candidates: {} ms, {}", windowed.size(),
          String.format(java.util.Locale.ROOT, "%.1f", (System.nanoTime() - t0) / 1e6),
          byWindows == null ? "nothing decided" : "decided " + byWindows.hit().imageId());
    }
    return byWindows;
  }

  /**
   * The reference a tiny upload or query copies by its layout ({@link Layout#tiny}) — judged over its ranked
   * candidates and every local shard's layout candidates, plus the images upserted since the last refresh — or null
   * when it is not tiny, looks like the background set's styles ({@link MatchPolicy.LayoutMatching#tiny}), has no (or
   * a flat) thumbnail, or no reference stands out.
   */
  private Layout.Decided tiny(Probe p, MatchPolicy policy, List<Hit> ranked, List<Recent> recentNow,
      Set<String> deletedNow) throws IOException {
    if (!policy.layout().tiny(p.side(), p.background())) {
      return null;
    }
    Layout.ProbeLayout q = Layout.ProbeLayout.of(p.thumbnail());
    if (q == null) {
      return null;
    }
    List<Layout.Candidate> lookup = policy.layout().candidates() <= 0 ? List.of()
        : layoutCandidates(p, q, policy, false, ShardIndex.LayoutLookup.WHOLE, recentNow, deletedNow);
    return Layout.tiny(q, ranked, lookup, policy.layout(), policy::sameWork, policy.matchThreshold());
  }

  /**
   * The earlier pixelated uploads a probe's picture may be the original of: images marked as mosaics
   * ({@link Fields#MOSAIC}) among the {@code match.layout.candidates} nearest to its coarse layout in every local
   * shard, and the mosaics upserted since the last refresh, and — with {@code match.layout.windows} — those nearest
   * to the probe's windows ({@link ShardIndex.LayoutLookup#CROPS}), whose fine layout correlation with the probe, or
   * window correlation when taken for a crop of it ({@link Layout#asCrops}), reaches
   * {@code match.layout.min.correlation} (highest first). {@link Retroactive} judges each as if it were uploaded now,
   * which is where the layout decides. Empty when layout matching is off or the probe has no (or a flat) thumbnail.
   */
  public List<Hit> mosaicsLike(Probe p, MatchPolicy policy) throws IOException {
    List<Recent> recentNow = List.copyOf(recent); // before the searchers, as in search()
    Set<String> deletedNow = Set.copyOf(recentDeletes.keySet());
    Layout.ProbeLayout q = policy.layout().candidates() <= 0 ? null : Layout.ProbeLayout.of(p.thumbnail());
    if (q == null) {
      return List.of();
    }
    List<Layout.Candidate> found = layoutCandidates(p, q, policy, true, ShardIndex.LayoutLookup.WHOLE, recentNow,
        deletedNow);
    if (policy.layout().windows()) {
      // mosaics cropped from the probe's picture, judged forward by the window search: by the probe's windows
      found = Layout.asCrops(p.thumbnail(), Layout.withOthers(found,
          layoutCandidates(p, q, policy, true, ShardIndex.LayoutLookup.CROPS, List.of(), deletedNow)));
    }
    return found.stream()
        .filter(c -> c.correlation() >= policy.layout().minCorrelation())
        .sorted(java.util.Comparator.comparingDouble((Layout.Candidate c) -> -c.correlation())
            .thenComparing(c -> c.hit().uid()))
        .map(Layout.Candidate::hit).toList();
  }

  /**
   * Every local shard's layout candidates of the probe ({@link ShardIndex#layoutCandidates}) plus the images upserted
   * since the last refresh that it may see (brute force over those few), less those deleted since; only mosaics when
   * {@code mosaicsOnly}, compared as {@code by} says ({@link ShardIndex.LayoutLookup}; the look-ups by windows pass no
   * recent images: the whole look-up, made first, has them all).
   */
  private List<Layout.Candidate> layoutCandidates(Probe p, Layout.ProbeLayout q, MatchPolicy policy,
      boolean mosaicsOnly, ShardIndex.LayoutLookup by, List<Recent> recentNow, Set<String> deletedNow)
      throws IOException {
    Map<String, Layout.Candidate> byUid = new HashMap<>();
    for (ShardIndex s : shards.values()) {
      try {
        for (Layout.Candidate c : s.layoutCandidates(p, q, policy, mosaicsOnly, by)) {
          byUid.put(c.hit().uid(), c);
        }
      } catch (org.apache.lucene.store.AlreadyClosedException e) {
        // partition revoked during the search: its new owner answers for it
      }
    }
    for (Recent r : recentNow) {
      if (p.filter().accepts(r.img()) && (!mosaicsOnly || r.img().mosaic())) {
        Layout.Candidate c = Layout.candidate(q, CandidateScorer.hit(p, policy, r.img(), r.shard()), r.img().thumbnail());
        if (c != null) {
          byUid.put(c.hit().uid(), c); // newer than what the searcher holds for that uid
        }
      }
    }
    byUid.keySet().removeAll(deletedNow);
    return new ArrayList<>(byUid.values());
  }

  /**
   * Appends to {@code verified} the {@value #NOMINATED_VERIFIED} references of every shard nearest to the probe's
   * nominators (best kNN score first, ties by uid) that it does not hold yet, leaving out images not yet refreshed or
   * deleted since (as the global best).
   */
  private void addNominees(Probe p, List<String> verified, Set<String> recentUids, Set<String> deletedNow)
      throws IOException {
    if (p.nominators().isEmpty()) {
      return;
    }
    List<ShardIndex.Nominee> nominees = new ArrayList<>();
    for (ShardIndex s : shards.values()) {
      try {
        nominees.addAll(s.nominees(p, NOMINATED_VERIFIED));
      } catch (org.apache.lucene.store.AlreadyClosedException e) {
        // partition revoked during the search: its new owner answers for it
      }
    }
    nominees.sort(java.util.Comparator.comparingDouble((ShardIndex.Nominee x) -> -x.score())
        .thenComparing(ShardIndex.Nominee::uid));
    int added = 0;
    for (ShardIndex.Nominee n : nominees) {
      if (added == NOMINATED_VERIFIED) {
        break;
      }
      if (!recentUids.contains(n.uid()) && !deletedNow.contains(n.uid()) && !verified.contains(n.uid())) {
        verified.add(n.uid());
        added++;
      }
    }
  }

  private static Hit recentHit(Recent r, Probe p, MatchPolicy policy) {
    IndexedImage img = r.img();
    if (!p.filter().accepts(img)) {
      return null;
    }
    Hit h = CandidateScorer.hit(p, policy, img, r.shard());
    // not yet in a searcher, so not found by a search: a candidate only when a signal meets it
    boolean near = h.exact() || (h.pdqDistance() != null && h.pdqDistance() <= policy.pdqMaxDistance())
        || h.cosine() != null;
    return near ? h : null;
  }

  /** Images upserted since the last refresh (not yet in the searchers). */
  public int recentCount() {
    return recent.size();
  }

  /** The visible image with this id in any local shard (the tenant's own first). */
  public Optional<IndexedImage> lookup(SearchFilter visibility, String imageId) {
    Set<String> deletedNow = Set.copyOf(recentDeletes.keySet()); // before the searchers, as in search()
    IndexedImage shared = null;
    for (Recent r : recent) {
      IndexedImage img = r.img();
      if (img.imageId().equals(imageId) && visibility.accepts(img)) {
        if (img.tenant().equals(visibility.tenant())) {
          return Optional.of(img);
        }
        shared = img;
      }
    }
    for (ShardIndex s : shards.values()) {
      try {
        Optional<IndexedImage> found = s.lookup(visibility, imageId);
        if (found.isPresent() && !deletedNow.contains(found.get().uid())) {
          if (found.get().tenant().equals(visibility.tenant())) {
            return found;
          }
          shared = found.get();
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return Optional.ofNullable(shared);
  }

  @Override
  public void close() throws IOException {
    // shutdown(), not shutdownNow(): interrupting a refresh in the middle of file I/O closes the FileChannel it was
    // using — the shard's write.lock among them — and the shard then fails to close ("FileLock invalidated by an
    // external force", seen once in LocalShardsTest with a 1 ms refresh period). A refresh takes milliseconds.
    refresher.shutdown();
    try {
      if (!refresher.awaitTermination(30, TimeUnit.SECONDS)) {
        log.warn("a searcher refresh did not finish in 30 s; closing the shards anyway");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (Integer p : List.copyOf(shards.keySet())) {
      close(p, null);
    }
  }
}
