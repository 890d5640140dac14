package dev.imgmatch.index;

import dev.imgmatch.avro.BankEntry;
import dev.imgmatch.avro.CollectionSettings;
import dev.imgmatch.avro.SettingsKind;
import dev.imgmatch.schemas.Limits;
import dev.imgmatch.schemas.RecordDecodingException;
import dev.imgmatch.schemas.Topic;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.lucene.document.BinaryDocValuesField;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field.Store;
import org.apache.lucene.document.LongField;
import org.apache.lucene.document.NumericDocValuesField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause.Occur;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.FieldExistsQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.MatchAllDocsQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.SearcherManager;
import org.apache.lucene.search.TermInSetQuery;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.util.BytesRef;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The entries of every hash-list bank (topic {@code bank-entries}: PDQ, MD5 and SHA-256 of material that is not
 * itself available), in a Lucene index of this instance ({@code <index.dir>/banks}), and the matching of uploads
 * against them.
 *
 * <p>Every instance keeps <em>all</em> entries (they are small: a million entries take a few hundred MB on disk),
 * read by thread {@code index-banks} from every partition of the compacted topic, without a consumer group: the
 * offsets read are kept in the Lucene commit, so a restart reads only what is new, and a lost disk is rebuilt from
 * the topic. An entry is an upsert by its record key (tenant, bank, entry id); a tombstone deletes it. A record that
 * does not decode is skipped and counted ({@code bank.skipped}): the topic is written by {@code ./imgmatch bank}, which
 * validates what it writes, and each instance reads every record, so a reject per instance would be a duplicate.
 *
 * <p>Matching ({@link #match}): the upload's PDQ and its dihedral variants against the entries' PDQs within {@code
 * bank.pdq.max.distance} (multi-index hashing, as for images), both qualities at least {@code bank.pdq.min.quality};
 * and its MD5 and SHA-256 exactly. Entries of the upload's tenant and of tenant {@code *} (every tenant) count.
 */
public final class BankIndex implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(BankIndex.class);
  /** Every tenant's entry. */
  public static final String ALL_TENANTS = "*";
  static final String KEY = "bank_key";
  static final String BANK = "bank";
  static final String ENTRY_ID = "entry_id";
  static final String MD5 = "md5";
  static final String TAGS = "tags";
  static final String OFFSETS = "bank.offsets";
  /**
   * Where the entry was first added with its present signals: {@link #position} of its bank-entries record (LongField,
   * stored). A re-import of the same hashes keeps it, so that only what is new to the bank counts as added
   * ({@link BankRetroactive}); entries written before it existed have none and are always visible.
   */
  static final String FIRST_POS = "first_pos";
  /** Offsets are below 2^40 (a trillion records a partition). */
  private static final int OFFSET_BITS = 40;
  /** Records per poll: lookups of the previous version of each entry run against one refreshed view per poll. */
  private static final int MAX_POLL_RECORDS = 5_000;

  private final Topic<String, BankEntry> topic;
  private final Topic<String, CollectionSettings> settingsTopic;
  /** Run-time settings of banks, by tenant + U+001F + bank (read whole from {@code collection-settings}). */
  private final Map<String, CollectionSettings> settings = new java.util.concurrent.ConcurrentHashMap<>();
  private final Properties consumerProps;
  private final int maxDistance;
  private final int minQuality;
  private final int bruteForceMaxDocs;
  private final long commitIntervalMs;
  private final FSDirectory dir;
  private final IndexWriter writer;
  private final SearcherManager searchers;
  private final Map<Integer, Long> offsets = new HashMap<>();
  /** The offsets read, applied and refreshed: entries before them are searchable (read by other threads). */
  private volatile Map<Integer, Long> visible = Map.of();
  private final Object visibleLock = new Object();
  /** This poll's entries by key (their first position and signals; null value: removed), ahead of the view. */
  private final Map<String, Prior> batch = new HashMap<>();
  private IndexSearcher batchView;
  private final CountDownLatch caughtUp = new CountDownLatch(1);
  private final AtomicLong applied = new AtomicLong();
  private final AtomicLong skipped = new AtomicLong();
  private volatile long behind = -1; // records still to read for the catch-up; -1 before the consumer starts
  private volatile boolean running = true;
  private volatile KafkaConsumer<byte[], byte[]> consumer;

  /**
   * Opens (or creates) the index in {@code dir}; {@link #run} then reads the topic.
   *
   * @param kafka the consumer settings of the service (bootstrap, security)
   */
  public BankIndex(Path dir, Topic<String, BankEntry> topic, Topic<String, CollectionSettings> settingsTopic,
      Map<String, Object> kafka, int maxDistance, int minQuality, int bruteForceMaxDocs, long commitIntervalMs)
      throws IOException {
    this.topic = topic;
    this.settingsTopic = settingsTopic;
    this.maxDistance = maxDistance;
    this.minQuality = minQuality;
    this.bruteForceMaxDocs = bruteForceMaxDocs;
    this.commitIntervalMs = commitIntervalMs;
    this.consumerProps = new Properties();
    consumerProps.putAll(kafka);
    consumerProps.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    consumerProps.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    consumerProps.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    consumerProps.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    consumerProps.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, MAX_POLL_RECORDS);
    consumerProps.remove(ConsumerConfig.GROUP_ID_CONFIG);
    Object base = consumerProps.get(ConsumerConfig.CLIENT_ID_CONFIG);
    consumerProps.put(ConsumerConfig.CLIENT_ID_CONFIG, base == null ? "index-banks" : base + "-banks");
    this.dir = FSDirectory.open(dir);
    IndexWriterConfig iwc = new IndexWriterConfig().setOpenMode(IndexWriterConfig.OpenMode.CREATE_OR_APPEND);
    this.writer = new IndexWriter(this.dir, iwc);
    Map<String, String> user = new HashMap<>();
    writer.getLiveCommitData().forEach(e -> user.put(e.getKey(), e.getValue()));
    offsets.putAll(parseOffsets(user.getOrDefault(OFFSETS, "")));
    visible = Map.copyOf(offsets);
    this.searchers = new SearcherManager(writer, null);
  }

  /** Reads the topic until {@link #close}: every entry, then what is added and removed. */
  public void run() throws IOException {
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(consumerProps)) {
      consumer = c;
      List<TopicPartition> parts = new ArrayList<>(partitions(c, topic.name()));
      if (parts.isEmpty()) {
        return;
      }
      List<PartitionInfo> si = c.partitionsFor(settingsTopic.name(), Duration.ofSeconds(30));
      List<TopicPartition> settingsParts = si == null ? List.of()
          : si.stream().map(i -> new TopicPartition(i.topic(), i.partition())).toList();
      if (settingsParts.isEmpty()) {
        log.warn("topic {} does not exist: every bank is enabled with bank.pdq.max.distance (restart once it exists)",
            settingsTopic.name());
      }
      parts.addAll(settingsParts);
      c.assign(parts);
      for (TopicPartition tp : parts) {
        Long from = tp.topic().equals(topic.name()) ? offsets.get(tp.partition()) : null;
        if (from == null) {
          c.seekToBeginning(List.of(tp)); // the settings are read whole at every start
        } else {
          c.seek(tp, from);
        }
      }
      Map<TopicPartition, Long> ends = c.endOffsets(parts);
      long lastCommit = System.currentTimeMillis();
      boolean dirty = false;
      while (running) {
        ConsumerRecords<byte[], byte[]> records = c.poll(Duration.ofMillis(200));
        if (!records.isEmpty()) {
          batchView = searchers.acquire();
          try {
            for (ConsumerRecord<byte[], byte[]> r : records) {
              if (r.topic().equals(settingsTopic.name())) {
                applySettings(r);
                continue;
              }
              apply(r);
              dirty = true;
            }
          } finally {
            searchers.release(batchView);
            batchView = null;
            batch.clear();
          }
          searchers.maybeRefreshBlocking();
        }
        publishVisible(c, parts);
        if (caughtUp.getCount() > 0) {
          long left = 0;
          for (TopicPartition tp : parts) {
            left += Math.max(0, ends.get(tp) - c.position(tp));
          }
          behind = left;
          if (left == 0) {
            searchers.maybeRefreshBlocking();
            commit();
            dirty = false;
            log.info("hash-list banks: {} entries, up to date with {}", entries(), topic.name());
            caughtUp.countDown();
          }
        }
        if (dirty && System.currentTimeMillis() - lastCommit >= commitIntervalMs) {
          commit();
          dirty = false;
          lastCommit = System.currentTimeMillis();
        }
      }
      if (dirty) {
        commit();
      }
    } catch (WakeupException e) {
      if (running) {
        throw e;
      }
    } finally {
      consumer = null;
    }
  }

  private List<TopicPartition> partitions(KafkaConsumer<byte[], byte[]> c, String name) {
    while (running) {
      List<PartitionInfo> infos = c.partitionsFor(name, Duration.ofSeconds(30));
      if (infos != null && !infos.isEmpty()) {
        return infos.stream().map(i -> new TopicPartition(i.topic(), i.partition())).toList();
      }
      log.warn("topic {} does not exist yet; uploads are not matched against hash-list banks until it does", name);
      caughtUp.countDown(); // nothing to wait for
      try {
        Thread.sleep(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return List.of();
      }
    }
    return List.of();
  }

  /** Everything read so far is applied and searchable: waiters for those offsets may go on. */
  private void publishVisible(KafkaConsumer<byte[], byte[]> c, List<TopicPartition> parts) {
    boolean changed = false;
    for (TopicPartition tp : parts) {
      if (tp.topic().equals(topic.name())) {
        long pos = c.position(tp); // past compacted-away offsets too
        Long old = offsets.put(tp.partition(), pos);
        changed |= old == null || old != pos;
      }
    }
    if (changed) {
      synchronized (visibleLock) {
        visible = Map.copyOf(offsets);
        visibleLock.notifyAll();
      }
    }
  }

  /**
   * Waits until the entries before {@code to} (bank-entries offsets by partition) are searchable here, at most
   * {@code timeoutMs}; true when they are.
   */
  public boolean awaitVisible(Map<Integer, Long> to, long timeoutMs) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    synchronized (visibleLock) {
      while (true) {
        if (reached(visible, to)) {
          return true;
        }
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0 || !running) {
          return false;
        }
        visibleLock.wait(left);
      }
    }
  }

  /** The bank-entries offsets (by partition) before which every entry is searchable here. */
  public Map<Integer, Long> visibleOffsets() {
    return visible;
  }

  /** How many bank-entries records lie between what is searchable here and {@code to}. */
  public long behind(Map<Integer, Long> to) {
    Map<Integer, Long> v = visible;
    long n = 0;
    for (Map.Entry<Integer, Long> e : to.entrySet()) {
      n += Math.max(0, e.getValue() - v.getOrDefault(e.getKey(), 0L));
    }
    return n;
  }

  private static boolean reached(Map<Integer, Long> at, Map<Integer, Long> to) {
    for (Map.Entry<Integer, Long> e : to.entrySet()) {
      if (e.getValue() > 0 && at.getOrDefault(e.getKey(), 0L) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  /** A bank-entries record's place: partition and offset in one long (ordered within a partition). */
  static long position(int partition, long offset) {
    return ((long) partition << OFFSET_BITS) | offset;
  }

  /** An entry's first position and signals, as known while a poll is applied; signals null: removed. */
  private record Prior(long firstPos, byte[] signals) {}

  /** The entry's PDQ, MD5 and SHA-256 as one byte string (equal iff the signals are). */
  static byte[] signals(byte[] pdq, byte[] md5, byte[] sha256) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(84);
    for (byte[] b : new byte[][] {pdq, md5, sha256}) {
      out.write(b == null ? 0 : b.length);
      if (b != null) {
        out.writeBytes(b);
      }
    }
    return out.toByteArray();
  }

  /**
   * Where an entry with these signals was first added: where its present version was, when that has the same
   * signals; else {@code pos}. -1: the present version predates first positions (kept without one).
   */
  private long firstPosition(String key, byte[] signals, long pos) throws IOException {
    Prior prior;
    if (batch.containsKey(key)) {
      prior = batch.get(key);
    } else {
      prior = null;
      ScoreDoc[] hit = batchView.search(new TermQuery(new Term(KEY, key)), 1).scoreDocs;
      if (hit.length > 0) {
        Document d = batchView.storedFields().document(hit[0].doc);
        var first = d.getField(FIRST_POS);
        prior = new Prior(first == null ? -1 : first.numericValue().longValue(), signals(
            bytesOf(d.getBinaryValue(Fields.PDQ)), bytesOf(d.getBinaryValue(MD5)),
            bytesOf(d.getBinaryValue(Fields.SHA256))));
      }
    }
    long first = prior != null && prior.signals() != null && java.util.Arrays.equals(prior.signals(), signals)
        ? prior.firstPos() : pos;
    batch.put(key, new Prior(first, signals));
    return first;
  }

  private static byte[] bytesOf(BytesRef b) {
    return b == null ? null : BytesRef.deepCopyOf(b).bytes;
  }

  private void apply(ConsumerRecord<byte[], byte[]> r) throws IOException {
    String key;
    try {
      key = r.key() == null ? null : topic.deserializeKey(r.key());
    } catch (RuntimeException e) {
      key = null;
    }
    if (key == null || key.isEmpty()) {
      skip(r, "no key");
      return;
    }
    if (r.value() == null) {
      writer.deleteDocuments(new Term(KEY, key));
      batch.put(key, new Prior(-1, null));
      applied.incrementAndGet();
      return;
    }
    BankEntry e;
    try {
      e = topic.deserializeValue(r.value());
    } catch (RecordDecodingException ex) {
      skip(r, ex.reasonCode() + " " + ex.getMessage());
      return;
    }
    String why = invalid(e);
    if (why != null) {
      skip(r, why);
      return;
    }
    long first = firstPosition(key, signals(e.getPdq() == null ? null : e.getPdq().getHash().bytes(),
        e.getMd5() == null ? null : e.getMd5().bytes(), e.getSha256() == null ? null : e.getSha256().bytes()),
        position(r.partition(), r.offset()));
    writer.updateDocument(new Term(KEY, key), document(key, e, first));
    applied.incrementAndGet();
  }

  private void applySettings(ConsumerRecord<byte[], byte[]> r) {
    dev.imgmatch.schemas.Topics.SettingsKey sk = dev.imgmatch.schemas.Topics.parseSettingsKey(settingsTopic, r.key());
    if (sk == null) {
      skip(r, "settings key is not kind, tenant and name");
      return;
    }
    if (!sk.kind().equals(SettingsKind.BANK.name())) {
      return; // collections' settings are not applied here
    }
    String bankKey = sk.tenant() + '\u001f' + sk.name();
    if (r.value() == null) {
      settings.remove(bankKey);
      return;
    }
    try {
      CollectionSettings s = settingsTopic.deserializeValue(r.value());
      if (s.getPdqMaxDistance() != null && (s.getPdqMaxDistance() < 0 || s.getPdqMaxDistance() > 64)) {
        skip(r, "pdqMaxDistance " + s.getPdqMaxDistance() + " is outside 0-64");
        return;
      }
      settings.put(bankKey, s);
      log.info("hash-list bank '{}' (tenant '{}'): {}, PDQ distance {}", sk.name(), sk.tenant(),
          s.getEnabled() ? "enabled" : "disabled",
          s.getPdqMaxDistance() == null ? "default (" + maxDistance + ")" : s.getPdqMaxDistance());
    } catch (RecordDecodingException ex) {
      skip(r, ex.reasonCode() + " " + ex.getMessage());
    }
  }

  /** The settings that apply to {@code bank} for an upload of {@code tenant}: its own, else every tenant's, or null. */
  public CollectionSettings settingsFor(String tenant, String bank) {
    CollectionSettings s = settings.get(tenant + '\u001f' + bank);
    return s != null ? s : settings.get(ALL_TENANTS + '\u001f' + bank);
  }

  private void skip(ConsumerRecord<byte[], byte[]> r, String why) {
    skipped.incrementAndGet();
    log.warn("bank entry {}-{}@{} skipped: {}", r.topic(), r.partition(), r.offset(), why);
  }

  /** Why an entry cannot be matched, or null. */
  static String invalid(BankEntry e) {
    if (e.getBank().isBlank() || e.getTenant().isBlank() || e.getEntryId().isBlank()) {
      return "blank bank, tenant or entry id";
    }
    String tooLarge = Limits.tooLarge("entryId", e.getEntryId(), e.getTenant(), e.getBank(), e.getSource(), Map.of());
    if (tooLarge != null) {
      return tooLarge;
    }
    if (e.getPdq() == null && e.getMd5() == null && e.getSha256() == null) {
      return "no signal (PDQ, MD5 or SHA-256)";
    }
    if (e.getPdq() != null && (e.getPdq().getQuality() < 0 || e.getPdq().getQuality() > 100)) {
      return "PDQ quality " + e.getPdq().getQuality() + " is outside 0-100";
    }
    if (e.getTags().size() > Limits.MAX_ATTRIBUTES) {
      return e.getTags().size() + " tags, more than " + Limits.MAX_ATTRIBUTES;
    }
    return null;
  }

  private static Document document(String key, BankEntry e, long firstPos) {
    Document d = new Document();
    d.add(new StringField(KEY, key, Store.NO));
    if (firstPos >= 0) {
      d.add(new LongField(FIRST_POS, firstPos, Store.YES));
    }
    d.add(new StringField(Fields.TENANT, e.getTenant(), Store.YES));
    d.add(new StringField(BANK, e.getBank(), Store.YES));
    d.add(new StoredField(ENTRY_ID, e.getEntryId()));
    if (e.getSource() != null) {
      d.add(new StoredField(Fields.SOURCE, e.getSource()));
    }
    for (String t : e.getTags()) {
      d.add(new StoredField(TAGS, t));
    }
    if (e.getPdq() != null) {
      byte[] h = e.getPdq().getHash().bytes();
      d.add(new BinaryDocValuesField(Fields.PDQ, new BytesRef(h)));
      d.add(new NumericDocValuesField(Fields.PDQ_QUALITY, e.getPdq().getQuality()));
      d.add(new StoredField(Fields.PDQ_QUALITY, e.getPdq().getQuality()));
      d.add(new StoredField(Fields.PDQ, h));
      for (BytesRef t : Pdq.indexTerms(h)) {
        d.add(new StringField(Fields.PDQ_CHUNKS, t, Store.NO));
      }
    }
    if (e.getMd5() != null) {
      d.add(new StringField(MD5, new BytesRef(e.getMd5().bytes()), Store.YES));
    }
    if (e.getSha256() != null) {
      d.add(new StringField(Fields.SHA256, new BytesRef(e.getSha256().bytes()), Store.YES));
    }
    return d;
  }

  /**
   * The bank entries an upload matches, best first: an equal SHA-256 or MD5 scores 1, a PDQ within the distance
   * 1 - distance/256 (so that the match policy's thresholds read them as MATCH).
   *
   * @param pdqs the upload's PDQ and its dihedral variants (empty: PDQ not compared)
   * @param quality the upload's PDQ quality: below {@code bank.pdq.min.quality} PDQ is not compared
   * @param horizon only entries first added before these bank-entries offsets count (the matching shard's
   *     {@link ShardIndex#bankHorizon}); null: every entry
   */
  public List<Hit> match(String tenant, List<byte[]> pdqs, int quality, byte[] md5, byte[] sha256,
      Map<Integer, Long> horizon) throws IOException {
    IndexSearcher s = searchers.acquire();
    try {
      if (s.getIndexReader().numDocs() == 0) {
        return List.of();
      }
      Query tenants = new TermInSetQuery(Fields.TENANT, List.of(new BytesRef(tenant), new BytesRef(ALL_TENANTS)));
      if (horizon != null) {
        tenants = new BooleanQuery.Builder().add(tenants, Occur.FILTER).add(visibleBefore(horizon), Occur.FILTER)
            .build();
      }
      int widest = widestDistance();
      Map<Integer, Integer> pdqHits = quality >= minQuality && !pdqs.isEmpty()
          ? PdqMatcher.matches(s, pdqs, widest, minQuality, tenants, ShardIndex.PdqMode.AUTO, bruteForceMaxDocs)
          : Map.of();
      Map<Integer, Boolean> exact = new LinkedHashMap<>();
      BooleanQuery.Builder digests = new BooleanQuery.Builder();
      if (md5 != null) {
        digests.add(new TermQuery(new Term(MD5, new BytesRef(md5))), Occur.SHOULD);
      }
      if (sha256 != null) {
        digests.add(new TermQuery(new Term(Fields.SHA256, new BytesRef(sha256))), Occur.SHOULD);
      }
      if (md5 != null || sha256 != null) {
        Query q = new BooleanQuery.Builder().add(digests.build(), Occur.MUST).add(tenants, Occur.FILTER).build();
        for (ScoreDoc d : s.search(q, 1000).scoreDocs) {
          exact.put(d.doc, true);
        }
      }
      List<Hit> hits = new ArrayList<>();
      java.util.Set<Integer> docs = new java.util.LinkedHashSet<>(exact.keySet());
      docs.addAll(pdqHits.keySet());
      var stored = s.storedFields();
      for (int doc : docs) {
        Hit h = judge(tenant, entry(stored.document(doc)), exact.containsKey(doc), pdqHits.get(doc));
        if (h != null) {
          hits.add(h);
        }
      }
      hits.sort((a, b) -> Double.compare(b.score(), a.score()));
      return hits;
    } finally {
      searchers.release(s);
    }
  }

  /**
   * The hit an entry makes for an upload of {@code tenant}, or null: its bank disabled for the tenant, or neither
   * digest equal ({@code exact}) nor PDQ {@code distance} within the bank's limit.
   */
  Hit judge(String tenant, Entry e, boolean exact, Integer distance) {
    CollectionSettings cs = settingsFor(tenant, e.bank());
    if (cs != null && !cs.getEnabled()) {
      return null; // a disabled bank raises nothing
    }
    int limit = cs != null && cs.getPdqMaxDistance() != null ? cs.getPdqMaxDistance() : maxDistance;
    if (distance != null && distance > limit) {
      distance = null; // outside this bank's distance
    }
    if (!exact && distance == null) {
      return null;
    }
    double score = exact ? 1.0 : 1.0 - distance / 256.0;
    Map<String, String> attrs = new LinkedHashMap<>();
    if (!e.tags().isEmpty()) {
      attrs.put("tags", String.join(" ", e.tags()));
    }
    return Hit.bankEntry(e.bank(), e.tenant(), e.entryId(), e.source(), attrs, exact, distance, score, e.sha256(),
        e.pdq());
  }

  /** The widest PDQ distance any bank matches at (the default, or a bank's own setting). */
  int widestDistance() {
    int widest = maxDistance;
    for (CollectionSettings cs : settings.values()) {
      if (cs.getPdqMaxDistance() != null) {
        widest = Math.max(widest, cs.getPdqMaxDistance());
      }
    }
    return widest;
  }

  int minQuality() {
    return minQuality;
  }

  /** A stored entry, as matching needs it. */
  record Entry(String tenant, String bank, String entryId, String source, List<String> tags, byte[] pdq,
      int quality, byte[] md5, byte[] sha256) {}

  private static Entry entry(Document d) {
    var q = d.getField(Fields.PDQ_QUALITY);
    return new Entry(d.get(Fields.TENANT), d.get(BANK), d.get(ENTRY_ID), d.get(Fields.SOURCE),
        List.of(d.getValues(TAGS)), bytesOf(d.getBinaryValue(Fields.PDQ)), q == null ? 0 : q.numericValue().intValue(),
        bytesOf(d.getBinaryValue(MD5)), bytesOf(d.getBinaryValue(Fields.SHA256)));
  }

  /** The entries first added before {@code horizon} (and those without a first position). */
  static Query visibleBefore(Map<Integer, Long> horizon) {
    BooleanQuery.Builder b = new BooleanQuery.Builder();
    b.add(new BooleanQuery.Builder().add(new MatchAllDocsQuery(), Occur.FILTER)
        .add(new FieldExistsQuery(FIRST_POS), Occur.MUST_NOT).build(), Occur.SHOULD);
    horizon.forEach((p, o) -> {
      if (o > 0) {
        b.add(LongField.newRangeQuery(FIRST_POS, position(p, 0), position(p, o) - 1), Occur.SHOULD);
      }
    });
    return b.build();
  }

  /** An entry and the position where it was first added. */
  record Added(long position, Entry entry) {}

  /**
   * The entries first added at bank-entries offsets in [{@code from}, {@code to}) (by partition; a partition missing
   * from {@code from}: from its start) whose position is at least {@code after}, in position order, at most
   * {@code limit} of them.
   */
  List<Added> added(Map<Integer, Long> from, Map<Integer, Long> to, long after, int limit) throws IOException {
    BooleanQuery.Builder b = new BooleanQuery.Builder();
    boolean any = false;
    for (Map.Entry<Integer, Long> e : to.entrySet()) {
      long lo = Math.max(position(e.getKey(), Math.max(0, from.getOrDefault(e.getKey(), 0L))), after);
      long hi = position(e.getKey(), e.getValue()) - 1;
      if (e.getValue() > 0 && hi >= lo) {
        b.add(LongField.newRangeQuery(FIRST_POS, lo, hi), Occur.SHOULD);
        any = true;
      }
    }
    if (!any || limit <= 0) {
      return List.of();
    }
    IndexSearcher s = searchers.acquire();
    try {
      // (position, global doc) of every match, then the first 'limit' by position
      List<long[]> found = new ArrayList<>();
      org.apache.lucene.search.Weight w = s.createWeight(s.rewrite(b.build()),
          org.apache.lucene.search.ScoreMode.COMPLETE_NO_SCORES, 1f);
      for (org.apache.lucene.index.LeafReaderContext leaf : s.getIndexReader().leaves()) {
        org.apache.lucene.search.Scorer sc = w.scorer(leaf);
        if (sc == null) {
          continue;
        }
        org.apache.lucene.index.SortedNumericDocValues pos =
            org.apache.lucene.index.DocValues.getSortedNumeric(leaf.reader(), FIRST_POS);
        var live = leaf.reader().getLiveDocs();
        var it = sc.iterator();
        for (int d = it.nextDoc(); d != org.apache.lucene.search.DocIdSetIterator.NO_MORE_DOCS; d = it.nextDoc()) {
          if ((live == null || live.get(d)) && pos.advanceExact(d)) {
            found.add(new long[] {pos.nextValue(), leaf.docBase + d});
          }
        }
      }
      found.sort((x, y) -> Long.compare(x[0], y[0]));
      var stored = s.storedFields();
      List<Added> out = new ArrayList<>(Math.min(limit, found.size()));
      for (long[] f : found.subList(0, Math.min(limit, found.size()))) {
        out.add(new Added(f[0], entry(stored.document((int) f[1]))));
      }
      return out;
    } finally {
      searchers.release(s);
    }
  }

  /** Waits until every entry on the topic when reading began has been read (or the topic turned out absent). */
  public boolean awaitCaughtUp(long timeout, TimeUnit unit) throws InterruptedException {
    return caughtUp.await(timeout, unit);
  }

  /** Null once caught up; else how far behind the loading is. */
  public String notReadyReason() {
    if (caughtUp.getCount() == 0) {
      return null;
    }
    long b = behind;
    return b < 0 ? "hash-list banks: not read yet" : "hash-list banks: loading, " + b + " records to read";
  }

  /** Entries held now (as of the last refresh). */
  public long entries() throws IOException {
    IndexSearcher s = searchers.acquire();
    try {
      return s.getIndexReader().numDocs();
    } finally {
      searchers.release(s);
    }
  }

  /** Records applied (upserts and removals) and skipped since the start. */
  public long applied() {
    return applied.get();
  }

  public long skipped() {
    return skipped.get();
  }

  private void commit() throws IOException {
    writer.setLiveCommitData(Map.of(OFFSETS, formatOffsets(offsets)).entrySet());
    writer.commit();
  }

  static String formatOffsets(Map<Integer, Long> m) {
    StringBuilder sb = new StringBuilder();
    m.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
      if (!sb.isEmpty()) {
        sb.append(',');
      }
      sb.append(e.getKey()).append(':').append(e.getValue());
    });
    return sb.toString();
  }

  static Map<Integer, Long> parseOffsets(String s) {
    Map<Integer, Long> m = new HashMap<>();
    for (String part : s.split(",")) {
      int colon = part.indexOf(':');
      if (colon > 0) {
        m.put(Integer.parseInt(part.substring(0, colon)), Long.parseLong(part.substring(colon + 1)));
      }
    }
    return m;
  }

  /** Stops {@link #run} (from another thread); {@link #close} then releases the index. */
  public void stop() {
    running = false;
    caughtUp.countDown(); // nobody waits for a loading that stops
    KafkaConsumer<byte[], byte[]> c = consumer;
    if (c != null) {
      c.wakeup();
    }
  }

  /** Stops reading and closes the index, committing the offsets read (call once {@link #run} has returned). */
  @Override
  public void close() throws IOException {
    stop();
    commit();
    searchers.close();
    writer.close();
    dir.close();
  }
}
