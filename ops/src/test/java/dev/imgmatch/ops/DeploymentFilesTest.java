package dev.imgmatch.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The deployment files stay valid and in step with the topic contracts. */
class DeploymentFilesTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  /** Topic suffixes as in dev.imgmatch.schemas.Topics (ops does not depend on schemas; TopicsListTest there checks the other way). */
  static final List<String> TOPICS = List.of("uploads", "queries", "prepared", "embeddings", "embedding-extras", "probes",
      "match-alerts", "query-replies", "deletions", "rejects", "originals", "model-serving", "bank-entries",
      "collection-settings", "review-decisions", "previews",
      "reference-previews");

  @Test
  void createTopicsScriptCreatesEveryTopic() throws Exception {
    String script = Files.readString(ROOT.resolve("ops/docker/create-topics.sh"));
    Set<String> created = new LinkedHashSet<>();
    Matcher m = Pattern.compile("(?m)^create ([a-z-]+)").matcher(script);
    while (m.find()) {
      created.add(m.group(1));
    }
    assertThat(created).containsExactlyInAnyOrderElementsOf(TOPICS);
  }

  @Test
  void theImageRecipeCopiesEveryModuleOfTheBuild() throws Exception {
    // Maven reads every module the parent POM lists, even for -pl MODULE: a module left out fails the image build
    String pom = Files.readString(ROOT.resolve("pom.xml"));
    String dockerfile = Files.readString(ROOT.resolve("ops/docker/Dockerfile"));
    Matcher m = Pattern.compile("<module>([^<]+)</module>").matcher(pom);
    Set<String> modules = new LinkedHashSet<>();
    while (m.find()) {
      modules.add(m.group(1));
    }
    assertThat(modules).contains("client", "cli");
    for (String module : modules) {
      assertThat(dockerfile).as("ops/docker/Dockerfile copies %s", module).contains("COPY " + module + " " + module + "\n");
    }
  }

  @Test
  void composeUsesTheKafkaVersionOfOurClients() throws Exception {
    String compose = Files.readString(ROOT.resolve("docker-compose.yml"));
    String kafkaVersion = org.apache.kafka.common.utils.AppInfoParser.getVersion();
    assertThat(compose).contains("image: apache/kafka:" + kafkaVersion);
    assertThat(compose).contains("ingest-stream:", "embedder-worker:", "index-service:", "prometheus:", "driver: nvidia");
  }

  @Test
  void composeFileValidates() throws Exception {
    String dc = findOnPath("docker-compose");
    assumeTrue(dc != null, "docker-compose is not installed (.ci/run installs Debian's); skipping the validation");
    Process p = new ProcessBuilder(dc, "-f", "docker-compose.yml", "config", "-q").directory(ROOT.toFile())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(out).isZero();
  }

  @Test
  void theGpuBenchmarkScriptParsesAndRefusesUnknownOptions() throws Exception {
    Path script = ROOT.resolve("ops/gpu/embedder-bench.sh");
    assertThat(Files.isExecutable(script)).as("%s is executable", script).isTrue();
    Process syntax = new ProcessBuilder("bash", "-n", script.toString()).redirectErrorStream(true).start();
    String out = new String(syntax.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(syntax.waitFor()).as(out).isZero();
    // an unknown option stops it before it builds or measures anything
    Process wrong = new ProcessBuilder("bash", script.toString(), "--no-such-option").redirectErrorStream(true).start();
    String said = new String(wrong.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(wrong.waitFor()).isEqualTo(2);
    assertThat(said).contains("unknown option --no-such-option");
  }

  private static String findOnPath(String exe) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path p = Path.of(dir, exe);
      if (Files.isExecutable(p)) {
        return p.toString();
      }
    }
    return null;
  }
}
