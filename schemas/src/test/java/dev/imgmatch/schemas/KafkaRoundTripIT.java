package dev.imgmatch.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.Deletion;
import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.testkit.KafkaBroker;
import dev.imgmatch.testkit.KafkaBrokerExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(KafkaBrokerExtension.class)
class KafkaRoundTripIT {

  @Test
  void recordsSurviveAProduceConsumeRoundTripThroughTheDescriptors(KafkaBroker broker) throws Exception {
    Topics topics = new Topics(broker.uniqueName("rt") + ".");
    Topic<String, MatchAlert> alerts = topics.matchAlerts();
    broker.createTopic(alerts.name(), 3);

    List<MatchAlert> sent = new ArrayList<>();
    new SampleRecords(11).all().stream().filter(MatchAlert.class::isInstance).map(MatchAlert.class::cast)
        .forEach(sent::add);
    for (int i = 0; i < 20; i++) {
      sent.add(MatchAlert.newBuilder(sent.getFirst()).setImageId("img-" + i).build());
    }
    try (var producer = new KafkaProducer<byte[], byte[]>(broker.producerProps())) {
      for (MatchAlert a : sent) {
        producer.send(alerts.record(a.getImageId(), a)).get();
      }
    }
    List<MatchAlert> got = new ArrayList<>();
    try (var consumer = new KafkaConsumer<byte[], byte[]>(broker.consumerProps(broker.uniqueName("g")))) {
      consumer.subscribe(List.of(alerts.name()));
      long deadline = System.currentTimeMillis() + 30_000;
      while (got.size() < sent.size() && System.currentTimeMillis() < deadline) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          MatchAlert a = alerts.deserializeValue(r.value());
          assertThat(alerts.deserializeKey(r.key())).isEqualTo(a.getImageId());
          got.add(a);
        }
      }
    }
    assertThat(got).containsExactlyInAnyOrderElementsOf(sent);
  }

  @Test
  void transactionsExposeCommittedRecordsOnlyToReadCommittedConsumers(KafkaBroker broker) throws Exception {
    Topic<String, Deletion> deletions = new Topics(broker.uniqueName("tx") + ".").deletions();
    broker.createTopic(deletions.name(), 1);

    var props = broker.producerProps();
    props.put("transactional.id", broker.uniqueName("tx-producer"));
    try (var producer = new KafkaProducer<byte[], byte[]>(props)) {
      producer.initTransactions();
      producer.beginTransaction();
      producer.send(deletions.record("committed-1", deletion("committed-1")));
      producer.send(deletions.record("committed-2", deletion("committed-2")));
      producer.commitTransaction();

      producer.beginTransaction();
      producer.send(deletions.record("aborted-1", deletion("aborted-1")));
      producer.flush(); // on the log, but aborted
      producer.abortTransaction();

      producer.beginTransaction();
      producer.send(deletions.record("committed-3", deletion("committed-3")));
      producer.commitTransaction();
    }

    assertThat(readAll(broker, deletions, "read_committed"))
        .containsExactly("committed-1", "committed-2", "committed-3");
    // the aborted record is physically there: a read_uncommitted consumer sees it
    assertThat(readAll(broker, deletions, "read_uncommitted")).contains("aborted-1");
  }

  private static Deletion deletion(String id) {
    return Deletion.newBuilder().setImageId(id).setTenant("t").setRequestedAtMs(1).build();
  }

  private static List<String> readAll(KafkaBroker broker, Topic<String, Deletion> topic, String isolation) {
    var props = broker.consumerProps(broker.uniqueName("g"));
    props.put("isolation.level", isolation);
    List<String> ids = new ArrayList<>();
    try (var consumer = new KafkaConsumer<byte[], byte[]>(props)) {
      TopicPartition tp = new TopicPartition(topic.name(), 0);
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      Map<TopicPartition, Long> end = consumer.endOffsets(List.of(tp));
      long deadline = System.currentTimeMillis() + 30_000;
      while (consumer.position(tp) < end.get(tp) && System.currentTimeMillis() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(r -> ids.add(topic.deserializeValue(r.value()).getImageId()));
      }
    }
    return ids;
  }
}
