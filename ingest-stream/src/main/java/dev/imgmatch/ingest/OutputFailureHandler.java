package dev.imgmatch.ingest;

import dev.imgmatch.avro.Reject;
import dev.imgmatch.common.OutputFailures;
import dev.imgmatch.schemas.Rejects;
import dev.imgmatch.schemas.Topic;
import dev.imgmatch.schemas.Topics;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kafka Streams' production exception handler for ingest-stream: an output that cannot be produced because of
 * itself (too large for its topic, an unknown or forbidden topic, unserializable) drops that one output, sends a
 * {@code Reject} of the input that caused it ({@code OUTPUT_TOO_LARGE}, {@code OUTPUT_TOPIC_UNAVAILABLE}, ...) to the
 * rejects topic, and the stream goes on. Anything else (the cluster) fails the task, which Streams retries.
 *
 * <p>Configured by {@link IngestConfig#streamsProps()} with {@link #REJECTS_TOPIC} and {@link #MAX_PAYLOAD}.
 */
public final class OutputFailureHandler implements ProductionExceptionHandler, ProcessingExceptionHandler {
  public static final String REJECTS_TOPIC = "imgmatch.rejects.topic";
  public static final String MAX_PAYLOAD = "imgmatch.rejects.max.payload.bytes";
  private static final Logger log = LoggerFactory.getLogger(OutputFailureHandler.class);

  private Topic<byte[], Reject> rejects = Topics.defaults().rejects();
  private int maxPayload = Rejects.DEFAULT_MAX_PAYLOAD_BYTES;

  @Override
  public void configure(Map<String, ?> configs) {
    Object t = configs.get(REJECTS_TOPIC);
    if (t != null) {
      rejects = Topics.defaults().rejects().withName(t.toString());
    }
    Object p = configs.get(MAX_PAYLOAD);
    if (p != null) {
      maxPayload = Integer.parseInt(p.toString());
    }
  }

  @Override
  public ProductionExceptionHandler.Response handleError(ErrorHandlerContext context,
      ProducerRecord<byte[], byte[]> record, Exception e) {
    String reason = OutputFailures.reason(e);
    if (reason == null) {
      return ProductionExceptionHandler.Response.fail();
    }
    return ProductionExceptionHandler.Response.resume(List.of(reject(context, record, reason, e)));
  }

  /**
   * A processor that threw (ingest's processors turn every failure into a reject themselves: this is the net under
   * them): the input becomes an {@code INTERNAL_ERROR} reject and the stream goes on, instead of a thread that
   * would fail on the same record forever.
   */
  @Override
  public ProcessingExceptionHandler.Response handleError(ErrorHandlerContext c, Record<?, ?> record, Exception e) {
    log.error("processor {} failed on {}/{}@{}; the record goes to the rejects topic", c.processorNodeId(), c.topic(),
        c.partition(), c.offset(), e);
    Reject r = Rejects.of("INTERNAL_ERROR", "unexpected failure in ingest-stream (" + c.processorNodeId() + "): " + e,
        RejectSink.STAGE, c.topic(), c.partition(), c.offset(), c.sourceRawKey(), c.sourceRawValue(), e, maxPayload,
        System.currentTimeMillis());
    return ProcessingExceptionHandler.Response.resume(List.of(new ProducerRecord<>(rejects.name(),
        Rejects.key(c.sourceRawKey()), rejects.serializeValue(r))));
  }

  @Override
  @SuppressWarnings("rawtypes")
  public ProductionExceptionHandler.Response handleSerializationError(ErrorHandlerContext context,
      ProducerRecord record, Exception e, SerializationExceptionOrigin origin) {
    @SuppressWarnings("unchecked")
    ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(record.topic(), null, null);
    return ProductionExceptionHandler.Response.resume(List.of(reject(context, r, OutputFailures.UNSERIALIZABLE, e)));
  }

  private ProducerRecord<byte[], byte[]> reject(ErrorHandlerContext c, ProducerRecord<byte[], byte[]> out,
      String reason, Exception e) {
    String message = "ingest-stream could not produce its output to " + out.topic() + " ("
        + (out.value() == null ? 0 : out.value().length) + " bytes): " + e;
    log.warn("dropped an output of {}/{}@{}: {} {}", c.topic(), c.partition(), c.offset(), reason, message);
    Reject r = Rejects.of(reason, message, RejectSink.STAGE, c.topic(), c.partition(), c.offset(), c.sourceRawKey(),
        c.sourceRawValue(), e, maxPayload, System.currentTimeMillis());
    return new ProducerRecord<>(rejects.name(), Rejects.key(c.sourceRawKey()), rejects.serializeValue(r));
  }
}
