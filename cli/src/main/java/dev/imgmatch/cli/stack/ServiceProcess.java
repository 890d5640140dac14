package dev.imgmatch.cli.stack;

import dev.imgmatch.common.Settings;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One service instance of a {@link LocalStack} run as a process of its own: a child JVM with this JVM's options and
 * class path running the service's {@code main} ({@code IndexServiceApp}, {@code EmbedderWorkerApp},
 * {@code IngestStreamApp}) with {@code key=value} settings, its output appended to a log file, its
 * {@code /health}, {@code /ready} and {@code /metrics} on {@code 127.0.0.1:port}. It runs under {@link ChildMain},
 * which stops it when this JVM goes away, however it goes.
 */
final class ServiceProcess {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private final String name;
  private final Process process;
  private final int port;
  private final Path log;
  private final long startedNanos = System.nanoTime();

  private ServiceProcess(String name, Process process, int port, Path log) {
    this.name = name;
    this.process = process;
    this.port = port;
    this.log = log;
  }

  /**
   * Starts {@code mainClass} in a child JVM.
   *
   * @param name the instance's name, e.g. {@code index-service-1} (logs, messages)
   * @param extraJvmOptions JVM options this instance needs besides this JVM's (e.g. the vector module)
   * @param settings the service's settings, passed as {@code key=value} arguments (they win over the file and the
   *     {@code IMGMATCH_*} environment, which the child inherits)
   * @param port its HTTP endpoint's port (also in {@code settings} as {@code http.port})
   * @param log the file its output is appended to
   */
  static ServiceProcess start(String name, String mainClass, List<String> extraJvmOptions,
      Map<String, String> settings, int port, Path log) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    // the vector module only where an index runs (elsewhere it only prints the JVM's incubator warning)
    List<String> options = withoutVectorModule(jvmOptions());
    cmd.addAll(options);
    for (String o : extraJvmOptions) {
      if (!options.contains(o)) {
        cmd.add(o);
      }
    }
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(ChildMain.class.getName());
    cmd.add(String.valueOf(ProcessHandle.current().pid()));
    cmd.add(mainClass);
    settings.forEach((k, v) -> cmd.add(k + "=" + v));
    Files.createDirectories(log.toAbsolutePath().getParent());
    StringBuilder header = new StringBuilder(System.lineSeparator()).append("=== imgmatch: ").append(name)
        .append(" starting at ").append(Instant.now()).append(": ").append(mainClass);
    Settings.masked(settings).forEach((k, v) -> header.append(' ').append(k).append('=').append(v));
    Files.writeString(log, header.append(System.lineSeparator()), StandardCharsets.UTF_8, StandardOpenOption.CREATE,
        StandardOpenOption.APPEND);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    Process p = pb.start();
    p.getOutputStream().close(); // nothing to read on its stdin
    return new ServiceProcess(name, p, port, log);
  }

  /**
   * This JVM's options a child needs too (heap size, modules, {@code -D} properties, {@code -XX} flags, access
   * flags), without debugger or agent options (a second JVM cannot share a debug port or an agent's output file)
   * and without a logging configuration (each service chooses its own).
   */
  static List<String> jvmOptions() {
    return jvmOptions(ManagementFactory.getRuntimeMXBean().getInputArguments());
  }

  /** The options of {@code in} (a JVM's input arguments) a child gets (see {@link #jvmOptions()}). */
  static List<String> jvmOptions(List<String> in) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < in.size(); i++) {
      String a = in.get(i);
      if (a.startsWith("-agentlib") || a.startsWith("-agentpath") || a.startsWith("-javaagent")
          || a.startsWith("-Xdebug") || a.startsWith("-Xrunjdwp") || a.startsWith("-Dlogback.configurationFile")
          || a.startsWith("-Djava.class.path")) {
        continue;
      }
      if ((a.equals("--add-modules") || a.equals("--add-opens") || a.equals("--add-exports")
          || a.equals("--enable-native-access")) && i + 1 < in.size()) {
        out.add(a);
        out.add(in.get(++i));
        continue;
      }
      if (a.startsWith("-X") || a.startsWith("-D") || a.startsWith("--add-") || a.startsWith("--enable-")
          || a.startsWith("--sun-misc-unsafe-memory-access") || a.startsWith("-ea") || a.startsWith("-enableassertions")) {
        out.add(a);
      }
    }
    return out;
  }

  /** {@code options} without {@code --add-modules jdk.incubator.vector} (either spelling). */
  static List<String> withoutVectorModule(List<String> options) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < options.size(); i++) {
      String o = options.get(i);
      if (o.equals("--add-modules=jdk.incubator.vector")) {
        continue;
      }
      if (o.equals("--add-modules") && i + 1 < options.size() && options.get(i + 1).equals("jdk.incubator.vector")) {
        i++;
        continue;
      }
      out.add(o);
    }
    return out;
  }

  String name() {
    return name;
  }

  int port() {
    return port;
  }

  Path log() {
    return log;
  }

  long pid() {
    return process.pid();
  }

  ProcessHandle handle() {
    return process.toHandle();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  String baseUrl() {
    return "http://localhost:" + port;
  }

  double secondsSinceStart() {
    return (System.nanoTime() - startedNanos) / 1e9;
  }

  /** Null when {@code /ready} answers 200, else why not (the service's reason, or why it did not answer). */
  String notReady() {
    try {
      HttpResponse<String> r = get("/ready");
      return r.statusCode() == 200 ? null : "HTTP " + r.statusCode() + ": " + r.body().strip();
    } catch (IOException e) {
      return "no answer on port " + port + " yet (" + e.getClass().getSimpleName() + ")";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }

  /** Its {@code /metrics} page (Prometheus text). */
  String metrics() throws IOException, InterruptedException {
    HttpResponse<String> r = get("/metrics");
    if (r.statusCode() != 200) {
      throw new IOException(name + " /metrics answered HTTP " + r.statusCode());
    }
    return r.body();
  }

  private HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** "NAME (pid P) exited with status S; the last lines of LOG: ..." for a child that is gone. */
  String describeExit() {
    String status = process.isAlive() ? "is still running" : "exited with status " + process.exitValue();
    return name + " (pid " + process.pid() + ") " + status + "; the last lines of " + log + ":"
        + System.lineSeparator() + tail(log, 25);
  }

  /** Asks it to stop (SIGTERM: the service closes cleanly in its shutdown hook). */
  void stop() {
    process.destroy();
  }

  /** Waits for it to exit after {@link #stop()}, killing it (and anything it started) after {@code grace}. */
  void awaitStopped(Duration grace) {
    try {
      if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        System.err.println("imgmatch: " + name + " did not stop within " + grace.toSeconds() + " s; killing it");
        kill();
      }
    } catch (InterruptedException e) {
      kill();
      Thread.currentThread().interrupt();
    }
  }

  /** SIGKILL, descendants first (e.g. an npm the embedder started to build the model). */
  void kill() {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The last {@code lines} lines of a log file (at most its last 64 KiB are read). */
  static String tail(Path file, int lines) {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
      long len = f.length();
      int n = (int) Math.min(len, 64 * 1024);
      byte[] b = new byte[n];
      f.seek(len - n);
      f.readFully(b);
      List<String> all = new String(b, StandardCharsets.UTF_8).lines().toList();
      return String.join(System.lineSeparator(), all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(cannot read " + file + ": " + e.getMessage() + ")";
    }
  }
}
