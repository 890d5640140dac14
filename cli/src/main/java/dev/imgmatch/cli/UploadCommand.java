package dev.imgmatch.cli;

import dev.imgmatch.client.ImageFiles;
import dev.imgmatch.client.Uploader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.RecordMetadata;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "upload", mixinStandardHelpOptions = true,
    description = {"Upload image files (or every image in directories, recursively) to the uploads topic.",
        "Prints id,file,bytes,partition,offset per image on stdout; problems on stderr."})
final class UploadCommand implements CliCommand {
  @Mixin KafkaOptions kafka;

  @Parameters(arity = "1..*", paramLabel = "FILE|DIR", description = "Images, or directories to upload every image of.")
  List<Path> inputs;

  @Option(names = "--collection", defaultValue = "uploads",
      description = "Collection: protected, banned, uploads, ... (default: ${DEFAULT-VALUE}).")
  String collection;

  @Option(names = "--tenant", defaultValue = "${env:IMGMATCH_TENANT:-default}", description = "Tenant (default: ${DEFAULT-VALUE}).")
  String tenant;

  @Option(names = "--source", description = "Source recorded with each image.")
  String source;

  @Option(names = "--id-prefix", defaultValue = "", description = "Prefix for image ids (an id is the prefix + the file's path relative to its argument).")
  String idPrefix;

  @Override
  public Integer call() throws Exception {
    List<Path[]> files = new ArrayList<>(); // {file, base}
    int failed = 0;
    for (Path in : inputs) {
      if (Files.isDirectory(in)) {
        ImageFiles.imagesUnder(in).forEach(f -> files.add(new Path[] {f, in}));
      } else if (Files.isRegularFile(in)) {
        files.add(new Path[] {in, in.toAbsolutePath().getParent()});
      } else {
        System.err.println("imgmatch upload: " + in + ": no such file or directory");
        failed++;
      }
    }
    List<Pending> pending = new ArrayList<>();
    String topic;
    try (Uploader up = new Uploader(kafka.clientProps(), kafka.topics())) {
      topic = up.topic();
      for (Path[] fb : files) {
        Path f = fb[0];
        long size = Files.size(f);
        if (size > Uploader.MAX_INLINE_BYTES) {
          System.err.printf("imgmatch upload: %s: %d bytes is over the %d-byte inline limit; skipped%n", f, size,
              Uploader.MAX_INLINE_BYTES);
          failed++;
          continue;
        }
        String id = idPrefix + idFor(f, fb[1]);
        try {
          pending.add(new Pending(id, f, size, up.send(id, tenant, collection, source, Files.readAllBytes(f),
              f.getFileName().toString(), Map.of())));
        } catch (IllegalArgumentException e) { // a field over its bound (Limits): ingest-stream would reject it
          System.err.printf("imgmatch upload: %s: %s; skipped%n", f, e.getMessage());
          failed++;
        }
      }
      up.flush();
    }
    System.out.println("id,file,bytes,partition,offset");
    int sent = 0;
    for (Pending p : pending) {
      try {
        RecordMetadata md = p.result().get();
        System.out.printf("%s,%s,%d,%d,%d%n", p.id(), p.file(), p.bytes(), md.partition(), md.offset());
        sent++;
      } catch (Exception e) {
        System.err.println("imgmatch upload: " + p.file() + ": " + Main.message(e));
        failed++;
      }
    }
    System.err.printf("imgmatch upload: %d image(s) sent to %s at %s as tenant '%s', collection '%s'%s%n",
        sent, topic, kafka.bootstrap(), tenant, collection,
        failed > 0 ? "; " + failed + " failed" : "");
    return failed > 0 ? 1 : 0;
  }

  private record Pending(String id, Path file, long bytes, Future<RecordMetadata> result) {}

  static String idFor(Path file, Path base) {
    Path rel = base == null ? file.getFileName() : base.toAbsolutePath().relativize(file.toAbsolutePath());
    return rel.toString().replace('\\', '/');
  }

  @Override
  public int order() {
    return 20;
  }
}
