package dev.imgmatch.cli;

import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.avro.MatchedImage;
import dev.imgmatch.cli.samples.SampleSet;
import dev.imgmatch.cli.stack.LocalStack;
import dev.imgmatch.cli.stack.ServiceSettings;
import dev.imgmatch.client.AlertWatcher;
import dev.imgmatch.client.Uploader;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Future;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The README's main command: the whole pipeline on embedded defaults, on pictures it generates itself.
 * Exit status 0 when every copy was caught and nothing unrelated raised an alert.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = {"Run the whole pipeline locally on embedded defaults and watch copies being caught.",
        "Starts a local broker and the three services, generates sample pictures (originals, edited copies, "
            + "unrelated pictures), indexes the originals as 'protected', uploads the rest, prints each match alert "
            + "and a summary. Exit status 0 when every copy is caught with no false alarm."})
public final class DemoCommand implements CliCommand {
  @Option(names = "--originals", defaultValue = "14", description = "Originals to protect (default: ${DEFAULT-VALUE}).")
  int originals;

  @Option(names = "--unrelated", defaultValue = "14", description = "Unrelated uploads (default: ${DEFAULT-VALUE}).")
  int unrelated;

  @Option(names = "--seed", defaultValue = "1", description = "Seed of the generated pictures (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--data-dir", description = "Keep everything (broker data, index, samples) here instead of a temporary directory.")
  Path dataDir;

  @Option(names = "--bootstrap", description = "Use this Kafka cluster instead of starting a local broker.")
  String bootstrap;

  @Option(names = "--wait-seconds", defaultValue = "90", description = "How long to wait for the last alerts (default: ${DEFAULT-VALUE}).")
  int waitSeconds;

  private final PrintStream out = System.out;

  @Override
  public Integer call() throws Exception {
    boolean temp = dataDir == null;
    Path dir = temp ? Files.createTempDirectory("imgmatch-demo-") : dataDir;
    try {
      return run(dir);
    } finally {
      if (temp) {
        ServiceSettings.deleteTree(dir);
      }
    }
  }

  /** Summary of a run (also used by tests). */
  public record Summary(int copies, int caught, int missed, int falseAlarms, long p50Ms, long p99Ms, int exitStatus) {}

  private Summary last;

  public Summary lastSummary() {
    return last;
  }

  int run(Path dir) throws Exception {
    String prefix = "demo-" + Long.toHexString(System.nanoTime() & 0xffffff) + ".";
    progress("generating sample pictures (seed " + seed + "): " + originals + " originals, one edited copy each, "
        + unrelated + " unrelated");
    SampleSet samples = SampleSet.generate(dir.resolve("samples"), originals, unrelated, seed);

    LocalStack.Options opts = new LocalStack.Options(dir.resolve("stack"), bootstrap, prefix, 2, 0, Map.of(), Map.of(), Map.of());
    try (LocalStack stack = LocalStack.start(opts, this::progress)) {
      stack.endpoints().forEach((name, e) -> progress(name + " metrics: " + e.url("/metrics")));
      Map<String, String> copyOf = new HashMap<>(); // upload id -> original id
      Set<String> unrelatedIds = new HashSet<>();
      Map<String, String> idOfOriginal = new HashMap<>();
      for (Path o : samples.originals()) {
        idOfOriginal.put(o.toString(), "protected/" + o.getFileName());
      }
      try (Uploader up = new Uploader(stack.clientProps(), stack.topics());
          AlertWatcher watcher = new AlertWatcher(stack.clientProps(), stack.topics(), a -> printAlert(a))) {
        progress("indexing " + samples.originals().size() + " originals into collection 'protected' ...");
        long before = stack.indexedMin();
        List<Future<?>> sent = new ArrayList<>();
        for (Path o : samples.originals()) {
          sent.add(up.send(idOfOriginal.get(o.toString()), "demo", "protected", "demo", Files.readAllBytes(o),
              o.getFileName().toString(), Map.of()));
        }
        for (Future<?> f : sent) {
          f.get();
        }
        waitUntil(() -> stack.indexedMin() - before >= samples.originals().size(), 300, stack,
            () -> "indexed " + (stack.indexedMin() - before) + "/" + samples.originals().size());
        progress("originals indexed; uploading " + samples.copies().size() + " edited copies and " + samples.unrelated().size()
            + " unrelated pictures to 'uploads' ...");
        out.println();
        out.println("match alerts as they arrive:");
        List<Path> uploads = new ArrayList<>();
        samples.copies().forEach(c -> {
          uploads.add(c.file());
          copyOf.put("uploads/" + c.file().getFileName(), idOfOriginal.get(c.original().toString()));
        });
        uploads.addAll(samples.unrelated());
        samples.unrelated().forEach(u -> unrelatedIds.add("uploads/" + u.getFileName()));
        java.util.Collections.shuffle(uploads, new java.util.Random(seed));
        for (Path u : uploads) {
          up.send("uploads/" + u.getFileName(), "demo", "uploads", "demo", Files.readAllBytes(u),
              u.getFileName().toString(), Map.of());
        }
        up.flush();
        long beforeUploads = stack.indexedMin();
        waitUntil(() -> stack.indexedMin() - beforeUploads >= uploads.size(), waitSeconds, stack,
            () -> "processed " + (stack.indexedMin() - beforeUploads) + "/" + uploads.size() + " uploads");
        Thread.sleep(1500); // alerts are produced right after indexing; let the last ones arrive
        last = summarize(watcher.alerts(), copyOf, unrelatedIds);
        return last.exitStatus();
      }
    }
  }

  private Summary summarize(List<MatchAlert> alerts, Map<String, String> copyOf, Set<String> unrelatedIds) {
    Set<String> caught = new HashSet<>();
    List<String> falseAlarms = new ArrayList<>();
    List<Long> latencies = new ArrayList<>();
    for (MatchAlert a : alerts) {
      latencies.add(a.getAlertedAtMs() - a.getSubmittedAtMs());
      String want = copyOf.get(a.getImageId());
      boolean right = want != null && a.getMatches().stream().anyMatch(m -> m.getImageId().equals(want));
      if (right) {
        caught.add(a.getImageId());
      } else {
        falseAlarms.add(a.getImageId() + " ~ " + (a.getMatches().isEmpty() ? "?" : a.getMatches().getFirst().getImageId()));
      }
    }
    latencies.sort(Comparator.naturalOrder());
    long p50 = latencies.isEmpty() ? 0 : latencies.get((latencies.size() - 1) / 2);
    long p99 = latencies.isEmpty() ? 0 : latencies.get((int) Math.ceil(0.99 * latencies.size()) - 1);
    List<String> missed = copyOf.keySet().stream().filter(k -> !caught.contains(k)).sorted().toList();
    out.println();
    out.println("summary");
    out.printf(Locale.ROOT, "  copies caught : %d of %d%n", caught.size(), copyOf.size());
    out.printf(Locale.ROOT, "  missed        : %d%s%n", missed.size(), missed.isEmpty() ? "" : "  " + missed);
    out.printf(Locale.ROOT, "  false alarms  : %d%s (of %d unrelated uploads)%n", falseAlarms.size(),
        falseAlarms.isEmpty() ? "" : "  " + falseAlarms, unrelatedIds.size());
    out.printf(Locale.ROOT, "  upload -> alert latency: p50 %d ms, p99 %d ms (%d alerts)%n", p50, p99, latencies.size());
    int status = missed.isEmpty() && falseAlarms.isEmpty() ? 0 : 1;
    out.println(status == 0 ? "demo: OK: every copy caught, no false alarm" : "demo: FAILED: see missed / false alarms above");
    return new Summary(copyOf.size(), caught.size(), missed.size(), falseAlarms.size(), p50, p99, status);
  }

  private void printAlert(MatchAlert a) {
    MatchedImage m = a.getMatches().isEmpty() ? null : a.getMatches().getFirst();
    out.printf(Locale.ROOT, "  %-6s %-28s ~ %-22s score %.3f%s%s%s  %d ms%n", a.getDecision(), a.getImageId(),
        m == null ? "?" : m.getImageId(), a.getScore(), m != null && m.getExact() ? " exact" : "",
        m == null || m.getPdqDistance() == null ? "" : " pdq=" + m.getPdqDistance(),
        m == null || m.getCosine() == null ? "" : String.format(Locale.ROOT, " cos=%.3f", m.getCosine()),
        a.getAlertedAtMs() - a.getSubmittedAtMs());
    out.flush();
  }

  private void progress(String line) {
    System.err.println("demo: " + line);
  }

  private void waitUntil(java.util.function.BooleanSupplier done, int seconds, LocalStack stack,
      java.util.function.Supplier<String> status) throws InterruptedException {
    long deadline = System.currentTimeMillis() + seconds * 1000L;
    long nextReport = System.currentTimeMillis() + 5000;
    while (!done.getAsBoolean()) {
      String problem = stack.problem();
      if (problem != null) {
        throw new IllegalStateException(problem);
      }
      if (System.currentTimeMillis() > deadline) {
        progress("gave up waiting after " + seconds + " s: " + status.get());
        return;
      }
      if (System.currentTimeMillis() > nextReport) {
        progress(status.get());
        nextReport += 5000;
      }
      Thread.sleep(100);
    }
  }

  @Override
  public int order() {
    return 1;
  }
}
