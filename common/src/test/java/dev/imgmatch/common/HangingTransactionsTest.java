package dev.imgmatch.common;

import static dev.imgmatch.common.HangingTransactions.CoordinatorView.NOT_IN_ITS_TRANSACTION;
import static dev.imgmatch.common.HangingTransactions.CoordinatorView.UNKNOWN_PRODUCER;
import static dev.imgmatch.common.HangingTransactions.CoordinatorView.WILL_END_IT;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.junit.jupiter.api.Test;

class HangingTransactionsTest {
  private static final TopicPartition TP = new TopicPartition("x.prepared", 0);
  private static final TopicPartition OTHER = new TopicPartition("x.rejects", 1);

  private static TransactionDescription txn(long producerId, TransactionState state, Set<TopicPartition> parts) {
    return new TransactionDescription(1, state, producerId, 7, 10_000, OptionalLong.of(1), parts);
  }

  @Test
  void theCoordinatorsWordDecidesWhoseTransactionIsHanging() {
    // listed with the partition (ongoing, or its markers still to be written): the coordinator will end it
    assertThat(HangingTransactions.view(TP, 5, txn(5, TransactionState.ONGOING, Set.of(TP, OTHER))))
        .isEqualTo(WILL_END_IT);
    assertThat(HangingTransactions.view(TP, 5, txn(5, TransactionState.PREPARE_COMMIT, Set.of(TP))))
        .isEqualTo(WILL_END_IT);
    // the producer's transaction moved on without this partition, or it has none
    assertThat(HangingTransactions.view(TP, 5, txn(5, TransactionState.ONGOING, Set.of(OTHER))))
        .isEqualTo(NOT_IN_ITS_TRANSACTION);
    assertThat(HangingTransactions.view(TP, 5, txn(5, TransactionState.COMPLETE_ABORT, Set.of())))
        .isEqualTo(NOT_IN_ITS_TRANSACTION);
    // not listed, or the transactional id now belongs to another producer id
    assertThat(HangingTransactions.view(TP, 5, null)).isEqualTo(UNKNOWN_PRODUCER);
    assertThat(HangingTransactions.view(TP, 5, txn(6, TransactionState.ONGOING, Set.of(TP))))
        .isEqualTo(UNKNOWN_PRODUCER);
  }

  @Test
  void aTransactionIsAbortedOnlyAfterItHeldThePartitionLongEnough() {
    long after = 60_000;
    long max = 900_000;
    assertThat(HangingTransactions.isHanging(WILL_END_IT, Long.MAX_VALUE, after, max)).isFalse();
    assertThat(HangingTransactions.isHanging(NOT_IN_ITS_TRANSACTION, after - 1, after, max)).isFalse();
    assertThat(HangingTransactions.isHanging(NOT_IN_ITS_TRANSACTION, after, after, max)).isTrue();
    // a producer the coordinator does not show us: only once no live transaction can last that long
    assertThat(HangingTransactions.isHanging(UNKNOWN_PRODUCER, after, after, max)).isFalse();
    assertThat(HangingTransactions.isHanging(UNKNOWN_PRODUCER, max - 1, after, max)).isFalse();
    assertThat(HangingTransactions.isHanging(UNKNOWN_PRODUCER, max, after, max)).isTrue();
    assertThat(HangingTransactions.isHanging(UNKNOWN_PRODUCER, 2 * max, 3 * max, max)).isFalse();
  }

  @Test
  void theWaitCountsOnlyChecksInARowWhereTheCoordinatorWillNotEndIt() {
    var o = new HangingTransactions.Open(TP, 5, 3, 0, 100);
    var other = new HangingTransactions.Open(OTHER, 9, 1, 0, 7);
    var watch = new HangingTransactions.Watch();
    int[] maxAsked = {0};
    java.util.function.LongSupplier max = () -> {
      maxAsked[0]++;
      return 900_000;
    };
    long after = 60_000;
    assertThat(watch.due(Map.of(o, NOT_IN_ITS_TRANSACTION), 0, after, max)).isEmpty();
    assertThat(watch.due(Map.of(o, NOT_IN_ITS_TRANSACTION), 59_999, after, max)).isEmpty();
    // the coordinator lists the partition again (a look-up that raced with a live transaction's end): start again
    assertThat(watch.due(Map.of(o, WILL_END_IT), 60_000, after, max)).isEmpty();
    assertThat(watch.due(Map.of(o, NOT_IN_ITS_TRANSACTION), 61_000, after, max)).isEmpty();
    assertThat(watch.held(o, 100_000)).isEqualTo(39_000);
    assertThat(watch.due(Map.of(o, NOT_IN_ITS_TRANSACTION), 121_000, after, max)).containsExactly(o);
    assertThat(maxAsked[0]).as("the broker's maximum is not needed for a producer the coordinator knows").isZero();
    // gone from its partition (ended, or aborted by another instance): forgotten; seen again, the wait starts over
    assertThat(watch.due(Map.of(other, UNKNOWN_PRODUCER), 130_000, after, max)).isEmpty();
    assertThat(watch.held(o, 130_000)).isZero();
    assertThat(watch.due(Map.of(other, UNKNOWN_PRODUCER, o, NOT_IN_ITS_TRANSACTION), 131_000, after, max)).isEmpty();
    assertThat(maxAsked[0]).isPositive();
    assertThat(watch.due(Map.of(other, UNKNOWN_PRODUCER, o, NOT_IN_ITS_TRANSACTION), 191_000, after, max))
        .containsExactly(o);
    assertThat(watch.due(Map.of(other, UNKNOWN_PRODUCER), 1_030_000, after, max)).containsExactly(other);
    watch.forget(other);
    assertThat(watch.held(other, 1_030_000)).isZero();
  }

  @Test
  void settingsHaveDefaultsAndBoundsAndZeroTurnsTheGuardOff() {
    ConfigDef def = HangingTransactions.define(new ConfigDef());
    var s = HangingTransactions.Settings.of(new AbstractConfig(def, Map.of()));
    assertThat(s.checkMs()).isEqualTo(15_000);
    assertThat(s.abortAfterMs()).isEqualTo(60_000);
    var off = new HangingTransactions("t", Map.of("bootstrap.servers", "localhost:1"), java.util.List.of("a"),
        HangingTransactions.Settings.of(new AbstractConfig(def, Map.of(HangingTransactions.CHECK_MS, "0"))));
    assertThat(off.start().describeSettings()).contains("not checked");
    off.close();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new AbstractConfig(def,
        Map.of(HangingTransactions.ABORT_AFTER_MS, "-2"))).hasMessageContaining(HangingTransactions.ABORT_AFTER_MS);
  }
}
