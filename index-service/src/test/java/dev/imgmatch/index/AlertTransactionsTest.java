package dev.imgmatch.index;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * Which transaction failures the alerts transactions recover from (abort, roll back, read again) and which stop the
 * service: pure classification, on Kafka's MockProducer.
 */
class AlertTransactionsTest {
  private static final Map<TopicPartition, OffsetAndMetadata> OFFSETS = Map.of(new TopicPartition("e", 0),
      new OffsetAndMetadata(5));
  private static final ConsumerGroupMetadata GROUP = new ConsumerGroupMetadata("g");

  private static MockProducer<byte[], byte[]> producer() {
    return new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());
  }

  @Test
  void aTransactionTheCoordinatorAbortedItselfIsRecoveredFrom() {
    MockProducer<byte[], byte[]> p = producer();
    AlertTransactions tx = new AlertTransactions(() -> p, (what, call) -> call.run());
    tx.start();
    // a broker outage longer than the transaction timeout: the coordinator aborted it and bumped the epoch
    p.commitTransactionException = new InvalidProducerEpochException("Producer attempted to produce with an old epoch");
    assertThat(tx.commit(OFFSETS, GROUP)).as("not committed, and not fatal").isFalse();
    p.commitTransactionException = null;
    assertThat(tx.abortFailed()).as("a back-off before reading again").isPositive();
    tx.send(new org.apache.kafka.clients.producer.ProducerRecord<>("alerts", new byte[] {1}));
    assertThat(tx.commit(OFFSETS, GROUP)).as("the next transaction commits").isTrue();
    assertThat(p.history()).as("what the next transaction sent").hasSize(1);
    assertThat(tx.trouble()).isNull();
  }

  @Test
  void closingAbortsTheOpenTransactionBeforeClosingTheProducer() {
    MockProducer<byte[], byte[]> p = producer();
    AlertTransactions tx = new AlertTransactions(() -> p, (what, call) -> call.run());
    tx.start();
    assertThat(tx.commit(OFFSETS, GROUP)).isTrue();
    tx.send(new org.apache.kafka.clients.producer.ProducerRecord<>("alerts", new byte[] {1})); // never committed
    tx.close();
    assertThat(p.transactionAborted()).as("the open transaction aborted, not left to the close timeout").isTrue();
    assertThat(p.closed()).isTrue();
    assertThat(p.history()).as("the uncommitted alert is not kept").isEmpty();
  }

  @Test
  void aCommitFencedOnceIsRecoveredFromWithANewProducer() {
    // Kafka 4.3 answers PRODUCER_FENCED to a commit that raced with the coordinator aborting the transaction itself
    java.util.List<MockProducer<byte[], byte[]>> made = new java.util.ArrayList<>();
    AlertTransactions tx = new AlertTransactions(() -> {
      MockProducer<byte[], byte[]> p = producer();
      made.add(p);
      return p;
    }, (what, call) -> call.run());
    tx.start();
    made.getFirst().commitTransactionException = new ProducerFencedException("fenced by the coordinator's abort");
    assertThat(tx.commit(OFFSETS, GROUP)).as("not committed, and not fatal").isFalse();
    assertThat(tx.abortFailed()).isPositive();
    assertThat(made).as("a new producer took the transactional id back").hasSize(2);
    assertThat(made.getFirst().closed()).isTrue();
    assertThat(made.get(1).transactionInitialized()).isTrue();
    tx.send(new org.apache.kafka.clients.producer.ProducerRecord<>("alerts", new byte[] {1}));
    assertThat(tx.commit(OFFSETS, GROUP)).as("the next transaction commits").isTrue();
    assertThat(made.get(1).history()).hasSize(1);
  }

  @Test
  void anotherInstanceWithOurTransactionalIdStopsTheService() {
    // fenced again after every new producer: another live process has this transactional id
    AlertTransactions tx = new AlertTransactions(() -> {
      MockProducer<byte[], byte[]> p = producer();
      p.commitTransactionException = new ProducerFencedException("fenced");
      return p;
    }, (what, call) -> call.run());
    tx.start();
    for (int i = 0; i < AlertTransactions.MAX_FENCED_IN_A_ROW; i++) {
      assertThat(tx.commit(OFFSETS, GROUP)).isFalse();
      tx.abortFailed();
    }
    assertThatThrownBy(() -> tx.commit(OFFSETS, GROUP)).isInstanceOf(ProducerFencedException.class);
  }
}
