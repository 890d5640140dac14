package dev.imgmatch.cli;

import dev.imgmatch.avro.MatchedImage;
import dev.imgmatch.avro.QueryReply;
import dev.imgmatch.avro.ReplyStatus;
import dev.imgmatch.client.QueryClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code ./imgmatch query IMAGE [-k N]} or {@code ./imgmatch query --id ID}: prints the ranked reply. */
@Command(name = "query", mixinStandardHelpOptions = true,
    description = {"Find the indexed images most similar to an image file (sent through ingest and the embedders,",
        "never indexed) or to an indexed image (--id). Prints rank,imageId,tenant,collection,score,exact,pdqDistance,cosine",
        "as CSV on stdout, best first; status and timing on stderr. Exit 1 when the reply is not OK or times out."})
public final class QueryCommand implements CliCommand {
  @Mixin ClientOptions kafka;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Target target;

  static final class Target {
    @Parameters(paramLabel = "IMAGE", description = "An image file to look up.")
    Path image;

    @Option(names = "--id", paramLabel = "ID", description = "An indexed image of the tenant to look up.")
    String id;
  }

  @Option(names = "--gather", description = "Fan-out deployments (one query.group.id per index-service instance): wait"
      + " for every instance's PARTIAL reply and print their merge.")
  boolean gather;

  @Option(names = {"-k"}, defaultValue = "10", description = "Number of results (default: ${DEFAULT-VALUE}).")
  int k;

  @Option(names = "--timeout", defaultValue = "30s",
      description = "How long to wait for the reply, e.g. 30s, 2m (default: ${DEFAULT-VALUE}).")
  String timeout;

  @Override
  public int order() {
    return 40;
  }

  @Override
  public Integer call() throws Exception {
    Duration t = parseDuration(timeout);
    if (k < 1 || k > 1000) {
      System.err.println("imgmatch query: -k must be 1-1000, got " + k);
      return 2;
    }
    byte[] bytes = null;
    if (target.image != null) {
      if (!Files.isRegularFile(target.image)) {
        System.err.println("imgmatch query: " + target.image + ": no such file");
        return 1;
      }
      bytes = Files.readAllBytes(target.image);
    }
    try (QueryClient client = new QueryClient(kafka.clientProps(), kafka.topics()).gatherPartials(gather)) {
      QueryReply r = (bytes != null
          ? client.byImage(kafka.tenant, bytes, target.image.getFileName().toString(), k, t)
          : client.byImageId(kafka.tenant, target.id, k, t)).get();
      System.out.println("rank,imageId,tenant,collection,score,exact,pdqDistance,cosine");
      int rank = 1;
      for (MatchedImage m : r.getResults()) {
        System.out.printf(Locale.ROOT, "%d,%s,%s,%s,%.4f,%s,%s,%s%n", rank++, m.getImageId(), m.getTenant(),
            m.getCollection(), m.getScore(), m.getExact(), m.getPdqDistance() == null ? "" : m.getPdqDistance(),
            m.getCosine() == null ? "" : String.format(Locale.ROOT, "%.4f", m.getCosine()));
      }
      System.err.printf("imgmatch query: %s, %d result(s), %d/%d shards, %d ms%s%n", r.getStatus(),
          r.getResults().size(), r.getShardsAnswered(), r.getShardsTotal(), r.getTookMs(),
          r.getError() == null ? "" : ": " + r.getError());
      return r.getStatus() == ReplyStatus.OK ? 0 : 1;
    } catch (ExecutionException e) {
      if (e.getCause() instanceof TimeoutException) {
        System.err.println("imgmatch query: no reply within " + timeout + " (is index-service running"
            + (bytes != null ? ", and ingest-stream and embedder-worker for image queries" : "") + "?)");
      } else {
        System.err.println("imgmatch query: " + e.getCause());
      }
      return 1;
    }
  }

  static Duration parseDuration(String s) {
    String v = s.trim().toLowerCase(Locale.ROOT);
    if (v.endsWith("ms")) {
      return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
    }
    if (v.endsWith("s")) {
      return Duration.ofSeconds(Long.parseLong(v.substring(0, v.length() - 1)));
    }
    if (v.endsWith("m")) {
      return Duration.ofMinutes(Long.parseLong(v.substring(0, v.length() - 1)));
    }
    return Duration.ofSeconds(Long.parseLong(v));
  }
}
