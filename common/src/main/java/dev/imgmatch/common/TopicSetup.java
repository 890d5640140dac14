package dev.imgmatch.common;

import dev.imgmatch.schemas.Topic;
import dev.imgmatch.schemas.Topics;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Creates imgmatch's topics (those missing) with their documented partitions and configs. */
public final class TopicSetup {
  private static final Logger log = LoggerFactory.getLogger(TopicSetup.class);

  private TopicSetup() {}

  /** True when the topic exists (false also when Kafka cannot be asked; logged). */
  public static boolean exists(Map<String, Object> adminProps, String topic) {
    try {
      return withAdmin(adminProps, admin -> admin.listTopics().names().get(60, TimeUnit.SECONDS).contains(topic));
    } catch (IllegalStateException e) {
      log.warn("{}", e.getMessage());
      return false;
    }
  }

  /**
   * Creates every missing topic of {@code topics}.
   *
   * @param partitions partitions for new topics; 0 = each topic's default (a topic of one partition keeps one)
   * @param replication replication factor for new topics (1 for a local broker)
   * @return the names created
   */
  public static List<String> ensure(Map<String, Object> adminProps, Collection<Topic<?, ?>> topics, int partitions,
      short replication) {
    return withAdmin(adminProps, admin -> {
      Set<String> existing = admin.listTopics().names().get(60, TimeUnit.SECONDS);
      List<NewTopic> missing = new ArrayList<>();
      for (Topic<?, ?> t : topics) {
        if (!existing.contains(t.name())) {
          // a single-partition topic (model-serving) is one by contract, whatever the deployment's partition count
          int n = partitions > 0 && t.defaultPartitions() > 1 ? partitions : t.defaultPartitions();
          missing.add(new NewTopic(t.name(), n, replication)
              .configs(t.configs()));
        }
      }
      if (missing.isEmpty()) {
        return List.of();
      }
      try {
        admin.createTopics(missing).all().get(60, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) { // a concurrent creator won the race: fine
          throw new IllegalStateException("cannot create topics " + missing + ": " + e.getCause().getMessage(),
              e.getCause());
        }
      }
      List<String> names = missing.stream().map(NewTopic::name).toList();
      awaitLeaders(admin, missing);
      log.info("created topics {}", names);
      return names;
    });
  }

  /**
   * Waits (up to 30 s) until the leader of every new partition answers a ListOffsets request, i.e. has loaded the
   * partition. A producer that writes before that gets NOT_LEADER_OR_FOLLOWER on its first batches, and an idempotent
   * one with several requests in flight can then retry one of them forever with OUT_OF_ORDER_SEQUENCE_NUMBER
   * (KAFKA-14359: a later batch was accepted first); this hung an integration test that uploaded right away.
   */
  private static void awaitLeaders(Admin admin, List<NewTopic> created) throws InterruptedException {
    Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.admin.OffsetSpec> all = new java.util.HashMap<>();
    for (NewTopic t : created) {
      for (int p = 0; p < t.numPartitions(); p++) {
        all.put(new org.apache.kafka.common.TopicPartition(t.name(), p),
            org.apache.kafka.clients.admin.OffsetSpec.latest());
      }
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try {
        admin.listOffsets(all).all().get(10, TimeUnit.SECONDS);
        return;
      } catch (ExecutionException | TimeoutException e) {
        if (System.nanoTime() > deadline) {
          log.warn("new topics' partitions not all led after 30 s ({}); going on", e.getMessage());
          return;
        }
        Thread.sleep(100);
      }
    }
  }

  /** One admin conversation with Kafka; its failures become {@link IllegalStateException}s naming the cluster. */
  private interface AdminCall<R> {
    R call(Admin admin) throws InterruptedException, ExecutionException, TimeoutException;
  }

  private static <R> R withAdmin(Map<String, Object> adminProps, AdminCall<R> call) {
    Object at = adminProps.get("bootstrap.servers");
    try (Admin admin = Admin.create(adminProps)) {
      return call.call(admin);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while talking to Kafka at " + at, e);
    } catch (TimeoutException e) {
      throw new IllegalStateException("timed out talking to Kafka at " + at, e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("cannot list topics at " + at + ": " + e.getCause().getMessage(), e.getCause());
    }
  }

  public static List<String> ensureAll(Map<String, Object> adminProps, Topics topics, int partitions, short replication) {
    return ensure(adminProps, topics.all(), partitions, replication);
  }
}
