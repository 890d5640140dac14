package dev.imgmatch.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.common.Settings;
import dev.imgmatch.embedder.worker.EmbedderWorkerConfig;
import dev.imgmatch.index.IndexServiceConfig;
import dev.imgmatch.ingest.IngestConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.kafka.common.config.ConfigDef;
import org.junit.jupiter.api.Test;

/**
 * Every {@code IMGMATCH_*} variable a deployment file sets is a setting of the service it is set for (or a variable
 * the code reads itself): a misspelt or stale name (the compose file once set {@code IMGMATCH_MODEL_CACHE}, which no
 * service reads) would otherwise be ignored silently.
 */
class DeploymentSettingsTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private static final Map<String, ConfigDef> SERVICES = Map.of("ingest-stream", IngestConfig.DEF, "embedder-worker",
      EmbedderWorkerConfig.DEF, "embedder-worker-gpu", EmbedderWorkerConfig.DEF, "index-service", IndexServiceConfig.DEF);
  private static final Pattern VAR = Pattern.compile("^(\\s*)-?\\s*(IMGMATCH_[A-Z0-9_]+)\\s*[:=]");

  /** A variable set in a file, and the block (service or x- anchor) it is set in. */
  record Use(String file, int line, String block, String var) {}

  @Test
  void everyImgmatchVariableOfTheComposeFileIsASettingOfItsService() throws IOException {
    List<Use> uses = composeUses(ROOT.resolve("docker-compose.yml"));
    assertThat(uses).as("the compose file sets imgmatch variables").isNotEmpty();
    String topicsScript = Files.readString(ROOT.resolve("ops/docker/create-topics.sh"));
    List<String> unknown = new ArrayList<>();
    for (Use u : uses) {
      if (u.block().startsWith("x-")) { // an anchor merged into every imgmatch service
        for (String service : Set.of("ingest-stream", "embedder-worker", "index-service")) {
          check(u, service, unknown);
        }
      } else if (SERVICES.containsKey(u.block())) {
        check(u, u.block(), unknown);
      } else if (u.block().equals("topics")) {
        if (!topicsScript.contains("${" + u.var())) {
          unknown.add(u + ": not read by ops/docker/create-topics.sh");
        }
      } else {
        unknown.add(u + ": set for a service that runs no imgmatch code");
      }
    }
    assertThat(unknown).isEmpty();
  }

  @Test
  void theDockerfileSetsNoUnknownImgmatchVariable() throws IOException {
    List<String> unknown = new ArrayList<>();
    List<String> lines = Files.readAllLines(ROOT.resolve("ops/docker/Dockerfile"));
    Matcher m = Pattern.compile("(IMGMATCH_[A-Z0-9_]+)=").matcher(String.join("\n", lines));
    while (m.find()) {
      Use u = new Use("ops/docker/Dockerfile", 0, "*", m.group(1));
      for (String service : Set.of("ingest-stream", "embedder-worker", "index-service")) {
        check(u, service, unknown);
      }
    }
    assertThat(unknown).isEmpty();
  }

  @Test
  void theComposeTopicScriptCreatesEveryTopicWithItsContract() throws IOException {
    String script = Files.readString(ROOT.resolve("ops/docker/create-topics.sh"));
    Map<String, String> vars = new java.util.HashMap<>();
    Matcher v = Pattern.compile("(?m)^([A-Z]+)=\"([^\"]*)\"$").matcher(script);
    while (v.find()) {
      vars.put(v.group(1), v.group(2));
    }
    Map<String, Map<String, String>> created = new java.util.TreeMap<>();
    Matcher m = Pattern.compile("(?m)^create ([a-z-]+)(?: \"([^\"]*)\")?(?: \\d+)?(?:  #.*)?$").matcher(script);
    while (m.find()) {
      String args = m.group(2) == null ? "" : m.group(2);
      for (var e : vars.entrySet()) {
        args = args.replace("$" + e.getKey(), e.getValue());
      }
      Map<String, String> configs = new java.util.TreeMap<>();
      Matcher c = Pattern.compile("--config ([a-z.]+)=(\\S+)").matcher(args);
      while (c.find()) {
        configs.put(c.group(1), c.group(2));
      }
      created.put(m.group(1), configs);
    }
    Map<String, Map<String, String>> contract = new java.util.TreeMap<>();
    dev.imgmatch.schemas.Topics topics = new dev.imgmatch.schemas.Topics("");
    for (var t : topics.all()) {
      contract.put(t.name(), new java.util.TreeMap<>(t.configs()));
    }
    assertThat(created).isEqualTo(contract);
  }

  @Test
  void theCheckCatchesAMisspeltVariable() throws IOException {
    Path f = Files.createTempFile("compose", ".yml");
    Files.writeString(f, String.join("\n", "services:", "  embedder-worker:", "    environment:",
        "      IMGMATCH_MODEL_CACHE: /x", "      IMGMATCH_CACHE_DIR: /y", ""));
    List<Use> uses = composeUses(f);
    List<String> unknown = new ArrayList<>();
    uses.forEach(u -> check(u, u.block(), unknown));
    assertThat(uses).extracting(Use::var).containsExactly("IMGMATCH_MODEL_CACHE", "IMGMATCH_CACHE_DIR");
    assertThat(unknown).singleElement().asString().contains("IMGMATCH_MODEL_CACHE");
  }

  private static void check(Use u, String service, List<String> unknown) {
    String key = Settings.fromEnv(Map.of(u.var(), "x")).keySet().iterator().next();
    if (!SERVICES.get(service).names().contains(key) && !key.startsWith("kafka.") && !readDirectly(u.var())) {
      unknown.add(u + ": " + key + " is no setting of " + service);
    }
  }

  /** Variables the code reads with System.getenv itself (not through the settings). */
  private static boolean readDirectly(String var) {
    try (Stream<Path> files = Files.walk(ROOT)) {
      return files.filter(p -> p.toString().contains("/src/main/java/") && p.toString().endsWith(".java"))
          .anyMatch(p -> {
            try {
              return Files.readString(p).contains("getenv(\"" + var + "\")");
            } catch (IOException e) {
              return false;
            }
          });
    } catch (IOException e) {
      return false;
    }
  }

  /** IMGMATCH_* variables of a compose file with the top-level block or service they are set in. */
  static List<Use> composeUses(Path file) throws IOException {
    List<Use> out = new ArrayList<>();
    List<String> lines = Files.readAllLines(file);
    String top = "";
    String service = "";
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.isBlank() || line.strip().startsWith("#")) {
        continue;
      }
      int indent = line.length() - line.stripLeading().length();
      String key = line.strip().replaceAll(":.*", "");
      if (indent == 0) {
        top = key;
        service = "";
      } else if (indent == 2 && top.equals("services")) {
        service = key;
      }
      Matcher m = VAR.matcher(line);
      if (m.find()) {
        out.add(new Use(file.getFileName().toString(), i + 1, top.equals("services") ? service : top, m.group(2)));
      }
    }
    return out;
  }
}
