package dev.imgmatch.common;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.testkit.KafkaBroker;
import dev.imgmatch.testkit.KafkaBrokerExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@link TimeSeek} on the real broker, read_committed as the services read. */
@ExtendWith(KafkaBrokerExtension.class)
class TimeSeekIT {

  @Test
  void seeksToTheFirstRecordFromATimeOnOrToTheEndAndSkipsNoneCommittedDuringTheLookUp(KafkaBroker broker)
      throws Exception {
    String topic = broker.uniqueName("timeseek");
    broker.createTopic(topic, 1);
    TopicPartition tp = new TopicPartition(topic, 0);
    long t = System.currentTimeMillis();
    Properties pp = broker.producerProps();
    pp.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, broker.uniqueName("timeseek-tx"));
    try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(pp)) {
      p.initTransactions();
      p.beginTransaction();
      for (int i = 0; i < 3; i++) { // records at t - 3 h, t - 2 h, t - 1 h
        p.send(new ProducerRecord<>(topic, 0, t - (3 - i) * 3_600_000L, null, new byte[] {(byte) i})).get();
      }
      p.commitTransaction();

      // the first record from a time on
      try (KafkaConsumer<byte[], byte[]> c = consumer(broker, null)) {
        c.assign(List.of(tp));
        TimeSeek.seek(c, Map.of(tp, t - 2 * 3_600_000L - 1));
        assertThat(values(c, 2)).containsExactly(1, 2);
      }

      // a record (stamped an hour ahead, past the first transaction's marker) committed between the end's look-up and
      // the look-up by time: nothing readable is that recent when the look-up answers, and the record is not skipped
      p.beginTransaction();
      p.send(new ProducerRecord<>(topic, 0, t + 3_600_000L, null, new byte[] {3})).get();
      AtomicBoolean committed = new AtomicBoolean();
      try (KafkaConsumer<byte[], byte[]> c = consumer(broker, () -> {
        if (committed.compareAndSet(false, true)) {
          p.commitTransaction();
          broker.awaitStableOffset(tp, 6); // 3 records, a marker, the 4th record, its marker: stable before going on
        }
      })) {
        c.assign(List.of(tp));
        TimeSeek.seek(c, Map.of(tp, t + 1_800_000L));
        assertThat(committed).as("committed during the look-up").isTrue();
        assertThat(values(c, 1)).as("the record committed meanwhile").containsExactly(3);
      }
    }
  }

  /** A read_committed consumer (the broker's settings); {@code duringLookUp}, when given, runs right after each look-up by time answers. */
  private static KafkaConsumer<byte[], byte[]> consumer(KafkaBroker broker, Runnable duringLookUp) {
    Properties props = broker.consumerProps("unused");
    props.remove(ConsumerConfig.GROUP_ID_CONFIG);
    return new KafkaConsumer<>(props) {
      @Override
      public Map<TopicPartition, OffsetAndTimestamp> offsetsForTimes(Map<TopicPartition, Long> query) {
        Map<TopicPartition, OffsetAndTimestamp> answer = super.offsetsForTimes(query);
        if (duringLookUp != null) {
          duringLookUp.run();
        }
        return answer;
      }
    };
  }

  private static List<Integer> values(KafkaConsumer<byte[], byte[]> c, int n) {
    List<Integer> out = new ArrayList<>();
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (out.size() < n && System.nanoTime() < deadline) {
      for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
        out.add((int) r.value()[0]);
      }
    }
    return out;
  }
}
