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
import org.apache.lucene.document.NumericDocValuesField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause.Occur;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.IndexSearcher;
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
    consumerProps.remove(ConsumerConfig.GROUP_ID_CONFIG);
    Object base = consumerProps.get(ConsumerConfig.CLIENT_ID_CONFIG);
    consumerProps.put(ConsumerConfig.CLIENT_ID_CONFIG, base == null ? "index-banks" : base + "-banks");
    this.dir = FSDirectory.open(dir);
    IndexWriterConfig iwc = new IndexWriterConfig().setOpenMode(IndexWriterConfig.OpenMode.CREATE_OR_APPEND);
    this.writer = new IndexWriter(this.dir, iwc);
    Map<String, String> user = new HashMap<>();
    writer.getLiveCommitData().forEach(e -> user.put(e.getKey(), e.getValue()));
    offsets.putAll(parseOffsets(user.getOrDefault(OFFSETS, "")));
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
        for (ConsumerRecord<byte[], byte[]> r : records) {
          if (r.topic().equals(settingsTopic.name())) {
            applySettings(r);
            continue;
          }
          apply(r);
          offsets.put(r.partition(), r.offset() + 1);
          dirty = true;
        }
        if (!records.isEmpty()) {
          searchers.maybeRefresh();
        }
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
    writer.updateDocument(new Term(KEY, key), document(key, e));
    applied.incrementAndGet();
  }

  private void applySettings(ConsumerRecord<byte[], byte[]> r) {
    String key;
    try {
      key = r.key() == null ? null : settingsTopic.deserializeKey(r.key());
    } catch (RuntimeException e) {
      key = null;
    }
    String[] parts = key == null ? new String[0] : key.split("\u001f", 3);
    if (parts.length != 3) {
      skip(r, "settings key is not kind, tenant and name");
      return;
    }
    if (!parts[0].equals(SettingsKind.BANK.name())) {
      return; // collections' settings are not applied here
    }
    String bankKey = parts[1] + '\u001f' + parts[2];
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
      log.info("hash-list bank '{}' (tenant '{}'): {}, PDQ distance {}", parts[2], parts[1],
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

  private static Document document(String key, BankEntry e) {
    Document d = new Document();
    d.add(new StringField(KEY, key, Store.NO));
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
   */
  public List<Hit> match(String tenant, List<byte[]> pdqs, int quality, byte[] md5, byte[] sha256)
      throws IOException {
    IndexSearcher s = searchers.acquire();
    try {
      if (s.getIndexReader().numDocs() == 0) {
        return List.of();
      }
      Query tenants = new TermInSetQuery(Fields.TENANT, List.of(new BytesRef(tenant), new BytesRef(ALL_TENANTS)));
      int widest = maxDistance;
      for (CollectionSettings cs : settings.values()) {
        if (cs.getPdqMaxDistance() != null) {
          widest = Math.max(widest, cs.getPdqMaxDistance());
        }
      }
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
        Document d = stored.document(doc);
        CollectionSettings cs = settingsFor(tenant, d.get(BANK));
        if (cs != null && !cs.getEnabled()) {
          continue; // a disabled bank raises nothing
        }
        int limit = cs != null && cs.getPdqMaxDistance() != null ? cs.getPdqMaxDistance() : maxDistance;
        Integer distance = pdqHits.get(doc);
        if (distance != null && distance > limit) {
          distance = null; // outside this bank's distance
        }
        boolean isExact = exact.containsKey(doc);
        if (!isExact && distance == null) {
          continue;
        }
        double score = isExact ? 1.0 : 1.0 - distance / 256.0;
        Map<String, String> attrs = new LinkedHashMap<>();
        String[] tags = d.getValues(TAGS);
        if (tags.length > 0) {
          attrs.put("tags", String.join(" ", tags));
        }
        BytesRef sha = d.getBinaryValue(Fields.SHA256);
        BytesRef pdq = d.getBinaryValue(Fields.PDQ);
        hits.add(Hit.bankEntry(d.get(BANK), d.get(Fields.TENANT), d.get(ENTRY_ID), d.get(Fields.SOURCE), attrs,
            isExact, distance, score, sha == null ? null : BytesRef.deepCopyOf(sha).bytes,
            pdq == null ? null : BytesRef.deepCopyOf(pdq).bytes));
      }
      hits.sort((a, b) -> Double.compare(b.score(), a.score()));
      return hits;
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
