package dev.imgmatch.embedder.model;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * Which SavedModel computes the features, and how pixels are fed to it. Any TensorFlow SavedModel whose signature
 * takes a float NHWC batch of RGB pictures and returns a pooled feature vector per picture plugs in here.
 *
 * <p>Pixel normalisation: a channel value {@code p} in 0..255 is fed as {@code (p / 255 - mean[c]) / std[c]};
 * e.g. mean 0 and std 1 for models that expect [0,1] (nsfwjs, whose graph maps to [-1,1] itself), or mean 0.5 and
 * std 0.5 for [-1,1], or the ImageNet mean/std.
 *
 * @param id model id written into every embedding (e.g. {@code mobilenet_v2_140-nsfwjs})
 * @param path the SavedModel folder (holds saved_model.pb)
 * @param signature signature key, e.g. {@code serving_default}
 * @param input the signature's input name
 * @param featuresOutput the signature's output name of the pooled features, shape [batch, dim]
 * @param scoresOutput the signature's output of class probabilities [batch, classes], or null
 * @param classNames names of the classes, in output order (empty when scoresOutput is null)
 * @param width model input width in pixels
 * @param height model input height in pixels
 * @param mean per-channel mean (R, G, B) subtracted after scaling to [0,1]
 * @param std per-channel divisor (R, G, B)
 * @param inputsIdentity for a model imgmatch builds itself: what it is built from (package and its SHA-256, converter
 *     version), used instead of the SavedModel's bytes, which the conversion does not reproduce byte for byte; null
 *     for a SavedModel given as such
 */
public record ModelSpec(String id, Path path, String signature, String input, String featuresOutput,
    String scoresOutput, List<String> classNames, int width, int height, float[] mean, float[] std,
    String inputsIdentity) {

  /** A SavedModel given as such: its identity is its files' digest. */
  public ModelSpec(String id, Path path, String signature, String input, String featuresOutput, String scoresOutput,
      List<String> classNames, int width, int height, float[] mean, float[] std) {
    this(id, path, signature, input, featuresOutput, scoresOutput, classNames, width, height, mean, std, null);
  }

  public ModelSpec {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(signature, "signature");
    Objects.requireNonNull(input, "input");
    Objects.requireNonNull(featuresOutput, "featuresOutput");
    classNames = List.copyOf(classNames);
    if (width < 8 || height < 8 || width > 4096 || height > 4096) {
      throw new IllegalArgumentException("model input size " + width + "x" + height + " is outside 8..4096");
    }
    if (mean.length != 3 || std.length != 3) {
      throw new IllegalArgumentException("mean and std need 3 values (R,G,B), got " + mean.length + " and " + std.length);
    }
    for (float s : std) {
      if (!(s > 0)) {
        throw new IllegalArgumentException("std values must be > 0, got " + s);
      }
    }
    mean = mean.clone();
    std = std.clone();
  }

  /** Everything about preprocessing that changes the vectors, as one line (part of the model version). */
  public String preprocessing() {
    return "resize=" + ImageOps.RESIZE_METHOD + " " + width + "x" + height + " mean=" + java.util.Arrays.toString(mean)
        + " std=" + java.util.Arrays.toString(std) + " in=" + input + " sig=" + signature + " out=" + featuresOutput;
  }

  /**
   * What identifies the weights (part of the model version): the inputs' identity of a model imgmatch builds, else
   * the SHA-256 over every file of the SavedModel (relative path and bytes), hex.
   */
  public String weightsDigest() {
    if (inputsIdentity != null) {
      return inputsIdentity;
    }
    if (!Files.isRegularFile(path.resolve("saved_model.pb"))) {
      throw new IllegalArgumentException("no SavedModel at " + path + " (saved_model.pb missing)");
    }
    try (Stream<Path> files = Files.walk(path)) {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
        md.update(path.relativize(f).toString().getBytes(StandardCharsets.UTF_8));
        try (InputStream in = Files.newInputStream(f)) {
          byte[] buf = new byte[1 << 16];
          for (int n; (n = in.read(buf)) > 0; ) {
            md.update(buf, 0, n);
          }
        }
      }
      return HexFormat.of().formatHex(md.digest());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read SavedModel at " + path, e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
