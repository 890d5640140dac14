package dev.imgmatch.cli;

import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.avro.MatchedImage;
import dev.imgmatch.cli.scan.CommittedAlerts;
import dev.imgmatch.cli.scan.DuplicateGroups;
import dev.imgmatch.cli.scan.ScanPlan;
import dev.imgmatch.cli.scan.ScanReport;
import dev.imgmatch.cli.stack.LocalStack;
import dev.imgmatch.cli.stack.ServiceSettings;
import dev.imgmatch.client.ImageFiles;
import dev.imgmatch.client.Uploader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "scan", mixinStandardHelpOptions = true,
    description = {"Find exact and near-duplicate images in a folder, through the same pipeline as uploads.",
        "Indexes every image under DIR in path order (each one matched against those before it), prints the "
            + "duplicate groups and writes an HTML report with the duplicates side by side as thumbnails with their "
            + "scores. The same folder gives the same groups on every run."})
final class ScanCommand implements CliCommand {
  static final String COLLECTION = ScanPlan.COLLECTION;

  @Parameters(index = "0", paramLabel = "DIR", description = "Folder to scan (recursively).")
  Path dir;

  @Option(names = "--report", defaultValue = "imgmatch-scan.html", description = "HTML report to write (default: ${DEFAULT-VALUE}).")
  Path report;

  @Option(names = "--bootstrap", description = "Use this Kafka cluster instead of starting a local broker.")
  String bootstrap;

  @Option(names = "--data-dir", description = "Keep the stack's data here instead of a temporary directory.")
  Path dataDir;

  @Option(names = "--wait-seconds", defaultValue = "600", description = "Give up waiting for the pipeline after this long.")
  int waitSeconds;

  @Option(names = "--set", paramLabel = "SERVICE:KEY=VALUE", description = "A setting for one service (ingest, "
      + "embedder, index), e.g. embedder:batch.max.records=32; not one of those that keep the groups independent of "
      + "timing (the order, one picture per model call, every earlier image a candidate).")
  List<String> settings = List.of();

  /** Groups of the last run (for tests). */
  List<DuplicateGroups.Group> lastGroups = List.of();

  @Override
  public Integer call() throws Exception {
    if (!Files.isDirectory(dir)) {
      System.err.println("imgmatch scan: " + dir + " is not a directory");
      return 2;
    }
    List<Path> files = ImageFiles.imagesUnder(dir);
    if (files.isEmpty()) {
      System.err.println("imgmatch scan: no images (jpg, png, gif, webp, bmp, tiff) under " + dir);
      return 1;
    }
    Map<String, Map<String, String>> sets;
    Map<String, String> embedderSettings;
    Map<String, String> indexSettings;
    try {
      sets = ServiceSettings.parse(settings);
      embedderSettings = ScanPlan.withExtra("embedder", ScanPlan.embedderSettings(),
          sets.getOrDefault("embedder", Map.of()));
      indexSettings = ScanPlan.withExtra("index", ScanPlan.indexSettings(files.size()),
          sets.getOrDefault("index", Map.of()));
    } catch (IllegalArgumentException e) {
      System.err.println("imgmatch scan: " + e.getMessage());
      return 2;
    }
    // in id order, each with a submission time of its own (ScanPlan)
    List<ScanPlan.Upload> uploads = ScanPlan.uploads(files, f -> UploadCommand.idFor(f, dir), System.currentTimeMillis());
    report = Main.prepareOutput(report); // before the run, not after it
    boolean temp = dataDir == null;
    Path data = temp ? Files.createTempDirectory("imgmatch-scan-") : dataDir;
    String prefix = "scan-" + Long.toHexString(System.nanoTime() & 0xffffff) + ".";
    Map<String, Path> byId = new LinkedHashMap<>();
    uploads.forEach(u -> byId.put(u.id(), u.file()));
    try {
      // one partition: every new image of the folder is matched against the ones indexed before it, in id order
      LocalStack.Options o = new LocalStack.Options(data.resolve("stack"), bootstrap, prefix, 1, -1,
          sets.getOrDefault("ingest", Map.of()), embedderSettings, indexSettings);
      try (LocalStack stack = LocalStack.start(o, line -> System.err.println("scan: " + line));
          Uploader up = new Uploader(stack.clientProps(), stack.topics());
          CommittedAlerts alerts = new CommittedAlerts(stack.clientProps(), stack.topics())) {
        System.err.printf("scan: indexing %d images from %s ...%n", files.size(), dir);
        long t0 = System.nanoTime();
        for (ScanPlan.Upload u : uploads) {
          up.send(u.id(), "scan", COLLECTION, "scan", Files.readAllBytes(u.file()), u.file().getFileName().toString(),
              Map.of(), u.submittedAtMs());
        }
        up.flush();
        long deadline = System.currentTimeMillis() + waitSeconds * 1000L;
        long next = System.currentTimeMillis() + 5000;
        boolean complete = true;
        while (done(stack) < files.size()) {
          if (stack.problem() != null) {
            throw new IllegalStateException(stack.problem());
          }
          if (System.currentTimeMillis() > deadline) {
            System.err.printf("scan: gave up after %d s with %d of %d images processed%n", waitSeconds, done(stack), files.size());
            complete = false;
            break;
          }
          if (System.currentTimeMillis() > next) {
            System.err.printf("scan: %d of %d images processed%n", done(stack), files.size());
            next += 5000;
          }
          Thread.sleep(100);
        }
        // every alert committed (index-service commits them with its offsets), not those of some waiting time
        while (complete && !alerts.indexCaughtUp(Duration.ofSeconds(5))) {
          if (stack.problem() != null) {
            throw new IllegalStateException(stack.problem());
          }
          if (System.currentTimeMillis() > deadline) {
            System.err.printf("scan: gave up after %d s waiting for the last alerts to be committed%n", waitSeconds);
            break;
          }
          Thread.sleep(100);
        }
        long rejected = rejected(stack);
        double secs = (System.nanoTime() - t0) / 1e9;
        DuplicateGroups groups = new DuplicateGroups();
        for (MatchAlert a : alerts.readAll()) {
          for (MatchedImage m : a.getMatches()) {
            groups.add(new DuplicateGroups.Pair(a.getImageId(), m.getImageId(), m.getScore(), m.getExact(),
                m.getPdqDistance(), m.getCosine(), m.getLocalInliers()));
          }
        }
        lastGroups = groups.groups();
        System.out.println("group,kind,image,file");
        int n = 0;
        for (DuplicateGroups.Group g : lastGroups) {
          n++;
          for (String id : g.members()) {
            System.out.printf("%d,%s,%s,%s%n", n, g.exact() ? "exact" : "near", id, byId.get(id));
          }
        }
        Map<String, String> stats = new LinkedHashMap<>();
        stats.put("folder", dir.toAbsolutePath().toString());
        stats.put("images", String.valueOf(files.size()));
        stats.put("unreadable", String.valueOf(rejected));
        stats.put("groups", String.valueOf(lastGroups.size()));
        stats.put("time", String.format(Locale.ROOT, "%.1f s", secs));
        ScanReport.write(report, lastGroups, byId::get, "imgmatch scan of " + dir.getFileName(), stats);
        System.err.printf("scan: %d images (%d unreadable), %d duplicate group(s) in %.1f s; report: %s%n", files.size(),
            rejected, lastGroups.size(), secs, report.toAbsolutePath());
        if (rejected > 0) {
          System.err.println("scan: unreadable files are listed by `./imgmatch rejects` on a running stack; run with "
              + "./imgmatch hash FILE to see why one fails");
        }
      }
    } finally {
      if (temp) {
        ServiceSettings.deleteTree(data);
      }
    }
    return 0;
  }

  private static long rejected(LocalStack s) {
    return s.ingestCounters().entrySet().stream().filter(e -> e.getKey().startsWith("rejected."))
        .mapToLong(Map.Entry::getValue).sum() + s.embedderCounters().get("rejected");
  }

  private static long done(LocalStack s) {
    return s.indexedMin() + rejected(s);
  }

  @Override
  public int order() {
    return 5;
  }
}
