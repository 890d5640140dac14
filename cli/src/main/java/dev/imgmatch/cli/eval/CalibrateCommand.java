package dev.imgmatch.cli.eval;

import dev.imgmatch.client.ImageFiles;
import dev.imgmatch.cli.CliCommand;
import dev.imgmatch.embedder.train.Augmentations;
import dev.imgmatch.ingest.image.ImageLimits;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * Chooses the decision thresholds on data the evaluation queries never touch: training photos, some indexed beside
 * the corpus and some held out, queried through the real pipeline with random edits of every photo. The held-out
 * photos' edits are negatives (their picture is not indexed): the MATCH threshold is set above the best score any
 * of them reached, with headroom ({@code --safety}), so that on this evidence no unrelated picture alerts; the
 * indexed photos' edits tell the recall to expect (over a broader set of edits than any benchmark, so a pessimistic
 * figure).
 */
@Command(name = "calibrate", mixinStandardHelpOptions = true,
    description = {"Choose match.threshold and match.review.threshold on held-out data: index --corpus plus part of "
        + "--images, query edited views of every photo of --images through the real pipeline (eval), and set the "
        + "threshold above every held-out photo's score. Prints the settings to use and the expected recall."})
public final class CalibrateCommand implements CliCommand {
  @Option(names = "--images", required = true, paramLabel = "DIR", description = "Unrelated photos (never the queries you evaluate with): half are indexed, the edits of the others are the negatives.")
  Path images;

  @Option(names = "--corpus", paramLabel = "DIR", description = "Images indexed beside the photos, e.g. the protected collection (fitting on the indexed corpus is legitimate: it is what you match against).")
  Path corpus;

  @Option(names = "--held-out", defaultValue = "0.5", description = "Share of the photos kept out of the index; their edits are the negatives (default: ${DEFAULT-VALUE}).")
  double heldOut;

  @Option(names = "--views", defaultValue = "8", description = "Edited views queried per photo (default: ${DEFAULT-VALUE}).")
  int views;

  @Option(names = "--safety", defaultValue = "0.05", description = "Headroom added to the best held-out score for match.threshold: the best of a few hundred negatives underestimates the tail (default: ${DEFAULT-VALUE}).")
  double safety;

  @Option(names = "--seed", defaultValue = "20261122", description = "Split and edits (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Writes the split (refs/, queries/, ground_truth.csv, queries.csv), PRED.csv and calibration.properties here.")
  Path out;

  @Option(names = "--bootstrap", description = "Use this Kafka cluster instead of starting a local broker.")
  String bootstrap;

  @Option(names = "--set", paramLabel = "SERVICE:KEY=VALUE", description = "A setting for one service (ingest, embedder, index), to calibrate a variant (e.g. another head).")
  List<String> settings = List.of();

  /** The last run's outcome (tests). */
  Calibration last;

  /** What a run found. */
  public record Calibration(int negatives, int positives, double bestNegative, double negativeP99, double matchThreshold,
      double reviewThreshold, double recallAtMatch, double recallAtReview) {}

  public Calibration last() {
    return last;
  }

  @Override
  public Integer call() throws Exception {
    List<Path> photos = ImageFiles.images(images);
    if (photos.size() < 4) {
      System.err.println("imgmatch calibrate: need at least 4 photos in " + images + ", found " + photos.size());
      return 2;
    }
    if (!(heldOut > 0 && heldOut < 1) || views < 1) {
      System.err.println("imgmatch calibrate: --held-out must be between 0 and 1 and --views at least 1");
      return 2;
    }
    Path refs = Files.createDirectories(out.resolve("refs"));
    Path queries = Files.createDirectories(out.resolve("queries"));
    List<Path> shuffled = new ArrayList<>(photos);
    Collections.shuffle(shuffled, new Random(seed));
    int held = Math.max(1, Math.min(shuffled.size() - 1, (int) Math.round(shuffled.size() * heldOut)));
    StringBuilder gt = new StringBuilder("query,ref\n");
    StringBuilder kinds = new StringBuilder("query,transform,kind\n");
    if (corpus != null) {
      for (Path c : ImageFiles.images(corpus)) {
        link(c, refs.resolve(c.getFileName()));
      }
    }
    Random rnd = new Random(seed + 1);
    int written = 0;
    int tooSmall = 0;
    for (int i = 0; i < shuffled.size(); i++) {
      Path photo = shuffled.get(i);
      String id = ImageFiles.idOf(photo);
      boolean negative = i < held;
      if (!negative) {
        link(photo, refs.resolve("cal-" + photo.getFileName()));
      }
      BufferedImage img = ImageIO.read(photo.toFile());
      if (img == null) {
        System.err.println("calibrate: skipping unreadable " + photo);
        continue;
      }
      BufferedImage base = Augmentations.fit(img, 640);
      for (int v = 0; v < views; v++) {
        Augmentations.Edited e = Augmentations.randomEdit(base, rnd);
        if (Math.min(e.image().getWidth(), e.image().getHeight()) < ImageLimits.DEFAULT_MIN_SIDE) {
          tooSmall++; // ingest-stream rejects it: no score to calibrate on
          continue;
        }
        String q = "q-" + id + "-" + v;
        ImageIO.write(rgb(e.image()), "jpg", queries.resolve(q + ".jpg").toFile());
        kinds.append(q).append(',').append(e.families()).append(',').append(negative ? "negative" : "positive").append('\n');
        if (!negative) {
          gt.append(q).append(",cal-").append(id).append('\n');
        }
        written++;
      }
    }
    Files.writeString(out.resolve("ground_truth.csv"), gt);
    Files.writeString(out.resolve("queries.csv"), kinds);
    System.err.printf(Locale.ROOT, "calibrate: %d photos (%d held out), %d edited views written to %s (%d left out:"
        + " smaller than ingest's %d px minimum)%n", shuffled.size(), held, written, queries, tooSmall,
        ImageLimits.DEFAULT_MIN_SIDE);

    List<String> args = new ArrayList<>(List.of("--refs", refs.toString(), "--queries", queries.toString(), "--out",
        out.resolve("PRED.csv").toString(), "--ground-truth", out.resolve("ground_truth.csv").toString()));
    if (bootstrap != null) {
      args.addAll(List.of("--bootstrap", bootstrap));
    }
    for (String s : settings) {
      args.addAll(List.of("--set", s));
    }
    int status = new CommandLine(new EvalCommand()).execute(args.toArray(String[]::new));
    if (status != 0) {
      return status;
    }
    Scoring.Truth truth = Scoring.readTruth(out.resolve("ground_truth.csv"), out.resolve("queries.csv"), null);
    last = calibrate(Scoring.readPredictions(out.resolve("PRED.csv")), truth, safety);
    write(last);
    return 0;
  }

  /**
   * The thresholds from scored rows: MATCH above the best negative query's best score (plus {@code safety},
   * rounded up to 0.01), REVIEW at the negatives' 99th percentile (at most MATCH); recall = positives whose right
   * reference is their best row and reaches the threshold.
   */
  public static Calibration calibrate(List<Scoring.Row> rows, Scoring.Truth truth, double safety) {
    Map<String, Scoring.Row> best = new HashMap<>();
    for (Scoring.Row r : rows) {
      best.merge(r.query(), r, (a, b) -> b.score() > a.score() ? b : a);
    }
    List<Double> negatives = new ArrayList<>();
    List<Double> positives = new ArrayList<>(); // the right reference's score when it ranks first, else 0
    truth.kinds().forEach((q, kind) -> {
      Scoring.Row r = best.get(q);
      double s = r == null ? 0 : r.score();
      if ("negative".equals(kind)) {
        negatives.add(s);
      } else if ("positive".equals(kind)) {
        positives.add(r != null && truth.pairs().contains(List.of(q, r.ref())) ? s : 0);
      }
    });
    if (negatives.isEmpty() || positives.isEmpty()) {
      throw new IllegalArgumentException("calibration needs negative and positive queries");
    }
    Collections.sort(negatives);
    double bestNegative = negatives.getLast();
    double p99 = negatives.get(Math.min(negatives.size() - 1, (int) Math.floor(0.99 * (negatives.size() - 1))));
    double match = Math.min(1.0, Math.ceil((bestNegative + safety) * 100 - 1e-9) / 100);
    double review = Math.min(match, Math.ceil(p99 * 100 - 1e-9) / 100);
    return new Calibration(negatives.size(), positives.size(), bestNegative, p99, match, review,
        share(positives, match), share(positives, review));
  }

  private static double share(List<Double> xs, double t) {
    return xs.stream().filter(x -> x >= t - 1e-9).count() / (double) xs.size();
  }

  private void write(Calibration c) throws IOException {
    String summary = String.format(Locale.ROOT, """
        # ./imgmatch calibrate: %d held-out negative views, %d positive views
        # best negative score %.4f, 99th percentile %.4f
        # expected recall on the positive views: %.3f at MATCH, %.3f at REVIEW
        match.threshold=%.2f
        match.review.threshold=%.2f
        """, c.negatives(), c.positives(), c.bestNegative(), c.negativeP99(), c.recallAtMatch(), c.recallAtReview(),
        c.matchThreshold(), c.reviewThreshold());
    Files.writeString(out.resolve("calibration.properties"), summary);
    try (PrintWriter w = new PrintWriter(System.out, true)) {
      w.print(summary);
      w.printf(Locale.ROOT, "use: --set index:match.threshold=%.2f --set index:match.review.threshold=%.2f%n",
          c.matchThreshold(), c.reviewThreshold());
    }
  }

  private static void link(Path target, Path link) throws IOException {
    if (!Files.exists(link)) {
      try {
        Files.createSymbolicLink(link, target.toAbsolutePath());
      } catch (UnsupportedOperationException | IOException e) {
        Files.copy(target, link);
      }
    }
  }

  private static BufferedImage rgb(BufferedImage img) {
    if (img.getType() == BufferedImage.TYPE_INT_RGB) {
      return img;
    }
    BufferedImage out = new BufferedImage(img.getWidth(), img.getHeight(), BufferedImage.TYPE_INT_RGB);
    out.getGraphics().drawImage(img, 0, 0, null);
    return out;
  }

  @Override
  public int order() {
    return 7;
  }
}
