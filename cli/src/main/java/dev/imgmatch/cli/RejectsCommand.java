package dev.imgmatch.cli;

import dev.imgmatch.avro.Reject;
import dev.imgmatch.client.TopicReader;
import dev.imgmatch.schemas.RecordDecodingException;
import dev.imgmatch.schemas.Topic;
import dev.imgmatch.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "rejects", mixinStandardHelpOptions = true,
    description = {"Print dead letters (records a stage refused) with their reason: everything so far, or --follow.",
        "--redrive --reason R re-submits the selected ones to the topic they came from (docs/OPERATIONS.md, Dead letters)."})
final class RejectsCommand implements CliCommand {
  @Mixin KafkaOptions kafka;

  @Option(names = {"-f", "--follow"}, description = "Keep printing new rejects until Ctrl-C.")
  boolean follow;

  @Option(names = "--reason", split = ",", paramLabel = "CODE",
      description = "Only rejects of these reason codes (e.g. EMBEDDING_FAILED,OUTPUT_FAILED); required with --redrive.")
  List<String> reasons = new ArrayList<>();

  @Option(names = "--stage", split = ",", paramLabel = "STAGE",
      description = "Only rejects of these stages: ingest-stream, embedder-worker, index-service.")
  List<String> stages = new ArrayList<>();

  @Option(names = "--source-topic", split = ",", paramLabel = "TOPIC",
      description = "Only rejects read from these topics (with or without the prefix: uploads, prepared, ...).")
  List<String> sourceTopics = new ArrayList<>();

  @Option(names = "--since", paramLabel = "TIME",
      description = "Only rejects from this time on (rejectedAtMs): epoch ms or ISO-8601 (2026-12-03T10:15:00Z, 2026-12-03 = midnight UTC).")
  String since;

  @Option(names = "--until", paramLabel = "TIME", description = "Only rejects before this time (same forms as --since).")
  String until;

  @Option(names = "--redrive",
      description = "Re-submit each selected reject's original key and value to its source topic (one of this stack's input topics), then remember how far it got in a consumer group.")
  boolean redrive;

  @Option(names = "--dry-run", description = "With --redrive: print what would be re-submitted; produce and commit nothing.")
  boolean dryRun;

  @Option(names = "--limit", paramLabel = "N", description = "With --redrive: stop after re-submitting N rejects (the next run continues).")
  Long limit;

  @Option(names = "--group", paramLabel = "GROUP",
      description = "With --redrive: the consumer group remembering what was redriven (default: <prefix>rejects-redrive-<reasons>-<hash of the selection>).")
  String group;

  @Option(names = "--from-beginning", description = "With --redrive: ignore the group's position and read every reject again.")
  boolean fromBeginning;

  @Override
  public Integer call() {
    Topics topics = kafka.topics();
    RejectSelection selection;
    try {
      selection = selection(topics);
    } catch (IllegalArgumentException e) {
      return usage(e.getMessage());
    }
    if (!redrive) {
      if (dryRun || limit != null || group != null || fromBeginning) {
        return usage("--dry-run, --limit, --group and --from-beginning go with --redrive");
      }
      return print(topics, selection);
    }
    if (reasons.stream().allMatch(String::isBlank)) {
      return usage("--redrive needs --reason CODE[,CODE...]: it never re-submits every reject at once");
    }
    if (follow) {
      return usage("--redrive reads up to the end of the topic; it does not --follow");
    }
    if (limit != null && limit < 1) {
      return usage("--limit must be at least 1");
    }
    String g = group != null ? group : selection.defaultGroup(topics);
    if (!g.startsWith(topics.prefix())) {
      System.err.printf("imgmatch rejects: warning: group '%s' is outside the topic prefix '%s' (PREFIXED ACLs on the "
          + "prefix do not cover it)%n", g, topics.prefix());
    }
    RejectRedrive.Summary s = new RejectRedrive(kafka.clientProps(), topics, selection, g, fromBeginning, dryRun,
        limit == null ? 0 : limit, System.out, System.err, 5000).run();
    System.out.flush();
    System.err.println(summary(s, g));
    return s.notResubmitted() > 0 ? 1 : 0;
  }

  private RejectSelection selection(Topics topics) {
    Long sinceMs = since == null ? null : RejectSelection.parseTime(since);
    Long untilMs = until == null ? null : RejectSelection.parseTime(until);
    return RejectSelection.of(topics, reasons, stages, sourceTopics, sinceMs, untilMs);
  }

  private String summary(RejectRedrive.Summary s, String g) {
    StringBuilder b = new StringBuilder("imgmatch rejects: ").append(dryRun ? "dry run: " : "redrive: ")
        .append(s.read()).append(" read; ").append(s.resubmitted()).append(dryRun ? " would be re-submitted" : " re-submitted")
        .append("; skipped: ").append(s.incomplete()).append(" incomplete payload, ").append(s.foreign())
        .append(" foreign source topic, ").append(s.notSelected()).append(" not selected (other reason, stage, source or time)");
    if (s.unreadable() > 0) {
      b.append(", ").append(s.unreadable()).append(" unreadable");
    }
    if (s.failed() > 0) {
      b.append("; ").append(s.failed()).append(" FAILED: stopped there; group ").append(g)
          .append(" resumes at the first failure of each partition (run again once the cause is fixed)");
    } else if (s.stoppedAtLimit()) {
      b.append("; stopped at --limit ").append(limit).append(dryRun ? "" : "; run again to continue (group " + g + ")");
    } else if (!dryRun) {
      b.append("; group ").append(g).append(" is at the end of the topic");
    }
    if (s.incomplete() + s.foreign() > 0) {
      b.append(". Skipped rejects cannot be redriven: re-send those records from their origin");
    }
    return b.toString();
  }

  private static int usage(String message) {
    System.err.println("imgmatch rejects: " + message);
    return 2;
  }

  private Integer print(Topics topics, RejectSelection selection) {
    Topic<byte[], Reject> topic = topics.rejects();
    System.out.println("stage,reason,source,key,message,sha256,md5");
    TopicReader.read(kafka.clientProps(), topic.name(), follow, r -> {
      try {
        Reject j = topic.deserializeValue(r.value());
        if (!selection.selects(j)) {
          return;
        }
        String key = j.getOriginalKey() == null ? "" : StandardCharsets.UTF_8.decode(j.getOriginalKey().duplicate()).toString();
        System.out.printf("%s,%s,%s-%d@%d,%s,\"%s\",%s,%s%n", j.getStage(), j.getReasonCode(), j.getSourceTopic(),
            j.getSourcePartition(), j.getSourceOffset(), key, j.getMessage().replace("\"", "'"),
            j.getSha256() == null ? "" : HexFormat.of().formatHex(j.getSha256().bytes()),
            j.getMd5() == null ? "" : HexFormat.of().formatHex(j.getMd5().bytes()));
      } catch (RecordDecodingException e) {
        System.err.printf("imgmatch rejects: %s-%d@%d: %s%n", r.topic(), r.partition(), r.offset(), e.getMessage());
      }
    });
    return 0;
  }

  @Override
  public int order() {
    return 23;
  }
}
