package dev.imgmatch.cli;

import dev.imgmatch.avro.BankEntry;
import dev.imgmatch.avro.CollectionSettings;
import dev.imgmatch.avro.SettingsKind;
import dev.imgmatch.avro.Md5;
import dev.imgmatch.avro.Pdq256;
import dev.imgmatch.avro.PdqHash;
import dev.imgmatch.avro.Sha256;
import dev.imgmatch.cli.bank.BankFile;
import dev.imgmatch.client.TopicReader;
import dev.imgmatch.schemas.RecordDecodingException;
import dev.imgmatch.schemas.Topic;
import dev.imgmatch.schemas.Topics;
import java.io.BufferedReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ./imgmatch bank import|list|export|remove}: hash-list banks, entries of hashes without images (PDQ, MD5,
 * SHA-256) on the compacted {@code bank-entries} topic, which every index-service instance matches uploads against
 * (docs/OPERATIONS.md, "Hash-list banks").
 */
@Command(name = "bank", mixinStandardHelpOptions = true,
    description = {"Hash-list banks: import the PDQ/MD5/SHA-256 lists hash-sharing programmes hand out, list, export"
        + " and remove them. Uploads are matched against every entry (alerts name the bank and the entry)."},
    subcommands = {BankCommand.Import.class, BankCommand.ListBanks.class, BankCommand.Export.class,
        BankCommand.Remove.class, BankCommand.Settings.class})
public final class BankCommand implements CliCommand {
  @Override
  public Integer call() {
    System.err.println("imgmatch bank: name a subcommand: import, list, export, remove or settings (imgmatch bank"
        + " --help)");
    return 2;
  }

  @Override
  public int order() {
    return 46;
  }

  /** Options every bank subcommand but list shares: the connection, the bank and the tenant the entries are for. */
  static final class Target {
    @Mixin KafkaOptions kafka;

    @Option(names = "--bank", required = true, description = "The bank's name, e.g. ext-demo (alerts name it).")
    String bank;

    @Option(names = "--tenant", defaultValue = "*",
        description = "Tenant whose uploads the entries apply to; '*' (default) = every tenant.")
    String tenant;
  }

  @Command(name = "import", mixinStandardHelpOptions = true,
      description = {"Import a hash list into a bank (entries with the same id are replaced: importing a list again"
          + " changes nothing). Formats: csv (pdq,quality,md5,sha256,id,tags; also what `imgmatch hash` prints),"
          + " te-csv (`threatexchange dataset -P --csv`), te-file (lines '<signal_type> <signal>', python-"
          + "threatexchange's and HMA's file exchange). Prints bank,tenant,imported,refused on stdout; each refused"
          + " line on stderr. Exit 1 when a line was refused (the others are imported)."})
  static final class Import implements java.util.concurrent.Callable<Integer> {
    @Mixin Target target;

    @Option(names = "--format", defaultValue = "auto", description = "auto (default), csv, te-csv or te-file.")
    String format;

    @Option(names = "--signal-type", description = "te-file: the type of lines that carry only a signal (pdq, md5,"
        + " sha256).")
    String signalType;

    @Option(names = "--source", description = "Where the list came from (kept on every entry; default: the file's"
        + " name).")
    String source;

    @Parameters(index = "0", paramLabel = "FILE", description = "The list.")
    Path file;

    @Override
    public Integer call() throws Exception {
      String bank = target.bank;
      requireName("--bank", bank);
      requireName("--tenant", target.tenant);
      BankFile.Format f;
      try {
        f = BankFile.Format.parse(format);
      } catch (IllegalArgumentException e) {
        System.err.println("imgmatch bank import: --format " + format + ": use auto, csv, te-csv or te-file");
        return 2;
      }
      if (!Files.isRegularFile(file)) {
        System.err.println("imgmatch bank import: " + file + ": no such file");
        return 1;
      }
      Topic<String, BankEntry> topic = target.kafka.topics().bankEntries();
      String from = source != null ? source : file.getFileName().toString();
      AtomicLong sent = new AtomicLong();
      AtomicLong refused = new AtomicLong();
      AtomicReference<Exception> failed = new AtomicReference<>();
      long t0 = System.nanoTime();
      long[] lastReport = {t0};
      try (var producer = new KafkaProducer<>(producerProps(target.kafka), new ByteArraySerializer(),
          new ByteArraySerializer());
          BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
        BankFile.read(in, f, signalType, row -> {
          if (failed.get() != null) {
            return;
          }
          BankEntry e = BankEntry.newBuilder().setBank(bank).setTenant(target.tenant).setEntryId(row.id())
              .setPdq(row.pdq() == null ? null : new PdqHash(new Pdq256(row.pdq()), row.quality()))
              .setMd5(row.md5() == null ? null : new Md5(row.md5()))
              .setSha256(row.sha256() == null ? null : new Sha256(row.sha256()))
              .setSource(row.source() != null ? row.source() : from).setTags(row.tags())
              .setAddedAtMs(System.currentTimeMillis()).build();
          producer.send(topic.record(Topics.bankEntryKey(target.tenant, bank, row.id()), e), (md, ex) -> {
            if (ex != null) {
              failed.compareAndSet(null, ex);
            }
          });
          long n = sent.incrementAndGet();
          long now = System.nanoTime();
          if (now - lastReport[0] > 5_000_000_000L) {
            lastReport[0] = now;
            System.err.printf(Locale.ROOT, "imgmatch bank import: %d entries sent (%.0f/s)%n", n,
                n / ((now - t0) / 1e9));
          }
        }, problem -> {
          refused.incrementAndGet();
          System.err.println("imgmatch bank import: " + file + " line " + problem.line() + ": " + problem.reason());
        });
        producer.flush();
        if (failed.get() == null && sent.get() > 0) {
          // the import's end: each shard alerts what copies the new entries, then matches uploads against them
          dev.imgmatch.index.BankImports.publishEnd(target.kafka.clientProps(), producer, target.kafka.topics(),
              "bank import " + bank + " by " + System.getProperty("user.name", "?"));
        }
      }
      if (failed.get() != null) {
        throw failed.get();
      }
      double s = (System.nanoTime() - t0) / 1e9;
      System.out.println("bank,tenant,imported,refused");
      System.out.println(String.join(",", bank, target.tenant, String.valueOf(sent.get()),
          String.valueOf(refused.get())));
      System.err.printf(Locale.ROOT, "imgmatch bank import: %d entries of %s into bank '%s' (tenant '%s') on %s in"
          + " %.1f s (%.0f/s)%n", sent.get(),
          file.getFileName(), bank, target.tenant, topic.name(), s, sent.get() / Math.max(s, 1e-3));
      if (sent.get() > 0) {
        System.err.println("imgmatch bank import: index-service alerts the uploads of the last match.retroactive.days"
            + " that copy a new entry (retroactive alerts), then matches every new upload against them");
      }
      return refused.get() > 0 ? 1 : 0;
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true,
      description = "Print tenant,bank,entries,enabled,pdq_max_distance for every bank (read from the whole"
          + " bank-entries and collection-settings topics; an empty distance = index-service's bank.pdq.max.distance).")
  static final class ListBanks implements java.util.concurrent.Callable<Integer> {
    @Mixin KafkaOptions kafka;

    @Override
    public Integer call() {
      Map<String, String> live = new LinkedHashMap<>(); // key -> tenant,bank
      Topic<String, BankEntry> topic = kafka.topics().bankEntries();
      readLive(kafka, topic, (key, e) -> live.put(key, csvName(e.getTenant()) + "," + csvName(e.getBank())),
          live::remove);
      Map<String, Integer> counts = new TreeMap<>();
      live.values().forEach(tb -> counts.merge(tb, 1, Integer::sum));
      Map<String, CollectionSettings> settings = bankSettings(kafka);
      System.out.println("tenant,bank,entries,enabled,pdq_max_distance");
      counts.forEach((tb, n) -> {
        CollectionSettings s = settings.get(tb);
        System.out.println(tb + "," + n + "," + (s == null || s.getEnabled()) + ","
            + (s == null || s.getPdqMaxDistance() == null ? "" : s.getPdqMaxDistance()));
      });
      return 0;
    }
  }

  @Command(name = "settings", mixinStandardHelpOptions = true,
      description = {"Enable or disable a bank, or set the PDQ distance its entries match within; every index-service"
          + " applies it within a second (topic collection-settings). Settings for tenant '*' (default) apply to"
          + " every tenant unless a tenant has its own. Prints bank,tenant,enabled,pdq_max_distance."})
  static final class Settings implements java.util.concurrent.Callable<Integer> {
    @Mixin Target target;

    @Option(names = "--enable", description = "Its entries alert (the default).")
    boolean enable;

    @Option(names = "--disable", description = "Its entries raise no alert (they stay stored).")
    boolean disable;

    @Option(names = "--pdq-max-distance", paramLabel = "D",
        description = "PDQ Hamming distance 0-64 within which its entries match; -1 = back to index-service's default.")
    Integer distance;

    @Option(names = "--requested-by", defaultValue = "${env:USER:-cli}", description = "Who asks (default: ${DEFAULT-VALUE}).")
    String requestedBy;

    @Override
    public Integer call() throws Exception {
      String bank = target.bank;
      requireName("--bank", bank);
      if (enable && disable) {
        System.err.println("imgmatch bank settings: --enable or --disable, not both");
        return 2;
      }
      if (distance != null && (distance < -1 || distance > 64)) {
        System.err.println("imgmatch bank settings: --pdq-max-distance " + distance + " is outside 0-64 (-1: default)");
        return 2;
      }
      CollectionSettings old = bankSettings(target.kafka).get(csvName(target.tenant) + "," + csvName(bank));
      CollectionSettings s = CollectionSettings.newBuilder().setKind(SettingsKind.BANK).setTenant(target.tenant)
          .setName(bank).setEnabled(disable ? false : enable || old == null || old.getEnabled())
          .setPdqMaxDistance(distance == null ? (old == null ? null : old.getPdqMaxDistance())
              : distance < 0 ? null : distance)
          .setUpdatedBy(requestedBy).setUpdatedAtMs(System.currentTimeMillis()).build();
      Topic<String, CollectionSettings> topic = target.kafka.topics().collectionSettings();
      try (var producer = new KafkaProducer<>(producerProps(target.kafka), new ByteArraySerializer(),
          new ByteArraySerializer())) {
        producer.send(topic.record(Topics.settingsKey(SettingsKind.BANK.name(), target.tenant, bank), s)).get();
      }
      System.out.println("bank,tenant,enabled,pdq_max_distance");
      System.out.println(String.join(",", csvName(bank), csvName(target.tenant), String.valueOf(s.getEnabled()),
          s.getPdqMaxDistance() == null ? "" : s.getPdqMaxDistance().toString()));
      return 0;
    }
  }

  /** The banks' settings on the topic, by "tenant,bank" (CSV names). */
  private static Map<String, CollectionSettings> bankSettings(KafkaOptions kafka) {
    Map<String, CollectionSettings> out = new LinkedHashMap<>();
    readLive(kafka, kafka.topics().collectionSettings(), (key, s) -> {
      String at = bankSettingsAt(key);
      if (at != null) {
        out.put(at, s);
      }
    }, key -> {
      String at = bankSettingsAt(key);
      if (at != null) {
        out.remove(at);
      }
    });
    return out;
  }

  /** "tenant,bank" of a settings key of kind BANK, else null. */
  private static String bankSettingsAt(String key) {
    String[] k = key.split("\u001f", 3);
    return k.length == 3 && k[0].equals(SettingsKind.BANK.name()) ? csvName(k[1]) + "," + csvName(k[2]) : null;
  }


  @Command(name = "export", mixinStandardHelpOptions = true,
      description = "Print a bank's entries as CSV (" + BankFile.CSV_HEADER + "), what `bank import` reads.")
  static final class Export implements java.util.concurrent.Callable<Integer> {
    @Mixin Target target;

    @Override
    public Integer call() {
      String bank = target.bank;
      Map<String, BankEntry> live = new LinkedHashMap<>();
      readLive(target.kafka, target.kafka.topics().bankEntries(), (key, e) -> {
        if (e.getBank().equals(bank) && e.getTenant().equals(target.tenant)) {
          live.put(key, e);
        }
      }, live::remove);
      System.out.println(BankFile.CSV_HEADER);
      for (BankEntry e : live.values()) {
        System.out.println(BankFile.csvLine(e.getEntryId(), e.getPdq() == null ? null : e.getPdq().getHash().bytes(),
            e.getPdq() == null ? null : e.getPdq().getQuality(), e.getMd5() == null ? null : e.getMd5().bytes(),
            e.getSha256() == null ? null : e.getSha256().bytes(), e.getTags()));
      }
      System.err.printf("imgmatch bank export: %d entries of bank '%s' (tenant '%s')%n", live.size(), bank,
          target.tenant);
      return 0;
    }
  }

  @Command(name = "remove", mixinStandardHelpOptions = true,
      description = {"Remove entries from a bank (tombstones on bank-entries): the ids given, or with --all the whole"
          + " bank. Prints the number removed."})
  static final class Remove implements java.util.concurrent.Callable<Integer> {
    @Mixin Target target;

    @Option(names = "--all", description = "Every entry of the bank.")
    boolean all;

    @Parameters(arity = "0..*", paramLabel = "ID", description = "Entry ids to remove.")
    List<String> ids = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
      String bank = target.bank;
      if (all == !ids.isEmpty()) {
        System.err.println("imgmatch bank remove: give entry ids, or --all (not both)");
        return 2;
      }
      Topic<String, BankEntry> topic = target.kafka.topics().bankEntries();
      List<String> keys = new ArrayList<>();
      if (all) {
        Map<String, Boolean> live = new LinkedHashMap<>();
        readLive(target.kafka, topic, (key, e) -> {
          if (e.getBank().equals(bank) && e.getTenant().equals(target.tenant)) {
            live.put(key, true);
          }
        }, live::remove);
        keys.addAll(live.keySet());
      } else {
        ids.forEach(id -> keys.add(Topics.bankEntryKey(target.tenant, bank, id)));
      }
      try (var producer = new KafkaProducer<>(producerProps(target.kafka), new ByteArraySerializer(),
          new ByteArraySerializer())) {
        for (String k : keys) {
          producer.send(new ProducerRecord<>(topic.name(), topic.serializeKey(k), null)).get();
        }
      }
      System.out.println("bank,tenant,removed");
      System.out.println(bank + "," + target.tenant + "," + keys.size());
      return 0;
    }
  }

  private static Map<String, Object> producerProps(KafkaOptions kafka) {
    Map<String, Object> props = kafka.clientProps();
    props.put("enable.idempotence", true);
    props.put("acks", "all");
    props.put("linger.ms", 20);
    props.put("batch.size", 256 * 1024);
    props.put("compression.type", "lz4");
    return props;
  }

  /** Reads a compacted topic to its end: each live record to {@code put}, each tombstone's key to {@code remove}. */
  private static <V> void readLive(KafkaOptions kafka, Topic<String, V> topic,
      java.util.function.BiConsumer<String, V> put, java.util.function.Consumer<String> remove) {
    TopicReader.read(kafka.clientProps(), topic.name(), false, r -> {
      if (r.key() == null) {
        return;
      }
      String key = topic.deserializeKey(r.key());
      if (r.value() == null) {
        remove.accept(key);
        return;
      }
      try {
        put.accept(key, topic.deserializeValue(r.value()));
      } catch (RecordDecodingException e) {
        System.err.printf("imgmatch bank: %s-%d@%d skipped: %s%n", r.topic(), r.partition(), r.offset(),
            e.getMessage());
      }
    });
  }

  private static void requireName(String option, String value) {
    if (value == null || value.isBlank() || value.contains("\u001f")) {
      throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(new BankCommand()),
          option + " must be a non-empty name");
    }
  }

  private static String csvName(String s) {
    return s.contains(",") || s.contains("\"") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
  }
}
