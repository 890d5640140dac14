package dev.imgmatch.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.imgmatch.cli.samples.SampleImages;
import dev.imgmatch.cli.samples.SampleImages.Edit;
import dev.imgmatch.cli.scan.DuplicateGroups;
import dev.imgmatch.testkit.KafkaBroker;
import dev.imgmatch.testkit.KafkaBrokerExtension;
import dev.imgmatch.testkit.Seeds;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Issue 18: {@code scan} of one folder gives the same groups every time — the same folder scanned twice, copies of it
 * written in other orders, and the embedder's micro-batches from one record to 48. Real pictures (generated, seeded), the real model, a real broker;
 * near-duplicate edits, byte-identical copies, one picture as PNG and JPEG, chains of edits and look-alike pictures of
 * one style, so that some pairs score near the threshold.
 */
@ExtendWith(KafkaBrokerExtension.class)
class ScanDeterminismIT {

  @Test
  void theSameFolderGivesTheSameGroupsWhateverTheFileOrderAndTheEmbedderBatches(KafkaBroker broker,
      @TempDir Path dir) throws Exception {
    long seed = Seeds.of("ScanDeterminismIT", 20261218L);
    Map<String, byte[]> folder = folder(seed);
    List<String> order = new ArrayList<>(folder.keySet());
    Path a = write(dir.resolve("a"), folder, order);
    Collections.shuffle(order, new Random(seed));
    Path b = write(dir.resolve("b"), folder, order);
    Path c = write(dir.resolve("c"), folder, order.reversed());

    List<DuplicateGroups.Group> first = scan(broker, dir, a, "embedder:batch.max.records=16");
    List<DuplicateGroups.Group> again = scan(broker, dir, a, "embedder:batch.max.records=16");
    List<DuplicateGroups.Group> oneByOne = scan(broker, dir, b, "embedder:batch.max.records=1");
    List<DuplicateGroups.Group> large = scan(broker, dir, c, "embedder:batch.max.records=48",
        "embedder:batch.max.latency.ms=400");

    print(first);
    assertThat(first.stream().filter(g -> !g.exact())).as("seed %d: near-duplicate groups", seed).hasSizeGreaterThan(2);
    assertThat(first.stream().flatMap(g -> g.pairs().stream()).filter(DuplicateGroups.Pair::exact))
        .as("seed %d: byte-identical pairs", seed).isNotEmpty();
    // the groups, their exactness and the pairs that link them are the same; the pairs' scores to within float
    // rounding: index-service's dot products (Lucene's VectorUtil on the Vector API) give a last-bit different
    // result before and after the JIT compiles them (docs/BENCHMARKS.md, "Scan: the same groups on every run")
    assertSameGroups(again, first, "seed " + seed + ": the same folder again");
    assertSameGroups(oneByOne, first, "seed " + seed + ": files written in another order, one record per micro-batch");
    assertSameGroups(large, first, "seed " + seed + ": files written in reverse, micro-batches of up to 48 records");
  }

  private static void assertSameGroups(List<DuplicateGroups.Group> actual, List<DuplicateGroups.Group> expected,
      String what) {
    assertThat(actual).as(what).extracting(DuplicateGroups.Group::members, DuplicateGroups.Group::exact)
        .containsExactlyElementsOf(expected.stream().map(g -> org.assertj.core.groups.Tuple.tuple(g.members(),
            g.exact())).toList());
    for (int i = 0; i < expected.size(); i++) {
      List<DuplicateGroups.Pair> e = expected.get(i).pairs();
      List<DuplicateGroups.Pair> a = actual.get(i).pairs();
      assertThat(a).as(what + ": pairs of group " + expected.get(i).members())
          .extracting(DuplicateGroups.Pair::a, DuplicateGroups.Pair::b, DuplicateGroups.Pair::exact,
              DuplicateGroups.Pair::pdqDistance)
          .containsExactlyInAnyOrderElementsOf(e.stream().map(p -> org.assertj.core.groups.Tuple.tuple(p.a(), p.b(),
              p.exact(), p.pdqDistance())).toList());
      for (DuplicateGroups.Pair p : a) {
        DuplicateGroups.Pair q = e.stream().filter(x -> x.a().equals(p.a()) && x.b().equals(p.b())).findFirst()
            .orElseThrow();
        assertThat(p.score()).as(what + ": score of " + p.a() + " ~ " + p.b()).isCloseTo(q.score(), within(1e-6));
      }
    }
  }

  /** Relative path -> bytes: originals, their edits (some chained), exact copies, look-alikes, unrelated pictures. */
  private static Map<String, byte[]> folder(long seed) {
    Random r = new Random(seed);
    Map<String, byte[]> files = new LinkedHashMap<>();
    Edit[] edits = Edit.values();
    for (int i = 0; i < 6; i++) {
      long s = seed * 100 + i;
      BufferedImage original = SampleImages.original(s, 640, 480);
      byte[] jpeg = SampleImages.jpeg(original, 0.9f);
      files.put(String.format("o%d.jpg", i), jpeg);
      for (int e = 0; e < 2; e++) { // two single edits each
        Edit edit = edits[(2 * i + e) % edits.length];
        files.put(String.format("edits/o%d-%s.jpg", i, edit.name().toLowerCase(Locale.ROOT)),
            SampleImages.jpeg(SampleImages.edit(original, edit, r.nextLong()), 0.6f + 0.1f * e));
      }
      if (i % 2 == 0) { // a chain of three edits and a low quality: the kind of copy that scores near the threshold
        BufferedImage chained = original;
        for (int e = 0; e < 3; e++) {
          chained = SampleImages.edit(chained, edits[r.nextInt(edits.length)], r.nextLong());
        }
        files.put(String.format("hard/o%d-chain.jpg", i), SampleImages.jpeg(chained, 0.5f));
      }
      if (i == 1) {
        files.put("copies/o1.jpg", jpeg); // byte-identical
        files.put("copies/o1-again.jpg", jpeg);
      }
      if (i == 2) {
        files.put("copies/o2.png", SampleImages.png(original)); // equal pixels, other bytes
      }
    }
    byte[] solo = SampleImages.jpeg(SampleImages.original(seed * 100 + 40, 500, 500), 0.9f);
    files.put("solo.jpg", solo); // a byte-identical pair
    files.put("copies/solo-dup.jpg", solo);
    // pictures of one style (the abstract compositions of odd seeds), which look alike to the descriptor, and others
    for (int j = 0; j < 8; j++) {
      long s = seed * 100 + 51 + 2L * j + (j < 5 ? 0 : 1);
      files.put(String.format("other/u%d.jpg", j), SampleImages.jpeg(SampleImages.original(s, 560 + 40 * (j % 3), 420),
          0.85f));
    }
    return files;
  }

  private static Path write(Path root, Map<String, byte[]> files, List<String> order) throws Exception {
    for (String name : order) {
      Path f = root.resolve(name);
      Files.createDirectories(f.getParent());
      Files.write(f, files.get(name));
    }
    return root;
  }

  private static List<DuplicateGroups.Group> scan(KafkaBroker broker, Path dir, Path folder, String... sets) {
    ScanCommand scan = new ScanCommand();
    List<String> args = new ArrayList<>(List.of("--bootstrap", broker.bootstrapServers(), "--report",
        dir.resolve(folder.getFileName() + "-report.html").toString()));
    for (String s : sets) {
      args.add("--set");
      args.add(s);
    }
    args.add(folder.toString());
    int status = new CommandLine(scan).execute(args.toArray(String[]::new));
    assertThat(status).isZero();
    return scan.lastGroups;
  }

  private static void print(List<DuplicateGroups.Group> groups) {
    long near = groups.stream().flatMap(g -> g.pairs().stream()).filter(p -> p.score() < 0.6).count();
    System.out.println("pairs scoring under 0.6 (the threshold is "
        + dev.imgmatch.index.MatchPolicy.DEFAULT_MATCH_THRESHOLD + "): " + near);
    for (DuplicateGroups.Group g : groups) {
      System.out.println((g.exact() ? "exact " : "near ") + g.members());
      for (DuplicateGroups.Pair p : g.pairs()) {
        System.out.printf(Locale.ROOT, "  %s ~ %s score %.4f cosine %s pdq %s%n", p.a(), p.b(), p.score(), p.cosine(),
            p.pdqDistance());
      }
    }
  }
}
