package dev.imgmatch.cli.stack;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/** Helpers the stack commands (up, demo, scan, eval) share. */
public final class ServiceSettings {
  /** The services a {@code --set SERVICE:KEY=VALUE} can name. */
  public static final Set<String> SERVICES = Set.of("ingest", "embedder", "index");

  private ServiceSettings() {}

  /**
   * Parses {@code --set SERVICE:KEY=VALUE} options into service -> settings.
   *
   * @throws IllegalArgumentException naming the offending option
   */
  public static Map<String, Map<String, String>> parse(List<String> sets) {
    Map<String, Map<String, String>> out = new TreeMap<>();
    for (String s : sets) {
      int colon = s.indexOf(':');
      int eq = s.indexOf('=');
      if (colon <= 0 || eq < colon + 2) {
        throw new IllegalArgumentException("--set wants SERVICE:KEY=VALUE, got '" + s + "'");
      }
      String service = s.substring(0, colon);
      if (!SERVICES.contains(service)) {
        throw new IllegalArgumentException("--set: unknown service '" + service + "' (ingest, embedder, index)");
      }
      out.computeIfAbsent(service, k -> new TreeMap<>()).put(s.substring(colon + 1, eq), s.substring(eq + 1));
    }
    return out;
  }

  /** Deletes a directory tree (temporary stack data); missing is fine. */
  public static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
