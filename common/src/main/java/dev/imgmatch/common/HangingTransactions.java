package dev.imgmatch.common;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.admin.AbortTransactionSpec;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListTransactionsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.ProducerState;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds and ends <b>hanging transactions</b> on the topics a stage reads and writes. A transaction is hanging when it
 * is open on a partition but its coordinator will never end it there: the partition's last stable offset (LSO) then stays put
 * for ever, and every {@code read_committed} consumer of the partition (every imgmatch stage) reads nothing past it —
 * the stage looks healthy and processes nothing. Kafka's transaction coordinator should make this impossible; in
 * practice a broker crash at the wrong moment leaves one behind now and then (seen here with Kafka 4.3.1, transaction
 * protocol 2, after a {@code kill -9} of a one-node cluster: FaultInjectionIT, docs/OPERATIONS.md "A stage reads
 * nothing: hanging transactions"), and a buggy or hostile producer with write access to an input topic can do the same.
 *
 * <p>Every {@code hanging.transactions.check.ms} the guard compares each watched partition's LSO with its high
 * watermark. Where they differ, it asks the partition which open transaction holds the LSO (DescribeProducers) and the
 * transaction coordinator what it will do with it (ListTransactions, DescribeTransactions) — the checks of Kafka's own
 * {@code kafka-transactions.sh find-hanging} (KIP-664). The transaction is hanging when the coordinator
 * <ul>
 *   <li>knows its producer but does not list the partition among those it will still write a marker to, for
 *       {@code hanging.transactions.abort.after.ms} in a row; or
 *   <li>does not know its producer at all, for that long and at least the broker's {@code transaction.max.timeout.ms}
 *       (no live transaction lasts that long: its coordinator aborts it), because the coordinator may hide producers
 *       we may not see.
 * </ul>
 * A transaction the coordinator lists with the partition is never touched, however old, and such a check starts the
 * wait again ({@link Watch}). Right before an abort the guard asks the partition and the coordinator once more. A
 * hanging one is aborted
 * through the Admin API (KIP-664's {@code abortTransaction}: an abort marker for that producer and epoch on that
 * partition, exactly what the coordinator would have written), which needs {@code ALTER} on the cluster (KIP-1037)
 * — a right the deployment's own ACLs do not grant (docs/SECURITY.md). Without it the guard logs the command an
 * operator runs instead, and {@link #problems()} says which partition is blocked.
 *
 * <p>Several instances may guard the same partitions: an abort that another instance already wrote finds no open
 * transaction and is logged, nothing more.
 */
public final class HangingTransactions implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(HangingTransactions.class);

  public static final String CHECK_MS = "hanging.transactions.check.ms";
  public static final String ABORT_AFTER_MS = "hanging.transactions.abort.after.ms";
  /** Kafka's default {@code transaction.max.timeout.ms}, used when the broker's setting cannot be read. */
  static final long DEFAULT_MAX_TRANSACTION_TIMEOUT_MS = 900_000;
  /** With {@code hanging.transactions.abort.after.ms = -1}: how long before a hanging transaction is reported. */
  static final long REPORT_ONLY_AFTER_MS = 60_000;

  /** Adds the guard's two settings to a stage's ConfigDef. */
  public static ConfigDef define(ConfigDef def) {
    return def
        .define(CHECK_MS, ConfigDef.Type.LONG, 15_000L, ConfigDef.Range.between(0, 3_600_000),
            ConfigDef.Importance.LOW,
            "How often the stage checks the topics it reads and writes for a hanging transaction (an open "
                + "transaction its "
                + "coordinator will never end, which stops every read_committed consumer of the partition); 0 = never "
                + "(docs/OPERATIONS.md, \"A stage reads nothing: hanging transactions\").")
        .define(ABORT_AFTER_MS, ConfigDef.Type.LONG, 60_000L, ConfigDef.Range.between(-1, 86_400_000),
            ConfigDef.Importance.LOW,
            "How long a transaction must hold a partition while its coordinator says it will not end it there "
                + "before the stage aborts it (needs ALTER on the cluster; without it the stage logs the "
                + "kafka-transactions.sh command to run); a producer the coordinator does not know also waits the "
                + "broker's transaction.max.timeout.ms. -1 = only report.");
  }

  /** The guard's settings. */
  public record Settings(long checkMs, long abortAfterMs) {
    public static Settings of(AbstractConfig c) {
      return new Settings(c.getLong(CHECK_MS), c.getLong(ABORT_AFTER_MS));
    }

    boolean enabled() {
      return checkMs > 0;
    }
  }

  /** An open transaction holding a partition's LSO: who (producer id and epoch) and from which offset. */
  public record Open(TopicPartition partition, long producerId, int producerEpoch, int coordinatorEpoch,
      long startOffset) {
    /** What an operator runs to abort it by hand. */
    String command(String bootstrap) {
      return "kafka-transactions.sh --bootstrap-server " + bootstrap + " abort --topic " + partition.topic()
          + " --partition " + partition.partition() + " --start-offset " + startOffset;
    }
  }

  /** What the transaction coordinator says about an open transaction's producer. */
  public enum CoordinatorView {
    /** The coordinator lists the partition in the producer's transaction: it will still write the marker. */
    WILL_END_IT,
    /** The coordinator knows the producer, but its transaction (if any) does not include the partition. */
    NOT_IN_ITS_TRANSACTION,
    /** The coordinator does not know the producer (or does not tell us). */
    UNKNOWN_PRODUCER
  }

  /**
   * Whether an open transaction, seen holding its partition for {@code heldMs}, is hanging and may be aborted.
   *
   * @param maxTransactionTimeoutMs the broker's {@code transaction.max.timeout.ms}
   */
  public static boolean isHanging(CoordinatorView view, long heldMs, long abortAfterMs, long maxTransactionTimeoutMs) {
    return switch (view) {
      case WILL_END_IT -> false;
      case NOT_IN_ITS_TRANSACTION -> heldMs >= abortAfterMs;
      case UNKNOWN_PRODUCER -> heldMs >= Math.max(abortAfterMs, maxTransactionTimeoutMs);
    };
  }

  /** The coordinator's view of a producer's open transaction on {@code partition}. */
  public static CoordinatorView view(TopicPartition partition, long producerId, TransactionDescription description) {
    if (description == null || description.producerId() != producerId) {
      return CoordinatorView.UNKNOWN_PRODUCER;
    }
    return description.topicPartitions().contains(partition) ? CoordinatorView.WILL_END_IT
        : CoordinatorView.NOT_IN_ITS_TRANSACTION;
  }

  private final String stage;
  private final Map<String, Object> kafka;
  private final Collection<String> topics;
  private final Settings settings;
  private final Watch watch = new Watch();
  private final Map<Open, String> problems = new ConcurrentHashMap<>();
  private final AtomicLong aborted = new AtomicLong();
  private final AtomicLong checks = new AtomicLong();
  private volatile boolean running = true;
  private Long maxTransactionTimeoutMs;
  private Admin admin;
  private Thread thread;

  /**
   * A guard (not started).
   *
   * @param stage the stage's name, for the log
   * @param kafka the stage's Kafka client settings (bootstrap servers, security)
   * @param topics the topics the stage reads and writes (read_committed readers stop at a hanging transaction)
   */
  public HangingTransactions(String stage, Map<String, Object> kafka, Collection<String> topics, Settings settings) {
    this.stage = stage;
    this.kafka = Map.copyOf(kafka);
    this.topics = List.copyOf(topics);
    this.settings = settings;
  }

  /**
   * Publishes the guard's meters on {@code registry} (tag {@code stage}): {@code imgmatch.hanging.transactions.aborted}
   * (a counter) and {@code imgmatch.hanging.transactions.blocked} (partitions blocked by one it could not abort: alert
   * on it).
   */
  public HangingTransactions bind(io.micrometer.core.instrument.MeterRegistry registry) {
    if (registry != null) {
      io.micrometer.core.instrument.FunctionCounter.builder("imgmatch.hanging.transactions.aborted", aborted,
              AtomicLong::doubleValue)
          .description("Hanging transactions this instance aborted on the topics it reads and writes")
          .tag("stage", stage)
          .register(registry);
      io.micrometer.core.instrument.Gauge.builder("imgmatch.hanging.transactions.blocked", problems, Map::size)
          .description("Partitions of its topics blocked by a hanging transaction it could not abort")
          .tag("stage", stage).register(registry);
    }
    return this;
  }

  /** Starts checking on a daemon thread (nothing when {@code hanging.transactions.check.ms} is 0). */
  public HangingTransactions start() {
    if (!settings.enabled() || topics.isEmpty()) {
      return this;
    }
    thread = new Thread(this::loop, stage + "-hanging-transactions");
    thread.setDaemon(true);
    thread.start();
    return this;
  }

  /** Transactions this guard aborted. */
  public long aborted() {
    return aborted.get();
  }

  /** Completed checks (each looks at every watched partition once). */
  public long checks() {
    return checks.get();
  }

  /** One line per partition blocked by a hanging transaction the guard could not abort; empty when none. */
  public List<String> problems() {
    return List.copyOf(problems.values());
  }

  /** For a stage's readiness: the blocked partitions and the commands that free them, or null when none. */
  public String notReadyReason() {
    List<String> p = problems();
    return p.isEmpty() ? null : String.join("; ", p);
  }

  @Override
  public void close() {
    running = false;
    Thread t = thread;
    if (t != null) {
      t.interrupt();
      try {
        t.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void loop() {
    Admin a;
    try {
      a = Admin.create(kafka);
    } catch (RuntimeException e) {
      log.warn("{}: hanging transactions are not checked (no admin client: {})", stage, e.toString());
      return;
    }
    admin = a;
    try {
      while (running) {
        try {
          Thread.sleep(settings.checkMs());
          checkOnce();
          checks.incrementAndGet();
        } catch (InterruptedException e) {
          return;
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
          // the cluster is away or refuses a look-up: the next check tries again
          log.debug("{}: hanging-transaction check failed: {}", stage, e.toString());
        }
      }
    } finally {
      a.close(Duration.ofSeconds(2)); // a look-up cut short by close() is not waited for
    }
  }

  /** One check of every watched partition (guard thread). */
  private void checkOnce() throws InterruptedException, ExecutionException, TimeoutException {
    List<Open> holding = holdingTransactions();
    long now = System.currentTimeMillis();
    Map<Open, CoordinatorView> views = holding.isEmpty() ? Map.of() : coordinatorViews(holding);
    problems.keySet().retainAll(holding);
    boolean reportOnly = settings.abortAfterMs() < 0;
    long after = reportOnly ? REPORT_ONLY_AFTER_MS : settings.abortAfterMs();
    for (Open o : watch.due(views, now, after, this::maxTransactionTimeoutMs)) {
      CoordinatorView v = views.get(o);
      long held = watch.held(o, now);
      if (reportOnly) {
        report(o, v, held, "not aborted (" + ABORT_AFTER_MS + " = -1)");
      } else if (stillHanging(o)) {
        abort(o, v, held);
      }
    }
    views.forEach((o, v) -> {
      if (v == CoordinatorView.WILL_END_IT) {
        problems.remove(o);
      }
    });
  }

  /**
   * The guard's memory between checks (pure): since when each open transaction has held its partition while its
   * coordinator said, check after check, that it will not end it there. A check where the coordinator lists the
   * partition starts the time again, so a look-up that raced with the end of a live transaction is forgotten at the
   * next check; a transaction no longer holding its partition is forgotten.
   */
  static final class Watch {
    private final Map<Open, Long> since = new HashMap<>();

    /**
     * This check's holders and what their coordinators said; returns those now hanging ({@link #isHanging}).
     *
     * @param maxTransactionTimeoutMs asked only for a producer the coordinator does not know
     */
    List<Open> due(Map<Open, CoordinatorView> views, long now, long abortAfterMs,
        LongSupplier maxTransactionTimeoutMs) {
      since.keySet().retainAll(views.keySet());
      List<Open> due = new ArrayList<>();
      views.forEach((o, v) -> {
        if (v == CoordinatorView.WILL_END_IT) {
          since.remove(o);
          return;
        }
        long held = now - since.computeIfAbsent(o, k -> now);
        long max = v == CoordinatorView.UNKNOWN_PRODUCER ? maxTransactionTimeoutMs.getAsLong() : 0;
        if (isHanging(v, held, abortAfterMs, max)) {
          due.add(o);
        }
      });
      return due;
    }

    /** How long {@code o} has been seen hanging (0 when it is not watched). */
    long held(Open o, long now) {
      Long s = since.get(o);
      return s == null ? 0 : now - s;
    }

    /** Forgets {@code o} (aborted). */
    void forget(Open o) {
      since.remove(o);
    }
  }

  /** Asked again right before an abort: the same transaction still open from the same offset, still not listed. */
  private boolean stillHanging(Open o) throws InterruptedException, ExecutionException, TimeoutException {
    var state = admin.describeProducers(List.of(o.partition())).partitionResult(o.partition())
        .get(30, TimeUnit.SECONDS);
    boolean open = state.activeProducers().stream().anyMatch(p -> p.producerId() == o.producerId()
        && p.producerEpoch() == o.producerEpoch() && p.currentTransactionStartOffset().isPresent()
        && p.currentTransactionStartOffset().getAsLong() == o.startOffset());
    return open && coordinatorViews(List.of(o)).get(o) != CoordinatorView.WILL_END_IT;
  }

  /** The open transaction holding each stalled partition's LSO. */
  private List<Open> holdingTransactions() throws InterruptedException, ExecutionException, TimeoutException {
    List<TopicPartition> partitions = new ArrayList<>();
    Map<String, KafkaFuture<TopicDescription>> described = admin.describeTopics(topics).topicNameValues();
    for (var e : described.entrySet()) {
      try {
        e.getValue().get(30, TimeUnit.SECONDS).partitions()
            .forEach(p -> partitions.add(new TopicPartition(e.getKey(), p.partition())));
      } catch (ExecutionException missing) {
        log.debug("{}: topic {} not checked: {}", stage, e.getKey(), missing.getCause().toString());
      }
    }
    if (partitions.isEmpty()) {
      return List.of();
    }
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    partitions.forEach(tp -> latest.put(tp, OffsetSpec.latest()));
    var stable = admin.listOffsets(latest, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all()
        .get(30, TimeUnit.SECONDS);
    var high = admin.listOffsets(latest, new ListOffsetsOptions(IsolationLevel.READ_UNCOMMITTED)).all()
        .get(30, TimeUnit.SECONDS);
    Map<TopicPartition, Long> stalled = new HashMap<>();
    for (TopicPartition tp : partitions) {
      long lso = stable.get(tp).offset();
      if (lso < high.get(tp).offset()) {
        stalled.put(tp, lso);
      }
    }
    if (stalled.isEmpty()) {
      return List.of();
    }
    List<Open> holding = new ArrayList<>();
    var producers = admin.describeProducers(stalled.keySet()).all().get(30, TimeUnit.SECONDS);
    producers.forEach((tp, state) -> {
      for (ProducerState p : state.activeProducers()) {
        if (p.currentTransactionStartOffset().isPresent()
            && p.currentTransactionStartOffset().getAsLong() == stalled.get(tp)) {
          holding.add(new Open(tp, p.producerId(), p.producerEpoch(), p.coordinatorEpoch().orElse(-1),
              p.currentTransactionStartOffset().getAsLong()));
        }
      }
    });
    return holding;
  }

  private Map<Open, CoordinatorView> coordinatorViews(List<Open> holding)
      throws InterruptedException, ExecutionException, TimeoutException {
    Set<Long> producerIds = new HashSet<>();
    holding.forEach(o -> producerIds.add(o.producerId()));
    Map<Long, String> ids = new HashMap<>();
    for (TransactionListing l : admin.listTransactions(new ListTransactionsOptions().filterProducerIds(producerIds))
        .all().get(30, TimeUnit.SECONDS)) {
      ids.put(l.producerId(), l.transactionalId());
    }
    Map<String, TransactionDescription> descriptions = new HashMap<>();
    if (!ids.isEmpty()) {
      Set<String> transactionalIds = new HashSet<>(ids.values());
      var result = admin.describeTransactions(transactionalIds);
      for (String id : transactionalIds) {
        try {
          descriptions.put(id, result.description(id).get(30, TimeUnit.SECONDS));
        } catch (ExecutionException e) {
          log.debug("{}: transaction {} not described: {}", stage, id, e.getCause().toString());
        }
      }
    }
    Map<Open, CoordinatorView> views = new HashMap<>();
    for (Open o : holding) {
      String id = ids.get(o.producerId());
      views.put(o, view(o.partition(), o.producerId(), id == null ? null : descriptions.get(id)));
    }
    return views;
  }

  private long maxTransactionTimeoutMs() {
    if (maxTransactionTimeoutMs == null) {
      try {
        var nodes = admin.describeCluster().nodes().get(30, TimeUnit.SECONDS);
        long max = 0;
        for (var n : nodes) {
          ConfigResource r = new ConfigResource(ConfigResource.Type.BROKER, String.valueOf(n.id()));
          Config c = admin.describeConfigs(List.of(r)).all().get(30, TimeUnit.SECONDS).get(r);
          var entry = c.get("transaction.max.timeout.ms");
          if (entry != null && entry.value() != null) {
            max = Math.max(max, Long.parseLong(entry.value()));
          }
        }
        maxTransactionTimeoutMs = max > 0 ? max : DEFAULT_MAX_TRANSACTION_TIMEOUT_MS;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return DEFAULT_MAX_TRANSACTION_TIMEOUT_MS;
      } catch (ExecutionException | TimeoutException | RuntimeException e) {
        log.debug("{}: the brokers' transaction.max.timeout.ms cannot be read ({}); assuming Kafka's default {} ms",
            stage, e.toString(), DEFAULT_MAX_TRANSACTION_TIMEOUT_MS);
        return DEFAULT_MAX_TRANSACTION_TIMEOUT_MS;
      }
    }
    return maxTransactionTimeoutMs;
  }

  private void abort(Open o, CoordinatorView v, long held) throws InterruptedException, TimeoutException {
    try {
      admin.abortTransaction(new AbortTransactionSpec(o.partition(), o.producerId(), (short) o.producerEpoch(),
          o.coordinatorEpoch())).all().get(30, TimeUnit.SECONDS);
      aborted.incrementAndGet();
      watch.forget(o);
      problems.remove(o);
      log.warn("{}: aborted a hanging transaction on {} (producer {} epoch {}, open from offset {}, held the "
          + "partition {} s; its coordinator {}): read_committed consumers of the partition go on past it",
          stage, o.partition(), o.producerId(), o.producerEpoch(), o.startOffset(), held / 1000, describe(v));
    } catch (ExecutionException e) {
      if (e.getCause() instanceof ClusterAuthorizationException) {
        report(o, v, held, "cannot abort it: aborting needs ALTER on the cluster, which this stage lacks");
      } else {
        // e.g. another instance aborted it first: the next check sees whether the partition moved
        log.info("{}: aborting the hanging transaction on {} (producer {} epoch {}, from offset {}) failed: {}",
            stage, o.partition(), o.producerId(), o.producerEpoch(), o.startOffset(), e.getCause().toString());
      }
    }
  }

  private void report(Open o, CoordinatorView v, long held, String why) {
    String bootstrap = String.valueOf(kafka.getOrDefault("bootstrap.servers", "<bootstrap>"));
    String line = o.partition() + " is blocked for " + held / 1000 + " s by a hanging transaction (producer "
        + o.producerId() + " epoch " + o.producerEpoch() + ", from offset " + o.startOffset() + "; its coordinator "
        + describe(v) + "); " + why + ". Abort it with: " + o.command(bootstrap);
    if (problems.put(o, line) == null) { // logged once, when first found
      log.error("{}: {}", stage, line);
    }
  }

  private static String describe(CoordinatorView v) {
    return switch (v) {
      case WILL_END_IT -> "will end it";
      case NOT_IN_ITS_TRANSACTION -> "knows the producer but not this partition";
      case UNKNOWN_PRODUCER -> "does not know the producer";
    };
  }

  /** A short description of the guard for start-up logs. */
  public String describeSettings() {
    return settings.enabled()
        ? "checks " + topics + " every " + Duration.ofMillis(settings.checkMs()).toSeconds() + " s for hanging "
            + "transactions" + (settings.abortAfterMs() < 0 ? " (report only)"
                : ", aborts one after " + Duration.ofMillis(settings.abortAfterMs()).toSeconds() + " s")
        : "hanging transactions are not checked (" + CHECK_MS + " = 0)";
  }
}
