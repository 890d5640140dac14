package dev.imgmatch.index;

import dev.imgmatch.avro.Decision;
import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.avro.Md5;
import dev.imgmatch.avro.Pdq256;
import dev.imgmatch.avro.PdqHash;
import dev.imgmatch.avro.Sha256;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.lucene.index.BinaryDocValues;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.NumericDocValues;
import org.apache.lucene.search.BooleanClause.Occur;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.CollectorManager;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.ScoreMode;
import org.apache.lucene.search.SimpleCollector;
import org.apache.lucene.search.TermInSetQuery;
import org.apache.lucene.util.BytesRef;

/**
 * Retroactive matching of hash-list bank entries: the uploads of the last {@code match.retroactive.days} that copy an
 * entry a {@code ./imgmatch bank import} added are alerted, marked {@code retroactive}.
 *
 * <p>Exactly once, and never both ways. A shard's matching sees only the entries first added before its
 * {@link ShardIndex#bankHorizon} (bank-entries offsets). An import ends by writing a BANKS_ADDED operation with the
 * topic's end offsets into every embeddings partition; when a shard reaches it (in order with its uploads), its owner
 * waits until this instance's {@link BankIndex} has read up to those offsets, alerts the shard's uploads submitted
 * before the operation within the window that match an entry added between the old horizon and the new one, in the
 * transaction of the operation's record, and then moves the horizon. Uploads after the operation meet the entries by
 * forward matching; those before it never did (the entries were not visible to their shard), so no pair is alerted
 * twice. Replicas and replays move the horizon without alerting.
 *
 * <p>The check runs in bounded steps ({@link #step}: at most {@value #CHUNK} entries, fewer when the window holds many
 * uploads, {@link #PAIRS_PER_STEP}), one per turn of the ingest loop, each in the transaction of its turn with the
 * position reached (committed with the shard's offset, so a restart goes on from there); the partition waits at the
 * operation meanwhile. A step's entries go into an in-memory {@link PdqTable} and digest maps; every upload of the shard in the window, of a collection some rule matches, is probed with its PDQ (quality
 * at least {@code bank.pdq.min.quality}), and those with an equal SHA-256 or MD5 are found through the index's terms.
 * Each hit is judged as forward matching judges it (the entry's tenant or {@code *}, the bank enabled for the
 * upload's tenant, its PDQ distance); the upload is alerted when its best hit reaches the alert decision. The
 * uploads' dihedral PDQs are not kept in the index: a mirrored or rotated copy of an entry is found forward only.
 */
public final class BankRetroactive {
  /** Entries per step at most, by default ({@code bank.retroactive.step.entries}): about 10 MB of table. */
  static final int CHUNK = 100_000;
  /** Entries per step at least, however many uploads the window holds. */
  static final int MIN_CHUNK = 1_000;
  /**
   * Entries x uploads one step compares (about 1/241 of them are PDQ candidates at distance 31: some 40 million,
   * 1-2 s on one core), so that a step stays well within the alerts transaction's timeout (15 s).
   */
  static final long PAIRS_PER_STEP = 10_000_000_000L;

  private final BankIndex banks;
  private final MatchPolicy policy;
  private final long windowMs;
  private final int maxAlerts;
  private final int stepEntries;
  private final Feedback feedback;

  /**
   * @param days the window; 0 = no retroactive alerts
   * @param maxAlerts alerts at most per import and shard
   * @param stepEntries entries a step compares at most
   */
  public BankRetroactive(BankIndex banks, MatchPolicy policy, int days, int maxAlerts, int stepEntries) {
    this(banks, policy, days, maxAlerts, stepEntries, null);
  }

  /** @param feedback moderators' dismissals (null: none) */
  public BankRetroactive(BankIndex banks, MatchPolicy policy, int days, int maxAlerts, int stepEntries,
      Feedback feedback) {
    this.feedback = feedback;
    this.banks = banks;
    this.policy = policy;
    this.windowMs = days * 86_400_000L;
    this.maxAlerts = maxAlerts;
    this.stepEntries = stepEntries;
  }

  boolean enabled() {
    return windowMs > 0 && maxAlerts > 0 && !policy.rules().asMap().isEmpty();
  }

  int maxAlerts() {
    return maxAlerts;
  }

  /**
   * What one step found: its alerts, the entries it compared, the uploads probed by PDQ, where the next step starts
   * (an entry position), and whether it was the last.
   */
  public record Step(List<MatchAlert> alerts, int entries, long uploadsProbed, long next, boolean done) {}

  /**
   * One bounded step of the check of an import: the next entries (by position, from {@code after}) first added
   * between {@code from} and {@code to} (bank-entries offsets by partition), against the shard's uploads submitted
   * in [{@code beforeMs} - window, {@code beforeMs}).
   *
   * @param alertsLeft alerts this step may raise at most (the import's remaining budget)
   */
  public Step step(ShardIndex shard, Map<Integer, Long> from, Map<Integer, Long> to, long after, long beforeMs,
      long nowMs, int alertsLeft) throws IOException {
    if (!enabled()) {
      return new Step(List.of(), 0, 0, after, true);
    }
    Set<String> sources = policy.rules().asMap().keySet();
    Query window = new SearchFilter(null, Set.of(), sources, Set.of(), beforeMs - windowMs, beforeMs, null).toQuery();
    int uploads = shard.withSearcher(s -> s.count(window));
    int chunk = (int) Math.min(stepEntries,
        Math.max(MIN_CHUNK, Math.min(CHUNK, PAIRS_PER_STEP / Math.max(1, uploads))));
    List<BankIndex.Added> added = banks.added(from, to, after, chunk + 1);
    boolean done = added.size() <= chunk;
    List<BankIndex.Added> mine = done ? added : added.subList(0, chunk);
    long next = done ? Long.MAX_VALUE : added.get(chunk).position();
    if (mine.isEmpty() || uploads == 0) {
      return new Step(List.of(), mine.size(), 0, next, done);
    }
    Map<Integer, List<Hit>> hitsByDoc = new HashMap<>();
    List<BankIndex.Entry> entries = mine.stream().map(BankIndex.Added::entry).toList();
    long[] probed = {0};
    List<MatchAlert> alerts = shard.withSearcher(s -> {
      probed[0] = scan(s, window, entries, hitsByDoc);
      List<MatchAlert> out = new ArrayList<>();
      for (Map.Entry<Integer, List<Hit>> e : new TreeMap<>(hitsByDoc).entrySet()) {
        alertOf(ShardDocs.load(s, e.getKey()), e.getValue(), nowMs).ifPresent(out::add);
      }
      return out;
    });
    alerts.sort((a, b) -> Float.compare(b.getScore(), a.getScore()));
    List<MatchAlert> kept = List.copyOf(alerts.subList(0, Math.min(alerts.size(), Math.max(0, alertsLeft))));
    return new Step(kept, mine.size(), probed[0], next, done);
  }

  /**
   * The whole check at once (benchmarks and tests; index-service runs it a {@link #step} per loop turn).
   *
   * @return the alerts (at most maxAlerts), the entries compared, the uploads probed (summed over steps)
   */
  public Step alertsFor(ShardIndex shard, Map<Integer, Long> from, Map<Integer, Long> to, long beforeMs, long nowMs)
      throws IOException {
    List<MatchAlert> all = new ArrayList<>();
    int entries = 0;
    long probed = 0;
    long after = Long.MIN_VALUE;
    while (true) {
      Step st = step(shard, from, to, after, beforeMs, nowMs, maxAlerts - all.size());
      all.addAll(st.alerts());
      entries += st.entries();
      probed += st.uploadsProbed();
      after = st.next();
      if (st.done()) {
        return new Step(all, entries, probed, after, true);
      }
    }
  }

  /** Finds the uploads (global doc ids) that one chunk of entries hits; returns the uploads scanned by PDQ. */
  private long scan(IndexSearcher s, Query window, List<BankIndex.Entry> chunk, Map<Integer, List<Hit>> hitsByDoc)
      throws IOException {
    byte[][] pdqs = new byte[chunk.size()][];
    Map<ByteBuffer, List<Integer>> bySha = new HashMap<>();
    Map<ByteBuffer, List<Integer>> byMd5 = new HashMap<>();
    boolean anyPdq = false;
    for (int i = 0; i < chunk.size(); i++) {
      BankIndex.Entry e = chunk.get(i);
      if (e.pdq() != null && e.quality() >= banks.minQuality()) {
        pdqs[i] = e.pdq();
        anyPdq = true;
      }
      if (e.sha256() != null) {
        bySha.computeIfAbsent(ByteBuffer.wrap(e.sha256()), k -> new ArrayList<>()).add(i);
      }
      if (e.md5() != null) {
        byMd5.computeIfAbsent(ByteBuffer.wrap(e.md5()), k -> new ArrayList<>()).add(i);
      }
    }
    // exact digests: through the index's terms
    Map<Integer, Map<Integer, Boolean>> exact = new HashMap<>(); // doc -> entry index -> exact
    digests(s, window, Fields.SHA256, bySha, exact);
    digests(s, window, Fields.MD5, byMd5, exact);
    // PDQ: every upload of the window probes the chunk's table
    Map<Integer, Map<Integer, Integer>> near = new HashMap<>(); // doc -> entry index -> distance
    long scanned = 0;
    if (anyPdq) {
      PdqTable table = new PdqTable(pdqs);
      int widest = banks.widestDistance();
      scanned = s.search(window, new ProbeAll(table, widest, banks.minQuality(), near));
    }
    Set<Integer> docs = new java.util.TreeSet<>(exact.keySet());
    docs.addAll(near.keySet());
    for (int doc : docs) {
      String tenant = tenantOf(s, doc);
      Map<Integer, Boolean> ex = exact.getOrDefault(doc, Map.of());
      Map<Integer, Integer> nd = near.getOrDefault(doc, Map.of());
      Set<Integer> idx = new java.util.TreeSet<>(ex.keySet());
      idx.addAll(nd.keySet());
      for (int i : idx) {
        BankIndex.Entry e = chunk.get(i);
        if (!e.tenant().equals(BankIndex.ALL_TENANTS) && !e.tenant().equals(tenant)) {
          continue;
        }
        Hit h = banks.judge(tenant, e, ex.containsKey(i), nd.get(i));
        if (h != null) {
          hitsByDoc.computeIfAbsent(doc, k -> new ArrayList<>()).add(h);
        }
      }
    }
    return scanned;
  }

  private static void digests(IndexSearcher s, Query window, String field, Map<ByteBuffer, List<Integer>> entries,
      Map<Integer, Map<Integer, Boolean>> exact) throws IOException {
    if (entries.isEmpty()) {
      return;
    }
    List<BytesRef> terms = entries.keySet().stream().map(b -> new BytesRef(b.array())).toList();
    Query q = new BooleanQuery.Builder().add(new TermInSetQuery(field, terms), Occur.FILTER)
        .add(window, Occur.FILTER).build();
    var stored = s.storedFields();
    for (ScoreDoc d : s.search(q, Integer.MAX_VALUE).scoreDocs) {
      BytesRef v = stored.document(d.doc, Set.of(field)).getBinaryValue(field);
      if (v == null) {
        continue;
      }
      for (int i : entries.getOrDefault(ByteBuffer.wrap(ShardDocs.bytes(v)), List.of())) {
        exact.computeIfAbsent(d.doc, k -> new HashMap<>()).put(i, true);
      }
    }
  }

  private static String tenantOf(IndexSearcher s, int doc) throws IOException {
    return s.storedFields().document(doc, Set.of(Fields.TENANT)).get(Fields.TENANT);
  }

  /** The retroactive alert of one upload and its hits, when the best reaches the alert decision. */
  private java.util.Optional<MatchAlert> alertOf(IndexedImage u, List<Hit> hits, long nowMs) {
    List<Hit> kept = hits.stream()
        .sorted((a, b) -> Double.compare(b.score(), a.score()))
        .filter(h -> policy.alerts(decide(u, h)))
        .limit(policy.maxAlertMatches())
        .toList();
    if (kept.isEmpty()) {
      return java.util.Optional.empty();
    }
    Decision d = decide(u, kept.get(0));
    return java.util.Optional.of(MatchAlert.newBuilder()
        .setImageId(u.imageId())
        .setTenant(u.tenant())
        .setCollection(u.collection())
        .setSource(u.source())
        .setAttributes(new LinkedHashMap<>(u.attributes()))
        .setDecision(d)
        .setScore((float) kept.get(0).score())
        .setDetector(Alerts.DETECTOR)
        .setMatches(kept.stream().map(Hit::toAvro).toList())
        .setModelVersion(u.modelVersion())
        .setSubmittedAtMs(u.submittedAtMs())
        .setAlertedAtMs(nowMs)
        .setSha256(new Sha256(u.sha256()))
        .setMd5(u.md5() == null ? null : new Md5(u.md5()))
        .setPdq(new PdqHash(new Pdq256(u.pdq()), u.pdqQuality()))
        .setRetroactive(true)
        .build());
  }

  private Decision decide(IndexedImage u, Hit h) {
    return feedback == null ? policy.decide(h.score())
        : feedback.decide(policy, u.tenant(), u.sha256(), u.pdq(), u.pdqQuality(), h);
  }

  /** Probes every upload of the window (PDQ doc values) against the table; counts the uploads probed. */
  private record ProbeAll(PdqTable table, int maxDistance, int minQuality, Map<Integer, Map<Integer, Integer>> near)
      implements CollectorManager<Prober, Long> {
    @Override
    public Prober newCollector() {
      return new Prober(this);
    }

    @Override
    public Long reduce(java.util.Collection<Prober> collectors) {
      return collectors.stream().mapToLong(c -> c.probed).sum();
    }
  }

  private static final class Prober extends SimpleCollector {
    private final ProbeAll job;
    private final byte[] buf = new byte[Pdq.BYTES];
    private BinaryDocValues pdq;
    private NumericDocValues quality;
    private int base;
    long probed;

    Prober(ProbeAll job) {
      this.job = job;
    }

    @Override
    protected void doSetNextReader(LeafReaderContext ctx) throws IOException {
      pdq = ctx.reader().getBinaryDocValues(Fields.PDQ);
      quality = ctx.reader().getNumericDocValues(Fields.PDQ_QUALITY);
      base = ctx.docBase;
    }

    @Override
    public void collect(int doc) throws IOException {
      if (pdq == null || quality == null || !pdq.advanceExact(doc) || !quality.advanceExact(doc)
          || quality.longValue() < job.minQuality()) {
        return;
      }
      BytesRef b = pdq.binaryValue();
      if (b.length != Pdq.BYTES) {
        return;
      }
      System.arraycopy(b.bytes, b.offset, buf, 0, Pdq.BYTES);
      probed++;
      int global = base + doc;
      job.table().probe(buf, job.maxDistance(), (i, d) -> {
        synchronized (job.near()) {
          job.near().computeIfAbsent(global, k -> new HashMap<>()).merge(i, d, Math::min);
        }
        return 0;
      });
    }

    @Override
    public ScoreMode scoreMode() {
      return ScoreMode.COMPLETE_NO_SCORES;
    }
  }
}
