package dev.imgmatch.common;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.ExecutionException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.NetworkException;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.junit.jupiter.api.Test;

/** Pure logic: which producer failures drop one record and which stop the service. */
class OutputFailuresTest {
  @Test
  void aFailureOfOneRecordIsToldFromAFailureOfTheCluster() {
    assertThat(OutputFailures.isRecordSpecific(new RecordTooLargeException("1.2 MB"))).isTrue();
    assertThat(OutputFailures.reason(new RecordTooLargeException("x"))).isEqualTo(OutputFailures.RECORD_TOO_LARGE);
    assertThat(OutputFailures.isRecordSpecific(new ExecutionException(new RecordTooLargeException("x")))).isTrue();
    assertThat(OutputFailures.isRecordSpecific(new KafkaException(new TopicAuthorizationException("t")))).isTrue();
    assertThat(OutputFailures.reason(new TopicAuthorizationException("t"))).isEqualTo(OutputFailures.NOT_AUTHORIZED);
    assertThat(OutputFailures.isRecordSpecific(new UnknownTopicOrPartitionException("t"))).isTrue();
    // a metadata timeout is what a missing topic and a dead broker both look like: not the record's fault by itself
    assertThat(OutputFailures.isRecordSpecific(
        new TimeoutException("Topic my-replies not present in metadata after 10000 ms."))).isFalse();
    assertThat(OutputFailures.isMetadataTimeout(
        new KafkaException(new TimeoutException("Topic x not present in metadata after 10000 ms.")))).isTrue();
    assertThat(OutputFailures.isMetadataTimeout(new TimeoutException("Expiring 3 record(s): 120000 ms has passed")))
        .isFalse();
    // the cluster, not the record: stop before committing, replay after the restart
    assertThat(OutputFailures.isRecordSpecific(new TimeoutException("Expiring 3 record(s): 120000 ms has passed")))
        .isFalse();
    assertThat(OutputFailures.isRecordSpecific(new NetworkException("down"))).isFalse();
    assertThat(OutputFailures.isRecordSpecific(new NotEnoughReplicasException("isr"))).isFalse();
    assertThat(OutputFailures.isRecordSpecific(new ProducerFencedException("fenced"))).isFalse();
  }

  @Test
  void keysAreShownShortAndReadable() {
    assertThat(OutputFailures.keyText(null)).isEqualTo("null");
    assertThat(OutputFailures.keyText("abc".getBytes())).isEqualTo("abc");
    assertThat(OutputFailures.keyText("k".repeat(100).getBytes())).hasSize(67).endsWith("...");
  }
}
