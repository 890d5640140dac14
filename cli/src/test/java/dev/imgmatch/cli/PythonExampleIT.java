package dev.imgmatch.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.imgmatch.cli.samples.SampleImages;
import dev.imgmatch.cli.stack.LocalStack;
import dev.imgmatch.testkit.KafkaBroker;
import dev.imgmatch.testkit.KafkaBrokerExtension;
import dev.imgmatch.testkit.Seeds;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17, item 3: the Python client in {@code examples/python/} (Debian's python3-avro and python3-confluent-kafka
 * only) on the real pipeline (the test broker, ingest-stream, the real model, a Lucene index), run as a user runs it:
 * {@code /usr/bin/python3 imgmatch_example.py ...} child processes, their JSON lines parsed. An original uploaded to
 * 'protected' is ranked first for a query by an edited copy, the copy uploaded to 'uploads' raises an alert naming
 * the original, and a corrupt upload shows up among the rejects. Python writes what the Java stages read, and reads
 * what they write.
 *
 * <p>Needs the interpreter ({@code IMGMATCH_PYTHON}, default {@code /usr/bin/python3}) with the two modules: skipped
 * without them, except on CI ({@code CI=true}), where a missing install fails.
 */
@ExtendWith(KafkaBrokerExtension.class)
class PythonExampleIT {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private static final Path EXAMPLE = ROOT.resolve("examples/python/imgmatch_example.py");
  private static final long CHILD_TIMEOUT_S = 90;
  private static final ObjectMapper JSON = new ObjectMapper();
  /** A fingerprint no release has: a reader must name it and go on. */
  private static final long UNKNOWN_FINGERPRINT = 0x0123456789abcdefL;

  private record Run(List<String> command, int status, String out, String err) {
    List<JsonNode> lines() {
      List<JsonNode> nodes = new ArrayList<>();
      for (String line : out.split("\n")) {
        if (line.isBlank()) {
          continue;
        }
        try {
          nodes.add(JSON.readTree(line));
        } catch (IOException e) {
          fail("not a JSON line from " + command + ": " + line + "\nstderr:\n" + err);
        }
      }
      return nodes;
    }

    Run ok() {
      assertThat(status).as("exit status of %s\nstdout:\n%s\nstderr:\n%s", command, out, err).isZero();
      return this;
    }
  }

  @Test
  void thePythonExampleUploadsQueriesAndReadsAlertsAndRejects(KafkaBroker broker, @TempDir Path dir) throws Exception {
    String python = pythonWithModules(dir);
    long seed = Seeds.of("PythonExampleIT", 1703L);
    BufferedImage picture = SampleImages.original(seed, 640, 480);
    Path original = write(dir, "original.jpg", SampleImages.jpeg(picture, 0.92f));
    // a copier's edit: about half the size, re-encoded at a low JPEG quality
    Path copy = write(dir, "copy.jpg",
        SampleImages.jpeg(SampleImages.edit(picture, SampleImages.Edit.RESCALE_JPEG, seed), 0.55f));
    byte[] png = SampleImages.png(SampleImages.original(seed + 1, 320, 240));
    Path corrupt = write(dir, "corrupt.png", damaged(png, seed));
    String originalId = "works/original-" + seed;
    String copyId = "user-7/copy-" + seed;
    String corruptId = "user-7/corrupt-" + seed;

    String prefix = broker.uniqueName("python") + ".";
    LocalStack.Options opts = new LocalStack.Options(dir.resolve("stack"), broker.bootstrapServers(), prefix, 1, -1,
        Map.of(), Map.of(), Map.of());
    try (LocalStack stack = LocalStack.start(opts, line -> System.err.println("stack: " + line))) {
      List<String> conn = List.of("--bootstrap", stack.bootstrapServers(), "--topic-prefix", prefix);

      JsonNode up = single(python(python, dir, "upload", conn, "--tenant", "t", "--collection", "protected", "--id",
          originalId, original.toString()).ok());
      assertThat(up.path("imageId").asText()).isEqualTo(originalId);
      assertThat(up.path("topic").asText()).isEqualTo(prefix + "uploads");
      waitFor(() -> stack.index().counters().get("indexed") >= 1, stack, "the original is indexed");

      // a query by the copy (before the copy itself is indexed): the original first
      List<JsonNode> ranked = python(python, dir, "query", conn, "--tenant", "t", "--k", "5", "--timeout", "60",
          copy.toString()).ok().lines();
      assertThat(ranked).as("the query's matches").isNotEmpty();
      assertThat(ranked.getFirst().path("rank").asInt()).isEqualTo(1);
      assertThat(ranked.getFirst().path("imageId").asText()).isEqualTo(originalId);
      assertThat(ranked.getFirst().path("collection").asText()).isEqualTo("protected");

      // a record some newer writer made: the reader names its fingerprint on stderr and goes on. Written before the
      // copy is uploaded, so that it precedes the copy's alert in the (one) partition the reader stops in
      try (var p = new KafkaProducer<>(stack.clientProps(), new ByteArraySerializer(), new ByteArraySerializer())) {
        byte[] unknown = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN)
            .put((byte) 0xC3).put((byte) 0x01).putLong(UNKNOWN_FINGERPRINT).put((byte) 2).put((byte) 0).array();
        p.send(new ProducerRecord<>(stack.topics().matchAlerts().name(), "from-the-future".getBytes(
            StandardCharsets.UTF_8), unknown)).get();
      }

      python(python, dir, "upload", conn, "--tenant", "t", "--collection", "uploads", "--id", copyId,
          copy.toString()).ok();
      python(python, dir, "upload", conn, "--tenant", "t", "--collection", "uploads", "--id", corruptId,
          corrupt.toString()).ok();

      Run alerts = python(python, dir, "alerts", conn, "--wait-for", copyId, "--timeout", "60").ok();
      JsonNode alert = alerts.lines().stream().filter(a -> a.path("imageId").asText().equals(copyId)).findFirst()
          .orElseThrow(() -> new AssertionError("no alert for " + copyId + " in\n" + alerts.out()));
      System.err.println("alert: " + alert);
      assertThat(alert.path("tenant").asText()).isEqualTo("t");
      assertThat(alert.path("collection").asText()).isEqualTo("uploads");
      assertThat(alert.path("decision").asText()).isIn("MATCH", "REVIEW");
      assertThat(alert.path("matches").get(0).path("imageId").asText()).as("the alert's best match")
          .isEqualTo(originalId);
      assertThat(alerts.err()).as("the reader's warning about the unknown record")
          .contains("unknown schema fingerprint " + String.format("%016x", UNKNOWN_FINGERPRINT));

      Run rejects = python(python, dir, "rejects", conn, "--wait-for", corruptId, "--timeout", "60").ok();
      JsonNode reject = rejects.lines().stream().filter(r -> r.path("key").asText().equals(corruptId)).findFirst()
          .orElseThrow(() -> new AssertionError("no reject for " + corruptId + " in\n" + rejects.out()));
      System.err.println("reject: " + reject);
      assertThat(reject.path("reasonCode").asText()).isIn("CORRUPT_IMAGE", "UNSUPPORTED_FORMAT");
      assertThat(reject.path("stage").asText()).isEqualTo("ingest-stream");
      assertThat(reject.path("source").asText()).startsWith(prefix + "uploads-");
      assertThat(reject.path("message").asText()).isNotBlank();
      assertThat(stack.problem()).as("the stack runs").isNull();
    }
  }

  /**
   * The interpreter to run the example with, once it imports both modules. Without them: a skip, or on CI a failure
   * saying what to install.
   */
  private static String pythonWithModules(Path dir) throws Exception {
    String python = System.getenv().getOrDefault("IMGMATCH_PYTHON", "/usr/bin/python3");
    String problem;
    try {
      Run r = run(List.of(python, "-c", "import avro, confluent_kafka"), dir, "check");
      List<String> err = r.err().strip().lines().toList();
      problem = r.status() == 0 ? null : "exit " + r.status() + (err.isEmpty() ? "" : ": " + err.getLast());
    } catch (IOException e) {
      problem = e.getMessage();
    }
    if (problem != null) {
      String message = "PythonExampleIT needs " + python + " with Debian's python3-avro and python3-confluent-kafka "
          + "(apt-get install python3-avro python3-confluent-kafka; IMGMATCH_PYTHON names another interpreter that "
          + "has them): " + problem;
      if ("true".equals(System.getenv("CI"))) {
        fail(message);
      }
      Assumptions.abort(message);
    }
    return python;
  }

  private static Run python(String python, Path dir, String command, List<String> conn, String... args)
      throws Exception {
    List<String> cmd = new ArrayList<>(List.of(python, EXAMPLE.toString(), command));
    cmd.addAll(conn);
    cmd.addAll(List.of(args));
    Run r = run(cmd, dir, command);
    if (r.status() != 0) {
      System.err.println("python " + command + " exited " + r.status() + "; stderr:\n" + r.err());
    }
    return r;
  }

  /** Runs a child process (from {@code dir}, not the checkout: the example finds its schemas by itself). */
  private static Run run(List<String> cmd, Path dir, String name) throws Exception {
    Path out = Files.createTempFile(dir, name, ".out");
    Path err = Files.createTempFile(dir, name, ".err");
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile())
        .redirectOutput(out.toFile()).redirectError(err.toFile());
    pb.environment().put("PYTHONDONTWRITEBYTECODE", "1"); // no __pycache__ in the checkout
    pb.environment().remove("IMGMATCH_BOOTSTRAP");
    pb.environment().remove("IMGMATCH_TOPIC_PREFIX");
    long t0 = System.nanoTime();
    Process p = pb.start();
    if (!p.waitFor(CHILD_TIMEOUT_S, TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      fail(cmd + " did not finish within " + CHILD_TIMEOUT_S + " s; stdout:\n" + Files.readString(out)
          + "\nstderr:\n" + Files.readString(err));
    }
    System.err.printf("python: %s exited %d in %d ms%n", name, p.exitValue(), (System.nanoTime() - t0) / 1_000_000);
    return new Run(cmd, p.exitValue(), Files.readString(out), Files.readString(err));
  }

  private static JsonNode single(Run r) {
    List<JsonNode> lines = r.lines();
    assertThat(lines).as("stdout of %s", r.command()).hasSize(1);
    return lines.getFirst();
  }

  private static Path write(Path dir, String name, byte[] bytes) throws IOException {
    return Files.write(dir.resolve(name), bytes);
  }

  /** The PNG with 16 bytes in the middle of its pixel data overwritten: a chunk whose CRC no longer matches. */
  private static byte[] damaged(byte[] png, long seed) {
    byte[] b = png.clone();
    Random r = new Random(seed);
    int at = b.length / 2;
    for (int i = 0; i < 16; i++) {
      b[at + i] ^= (byte) (1 + r.nextInt(255));
    }
    return b;
  }

  private static void waitFor(BooleanSupplier done, LocalStack stack, String what) throws InterruptedException {
    long deadline = System.currentTimeMillis() + 120_000;
    while (!done.getAsBoolean()) {
      assertThat(stack.problem()).as("the stack runs").isNull();
      assertThat(System.currentTimeMillis()).as("waited too long for: " + what).isLessThan(deadline);
      Thread.sleep(100);
    }
  }
}
