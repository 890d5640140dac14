package dev.imgmatch.cli;

import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.avro.MatchedImage;
import dev.imgmatch.client.TopicReader;
import dev.imgmatch.schemas.RecordDecodingException;
import dev.imgmatch.schemas.Topic;
import java.util.HexFormat;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "alerts", mixinStandardHelpOptions = true,
    description = {"Print match alerts: everything so far, then exit (or keep following with --follow).",
        "One line per alert: decision, score, upload, best match and its signals, upload-to-alert latency."})
final class AlertsCommand implements CliCommand {
  @Mixin KafkaOptions kafka;

  @Option(names = {"-f", "--follow"}, description = "Keep printing new alerts until Ctrl-C.")
  boolean follow;

  @Option(names = "--csv", description = "CSV instead of text: image,tenant,collection,decision,score,detector,match,match_collection,exact,pdq_distance,cosine,latency_ms,sha256,md5,pdq")
  boolean csv;

  @Override
  public Integer call() {
    Topic<String, MatchAlert> topic = kafka.topics().matchAlerts();
    if (csv) {
      System.out.println("image,tenant,collection,decision,score,detector,match,match_collection,exact,pdq_distance,cosine,latency_ms,sha256,md5,pdq");
    }
    TopicReader.read(kafka.clientProps(), topic.name(), follow, r -> {
      try {
        MatchAlert a = topic.deserializeValue(r.value());
        System.out.println(csv ? csv(a) : text(a));
      } catch (RecordDecodingException e) {
        System.err.printf("imgmatch alerts: %s-%d@%d: %s%n", r.topic(), r.partition(), r.offset(), e.getMessage());
      }
    });
    return 0;
  }

  static String text(MatchAlert a) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "%-6s %.3f  %s (%s/%s)", a.getDecision(), a.getScore(), a.getImageId(),
        a.getTenant(), a.getCollection()));
    if (!a.getMatches().isEmpty()) {
      MatchedImage m = a.getMatches().getFirst();
      sb.append(String.format(Locale.ROOT, "  ~ %s [%s]%s%s%s", m.getImageId(), m.getCollection(),
          m.getExact() ? " exact" : "",
          m.getPdqDistance() == null ? "" : " pdq=" + m.getPdqDistance(),
          m.getCosine() == null ? "" : String.format(Locale.ROOT, " cos=%.3f", m.getCosine())));
      if (a.getMatches().size() > 1) {
        sb.append(" (+").append(a.getMatches().size() - 1).append(" more)");
      }
    }
    sb.append("  via ").append(a.getDetector()).append(", ").append(a.getAlertedAtMs() - a.getSubmittedAtMs()).append(" ms");
    return sb.toString();
  }

  static String csv(MatchAlert a) {
    MatchedImage m = a.getMatches().isEmpty() ? null : a.getMatches().getFirst();
    return String.join(",", a.getImageId(), a.getTenant(), a.getCollection(), a.getDecision().toString(),
        String.format(Locale.ROOT, "%.4f", a.getScore()), a.getDetector(),
        m == null ? "" : m.getImageId(), m == null ? "" : m.getCollection(), m == null ? "" : String.valueOf(m.getExact()),
        m == null || m.getPdqDistance() == null ? "" : String.valueOf(m.getPdqDistance()),
        m == null || m.getCosine() == null ? "" : String.format(Locale.ROOT, "%.4f", m.getCosine()),
        String.valueOf(a.getAlertedAtMs() - a.getSubmittedAtMs()),
        a.getSha256() == null ? "" : HexFormat.of().formatHex(a.getSha256().bytes()),
        a.getMd5() == null ? "" : HexFormat.of().formatHex(a.getMd5().bytes()),
        a.getPdq() == null ? "" : HexFormat.of().formatHex(a.getPdq().getHash().bytes()));
  }

  @Override
  public int order() {
    return 21;
  }
}
