package dev.imgmatch.cli;

import dev.imgmatch.avro.Reject;
import dev.imgmatch.cli.RejectSelection.Verdict;
import dev.imgmatch.schemas.RecordDecodingException;
import dev.imgmatch.schemas.Topic;
import dev.imgmatch.schemas.Topics;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Re-submits selected dead letters to their source topics: reads {@code rejects} read_committed up to its end as it is
 * at the start, from the position a consumer group remembers, produces each re-submittable reject's original key and
 * value to its source topic (same partition) with an idempotent producer ({@code acks=all}), and commits the group's
 * position only after those records are acknowledged — so a second run with the same group goes on where the first
 * stopped and re-submits nothing twice. A failed re-submission stops the run before its position: the next run tries
 * it again (records after it in the same batch that did go through are then re-submitted again).
 */
final class RejectRedrive {
  /** What a run did. */
  record Summary(long read, long resubmitted, long notSelected, long incomplete, long foreign, long unreadable,
      long failed, boolean stoppedAtLimit) {
    /** Selected rejects that were not re-submitted: incomplete, foreign topic, or failed. */
    long notResubmitted() {
      return incomplete + foreign + failed;
    }
  }

  private final Map<String, Object> client;
  private final Topics topics;
  private final RejectSelection selection;
  private final String group;
  private final boolean fromBeginning;
  private final boolean dryRun;
  private final long limit;
  private final PrintStream out;
  private final PrintStream err;
  private final long progressEveryMs;

  private long read;
  private long resubmitted;
  private long notSelected;
  private long incomplete;
  private long foreign;
  private long unreadable;
  private long failed;
  private final Map<String, Object> partitionCounts = new HashMap<>();

  RejectRedrive(Map<String, Object> client, Topics topics, RejectSelection selection, String group,
      boolean fromBeginning, boolean dryRun, long limit, PrintStream out, PrintStream err, long progressEveryMs) {
    this.client = client;
    this.topics = topics;
    this.selection = selection;
    this.group = group;
    this.fromBeginning = fromBeginning;
    this.dryRun = dryRun;
    this.limit = limit;
    this.out = out;
    this.err = err;
    this.progressEveryMs = progressEveryMs;
  }

  static final String HEADER = "outcome,stage,reason,source,key,bytes,target";

  private record Pending(TopicPartition from, long offset, Reject reject, Future<RecordMetadata> result) {}

  Summary run() {
    Topic<byte[], Reject> rejects = topics.rejects();
    Map<String, Object> cp = new HashMap<>(client);
    cp.put("group.id", group);
    cp.put("isolation.level", "read_committed");
    cp.put("enable.auto.commit", false);
    cp.put("auto.offset.reset", "earliest");
    // rejects carry up to 1 MiB of payload each: keep a batch's memory bounded
    cp.putIfAbsent("max.poll.records", 100);
    try (var consumer = new KafkaConsumer<>(cp, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        KafkaProducer<byte[], byte[]> producer = dryRun ? null : producer()) {
      List<TopicPartition> parts = consumer.partitionsFor(rejects.name(), Duration.ofSeconds(30)).stream()
          .map(p -> new TopicPartition(rejects.name(), p.partition())).toList();
      if (parts.isEmpty()) {
        throw new IllegalStateException("topic " + rejects.name() + " does not exist at " + client.get("bootstrap.servers")
            + " (is the stack running? `./imgmatch up` creates it)");
      }
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      boolean resumed = false;
      if (!fromBeginning) {
        for (var e : consumer.committed(java.util.Set.copyOf(parts)).entrySet()) {
          if (e.getValue() != null) {
            consumer.seek(e.getKey(), e.getValue().offset());
            resumed = true;
          }
        }
      }
      Map<TopicPartition, Long> end = consumer.endOffsets(parts);
      long todo = 0;
      for (TopicPartition tp : parts) {
        todo += Math.max(0, end.get(tp) - consumer.position(tp));
      }
      err.printf("imgmatch rejects: %s %d reject(s) of %s (group %s, %s) for %s%n",
          dryRun ? "dry run: reading" : "redrive: reading", todo, rejects.name(), group,
          fromBeginning ? "--from-beginning" : resumed ? "continuing where it stopped" : "a new group: from the beginning",
          selection.canonical());
      long nextProgress = System.currentTimeMillis() + progressEveryMs;
      boolean stop = false;
      boolean atLimit = false;
      while (!stop && !parts.stream().allMatch(p -> consumer.position(p) >= end.get(p))) {
        Map<TopicPartition, Long> next = new HashMap<>();
        List<Pending> pending = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(250))) {
          TopicPartition tp = new TopicPartition(r.topic(), r.partition());
          if (r.offset() >= end.get(tp)) {
            continue; // arrived after the start: the next run's
          }
          if (limit > 0 && resubmitted + pending.size() >= limit) {
            atLimit = true;
            break;
          }
          read++;
          next.put(tp, r.offset() + 1);
          Reject j;
          try {
            j = rejects.deserializeValue(r.value());
          } catch (RecordDecodingException e) {
            unreadable++;
            err.printf("imgmatch rejects: %s-%d@%d: unreadable reject: %s%n", r.topic(), r.partition(), r.offset(),
                e.getMessage());
            continue;
          }
          Verdict v = selection.judge(j);
          switch (v.outcome()) {
            case NOT_SELECTED -> notSelected++;
            case FOREIGN_TOPIC -> {
              foreign++;
              out.println(line("skipped-foreign-topic", j, ""));
              err.printf("imgmatch rejects: %s-%d@%d not re-submitted: %s%n", r.topic(), r.partition(), r.offset(), v.why());
            }
            case INCOMPLETE_PAYLOAD -> {
              incomplete++;
              out.println(line("skipped-incomplete", j, ""));
              err.printf("imgmatch rejects: %s-%d@%d not re-submitted: %s%n", r.topic(), r.partition(), r.offset(), v.why());
            }
            case RESUBMIT -> {
              if (dryRun) {
                resubmitted++;
                out.println(line("would-resubmit", j, j.getSourceTopic() + "-" + j.getSourcePartition()));
              } else {
                pending.add(new Pending(tp, r.offset(), j, send(producer, j)));
              }
            }
          }
        }
        if (!dryRun) {
          stop |= settle(producer, consumer, next, pending);
        }
        out.flush();
        if (atLimit) {
          stop = true;
        }
        if (System.currentTimeMillis() >= nextProgress) {
          err.printf("imgmatch rejects: %d of %d read; %d %s%n", read, todo, resubmitted,
              dryRun ? "would be re-submitted" : "re-submitted");
          nextProgress = System.currentTimeMillis() + progressEveryMs;
        }
      }
      return new Summary(read, resubmitted, notSelected, incomplete, foreign, unreadable, failed, atLimit);
    }
  }

  /**
   * Waits for the batch's re-submissions and commits the group's position: past the batch where every one went
   * through, at the first failed one of a partition otherwise. Returns true when the run must stop (a failure).
   */
  private boolean settle(KafkaProducer<byte[], byte[]> producer, KafkaConsumer<byte[], byte[]> consumer,
      Map<TopicPartition, Long> next, List<Pending> pending) {
    producer.flush();
    Map<TopicPartition, Long> firstFailure = new HashMap<>();
    for (Pending p : pending) {
      try {
        RecordMetadata md = p.result().get();
        resubmitted++;
        out.println(line("resubmitted", p.reject(), md.topic() + "-" + md.partition() + "@" + md.offset()));
      } catch (InterruptedException | ExecutionException e) {
        if (e instanceof InterruptedException) {
          Thread.currentThread().interrupt();
        }
        failed++;
        firstFailure.merge(p.from(), p.offset(), Math::min);
        out.println(line("failed", p.reject(), ""));
        err.printf("imgmatch rejects: %s@%d could not be re-submitted to %s: %s%n", p.from(), p.offset(),
            p.reject().getSourceTopic(), Main.message(e));
      }
    }
    Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
    next.forEach((tp, n) -> commit.put(tp, new OffsetAndMetadata(firstFailure.getOrDefault(tp, n))));
    if (!commit.isEmpty()) {
      consumer.commitSync(commit);
    }
    return !firstFailure.isEmpty();
  }

  private Future<RecordMetadata> send(KafkaProducer<byte[], byte[]> producer, Reject j) {
    byte[] key = bytes(j.getOriginalKey());
    byte[] value = bytes(j.getOriginalValue());
    Object n = partitionCounts.computeIfAbsent(j.getSourceTopic(), t -> {
      try {
        return producer.partitionsFor(t).size();
      } catch (RuntimeException e) {
        return e; // once per topic, not once per record (each try may wait max.block.ms)
      }
    });
    if (n instanceof RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    // where it was: the shard of an embedding, the order of its key; the partitioner's choice if that is gone
    Integer partition = j.getSourcePartition() >= 0 && j.getSourcePartition() < (Integer) n ? j.getSourcePartition()
        : null;
    return producer.send(new ProducerRecord<>(j.getSourceTopic(), partition, key, value));
  }

  private KafkaProducer<byte[], byte[]> producer() {
    Map<String, Object> pp = new HashMap<>(client);
    pp.put("enable.idempotence", true);
    pp.put("acks", "all");
    pp.put("linger.ms", 5);
    pp.put("max.block.ms", 30_000);
    pp.put("max.request.size", Topics.maxRequestSize(RejectSelection.inputTopics(topics).toArray(Topic<?, ?>[]::new)));
    return new KafkaProducer<>(pp, new ByteArraySerializer(), new ByteArraySerializer());
  }

  static byte[] bytes(ByteBuffer b) {
    if (b == null) {
      return null;
    }
    ByteBuffer d = b.duplicate();
    byte[] a = new byte[d.remaining()];
    d.get(a);
    return a;
  }

  static String line(String outcome, Reject j, String target) {
    String key = j.getOriginalKey() == null ? "" : StandardCharsets.UTF_8.decode(j.getOriginalKey().duplicate()).toString();
    int bytes = j.getOriginalValue() == null ? 0 : j.getOriginalValue().remaining();
    return String.join(",", outcome, csv(j.getStage()), csv(j.getReasonCode()),
        csv(j.getSourceTopic() + "-" + j.getSourcePartition() + "@" + j.getSourceOffset()), csv(key),
        String.valueOf(bytes), csv(target));
  }

  static String csv(String s) {
    return s.matches("[^,\"\\r\\n]*") ? s : "\"" + s.replace("\"", "\"\"") + "\"";
  }
}
