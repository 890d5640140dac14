package dev.imgmatch.index;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Aborts what a departed instance left open, at once. Each alerts transaction commits its embeddings offsets with
 * the committer's transactional id in the offset metadata ({@link #metadata}). When partitions are assigned here that
 * were last committed by another instance which is no longer a member of the group (killed, or a zombie whose session
 * expired), its transactional id is initialised once on a short-lived producer: Kafka bumps its epoch, aborts the
 * transaction it had open and fences it. Without this, an alert the dead instance had sent in its open transaction
 * holds every read_committed reader of that {@code match-alerts} partition back — the alerts the new owner raises
 * included — until the broker aborts it at {@code transaction.timeout.ms} plus its abort-check interval (15 s + up to
 * 10 s by default). A live previous owner (an ordinary rebalance) is never touched.
 *
 * <p>Two ways to learn who departed: the members at the previous rebalance that are gone now ({@link #onAssignment}),
 * and the committers of the partitions assigned here ({@link #fenceIfGone}: also after this instance's own restart).
 * Runs on a thread of its own, so the rebalance callback does not wait for it.
 */
final class ZombieFence implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ZombieFence.class);
  private static final String PREFIX = "tx=";
  /** The embeddings consumer's client id carries the transactional id, so that the group's members name it. */
  static final String CLIENT_SUFFIX = "-embeddings";

  private final Map<String, Object> kafka;
  private final String group;
  private final String ownTxId;
  private final ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "index-zombie-fence");
    t.setDaemon(true);
    return t;
  });

  ZombieFence(Map<String, Object> kafka, String group, String ownTxId) {
    this.kafka = kafka;
    this.group = group;
    this.ownTxId = ownTxId;
  }

  /** Separates the committer from the shard's other state in offset metadata. */
  private static final char EXTRA = '\u001f';

  /** The offset metadata this instance commits its embeddings offsets with. */
  static String metadata(String txId) {
    return PREFIX + txId;
  }

  /**
   * The same with more of the shard's state committed with its offset (a retroactive check in progress:
   * {@link Indexer#retroProgress}); {@code extra} null: none.
   */
  static String metadata(String txId, String extra) {
    return extra == null ? metadata(txId) : PREFIX + txId + EXTRA + extra;
  }

  /** The transactional id in committed offset metadata, or null. */
  static String committer(String metadata) {
    if (metadata == null || !metadata.startsWith(PREFIX) || metadata.length() <= PREFIX.length()) {
      return null;
    }
    int end = metadata.indexOf(EXTRA);
    return metadata.substring(PREFIX.length(), end < 0 ? metadata.length() : end);
  }

  /** The state committed beside the committer ({@link #metadata(String, String)}), or null. */
  static String extra(String metadata) {
    int at = metadata == null ? -1 : metadata.indexOf(EXTRA);
    return at < 0 ? null : metadata.substring(at + 1);
  }

  /** Client ids of the group's members at the last rebalance (each names its instance's transactional id). */
  private final Set<String> members = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /**
   * At every assignment, before the committed offsets are read: fences, in the background, the instances that were
   * members at the previous rebalance and are not any more. This must not wait for those offsets: a departed
   * instance that died between adding its offsets to its transaction and committing it leaves a pending offset commit
   * that makes the new owner's read of the committed offsets wait until that transaction is aborted.
   */
  void onAssignment() {
    executor.execute(() -> {
      Set<String> live = liveMembers();
      if (live == null) {
        return;
      }
      Set<String> departed = new java.util.HashSet<>(members);
      departed.removeAll(live);
      members.clear();
      members.addAll(live);
      for (String clientId : departed) {
        if (clientId.endsWith(CLIENT_SUFFIX)) {
          String tx = clientId.substring(0, clientId.length() - CLIENT_SUFFIX.length());
          if (!tx.equals(ownTxId)) {
            fenceOne(tx);
            fenceOne(tx + "-queries");
          }
        }
      }
    });
  }

  /** Fences, in the background, those of {@code committers} that are not this instance and not members now. */
  void fenceIfGone(Set<String> committers) {
    Set<String> others = committers.stream().filter(t -> t != null && !t.equals(ownTxId)).collect(Collectors.toSet());
    if (!others.isEmpty()) {
      executor.execute(() -> fence(others));
    }
  }

  /** The client ids of the group's members now, or null when they cannot be listed (logged). */
  private Set<String> liveMembers() {
    try (Admin admin = Admin.create(kafka)) {
      return admin.describeConsumerGroups(Set.of(group)).all().get(30, TimeUnit.SECONDS).get(group).members().stream()
          .map(MemberDescription::clientId).collect(Collectors.toSet());
    } catch (Exception e) {
      log.warn("cannot list the members of group {} ({}): the transactions of departed instances are aborted by the "
          + "broker at their timeout", group, e.toString());
      return null;
    }
  }

  private void fence(Set<String> txIds) {
    Set<String> live = liveMembers();
    if (live == null) {
      return;
    }
    for (String departed : txIds) {
      if (live.contains(departed + CLIENT_SUFFIX)) {
        continue; // an ordinary rebalance: the previous owner runs on
      }
      fenceOne(departed); // its alerts
      fenceOne(departed + "-queries"); // and its query replies
    }
  }

  /**
   * Fences {@code tx} when it has a transaction open. One without (e.g. an instance that restarted with the same
   * transactional id, already initialised, still catching up before it joins) is left alone: fencing it would stop
   * that new incarnation.
   */
  private void fenceOne(String tx) {
    long t0 = System.nanoTime();
    try (Admin admin = Admin.create(kafka)) {
      var state = admin.describeTransactions(java.util.List.of(tx)).description(tx).get(30, TimeUnit.SECONDS).state();
      if (state != org.apache.kafka.clients.admin.TransactionState.ONGOING) {
        log.debug("departed instance {}: no open transaction ({})", tx, state);
        return;
      }
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof org.apache.kafka.common.errors.TransactionalIdNotFoundException) {
        return; // never used (e.g. the -queries id of an instance that answered no query)
      }
      log.warn("cannot describe the transactions of departed instance {} ({}): fencing it", tx, e.getCause().toString());
    } catch (Exception e) {
      log.warn("cannot describe the transactions of departed instance {} ({}): fencing it", tx, e.toString());
    }
    Map<String, Object> p = new HashMap<>(kafka);
    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, tx);
    p.put(ProducerConfig.CLIENT_ID_CONFIG, ownTxId + "-fence");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "30000");
    try (KafkaProducer<byte[], byte[]> fence = new KafkaProducer<>(p, new ByteArraySerializer(),
        new ByteArraySerializer())) {
      fence.initTransactions();
      log.info("aborted what departed instance {} left open (its transactional id fenced) in {} ms", tx,
          (System.nanoTime() - t0) / 1_000_000);
    } catch (RuntimeException e) {
      log.warn("could not fence departed instance {} ({}): the broker aborts its transaction at its timeout", tx,
          e.toString());
    }
  }

  @Override
  public void close() {
    executor.shutdownNow();
    try {
      executor.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
