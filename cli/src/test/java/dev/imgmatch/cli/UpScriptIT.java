package dev.imgmatch.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.cli.samples.SampleSet;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The people's workflow, as separate processes the way separate terminals would run them: {@code ./imgmatch up}
 * (its own broker and services) and then {@code upload}, {@code alerts}, {@code query} against it. Runs the real
 * launcher script on the classes this build just packaged.
 */
class UpScriptIT {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private Process up;

  private record Run(int status, String out, String err) {}

  private static Run imgmatch(String bootstrap, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(ROOT.resolve("imgmatch").toString()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(ROOT.toFile());
    pb.environment().put("IMGMATCH_SKIP_BUILD", "1");
    pb.environment().put("IMGMATCH_BOOTSTRAP", bootstrap);
    pb.environment().put("IMGMATCH_TOPIC_PREFIX", "upit.");
    pb.environment().put("IMGMATCH_JAVA_OPTS", "-Xmx512m");
    Path err = Files.createTempFile("imgmatch-err", ".txt");
    pb.redirectError(err.toFile());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(180, TimeUnit.SECONDS)).as("imgmatch %s finished", String.join(" ", args)).isTrue();
    return new Run(p.exitValue(), out, Files.readString(err));
  }

  @AfterEach
  void stopUp() throws Exception {
    if (up != null && up.isAlive()) {
      up.destroy();
      if (!up.waitFor(60, TimeUnit.SECONDS)) {
        up.destroyForcibly();
      }
    }
  }

  @Test
  void upThenUploadAlertsAndQueryFromOtherProcesses(@TempDir Path dir) throws Exception {
    SampleSet samples = SampleSet.generate(dir.resolve("samples"), 3, 2, 11);

    ProcessBuilder pb = new ProcessBuilder(ROOT.resolve("imgmatch").toString(), "up", "--data-dir",
        dir.resolve("stack").toString(), "--http-port", "0", "--topic-prefix", "upit.", "--partitions", "1",
        "--console-port", "0")
        .directory(ROOT.toFile()).redirectError(dir.resolve("up.err").toFile());
    pb.environment().put("IMGMATCH_SKIP_BUILD", "1");
    up = pb.start();
    BufferedReader upOut = new BufferedReader(new InputStreamReader(up.getInputStream(), StandardCharsets.UTF_8));
    String bootstrap = null;
    String indexMetrics = null;
    String console = null;
    List<String> printed = new ArrayList<>();
    for (String line; (line = upOut.readLine()) != null; ) {
      printed.add(line);
      if (line.startsWith("bootstrap.servers=")) {
        bootstrap = line.substring("bootstrap.servers=".length());
      }
      Matcher m = Pattern.compile("index-service\\s+\\S+\\s+\\S+\\s+(\\S+/metrics)").matcher(line.strip());
      if (m.find()) {
        indexMetrics = m.group(1);
      }
      Matcher c = Pattern.compile("^console: (http://\\S+/) ").matcher(line);
      if (c.find()) {
        console = c.group(1);
      }
      if (line.startsWith("ready.")) {
        break;
      }
    }
    assertThat(bootstrap).as("up printed its address; stderr: %s", Files.exists(dir.resolve("up.err"))
        ? Files.readString(dir.resolve("up.err")) : "").isNotNull();
    assertThat(printed).anyMatch(l -> l.contains("upit.match-alerts"));
    assertThat(indexMetrics).isNotNull();
    assertThat(console).as("up printed the review console's address: %s", printed).isNotNull();
    HttpResponse<String> health = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(console
        + "health")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(health.statusCode()).isEqualTo(200);
    assertThat(health.body()).contains("\"auth\":\"off\"");

    Run protect = imgmatch(bootstrap, "upload", "--collection", "protected", "--id-prefix", "orig/",
        dir.resolve("samples/originals").toString());
    assertThat(protect.status()).as(protect.err()).isZero();
    assertThat(protect.out().lines().skip(1)).hasSize(3);
    awaitIndexed(indexMetrics, 3);

    Run copies = imgmatch(bootstrap, "upload", "--id-prefix", "copy/", dir.resolve("samples/copies").toString(),
        dir.resolve("samples/unrelated").toString());
    assertThat(copies.status()).as(copies.err()).isZero();
    awaitIndexed(indexMetrics, 3 + 3 + 2);

    Run alerts = null;
    long deadline = System.currentTimeMillis() + 60_000;
    while (System.currentTimeMillis() < deadline) {
      alerts = imgmatch(bootstrap, "alerts", "--csv");
      if (alerts.out().lines().skip(1).count() >= 3) {
        break;
      }
      Thread.sleep(1000);
    }
    assertThat(alerts.status()).isZero();
    List<String> rows = alerts.out().lines().skip(1).toList();
    assertThat(rows).hasSize(3);
    for (SampleSet.Copy c : samples.copies()) {
      String copyId = "copy/" + c.file().getFileName();
      String origId = "orig/" + c.original().getFileName();
      assertThat(rows).anySatisfy(r -> assertThat(r).startsWith(copyId + ",").contains("," + origId + ","));
    }

    SampleSet.Copy first = samples.copies().getFirst();
    Run query = imgmatch(bootstrap, "query", first.file().toString(), "-k", "3");
    assertThat(query.status()).as(query.err()).isZero();
    List<String> results = query.out().lines().skip(1).toList();
    assertThat(results).isNotEmpty();
    // the query image itself was uploaded too (as copy/...), so its original is among the first results
    assertThat(results).anySatisfy(r -> assertThat(r).contains(",orig/" + first.original().getFileName() + ","));

    up.destroy();
    assertThat(up.waitFor(90, TimeUnit.SECONDS)).as("up stops on SIGTERM").isTrue();
  }

  private static void awaitIndexed(String metricsUrl, int n) throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    Pattern p = Pattern.compile("(?m)^imgmatch_indexed\\{[^}]*\\} ([0-9.E]+)");
    long deadline = System.currentTimeMillis() + 180_000;
    double seen = -1;
    while (System.currentTimeMillis() < deadline) {
      String body = http.send(HttpRequest.newBuilder(URI.create(metricsUrl)).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      Matcher m = p.matcher(body);
      if (m.find()) {
        seen = Double.parseDouble(m.group(1));
        if (seen >= n) {
          return;
        }
      }
      Thread.sleep(500);
    }
    throw new AssertionError("index-service indexed " + seen + " of " + n + " images in time");
  }
}
