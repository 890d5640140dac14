package dev.imgmatch.cli.console;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.cli.samples.SampleImages;
import dev.imgmatch.cli.stack.LocalStack;
import dev.imgmatch.client.Uploader;
import dev.imgmatch.console.ConsoleConfig;
import dev.imgmatch.console.ConsoleServer;
import dev.imgmatch.testkit.KafkaBroker;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * The console's integration tests' fixture: the real pipeline (the test broker, ingest-stream, the real model, a
 * Lucene index) under a console with a token, and a picture with a copier's edit of it: the original goes to
 * {@code protected}, the copy is uploaded by the test when it is ready to see its alert.
 */
final class ConsoleStack implements AutoCloseable {
  static final String TOKEN = "console-it-token-" + Long.toHexString(System.nanoTime());
  static final String TENANT = "t";

  final LocalStack stack;
  final ConsoleServer console;
  final Uploader uploader;
  final byte[] original;
  final byte[] copy;
  final String originalId;
  final String copyId;

  ConsoleStack(KafkaBroker broker, Path dir, long seed, Map<String, Object> consoleSettings) throws Exception {
    BufferedImage picture = SampleImages.original(seed, 640, 480);
    this.original = SampleImages.jpeg(picture, 0.92f);
    // a copier's edit: about half the size, re-encoded at a low JPEG quality
    this.copy = SampleImages.jpeg(SampleImages.edit(picture, SampleImages.Edit.RESCALE_JPEG, seed), 0.55f);
    this.originalId = "works/original-" + seed;
    this.copyId = "user-7/copy-" + seed;
    String prefix = broker.uniqueName("console") + ".";
    this.stack = LocalStack.start(new LocalStack.Options(dir.resolve("stack"), broker.bootstrapServers(), prefix, 1,
        -1, Map.of(), Map.of(), Map.of()), line -> System.err.println("stack: " + line));
    Map<String, Object> c = new HashMap<>();
    c.put(ConsoleConfig.BOOTSTRAP, stack.bootstrapServers());
    c.put(ConsoleConfig.TOPIC_PREFIX, prefix);
    c.put(ConsoleConfig.PORT, 0);
    c.put(ConsoleConfig.TOKEN, TOKEN);
    c.put(ConsoleConfig.TENANT, TENANT);
    c.put(ConsoleConfig.QUERY_TIMEOUT_MS, 60_000);
    c.putAll(consoleSettings);
    ConsoleServer started;
    try {
      started = ConsoleServer.start(new ConsoleConfig(c));
    } catch (Exception | Error e) {
      stack.close();
      throw e;
    }
    this.console = started;
    this.uploader = new Uploader(stack.clientProps(), stack.topics());
  }

  /** Uploads the original to {@code protected} and waits until it is indexed. */
  void protectOriginal() throws Exception {
    uploader.send(originalId, TENANT, "protected", "console-it", original, "original.jpg", Map.of()).get();
    waitFor(() -> stack.index().counters().getOrDefault("indexed", 0L) >= 1, "the original is indexed");
  }

  /** Uploads other bytes to {@code uploads} under {@code id}. */
  void upload(String id, byte[] bytes) throws Exception {
    uploader.send(id, TENANT, "uploads", "console-it", bytes, id.replace('/', '-') + ".jpg", Map.of()).get();
  }

  /** A second, different copy of the original (caption added, re-encoded): an alert of its own. */
  byte[] secondCopy(long seed) {
    return SampleImages.jpeg(SampleImages.edit(SampleImages.original(seed, 640, 480), SampleImages.Edit.CAPTION,
        seed), 0.8f);
  }

  /** Uploads the copy to {@code uploads}: an alert naming the original follows. */
  void uploadCopy() throws Exception {
    uploader.send(copyId, TENANT, "uploads", "console-it", copy, "copy.jpg", Map.of()).get();
  }

  /** Reads review-decisions until {@code n} decisions are there (60 s at most). */
  java.util.List<dev.imgmatch.avro.ReviewDecision> decisions(int n) {
    var topic = stack.topics().reviewDecisions();
    java.util.List<dev.imgmatch.avro.ReviewDecision> out = new java.util.ArrayList<>();
    Map<String, Object> props = new HashMap<>(stack.clientProps());
    props.put("group.id", "console-it-" + System.nanoTime());
    props.put("auto.offset.reset", "earliest");
    try (var c = new org.apache.kafka.clients.consumer.KafkaConsumer<>(props,
        new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
        new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
      c.subscribe(java.util.List.of(topic.name()));
      long deadline = System.currentTimeMillis() + 60_000;
      while (out.size() < n && System.currentTimeMillis() < deadline) {
        c.poll(java.time.Duration.ofMillis(200)).forEach(r -> out.add(topic.deserializeValue(r.value())));
      }
    }
    return out;
  }

  void waitFor(BooleanSupplier done, String what) throws InterruptedException {
    long deadline = System.currentTimeMillis() + 120_000;
    while (!done.getAsBoolean()) {
      assertThat(stack.problem()).as("the stack runs").isNull();
      assertThat(System.currentTimeMillis()).as("waited too long for: " + what).isLessThan(deadline);
      Thread.sleep(100);
    }
  }

  @Override
  public void close() {
    uploader.close();
    console.close();
    stack.close();
  }
}
