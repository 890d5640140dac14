package dev.imgmatch.cli;

import dev.imgmatch.embedder.Embedder;
import dev.imgmatch.embedder.EmbedderOptions;
import dev.imgmatch.embedder.model.RgbImage;
import dev.imgmatch.embedder.worker.RecordEmbedding;
import dev.imgmatch.avro.ImageView;
import dev.imgmatch.avro.PixelEncoding;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ./imgmatch embed FILE...}: the descriptor of each file as CSV on stdout, header
 * {@code file,model,dim,v1..vN}, computed on exactly the worker's path (the file travels as a PNG/JPEG view, is
 * decoded and resized like a prepared record's view, then model + head).
 */
@Command(name = "embed", mixinStandardHelpOptions = true,
    description = "Print the descriptor of each image as CSV: file,model,dim,v1,v2,... (header first).")
public final class EmbedCommand implements CliCommand {
  @Parameters(arity = "1..*", paramLabel = "FILE", description = "Image files (JPEG, PNG, ...).")
  List<Path> files = new ArrayList<>();

  @Option(names = "--head", description = "Descriptor head: learned-whiten (default), pca-whiten, center, none or a "
      + ".head file.")
  String head = EmbedderOptions.HEAD_LW;

  @Option(names = "--cache-dir", description = "Model cache (default ${DEFAULT-VALUE} or IMGMATCH_CACHE_DIR).")
  Path cacheDir = EmbedderOptions.defaultCacheDir();

  @Option(names = "--scores", description = "Append the class probabilities (class=p) after the vector.")
  boolean scores;

  PrintStream out = System.out;
  PrintStream err = System.err;

  @Override
  public int order() {
    return 40;
  }

  @Override
  public Integer call() {
    int failed = 0;
    try (Embedder e = Embedder.open(EmbedderOptions.defaults().withCacheDir(cacheDir).withHead(head), err::println)) {
      StringBuilder header = new StringBuilder("file,model,dim");
      for (int i = 1; i <= e.dim(); i++) {
        header.append(",v").append(i);
      }
      out.println(header);
      for (Path f : files) {
        try {
          byte[] bytes = Files.readAllBytes(f);
          // TODO(ingest-stream): switch to ingest-stream's decoder (orientation, alpha, limits) once it lands
          ImageView view = ImageView.newBuilder().setName("full").setWidth(0).setHeight(0)
              .setEncoding(bytes.length > 3 && (bytes[0] & 255) == 0xFF ? PixelEncoding.JPEG : PixelEncoding.PNG)
              .setPixels(ByteBuffer.wrap(bytes)).build();
          RgbImage img = RecordEmbedding.picture(f.toString(), view);
          Embedder.Embedding v = e.embed(List.of(img)).get(0);
          StringBuilder row = new StringBuilder(csv(f.toString())).append(',').append(e.modelId()).append('@')
              .append(e.modelVersion()).append(',').append(e.dim());
          for (float x : v.vector()) {
            row.append(',').append(String.format(Locale.ROOT, "%.6g", x));
          }
          if (scores) {
            v.classScores().forEach((k, p) -> row.append(',').append(k).append('=')
                .append(String.format(Locale.ROOT, "%.4f", p)));
          }
          out.println(row);
        } catch (Exception ex) {
          failed++;
          err.println("embed: " + f + ": " + ex.getMessage());
        }
      }
    } catch (RuntimeException ex) {
      err.println("embed: " + ex.getMessage());
      return 1;
    }
    return failed == 0 ? 0 : 1;
  }

  private static String csv(String s) {
    return s.contains(",") || s.contains("\"") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
  }
}
