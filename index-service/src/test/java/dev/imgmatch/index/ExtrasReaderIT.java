package dev.imgmatch.index;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.ImageEmbedding;
import dev.imgmatch.avro.ImageExtras;
import dev.imgmatch.common.TopicSetup;
import dev.imgmatch.schemas.Topics;
import dev.imgmatch.testkit.KafkaBroker;
import dev.imgmatch.testkit.KafkaBrokerExtension;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
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

/**
 * {@link ExtrasReader} alone on the real broker: what index-service's ingest thread asks of it, including what the
 * whole service does not show in a short test — the same record asked for again (index-service rolled its alerts
 * transaction back and matches the records again), one id uploaded twice, and extras that are not there.
 */
@ExtendWith(KafkaBrokerExtension.class)
class ExtrasReaderIT {

  @Test
  void findsEachUploadsExtrasAgainAfterARollbackTellsReuploadsApartAndGivesUpOnMissingOnes(KafkaBroker broker)
      throws Exception {
    Topics topics = new Topics(broker.uniqueName("xr") + ".");
    TopicSetup.ensure(broker.clientProps(), List.of(topics.embeddingExtras()), 1, (short) 1);
    long t = System.currentTimeMillis();
    try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(broker.producerProps())) {
      for (int i = 0; i < 20; i++) {
        p.send(extras(topics, "u" + i, t + i, i)).get();
      }
      p.send(extras(topics, "u3", t + 100, 103)).get(); // u3 uploaded again later: other extras
    }
    Properties props = broker.consumerProps("unused");
    props.remove(ConsumerConfig.GROUP_ID_CONFIG);
    props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "4");
    try (ExtrasReader reader = new ExtrasReader(new KafkaConsumer<>(props), topics.embeddingExtras(), 60_000, 60_000,
        1_000, 1 << 20, System::nanoTime)) {
      for (int i = 0; i < 20; i++) {
        assertThat(marker(reader.find(record(i), upload("u" + i, t + i)))).as("u%d", i).isEqualTo(i);
      }
      // a rolled-back transaction: its records are matched again, their extras asked for a second time
      for (int i = 10; i < 20; i++) {
        assertThat(marker(reader.find(record(i), upload("u" + i, t + i)))).as("u%d again", i).isEqualTo(i);
      }
      assertThat(marker(reader.find(record(20), upload("u3", t + 100)))).as("u3's second upload").isEqualTo(103);
      long t0 = System.nanoTime();
      assertThat(reader.find(record(21), upload("never-written", t + 5))).isNull();
      assertThat((System.nanoTime() - t0) / 1e6).as("gave up within the wait (1 s) and a poll").isLessThan(5_000);
      assertThat(marker(reader.find(record(22), upload("u7", t + 7)))).as("and goes on").isEqualTo(7);
    }
  }

  @Test
  void findsExtrasWhoseCommitReachesTheirPartitionOnlyAfterTheLookUp(KafkaBroker broker) throws Exception {
    // The transaction coordinator writes a commit's markers one partition after another: an embeddings record can be
    // readable while its extras, committed with it, are not yet — and a read_committed look-up by time leaves them
    // out. Made deterministic here: the extras wait in an open transaction that is committed right after the
    // reader's first look-up has answered (the reader once read from the end then, past them: found nothing).
    Topics topics = new Topics(broker.uniqueName("xr") + ".");
    TopicSetup.ensure(broker.clientProps(), List.of(topics.embeddingExtras()), 1, (short) 1);
    long t = System.currentTimeMillis();
    Properties pp = broker.producerProps();
    pp.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, broker.uniqueName("xr-tx"));
    Properties props = broker.consumerProps("unused");
    props.remove(ConsumerConfig.GROUP_ID_CONFIG);
    AtomicInteger lookUps = new AtomicInteger();
    AtomicReference<OffsetAndTimestamp> firstAnswer = new AtomicReference<>();
    TopicPartition tp = new TopicPartition(topics.embeddingExtras().name(), 0);
    try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(pp)) {
      p.initTransactions();
      p.beginTransaction();
      p.send(extras(topics, "late", t, 42)).get();
      KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props) {
        @Override
        public Map<TopicPartition, OffsetAndTimestamp> offsetsForTimes(Map<TopicPartition, Long> query) {
          Map<TopicPartition, OffsetAndTimestamp> answer = super.offsetsForTimes(query);
          if (lookUps.getAndIncrement() == 0) {
            firstAnswer.set(answer.get(tp));
            p.commitTransaction(); // its marker written now, after the look-up...
            broker.awaitStableOffset(tp, 2); // ...and readable (the record and its marker) before the reader goes on
          }
          return answer;
        }
      };
      try (ExtrasReader reader = new ExtrasReader(consumer, topics.embeddingExtras(), 60_000, 60_000, 5_000, 1 << 20,
          System::nanoTime)) {
        ImageExtras found = reader.find(record(0), upload("late", t));
        assertThat(firstAnswer.get()).as("the first look-up, before the commit's marker: nothing readable").isNull();
        assertThat(marker(found)).as("found once its marker is written").isEqualTo(42);
      }
    }
  }

  private static ProducerRecord<byte[], byte[]> extras(Topics topics, String id, long embeddedAtMs, int marker) {
    ImageExtras x = ImageExtras.newBuilder().setId(id).setTenant("t1").setEmbeddedAtMs(embeddedAtMs)
        .setPreview(ByteBuffer.wrap(new byte[] {(byte) marker})).build();
    return new ProducerRecord<>(topics.embeddingExtras().name(), 0, topics.embeddingExtras().serializeKey(id),
        topics.embeddingExtras().serializeValue(x));
  }

  private static ImageEmbedding upload(String id, long embeddedAtMs) {
    ImageEmbedding e = ItSupport.embedding(id, "t1", "uploads", new float[] {1f}, new byte[32], new byte[32],
        embeddedAtMs);
    e.setExtrasAside(true);
    return e;
  }

  /** The embeddings record being matched: partition 0 (its extras' partition), any offset. */
  private static ConsumerRecord<byte[], byte[]> record(long offset) {
    return new ConsumerRecord<>("embeddings", 0, offset, new byte[0], new byte[0]);
  }

  private static int marker(ImageExtras x) {
    assertThat(x).isNotNull();
    return x.getPreview().get(0);
  }
}
