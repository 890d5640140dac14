package dev.imgmatch.cli;

import dev.imgmatch.cli.reindex.Reindex;
import dev.imgmatch.common.KafkaResources;
import dev.imgmatch.common.Settings;
import dev.imgmatch.embedder.Embedder;
import dev.imgmatch.embedder.EmbedderOptions;
import dev.imgmatch.embedder.worker.EmbedderWorkerConfig;
import dev.imgmatch.ingest.IngestConfig;
import dev.imgmatch.ingest.OriginalPreparation;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ./imgmatch reindex --model-version V}: a model upgrade of a running deployment ({@link Reindex}): the kept
 * originals re-embedded with the new version beside the old one, new uploads and queries switched to it, the old
 * descriptors retired; uploads go on alerting throughout.
 */
@Command(name = "reindex", mixinStandardHelpOptions = true,
    description = {"Upgrade the model of a running deployment: re-embed the kept originals (topic originals) with the "
        + "new model version beside the old one, switch new uploads and queries to it (topic model-serving; every "
        + "embedder-worker must have it as descriptor.next.head), then retire the old descriptors. Uploads keep "
        + "flowing and alerting throughout; running it again is harmless.",
        "The new version's descriptor comes from --embedder-config (its descriptor.next.* settings, model and cache) "
            + "or --head. docs/OPERATIONS.md, Model upgrades."})
public final class ReindexCommand implements CliCommand {
  @Mixin KafkaOptions kafka;

  @Option(names = "--model-version", required = true, paramLabel = "V",
      description = "The version to move to, as the new descriptor names it (the embedder-worker logs it: 'next model "
          + "version V loaded'); refused when the descriptor settings give another.")
  String version;

  @Option(names = "--embedder-config", paramLabel = "FILE",
      description = "The embedder-workers' settings file (model, cache.dir, descriptor.next.head, ...).")
  Path embedderConfig;

  @Option(names = "--ingest-config", paramLabel = "FILE",
      description = "ingest-stream's settings file, so that originals get the views its uploads get (default: the "
          + "defaults).")
  Path ingestConfig;

  @Option(names = "--head", description = "The new version's descriptor head (as descriptor.next.head); default: "
      + "descriptor.next.head of --embedder-config.")
  String head;

  @Option(names = "--dims", description = "Output dimension of a fitted new head (as descriptor.next.dims).")
  Integer dims;

  @Option(names = "--index-group", description = "index-service's consumer group (default: <topic prefix>"
      + KafkaResources.INDEX_GROUP + ").")
  String indexGroup;

  @Option(names = "--settle", defaultValue = "30", paramLabel = "SECONDS",
      description = "After the switch, how long no record of an older version must arrive before the older "
          + "descriptors are retired (default: ${DEFAULT-VALUE}).")
  int settleSeconds;

  @Option(names = "--timeout", defaultValue = "1800", paramLabel = "SECONDS",
      description = "Longest wait for index-service or for the workers to switch (default: ${DEFAULT-VALUE}).")
  int timeoutSeconds;

  @Option(names = "--no-retire", description = "Stop after the switch and keep the older descriptors.")
  boolean noRetire;

  @Option(names = "--batch", defaultValue = "8", description = "Originals per model call (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--requested-by", defaultValue = "${env:USER:-cli}", description = "Who runs it (audit trail).")
  String requestedBy;

  @Override
  public int order() {
    return 46;
  }

  @Override
  public Integer call() throws Exception {
    Map<String, String> em = new HashMap<>(embedderConfig == null ? Map.of() : Settings.readFile(embedderConfig));
    if (head != null) {
      em.put(EmbedderWorkerConfig.DESCRIPTOR_NEXT_HEAD, head);
    }
    if (dims != null) {
      em.put(EmbedderWorkerConfig.DESCRIPTOR_NEXT_DIMS, String.valueOf(dims));
    }
    EmbedderOptions next = new EmbedderWorkerConfig(em).nextEmbedderOptions();
    if (next == null) {
      System.err.println("imgmatch reindex: which descriptor makes version " + version + "? Give --head, or "
          + "--embedder-config with descriptor.next.head");
      return 2;
    }
    Map<String, String> im = ingestConfig == null ? Map.of() : Settings.readFile(ingestConfig);
    OriginalPreparation prep = OriginalPreparation.of(new IngestConfig(im));
    String group = indexGroup != null ? indexGroup : kafka.topics().prefix() + KafkaResources.INDEX_GROUP;
    try (Embedder e = Embedder.open(next, m -> System.err.println("imgmatch reindex: " + m))) {
      Embedder.requireIndexable(e);
      Reindex r = new Reindex(kafka.clientProps(), kafka.topics(), group, prep, e,
          new Reindex.Options(version, requestedBy, Duration.ofSeconds(settleSeconds),
              Duration.ofSeconds(timeoutSeconds), !noRetire, batch),
          m -> System.err.println("imgmatch reindex: " + m));
      Reindex.Result res = r.run();
      System.out.printf("reembedded,failed,switched,retired%n%d,%d,%b,%b%n", res.reembedded(), res.failed(),
          res.switched(), res.retired());
      return res.retired() || (noRetire && res.switched()) ? 0 : 1;
    } catch (IllegalArgumentException | IllegalStateException ex) {
      System.err.println("imgmatch reindex: " + ex.getMessage());
      return 1;
    }
  }
}
