package dev.imgmatch.schemas;

import java.util.Map;
import java.util.Objects;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.Serde;

/**
 * One topic's contract: its name, key and value serdes, and how it is created. Main code and tests
 * take topics from {@link Topics} only, so a name or a serde can never differ between a writer and a
 * reader.
 *
 * @param name full topic name (prefix included)
 * @param keySerde key serde
 * @param valueSerde value serde
 * @param valueType value class, for messages and reflection-free checks
 * @param defaultPartitions partitions when imgmatch creates the topic
 * @param configs topic configs when imgmatch creates the topic (e.g. max.message.bytes)
 * @param doc one line saying what flows through it
 */
public record Topic<K, V>(
    String name,
    Serde<K> keySerde,
    Serde<V> valueSerde,
    Class<V> valueType,
    int defaultPartitions,
    Map<String, String> configs,
    String doc) {

  public Topic {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(keySerde, "keySerde");
    Objects.requireNonNull(valueSerde, "valueSerde");
    Objects.requireNonNull(valueType, "valueType");
    if (name.isBlank() || !name.matches("[a-zA-Z0-9._-]{1,249}")) {
      throw new IllegalArgumentException("invalid Kafka topic name '" + name + "'");
    }
    if (defaultPartitions < 1) {
      throw new IllegalArgumentException("topic " + name + ": defaultPartitions must be >= 1, got " + defaultPartitions);
    }
    configs = Map.copyOf(configs);
  }

  public ProducerRecord<byte[], byte[]> record(K key, V value) {
    return new ProducerRecord<>(name, serializeKey(key), serializeValue(value));
  }

  public byte[] serializeKey(K key) {
    return keySerde.serializer().serialize(name, key);
  }

  public byte[] serializeValue(V value) {
    return valueSerde.serializer().serialize(name, value);
  }

  public K deserializeKey(byte[] key) {
    return keySerde.deserializer().deserialize(name, key);
  }

  /** @throws RecordDecodingException when the bytes are not a valid value of this topic */
  public V deserializeValue(byte[] value) {
    return valueSerde.deserializer().deserialize(name, value);
  }

  /** The largest record this topic takes ({@code max.message.bytes} of its contract; Kafka's default otherwise). */
  public int maxMessageBytes() {
    String v = configs.get("max.message.bytes");
    return v == null ? Topics.SMALL_MESSAGE_BYTES : Integer.parseInt(v);
  }

  /** The same topic created with one config changed (e.g. a retention a deployment sets). */
  public Topic<K, V> withConfig(String key, String value) {
    Map<String, String> m = new java.util.HashMap<>(configs);
    m.put(key, value);
    return new Topic<>(name, keySerde, valueSerde, valueType, defaultPartitions, m, doc);
  }

  /** The same topic under another name (e.g. a query's own reply topic). */
  public Topic<K, V> withName(String otherName) {
    return new Topic<>(otherName, keySerde, valueSerde, valueType, defaultPartitions, configs, doc);
  }
}
