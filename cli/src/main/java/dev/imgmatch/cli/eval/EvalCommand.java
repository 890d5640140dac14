package dev.imgmatch.cli.eval;

import dev.imgmatch.avro.MatchedImage;
import dev.imgmatch.avro.QueryReply;
import dev.imgmatch.avro.ReplyStatus;
import dev.imgmatch.cli.stack.Instances;
import dev.imgmatch.cli.stack.LocalStack;
import dev.imgmatch.cli.stack.ServiceSettings;
import dev.imgmatch.client.ImageFiles;
import dev.imgmatch.client.QueryClient;
import dev.imgmatch.client.Uploader;
import dev.imgmatch.cli.CliCommand;
import dev.imgmatch.index.MatchPolicy;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The measuring instrument: the real pipeline on a benchmark split, scored like the benchmark's score.py. */
@Command(name = "eval", mixinStandardHelpOptions = true,
    description = {"Measure matching quality on a split: index --refs, query with every image of --queries through the "
        + "real pipeline, write PRED.csv (query,ref,score,match: up to 10 rows per query, best first; match = the "
        + "shipped defaults' alert decision) and, with --ground-truth, print µAP, recall@1, recall@10, decision "
        + "precision/recall and the share of negative queries that alerted (score.py's definitions), and NDCG@10 "
        + "(binary relevance, over the queries with a ground-truth ref; negative queries left out); with a queries.csv "
        + "giving transforms, then a per-family table (# lines: single edits and chains apart)."})
public final class EvalCommand implements CliCommand {
  @Option(names = "--refs", required = true, paramLabel = "DIR", description = "Reference images to index (id = file name without extension).")
  Path refs;

  @Option(names = "--queries", required = true, paramLabel = "DIR", description = "Query images.")
  Path queries;

  @Option(names = "--out", required = true, paramLabel = "PRED.csv", description = "Predictions to write.")
  Path out;

  @Option(names = "--ground-truth", paramLabel = "GT.csv", description = "query,ref rows: print the metrics. A queries.csv beside the queries gives kinds and transform families.")
  Path groundTruth;

  @Option(names = "--report", paramLabel = "DIR", description = "Write an HTML report (PR curve, recall per family, worst misses, false alarms).")
  Path report;

  @Option(names = "--bootstrap", description = "Use this Kafka cluster instead of starting a local broker.")
  String bootstrap;

  @Option(names = "--data-dir", description = "Keep the stack's data here instead of a temporary directory.")
  Path dataDir;

  @Option(names = "--in-flight", defaultValue = "32", description = "Queries in flight at once (default: ${DEFAULT-VALUE}).")
  int inFlight;

  @Option(names = "--set", paramLabel = "SERVICE:KEY=VALUE", description = "A setting for one service (ingest, embedder, index), to evaluate a variant.")
  List<String> settings = List.of();

  @Option(names = "--instances", paramLabel = "index=N,embedder=M,ingest=K", converter = Instances.Converter.class,
      description = "Run the benchmark through a cluster: this many instances of each service, each a process of "
          + "its own (services left out: 1; default: one of each, in this JVM).")
  Instances instances = Instances.ONE;

  /** The last run's metrics (tests). */
  Scoring.Result lastResult;

  public Scoring.Result lastResult() {
    return lastResult;
  }

  static final String TENANT = "eval";
  static final String COLLECTION = "refs";

  @Override
  public Integer call() throws Exception {
    List<Path> refFiles = ImageFiles.images(refs);
    List<Path> queryFiles = ImageFiles.images(queries);
    if (refFiles.isEmpty() || queryFiles.isEmpty()) {
      System.err.println("imgmatch eval: no images in " + (refFiles.isEmpty() ? refs : queries));
      return 2;
    }
    Map<String, Map<String, String>> sets = ServiceSettings.parse(settings);
    out = dev.imgmatch.cli.Main.prepareOutput(out); // before the run, not after it
    if (report != null) {
      dev.imgmatch.cli.Main.prepareOutput(report.resolve("index.html"));
    }
    boolean temp = dataDir == null;
    Path data = temp ? Files.createTempDirectory("imgmatch-eval-") : dataDir;
    String prefix = "eval-" + Long.toHexString(System.nanoTime() & 0xffffff) + ".";
    List<Scoring.Row> rows = new ArrayList<>();
    double queriesPerSecond;
    try {
      LocalStack.Options o = new LocalStack.Options(data.resolve("stack"), bootstrap, prefix, 1, -1,
          // the references are what copies are matched against: they get the small view, as protected ones do
          with(sets.getOrDefault("ingest", Map.of()), dev.imgmatch.ingest.IngestConfig.SMALL_VIEW_COLLECTIONS,
              COLLECTION), sets.getOrDefault("embedder", Map.of()),
          // and keep their local features (used when ingest.local.features is on), as protected ones do
          with(with(sets.getOrDefault("index", Map.of()), "match.rules", ""), "index.local.collections", COLLECTION),
          instances);
      try (LocalStack stack = LocalStack.start(o, line -> System.err.println("eval: " + line))) {
        MatchPolicy policy = stack.policy();
        long t0 = System.nanoTime();
        long before = stack.indexedMin();
        try (Uploader up = new Uploader(stack.clientProps(), stack.topics())) {
          for (Path f : refFiles) {
            up.send(ImageFiles.idOf(f), TENANT, COLLECTION, "eval", Files.readAllBytes(f), f.getFileName().toString(), Map.of());
          }
          up.flush();
        }
        awaitIndexed(stack, before, refFiles.size());
        System.err.printf(Locale.ROOT, "eval: %d references indexed in %.1f s%n", refFiles.size(), (System.nanoTime() - t0) / 1e9);

        long t1 = System.nanoTime();
        Semaphore window = new Semaphore(inFlight);
        Map<String, CompletableFuture<QueryReply>> replies = new LinkedHashMap<>();
        int[] doneCount = {0};
        try (QueryClient client = new QueryClient(stack.clientProps(), stack.topics())) {
          for (Path f : queryFiles) {
            window.acquire();
            CompletableFuture<QueryReply> r = client.byImage(TENANT, Files.readAllBytes(f), f.getFileName().toString(), 10,
                Duration.ofMinutes(5));
            r.whenComplete((x, e) -> {
              window.release();
              synchronized (doneCount) {
                if (++doneCount[0] % 50 == 0) {
                  System.err.printf("eval: %d of %d queries answered%n", doneCount[0], queryFiles.size());
                }
              }
            });
            replies.put(ImageFiles.idOf(f), r);
          }
          int failed = 0;
          for (var e : replies.entrySet()) {
            QueryReply reply;
            try {
              reply = e.getValue().get();
            } catch (Exception ex) {
              System.err.println("eval: query " + e.getKey() + " failed: " + ex.getCause());
              failed++;
              continue;
            }
            if (reply.getStatus() != ReplyStatus.OK) {
              System.err.println("eval: query " + e.getKey() + ": " + reply.getStatus() + " " + reply.getError());
              failed++;
            }
            List<MatchedImage> results = new ArrayList<>(reply.getResults());
            results.sort(Comparator.comparingDouble(MatchedImage::getScore).reversed());
            for (MatchedImage m : results.subList(0, Math.min(10, results.size()))) {
              boolean match = policy.alerts(policy.decide(m.getScore()));
              rows.add(new Scoring.Row(e.getKey(), m.getImageId(), m.getScore(), match));
            }
          }
          queriesPerSecond = queryFiles.size() / ((System.nanoTime() - t1) / 1e9);
          System.err.printf(Locale.ROOT, "eval: %d queries answered in %.1f s (%.1f query images/s end to end)%s%n",
              queryFiles.size(), (System.nanoTime() - t1) / 1e9, queriesPerSecond, failed > 0 ? ", " + failed + " failed" : "");
        }
      }
    } finally {
      if (temp) {
        ServiceSettings.deleteTree(data);
      }
    }
    try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(out))) {
      w.println("query,ref,score,match");
      for (Scoring.Row r : rows) {
        w.printf(Locale.ROOT, "%s,%s,%.6f,%s%n", r.query(), r.ref(), r.score(), r.match());
      }
    }
    System.err.println("eval: wrote " + rows.size() + " rows to " + out.toAbsolutePath());
    if (groundTruth != null) {
      Path queriesCsv = queries.resolveSibling("queries.csv");
      Set<String> allQueries = queryFiles.stream().map(ImageFiles::idOf).collect(Collectors.toSet());
      Scoring.Truth truth = Scoring.readTruth(groundTruth, queriesCsv, allQueries);
      lastResult = Scoring.score(rows, truth);
      lastResult.asMap().forEach((k, v) -> System.out.println(k + ": " + v));
      System.out.printf(Locale.ROOT, "query_images_per_s: %.2f%n", queriesPerSecond);
      EvalReport.familyTable(EvalReport.perFamilyAloneAndInChains(rows, truth)).forEach(System.out::println);
      if (report != null) {
        Map<String, Path> q = queryFiles.stream().collect(Collectors.toMap(ImageFiles::idOf, p -> p, (a, b) -> a));
        Map<String, Path> r = refFiles.stream().collect(Collectors.toMap(ImageFiles::idOf, p -> p, (a, b) -> a));
        EvalReport.write(report, lastResult, rows, truth, q::get, r::get,
            Map.of("query images/s (end to end)", String.format(Locale.ROOT, "%.2f", queriesPerSecond),
                "references", String.valueOf(refFiles.size())));
        System.err.println("eval: report in " + report.resolve("index.html").toAbsolutePath());
      }
    }
    return 0;
  }

  private static Map<String, String> with(Map<String, String> m, String k, String v) {
    Map<String, String> out = new TreeMap<>(m);
    out.putIfAbsent(k, v); // references are only indexed, never matched against each other
    return out;
  }

  private static void awaitIndexed(LocalStack stack, long before, int n) throws InterruptedException {
    long next = System.currentTimeMillis() + 5000;
    while (stack.indexedMin() - before < n) {
      if (stack.problem() != null) {
        throw new IllegalStateException(stack.problem());
      }
      long rejected = stack.ingestCounters().entrySet().stream()
          .filter(e -> e.getKey().startsWith("rejected.")).mapToLong(Map.Entry::getValue).sum();
      if (stack.indexedMin() - before + rejected >= n) {
        System.err.println("eval: " + rejected + " reference(s) were rejected as unreadable");
        return;
      }
      if (System.currentTimeMillis() > next) {
        System.err.printf("eval: %d of %d references indexed%n", stack.indexedMin() - before, n);
        next += 5000;
      }
      Thread.sleep(100);
    }
  }

  @Override
  public int order() {
    return 6;
  }
}
