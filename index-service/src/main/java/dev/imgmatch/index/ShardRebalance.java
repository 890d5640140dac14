package dev.imgmatch.index;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a rebalance of the embeddings group does to the shards of {@link IngestLoop}: a revoked partition's alerts
 * and shard are committed and the shard kept as a replica (index.shards=all) or closed; an assigned one is promoted
 * from its replica (warm) or opened from disk, and read from its shard's position (records before A without
 * matching); lost ones roll back to their last commit.
 */
final class ShardRebalance implements ConsumerRebalanceListener {
private static final Logger log = LoggerFactory.getLogger(ShardRebalance.class);

private final IngestLoop loop;
  private final KafkaConsumer<byte[], byte[]> ec;
  private final KafkaConsumer<byte[], byte[]> dc;
  private final List<TopicPartition> delParts;

  ShardRebalance(IngestLoop loop, KafkaConsumer<byte[], byte[]> ec, KafkaConsumer<byte[], byte[]> dc,
      List<TopicPartition> delParts) {
    this.loop = loop;
    this.ec = ec;
    this.dc = dc;
    this.delParts = delParts;
  }

  /** Commits the alerts of every owned shard with their offsets, then commits and closes the revoked shards. */
  @Override
  public void onPartitionsRevoked(Collection<TopicPartition> parts) {
    if (parts.isEmpty()) {
      return;
    }
    try {
      // stopping (the consumer's close revokes everything): the shards are committed and closed by the loop already,
      // and the replicas' consumer may be closed; nothing is kept
      Replicas rs = loop.running() ? loop.replicas() : null;
      if (!loop.commitTransaction(ec, dc, delParts)) {
        // recovered: the shards are back at their last commit, which the group's offsets are not behind
        for (TopicPartition tp : parts) {
          if (rs != null) {
            loop.follow(rs, tp, -1);
            continue;
          }
          loop.shards().close(tp.partition(), null);
          loop.forget(tp.partition());
        }
        return;
      }
      loop.indexer().commitShards();
      for (TopicPartition tp : parts) {
        if (rs != null) { // kept warm as a replica: read on as its new owner commits
          loop.follow(rs, tp, -1);
          log.info("shard {} committed, kept as a replica (partition revoked)", tp.partition());
          continue;
        }
        loop.shards().close(tp.partition(), tp.topic());
        loop.forget(tp.partition());
        log.info("shard {} committed and closed (partition revoked)", tp.partition());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot commit shards " + parts + " on revocation", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new WakeupException();
    }
  }

  /**
   * Another member may own these already: their uncommitted work is dropped, and so is the open transaction,
   * which held alerts of the shards kept too; those roll back to their last commit and are read again.
   */
  @Override
  public void onPartitionsLost(Collection<TopicPartition> parts) {
    loop.transactions().dropAndBegin();
    List<TopicPartition> kept = new ArrayList<>();
    for (Integer p : loop.ownedShards()) { // replicas hold only what owners committed: they stay as they are
      TopicPartition tp = new TopicPartition(loop.embeddingsTopic(), p);
      try {
        loop.shards().close(p, null);
      } catch (IOException e) {
        log.warn("closing lost shard {}: {}", p, e.toString());
      }
      loop.forget(p);
      if (!parts.contains(tp)) {
        kept.add(tp);
      }
    }
    try {
      loop.resume(ec, kept);
      Replicas rs = loop.replicas();
      if (rs != null) { // back to the last commit, then read on as their new owners commit
        Map<TopicPartition, Long> starts = ec.beginningOffsets(parts);
        for (TopicPartition tp : parts) {
          loop.follow(rs, tp, starts.getOrDefault(tp, 0L));
        }
      }
      loop.seekDeletions(ec, dc, delParts, true);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot reopen shards " + kept + " under " + loop.indexDir(), e);
    }
  }

  @Override
  public void onPartitionsAssigned(Collection<TopicPartition> parts) {
    loop.zombieFence().onAssignment(); // before reading committed offsets a departed member may hold pending
    try {
      Replicas rs = loop.replicas();
      if (rs != null) {
        rs.unfollow(parts); // their shards stay open: warm, at most at the offsets their last owner committed
      }
      loop.resume(ec, parts);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open shards " + parts + " under " + loop.indexDir(), e);
    }
    loop.seekDeletions(ec, dc, delParts, false);
    loop.assignedOnce();
  }
}
