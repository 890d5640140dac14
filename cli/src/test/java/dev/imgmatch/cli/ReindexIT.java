package dev.imgmatch.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.cli.samples.SampleImages;
import dev.imgmatch.cli.samples.SampleSet;
import dev.imgmatch.cli.stack.LocalStack;
import dev.imgmatch.client.Uploader;
import dev.imgmatch.embedder.Embedder;
import dev.imgmatch.embedder.EmbedderOptions;
import dev.imgmatch.embedder.head.LinearHead;
import dev.imgmatch.embedder.worker.EmbedderWorkerConfig;
import dev.imgmatch.index.IndexedImage;
import dev.imgmatch.index.SearchFilter;
import dev.imgmatch.schemas.Topics;
import dev.imgmatch.testkit.CommittedRecords;
import dev.imgmatch.testkit.KafkaBroker;
import dev.imgmatch.testkit.KafkaBrokerExtension;
import dev.imgmatch.testkit.Seeds;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model upgrade end to end, on the real stack (real model, Lucene on disk, the test broker): the workers run with
 * the next head configured; protected originals are indexed with the main version; {@code ./imgmatch reindex} runs
 * while copies keep being uploaded — before, during and after the switch — and while a new original arrives. The
 * next head is the main head turned by a seeded random rotation: the same similarities in another coordinate system,
 * so every copy must alert exactly as before, while any comparison across versions would miss. Checked: every copy
 * alerted exactly once against its original, nothing else alerted, alerts after the switch made with the new
 * version, and after the retirement every original seen through the new version only.
 */
@ExtendWith(KafkaBrokerExtension.class)
class ReindexIT {
  private static final String TENANT = "ri";

  @Test
  @Timeout(900)
  void reindexMovesTheIndexToANewVersionWhileUploadsKeepAlerting(KafkaBroker broker, @TempDir Path dir)
      throws Exception {
    long seed = Seeds.of("reindex", 20261203L);
    SampleSet samples = SampleSet.generate(dir.resolve("samples"), 5, 4, seed);
    Path nextHead = dir.resolve("rotated.head");
    String v1;
    String v2;
    try (Embedder main = Embedder.open(EmbedderOptions.defaults(), m -> System.out.println("[model] " + m))) {
      v1 = main.modelVersion();
      LinearHead h = (LinearHead) main.head();
      rotated(h, new Random(seed)).write(nextHead);
    }
    try (Embedder next = Embedder.open(EmbedderOptions.defaults().withHead(nextHead.toString()), m -> { })) {
      v2 = next.modelVersion();
    }
    assertThat(v2).isNotEqualTo(v1);
    System.out.println("main version " + v1 + ", next version " + v2 + " (seed " + seed + ")");

    String prefix = "ri-" + Long.toHexString(System.nanoTime() & 0xffffff) + ".";
    Topics topics = new Topics(prefix);
    LocalStack.Options o = new LocalStack.Options(dir.resolve("stack"), broker.bootstrapServers(), prefix, 2, 0,
        Map.of(), Map.of(EmbedderWorkerConfig.DESCRIPTOR_NEXT_HEAD, nextHead.toString(),
            // the background set is built per model version (a minute for the next one); not what this test is about
            EmbedderWorkerConfig.DESCRIPTOR_BACKGROUND, "false"), Map.of());
    List<Path> origs = samples.originals();
    Path late = origs.getLast(); // a protected original that arrives during the upgrade
    Map<String, String> copyOf = new HashMap<>();
    List<String> before = new ArrayList<>();
    List<String> during = new ArrayList<>();
    List<String> after = new ArrayList<>();
    try (LocalStack stack = LocalStack.start(o, m -> System.out.println("[stack] " + m));
        Uploader up = new Uploader(stack.clientProps(), stack.topics())) {
      for (Path f : origs.subList(0, origs.size() - 1)) {
        up.send("orig/" + f.getFileName(), TENANT, "protected", "it", Files.readAllBytes(f), null, Map.of());
      }
      up.flush();
      await(() -> stack.index().counters().get("indexed") >= origs.size() - 1, stack, () -> "originals indexed");

      // every edit of every original: copies enough to upload before, during and after the switch
      List<SampleSet.Copy> copies = new ArrayList<>();
      Files.createDirectories(dir.resolve("copies"));
      for (Path f : origs) {
        java.awt.image.BufferedImage img = javax.imageio.ImageIO.read(f.toFile());
        for (SampleImages.Edit e : SampleImages.Edit.values()) {
          Path c = dir.resolve("copies").resolve(f.getFileName() + "-" + e.name().toLowerCase() + ".jpg");
          Files.write(c, SampleImages.jpeg(SampleImages.edit(img, e, seed + copies.size()), 0.8f));
          copies.add(new SampleSet.Copy(c, f, e));
        }
      }
      java.util.Collections.shuffle(copies, new Random(seed));
      int third = copies.size() / 3;
      for (SampleSet.Copy c : copies.subList(0, third)) {
        if (!c.original().equals(late)) {
          before.add(upload(up, c, copyOf));
        }
      }
      up.flush();
      await(() -> alerts(stack, topics).keySet().containsAll(before), stack, () -> "the alerts before the upgrade");

      String[] args = {"reindex", "-b", broker.bootstrapServers(), "--topic-prefix", prefix, "--model-version", v2,
          "--head", nextHead.toString(), "--settle", "5", "--timeout", "300"};
      CompletableFuture<Integer> reindex = CompletableFuture.supplyAsync(() -> Main.execute(args));
      // uploads go on during the upgrade; a new original arrives, and copies of the others
      up.send("orig/" + late.getFileName(), TENANT, "protected", "it", Files.readAllBytes(late), null, Map.of());
      for (SampleSet.Copy c : copies.subList(third, 2 * third)) {
        if (!c.original().equals(late)) {
          during.add(upload(up, c, copyOf));
          up.flush();
          Thread.sleep(500);
        }
      }
      int code = reindex.get(10, java.util.concurrent.TimeUnit.MINUTES);
      assertThat(code).as("reindex exit code").isZero();

      for (SampleSet.Copy c : copies.subList(2 * third, copies.size())) {
        after.add(upload(up, c, copyOf));
      }
      for (SampleSet.Copy c : copies.subList(0, 2 * third)) {
        if (c.original().equals(late)) {
          after.add(upload(up, c, copyOf));
        }
      }
      List<String> unrelated = new ArrayList<>();
      for (Path u : samples.unrelated()) {
        up.send("up/" + u.getFileName(), TENANT, "uploads", "it", Files.readAllBytes(u), null, Map.of());
        unrelated.add("up/" + u.getFileName());
      }
      up.flush();
      await(() -> alerts(stack, topics).keySet().containsAll(copyOf.keySet()), stack,
          () -> "an alert for every copy; missing " + missing(copyOf.keySet(), alerts(stack, topics).keySet()));
      await(() -> stack.index().counters().get("indexed") >= origs.size() + copyOf.size() + unrelated.size(), stack,
          () -> "every upload indexed");
      Thread.sleep(1000); // a late duplicate would show now

      Map<String, List<MatchAlert>> alerts = alerts(stack, topics);
      for (var e : copyOf.entrySet()) {
        assertThat(alerts.get(e.getKey())).as("alerts of copy %s", e.getKey()).hasSize(1);
        assertThat(alerts.get(e.getKey()).getFirst().getMatches()).as("the alert of %s names its original", e.getKey())
            .anySatisfy(m -> assertThat(m.getImageId()).isEqualTo(e.getValue()));
      }
      assertThat(alerts.keySet()).as("only copies alerted").containsExactlyInAnyOrderElementsOf(copyOf.keySet());
      for (String id : before) {
        assertThat(alerts.get(id).getFirst().getModelVersion()).as("%s, before the upgrade", id).isEqualTo(v1);
      }
      for (String id : after) {
        assertThat(alerts.get(id).getFirst().getModelVersion()).as("%s, after the upgrade", id).isEqualTo(v2);
      }
      SearchFilter visible = SearchFilter.tenantOnly(TENANT, Set.of());
      for (Path f : origs) {
        IndexedImage img = stack.index().shards().lookup(visible, "orig/" + f.getFileName()).orElseThrow();
        assertThat(img.modelVersion()).as("original %s after the retirement", f.getFileName()).isEqualTo(v2);
      }
      Map<String, Long> counters = stack.index().counters();
      System.out.printf("before %d, during %d, after %d copies; index counters %s%n", before.size(), during.size(),
          after.size(), counters);
      assertThat(counters.get("reindexed")).as("originals given the new version").isGreaterThanOrEqualTo(origs.size());
    }
  }

  private static String upload(Uploader up, SampleSet.Copy c, Map<String, String> copyOf) throws Exception {
    String id = "up/" + c.file().getFileName();
    up.send(id, TENANT, "uploads", "it", Files.readAllBytes(c.file()), null, Map.of());
    copyOf.put(id, "orig/" + c.original().getFileName());
    return id;
  }

  /** The main head turned by a random rotation: the same cosines between its outputs, other coordinates. */
  private static LinearHead rotated(LinearHead h, Random rnd) {
    int n = h.outputDim();
    double[][] q = new double[n][n];
    for (int i = 0; i < n; i++) { // Gram-Schmidt on Gaussian rows: an orthogonal matrix
      for (int j = 0; j < n; j++) {
        q[i][j] = rnd.nextGaussian();
      }
      for (int k = 0; k < i; k++) {
        double d = 0;
        for (int j = 0; j < n; j++) {
          d += q[i][j] * q[k][j];
        }
        for (int j = 0; j < n; j++) {
          q[i][j] -= d * q[k][j];
        }
      }
      double norm = 0;
      for (int j = 0; j < n; j++) {
        norm += q[i][j] * q[i][j];
      }
      norm = Math.sqrt(norm);
      for (int j = 0; j < n; j++) {
        q[i][j] /= norm;
      }
    }
    float[][] p = h.projection();
    float[][] out = new float[n][p[0].length];
    for (int i = 0; i < n; i++) {
      for (int k = 0; k < n; k++) {
        double w = q[i][k];
        for (int j = 0; j < p[0].length; j++) {
          out[i][j] += (float) (w * p[k][j]);
        }
      }
    }
    return new LinearHead(h.kind(), "rotated " + h.provenance(), h.mean(), out);
  }

  private static Set<String> missing(Set<String> want, Set<String> got) {
    Set<String> m = new java.util.TreeSet<>(want);
    m.removeAll(got);
    return m;
  }

  private static Map<String, List<MatchAlert>> alerts(LocalStack stack, Topics topics) {
    Map<String, List<MatchAlert>> out = new HashMap<>();
    for (ConsumerRecord<byte[], byte[]> r : CommittedRecords.readAll(stack.bootstrapServers(),
        topics.matchAlerts().name(), Duration.ofSeconds(30))) {
      MatchAlert a = topics.matchAlerts().deserializeValue(r.value());
      out.computeIfAbsent(a.getImageId().toString(), k -> new ArrayList<>()).add(a);
    }
    return out;
  }

  private static void await(BooleanSupplier done, LocalStack stack, Supplier<String> what) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(240).toNanos();
    while (!done.getAsBoolean()) {
      assertThat(stack.problem()).as("a stage stopped").isNull();
      if (System.nanoTime() > deadline) {
        throw new AssertionError("gave up waiting for " + what.get());
      }
      Thread.sleep(250);
    }
  }
}
