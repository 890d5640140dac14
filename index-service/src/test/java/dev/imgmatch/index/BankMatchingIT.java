package dev.imgmatch.index;

import static dev.imgmatch.index.ItSupport.await;
import static dev.imgmatch.index.ItSupport.embedding;
import static dev.imgmatch.index.ItSupport.send;
import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.BankEntry;
import dev.imgmatch.avro.Decision;
import dev.imgmatch.avro.ImageEmbedding;
import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.avro.MatchedImage;
import dev.imgmatch.avro.Md5;
import dev.imgmatch.avro.Pdq256;
import dev.imgmatch.avro.PdqHash;
import dev.imgmatch.schemas.Topics;
import dev.imgmatch.testkit.KafkaBroker;
import dev.imgmatch.testkit.KafkaBrokerExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hash-list banks on the real broker and a real Lucene index: entries without images (PDQ, MD5) raise alerts naming
 * the bank and the entry; tenant scoping, the dihedral variants, removal, a malformed entry record, and a restart
 * that resumes from the offsets kept in the bank index. And retroactive matching of imports: uploads of the window
 * that copy a new entry are alerted once, when the import's end reaches their shard (in steps of one entry), never
 * also forward, and never again for a re-import of the same hashes.
 */
@ExtendWith(KafkaBrokerExtension.class)
class BankMatchingIT {
  static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir
  Path dir;

  @Test
  void uploadsAlertAgainstHashOnlyEntriesOfTheirTenantAndOfEveryTenant(KafkaBroker broker) throws Exception {
    long seed = ShardIndexTest.seed();
    Synthetic syn = new Synthetic(seed, 64, 8);
    Random rnd = new Random(seed);
    Topics topics = new Topics(broker.uniqueName("bank") + ".");
    IndexServiceConfig cfg = new IndexServiceConfig(ItSupport.settings(broker, topics.prefix(), dir));
    byte[] listed = syn.hash();
    byte[] otherTenants = syn.hash();
    byte[] md5 = new byte[16];
    rnd.nextBytes(md5);
    long now = System.currentTimeMillis();
    try (IndexService service = new IndexService(cfg).start();
        KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(broker.producerProps())) {
      assertThat(service.awaitReady(WAIT)).isTrue();
      send(p, topics.bankEntries(), Topics.bankEntryKey("*", "ext-demo", "e1"),
          entry("ext-demo", "*", "e1", listed, null, List.of("terror", "tx:123")));
      send(p, topics.bankEntries(), Topics.bankEntryKey("t2", "ext-demo", "e2"),
          entry("ext-demo", "t2", "e2", otherTenants, null, List.of()));
      send(p, topics.bankEntries(), Topics.bankEntryKey("*", "md5-list", "m1"),
          entry("md5-list", "*", "m1", null, md5, List.of()));
      p.send(new ProducerRecord<>(topics.bankEntries().name(), "junk".getBytes(StandardCharsets.UTF_8),
          "not avro".getBytes(StandardCharsets.UTF_8))).get();
      assertThat(await(WAIT, () -> service.banks().entries() == 3 && service.banks().skipped() == 1))
          .as("three entries held, the malformed record skipped").isTrue();
      BankImports.publishEnd(broker.clientProps(), p, topics, "it"); // the import's end: shards match against them

      // an edited copy of the listed image (20 bits off), a copy of another tenant's entry, a file on an MD5 list,
      // a rotated copy (its dihedral PDQ is near the entry), and an unrelated upload
      send(p, topics.embeddings(), "u1", upload("u1", syn, syn.flip(listed, 20), null, List.of(), now));
      send(p, topics.embeddings(), "u2", upload("u2", syn, otherTenants, null, List.of(), now));
      send(p, topics.embeddings(), "u3", upload("u3", syn, syn.hash(), md5, List.of(), now));
      List<byte[]> dihedral = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        dihedral.add(i == 3 ? syn.flip(listed, 6) : syn.hash());
      }
      send(p, topics.embeddings(), "u4", upload("u4", syn, syn.hash(), null, dihedral, now));
      send(p, topics.embeddings(), "u5", upload("u5", syn, syn.hash(), null, List.of(), now));
      assertThat(await(WAIT, () -> service.counters().get("indexed") == 5)).isTrue();
      List<MatchAlert> alerts = ItSupport.readUntil(broker, topics.matchAlerts(), l -> l.size() >= 3, WAIT);
      alerts = ItSupport.readUntil(broker, topics.matchAlerts(), l -> false, Duration.ofSeconds(2));
      assertThat(alerts).extracting(MatchAlert::getImageId).containsExactlyInAnyOrder("u1", "u3", "u4");
      MatchAlert u1 = alerts.stream().filter(a -> a.getImageId().equals("u1")).findFirst().orElseThrow();
      assertThat(u1.getDecision()).isEqualTo(Decision.MATCH);
      MatchedImage m = u1.getMatches().getFirst();
      assertThat(m.getBank()).isEqualTo("ext-demo");
      assertThat(m.getImageId()).isEqualTo("e1");
      assertThat(m.getCollection()).isEqualTo("ext-demo");
      assertThat(m.getPdqDistance()).isEqualTo(20);
      assertThat(m.getExact()).isFalse();
      assertThat(m.getCosine()).isNull();
      assertThat(m.getAttributes()).containsEntry("tags", "terror tx:123");
      assertThat(m.getScore()).isCloseTo(1f - 20 / 256f, org.assertj.core.data.Offset.offset(1e-5f));
      MatchedImage m3 = alerts.stream().filter(a -> a.getImageId().equals("u3")).findFirst().orElseThrow()
          .getMatches().getFirst();
      assertThat(m3.getBank()).isEqualTo("md5-list");
      assertThat(m3.getExact()).as("equal MD5").isTrue();
      assertThat(m3.getScore()).isEqualTo(1f);
      MatchedImage m4 = alerts.stream().filter(a -> a.getImageId().equals("u4")).findFirst().orElseThrow()
          .getMatches().getFirst();
      assertThat(m4.getImageId()).isEqualTo("e1");
      assertThat(m4.getPdqDistance()).as("through the dihedral variant").isEqualTo(6);

      // run-time settings: md5-list disabled, ext-demo narrowed to distance 8 for every tenant
      send(p, topics.collectionSettings(), Topics.settingsKey("BANK", "*", "md5-list"), settings("md5-list", false, null));
      send(p, topics.collectionSettings(), Topics.settingsKey("BANK", "*", "ext-demo"), settings("ext-demo", true, 8));
      assertThat(await(WAIT, () -> service.banks().settingsFor("t1", "ext-demo") != null
          && service.banks().settingsFor("t1", "md5-list") != null)).isTrue();
      send(p, topics.embeddings(), "s1", upload("s1", syn, syn.hash(), md5, List.of(), now));
      send(p, topics.embeddings(), "s2", upload("s2", syn, syn.flip(listed, 20), null, List.of(), now));
      send(p, topics.embeddings(), "s3", upload("s3", syn, syn.flip(listed, 5), null, List.of(), now));
      assertThat(await(WAIT, () -> service.counters().get("indexed") == 8)).isTrue();
      List<MatchAlert> afterSettings = ItSupport.readUntil(broker, topics.matchAlerts(), l -> l.size() >= 4, WAIT);
      afterSettings = ItSupport.readUntil(broker, topics.matchAlerts(), l -> false, Duration.ofSeconds(2));
      assertThat(afterSettings).extracting(MatchAlert::getImageId).as("disabled bank and a copy beyond its distance")
          .containsExactlyInAnyOrder("u1", "u3", "u4", "s3");

      // removed from the bank: a later copy no longer alerts
      p.send(new ProducerRecord<>(topics.bankEntries().name(),
          topics.bankEntries().serializeKey(Topics.bankEntryKey("*", "ext-demo", "e1")), null)).get();
      assertThat(await(WAIT, () -> service.banks().entries() == 2)).isTrue();
      send(p, topics.embeddings(), "u6", upload("u6", syn, syn.flip(listed, 4), null, List.of(), now));
      assertThat(await(WAIT, () -> service.counters().get("indexed") == 9)).isTrue();
      assertThat(ItSupport.readUntil(broker, topics.matchAlerts(), l -> false, Duration.ofSeconds(2)))
          .extracting(MatchAlert::getImageId).doesNotContain("u6");
    }

    // a restart resumes from the offsets in the bank index: nothing read again, the entries are still there
    try (IndexService again = new IndexService(cfg).start()) {
      assertThat(again.awaitReady(WAIT)).isTrue();
      assertThat(await(WAIT, () -> again.notReadyReason() == null)).isTrue();
      assertThat(again.banks().entries()).isEqualTo(2);
      assertThat(again.banks().applied()).as("records read again after the restart").isZero();
    }
  }

  @Test
  void anImportAlertsTheEarlierUploadsThatCopyItsEntriesOnce(KafkaBroker broker) throws Exception {
    long seed = ShardIndexTest.seed();
    Synthetic syn = new Synthetic(seed, 64, 8);
    Random rnd = new Random(seed);
    Topics topics = new Topics(broker.uniqueName("bankretro") + ".");
    java.util.Map<String, String> settings = ItSupport.settings(broker, topics.prefix(), dir);
    // one entry a step: each import's check takes several turns of the ingest loop, its position committed between
    settings.put(IndexServiceConfig.BANK_RETROACTIVE_STEP_ENTRIES, "1");
    IndexServiceConfig cfg = new IndexServiceConfig(settings);
    byte[] listed = syn.hash();
    byte[] md5 = new byte[16];
    rnd.nextBytes(md5);
    byte[] laterMd5 = new byte[16];
    rnd.nextBytes(laterMd5);
    byte[] sha = syn.sha();
    long now = System.currentTimeMillis();
    long fortyDaysAgo = now - 40L * 86_400_000L;
    try (IndexService service = new IndexService(cfg).start();
        KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(broker.producerProps())) {
      assertThat(service.awaitReady(WAIT)).isTrue();
      // uploads before the import: copies by PDQ, MD5 and SHA-256; one that is unrelated (its MD5 listed only
      // later); a copy outside the 30-day window; a copy in a collection no rule matches (a reference)
      send(p, topics.embeddings(), "b1", upload("b1", syn, syn.flip(listed, 12), null, List.of(), now));
      send(p, topics.embeddings(), "b2", upload("b2", syn, syn.hash(), md5, List.of(), now));
      ImageEmbedding b3 = upload("b3", syn, syn.hash(), null, List.of(), now);
      b3.setSha256(new dev.imgmatch.avro.Sha256(sha));
      send(p, topics.embeddings(), "b3", b3);
      send(p, topics.embeddings(), "b4", upload("b4", syn, syn.hash(), laterMd5, List.of(), now));
      send(p, topics.embeddings(), "b5", upload("b5", syn, syn.flip(listed, 3), null, List.of(), fortyDaysAgo));
      ImageEmbedding b6 = upload("b6", syn, syn.flip(listed, 2), null, List.of(), now);
      b6.setCollection("archive");
      send(p, topics.embeddings(), "b6", b6);
      assertThat(await(WAIT, () -> service.counters().get("indexed") == 6)).isTrue();

      // the import's entries; an upload matched while they are on the topic but before the import's end
      List<BankEntry> entries = List.of(entry("list", "*", "pdq-1", listed, null, List.of()),
          entry("list", "t1", "md5-1", null, md5, List.of()), shaEntry("list", "*", "sha-1", sha));
      for (BankEntry e : entries) {
        send(p, topics.bankEntries(), Topics.bankEntryKey(e.getTenant(), e.getBank(), e.getEntryId()), e);
      }
      assertThat(await(WAIT, () -> service.banks().entries() == 3)).isTrue();
      send(p, topics.embeddings(), "b7", upload("b7", syn, syn.flip(listed, 8), null, List.of(), now));
      assertThat(await(WAIT, () -> service.counters().get("indexed") == 7)).isTrue();
      assertThat(ItSupport.readUntil(broker, topics.matchAlerts(), l -> false, Duration.ofSeconds(2)))
          .as("entries are not matched before the import's end").isEmpty();

      BankImports.publishEnd(broker.clientProps(), p, topics, "it");
      List<MatchAlert> retro = ItSupport.readUntil(broker, topics.matchAlerts(), l -> l.size() >= 4, WAIT);
      retro = ItSupport.readUntil(broker, topics.matchAlerts(), l -> false, Duration.ofSeconds(3));
      assertThat(retro).extracting(MatchAlert::getImageId).containsExactlyInAnyOrder("b1", "b2", "b3", "b7");
      assertThat(retro).allSatisfy(a -> {
        assertThat(a.getRetroactive()).isTrue();
        assertThat(a.getMatches().getFirst().getBank()).isEqualTo("list");
      });
      MatchAlert b1 = retro.stream().filter(a -> a.getImageId().equals("b1")).findFirst().orElseThrow();
      assertThat(b1.getMatches().getFirst().getImageId()).isEqualTo("pdq-1");
      assertThat(b1.getMatches().getFirst().getPdqDistance()).isEqualTo(12);
      assertThat(b1.getDecision()).isEqualTo(Decision.MATCH);
      MatchAlert b2 = retro.stream().filter(a -> a.getImageId().equals("b2")).findFirst().orElseThrow();
      assertThat(b2.getMatches().getFirst().getExact()).as("equal MD5").isTrue();
      assertThat(b2.getMd5().bytes()).isEqualTo(md5);

      // after the end: forward matching
      send(p, topics.embeddings(), "a1", upload("a1", syn, syn.flip(listed, 5), null, List.of(), now));
      List<MatchAlert> forward = ItSupport.readUntil(broker, topics.matchAlerts(), l -> l.size() >= 5, WAIT);
      assertThat(forward).filteredOn(a -> a.getImageId().equals("a1")).singleElement()
          .satisfies(a -> assertThat(a.getRetroactive()).isFalse());

      // the same list again: nothing new; an entry whose hash changed is new
      for (BankEntry e : entries) {
        send(p, topics.bankEntries(), Topics.bankEntryKey(e.getTenant(), e.getBank(), e.getEntryId()), e);
      }
      BankImports.publishEnd(broker.clientProps(), p, topics, "it");
      BankEntry changed = entry("list", "t1", "md5-1", null, laterMd5, List.of());
      send(p, topics.bankEntries(), Topics.bankEntryKey("t1", "list", "md5-1"), changed);
      BankImports.publishEnd(broker.clientProps(), p, topics, "it");
      List<MatchAlert> after = ItSupport.readUntil(broker, topics.matchAlerts(), l -> l.size() >= 6, WAIT);
      after = ItSupport.readUntil(broker, topics.matchAlerts(), l -> false, Duration.ofSeconds(3));
      assertThat(after).extracting(MatchAlert::getImageId).as("a re-import alerts nothing again")
          .containsExactlyInAnyOrder("b1", "b2", "b3", "b7", "a1", "b4");
    }

    // a restart replays nothing into alerts, and the horizon survives it: a copy still matches forward
    try (IndexService again = new IndexService(cfg).start();
        KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(broker.producerProps())) {
      assertThat(again.awaitReady(WAIT)).isTrue();
      send(p, topics.embeddings(), "a2", upload("a2", syn, syn.flip(listed, 7), null, List.of(), now));
      List<MatchAlert> all = ItSupport.readUntil(broker, topics.matchAlerts(), l -> l.size() >= 7, WAIT);
      all = ItSupport.readUntil(broker, topics.matchAlerts(), l -> false, Duration.ofSeconds(2));
      assertThat(all).extracting(MatchAlert::getImageId)
          .containsExactlyInAnyOrder("b1", "b2", "b3", "b7", "a1", "b4", "a2");
    }
  }

  private static BankEntry shaEntry(String bank, String tenant, String id, byte[] sha) {
    BankEntry e = entry(bank, tenant, id, null, null, List.of());
    e.setSha256(new dev.imgmatch.avro.Sha256(sha));
    return e;
  }

  private static dev.imgmatch.avro.CollectionSettings settings(String bank, boolean enabled, Integer distance) {
    return dev.imgmatch.avro.CollectionSettings.newBuilder().setKind(dev.imgmatch.avro.SettingsKind.BANK)
        .setTenant("*").setName(bank).setEnabled(enabled).setPdqMaxDistance(distance).setUpdatedBy("it")
        .setUpdatedAtMs(System.currentTimeMillis()).build();
  }

  private static BankEntry entry(String bank, String tenant, String id, byte[] pdq, byte[] md5, List<String> tags) {
    return BankEntry.newBuilder().setBank(bank).setTenant(tenant).setEntryId(id)
        .setPdq(pdq == null ? null : new PdqHash(new Pdq256(pdq), 100))
        .setMd5(md5 == null ? null : new Md5(md5)).setSha256(null).setSource("it").setTags(tags)
        .setAddedAtMs(System.currentTimeMillis()).build();
  }

  private static ImageEmbedding upload(String id, Synthetic syn, byte[] pdq, byte[] md5, List<byte[]> dihedral,
      long now) {
    ImageEmbedding e = embedding(id, "t1", "uploads", syn.gaussianUnit(), pdq, syn.sha(), now);
    e.setMd5(md5 == null ? null : new Md5(md5));
    e.setPdqDihedral(dihedral.stream().map(Pdq256::new).toList());
    return e;
  }
}
