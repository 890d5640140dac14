package dev.imgmatch.cli;

import dev.imgmatch.ingest.ImagePreparer;
import dev.imgmatch.ingest.IngestConfig;
import dev.imgmatch.ingest.image.ImageRejectedException;
import dev.imgmatch.ingest.image.RejectReason;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code ./imgmatch hash FILE...}: SHA-256 and PDQ of image files, through the same validation, decoding and
 * hashing code as ingest-stream ({@link ImagePreparer}), with the same settings (file, environment).
 */
@Command(name = "hash", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Print file,sha256,pdq,quality,md5 for each image (CSV, header first), exactly as ingest-stream "
        + "computes them. An unreadable or refused file gets a one-line reason on stderr; the exit status is 1 "
        + "if any file failed."})
public final class HashCommand implements CliCommand {
  @Parameters(arity = "1..*", paramLabel = "FILE", description = "Image files (JPEG, PNG, GIF, WebP, BMP, TIFF).")
  List<Path> files;

  @Option(names = "--config", paramLabel = "FILE",
      description = "ingest-stream settings file (limits, subsampling); IMGMATCH_* environment variables apply too.")
  Path config;

  @Option(names = "--full-resolution",
      description = "Always decode at full resolution (ingest.decode.subsample.min.side=0): bit-exact with the "
          + "reference PDQ on large images, slower.")
  boolean fullResolution;

  @Spec
  CommandSpec spec;

  @Override
  public int order() {
    return 20;
  }

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    IngestConfig cfg;
    try {
      cfg = IngestConfig.load(config, System.getenv(),
          fullResolution ? Map.of(IngestConfig.SUBSAMPLE_MIN_SIDE, "0") : Map.of());
    } catch (ConfigException | IllegalArgumentException e) {
      err.println("hash: invalid settings: " + e.getMessage());
      return 2;
    }
    ImagePreparer preparer = ImagePreparer.of(cfg);
    int maxBytes = cfg.imageLimits().maxBytes();
    int failed = 0;
    out.println("file,sha256,pdq,quality,md5");
    for (Path f : files) {
      try {
        if (!Files.isRegularFile(f)) {
          throw new IOException(Files.exists(f) ? "not a regular file" : "no such file");
        }
        if (Files.size(f) > maxBytes) {
          throw new ImageRejectedException(RejectReason.IMAGE_TOO_LARGE,
              "the file is " + Files.size(f) + " bytes, more than the limit of " + maxBytes);
        }
        ImagePreparer.Fingerprint fp = preparer.fingerprint(Files.readAllBytes(f));
        out.println(csv(f.toString()) + "," + HexFormat.of().formatHex(fp.sha256()) + "," + fp.pdq().hash().toHex()
            + "," + fp.pdq().hash().quality() + "," + HexFormat.of().formatHex(fp.md5()));
      } catch (ImageRejectedException e) {
        failed++;
        err.println(f + ": " + e.reason() + ": " + e.getMessage());
      } catch (IOException e) {
        failed++;
        err.println(f + ": cannot read: " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
      }
      out.flush();
    }
    err.flush();
    return failed == 0 ? 0 : 1;
  }

  static String csv(String s) {
    return s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
  }
}
