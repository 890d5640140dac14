package dev.imgmatch.cli;

import static dev.imgmatch.cli.CliOutput.stdout;
import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.avro.MatchedImage;
import dev.imgmatch.cli.samples.SampleImages;
import dev.imgmatch.cli.stack.LocalStack;
import dev.imgmatch.client.AlertWatcher;
import dev.imgmatch.client.Uploader;
import dev.imgmatch.testkit.KafkaBroker;
import dev.imgmatch.testkit.KafkaBrokerExtension;
import dev.imgmatch.testkit.Seeds;
import java.awt.geom.AffineTransform;
import java.awt.image.AffineTransformOp;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17's done-when, end to end on the real pipeline (the test broker, ingest-stream, the real model, Lucene):
 * {@code ./imgmatch hash} of some pictures makes a hash list, {@code ./imgmatch bank import --bank ext-demo} loads it,
 * and uploads of edited copies of those pictures (never indexed themselves) raise alerts naming the bank and the
 * entry, with the PDQ distance; a mirrored copy is found through the upload's dihedral PDQs; {@code bank list} and
 * {@code bank export} show the entries, {@code bank settings --disable} silences the bank; after {@code bank remove
 * --all} a copy raises nothing. Then the other done-when: a picture protected after its copy was uploaded raises one
 * retroactive alert for that copy, and so does a hash list imported after the copy was uploaded.
 */
@ExtendWith(KafkaBrokerExtension.class)
class BankIT {
  @Test
  void editedCopiesOfImportedHashesAlertNamingTheBank(KafkaBroker broker, @TempDir Path dir) throws Exception {
    long seed = Seeds.of("BankIT", 1701L);
    List<BufferedImage> listed = new ArrayList<>();
    List<Path> files = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      BufferedImage img = SampleImages.original(seed + i, 640, 480);
      listed.add(img);
      files.add(Files.write(dir.resolve("listed-" + i + ".jpg"), SampleImages.jpeg(img, 0.92f)));
    }
    List<String> hashArgs = new ArrayList<>(List.of("hash"));
    files.forEach(f -> hashArgs.add(f.toString()));
    String csv = stdout(() -> Main.execute(hashArgs.toArray(String[]::new)), 0);
    Path list = Files.writeString(dir.resolve("hashes.csv"), csv);

    String prefix = broker.uniqueName("bank") + ".";
    String[] conn = {"-b", broker.bootstrapServers(), "--topic-prefix", prefix};
    LocalStack.Options opts = new LocalStack.Options(dir.resolve("stack"), broker.bootstrapServers(), prefix, 1, -1,
        Map.of(), Map.of(), Map.of());
    try (LocalStack stack = LocalStack.start(opts, line -> System.err.println("stack: " + line));
        Uploader up = new Uploader(stack.clientProps(), stack.topics());
        AlertWatcher alerts = new AlertWatcher(stack.clientProps(), stack.topics(), a -> { })) {
      String imported = stdout(() -> Main.execute(concat(new String[] {"bank", "import", "--bank", "ext-demo"}, conn,
          list.toString())), 0);
      assertThat(imported).contains("bank,tenant,imported,refused").contains("ext-demo,*,3,0");
      waitFor(() -> stack.index().banks().entries() == 3, stack);

      // edited copies: rescaled and recompressed, and a mirrored one; plus an unrelated picture
      up.send("up/rescaled", "acme", "uploads", "it", SampleImages.jpeg(SampleImages.scale(listed.get(0), 0.5), 0.6f),
          "a.jpg", Map.of()).get();
      up.send("up/mirrored", "acme", "uploads", "it", SampleImages.jpeg(mirror(listed.get(1)), 0.8f), "b.jpg",
          Map.of()).get();
      up.send("up/unrelated", "acme", "uploads", "it",
          SampleImages.jpeg(SampleImages.original(seed + 99, 640, 480), 0.8f), "c.jpg", Map.of()).get();
      waitFor(() -> stack.index().counters().get("indexed") >= 3, stack);
      waitFor(() -> alerts.alerts().size() >= 2, stack);
      Thread.sleep(1000); // an alert for the unrelated picture, if any, comes right after its indexing

      List<MatchAlert> got = alerts.alerts();
      got.forEach(a -> System.err.println("alert: " + a.getImageId() + " " + a.getDecision() + " ~ "
          + a.getMatches().getFirst().getBank() + "/" + a.getMatches().getFirst().getImageId() + " pdq "
          + a.getMatches().getFirst().getPdqDistance()));
      assertThat(got).extracting(MatchAlert::getImageId).containsExactlyInAnyOrder("up/rescaled", "up/mirrored");
      for (MatchAlert a : got) {
        MatchedImage m = a.getMatches().getFirst();
        assertThat(m.getBank()).isEqualTo("ext-demo");
        assertThat(m.getImageId()).isEqualTo(files.get(a.getImageId().equals("up/rescaled") ? 0 : 1).toString());
        assertThat(m.getPdqDistance()).isBetween(0, 31);
        assertThat(a.getMd5()).as("the upload's MD5 for the report").isNotNull();
      }

      String banks = stdout(() -> Main.execute(concat(new String[] {"bank", "list"}, conn)), 0);
      assertThat(banks.lines()).containsExactly("tenant,bank,entries,enabled,pdq_max_distance", "*,ext-demo,3,true,");

      // disabled at run time: a copy raises nothing while it is off
      String off = stdout(() -> Main.execute(concat(new String[] {"bank", "settings", "--bank", "ext-demo",
          "--disable"}, conn)), 0);
      assertThat(off).contains("ext-demo,*,false,");
      waitFor(() -> stack.index().banks().settingsFor("acme", "ext-demo") != null, stack);
      up.send("up/while-disabled", "acme", "uploads", "it", SampleImages.jpeg(listed.get(2), 0.75f), "e.jpg",
          Map.of()).get();
      waitFor(() -> stack.index().counters().get("indexed") >= 4, stack);
      Thread.sleep(1000);
      assertThat(alerts.alerts()).extracting(MatchAlert::getImageId).doesNotContain("up/while-disabled");
      assertThat(stdout(() -> Main.execute(concat(new String[] {"bank", "list"}, conn)), 0).lines())
          .contains("*,ext-demo,3,false,");
      stdout(() -> Main.execute(concat(new String[] {"bank", "settings", "--bank", "ext-demo", "--enable"}, conn)), 0);
      String export = stdout(() -> Main.execute(concat(new String[] {"bank", "export", "--bank", "ext-demo"}, conn)),
          0);
      assertThat(export.lines()).hasSize(4).first().isEqualTo("pdq,quality,md5,sha256,id,tags");

      String removed = stdout(() -> Main.execute(concat(new String[] {"bank", "remove", "--bank", "ext-demo",
          "--all"}, conn)), 0);
      assertThat(removed).contains("ext-demo,*,3");
      waitFor(() -> stack.index().banks().entries() == 0, stack);
      up.send("up/after-removal", "acme", "uploads", "it", SampleImages.jpeg(listed.get(2), 0.7f), "d.jpg", Map.of())
          .get();
      waitFor(() -> stack.index().counters().get("indexed") >= 5, stack);
      Thread.sleep(1000);
      assertThat(alerts.alerts()).extracting(MatchAlert::getImageId).doesNotContain("up/after-removal");

      // retroactive matching: a picture protected only after its copy was uploaded alerts that copy, once
      BufferedImage work = SampleImages.original(seed + 50, 640, 480);
      up.send("up/early-copy", "acme", "uploads", "it", SampleImages.jpeg(SampleImages.scale(work, 0.5), 0.7f),
          "f.jpg", Map.of()).get();
      waitFor(() -> stack.index().counters().get("indexed") >= 6, stack);
      up.send("prot/work", "acme", "protected", "it", SampleImages.jpeg(work, 0.92f), "work.jpg", Map.of()).get();
      waitFor(() -> alerts.alerts().stream().anyMatch(a -> a.getImageId().equals("up/early-copy")), stack);
      Thread.sleep(1000);
      assertThat(alerts.alerts()).filteredOn(a -> a.getImageId().equals("up/early-copy")).singleElement()
          .satisfies(a -> {
            assertThat(a.getRetroactive()).isTrue();
            assertThat(a.getMatches()).extracting(MatchedImage::getImageId).containsExactly("prot/work");
          });

      // the same for a hash list: imported after the copy was uploaded, it alerts that copy once (retroactive)
      BufferedImage banned = SampleImages.original(seed + 60, 640, 480);
      Path bannedFile = Files.write(dir.resolve("late-" + seed + ".jpg"), SampleImages.jpeg(banned, 0.92f));
      up.send("up/before-list", "acme", "uploads", "it", SampleImages.jpeg(SampleImages.scale(banned, 0.5), 0.7f),
          "g.jpg", Map.of()).get();
      waitFor(() -> stack.index().counters().get("indexed") >= 8, stack);
      Path lateList = Files.writeString(dir.resolve("late.csv"),
          stdout(() -> Main.execute("hash", bannedFile.toString()), 0));
      stdout(() -> Main.execute(concat(new String[] {"bank", "import", "--bank", "late-list"}, conn,
          lateList.toString())), 0);
      waitFor(() -> alerts.alerts().stream().anyMatch(a -> a.getImageId().equals("up/before-list")), stack);
      Thread.sleep(1000);
      assertThat(alerts.alerts()).filteredOn(a -> a.getImageId().equals("up/before-list")).singleElement()
          .satisfies(a -> {
            assertThat(a.getRetroactive()).isTrue();
            assertThat(a.getMatches().getFirst().getBank()).isEqualTo("late-list");
            assertThat(a.getMatches().getFirst().getImageId()).isEqualTo(bannedFile.toString());
          });
    }
  }

  private static BufferedImage mirror(BufferedImage src) {
    AffineTransform t = AffineTransform.getScaleInstance(-1, 1);
    t.translate(-src.getWidth(), 0);
    BufferedImage out = new BufferedImage(src.getWidth(), src.getHeight(), BufferedImage.TYPE_INT_RGB);
    return new AffineTransformOp(t, AffineTransformOp.TYPE_NEAREST_NEIGHBOR).filter(src, out);
  }

  private static String[] concat(String[] a, String[] b, String... c) {
    List<String> all = new ArrayList<>(List.of(a));
    all.addAll(List.of(b));
    all.addAll(List.of(c));
    return all.toArray(String[]::new);
  }

  private static void waitFor(Callable<Boolean> done, LocalStack stack) throws Exception {
    long deadline = System.currentTimeMillis() + 120_000;
    while (!done.call()) {
      assertThat(stack.problem()).as("the stack runs").isNull();
      assertThat(System.currentTimeMillis()).as("waited too long").isLessThan(deadline);
      Thread.sleep(100);
    }
  }
}
