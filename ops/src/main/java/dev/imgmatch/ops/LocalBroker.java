package dev.imgmatch.ops;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.Uuid;

/**
 * A real single-node Kafka (KRaft, combined broker + controller) in a separate JVM process, for people:
 * {@code ./imgmatch broker} and the local stack. Runs the {@code kafka.Kafka} main of the Maven Central
 * {@code kafka_2.13} jar on this JVM's classpath.
 *
 * <p>Data directory layout: {@code server.properties} (generated), {@code imgmatch-broker.properties}
 * (the ports chosen at first start, reused on restart: the KRaft voter set records the controller
 * endpoint), {@code logs/} (Kafka's log dir), {@code broker.log} (the broker's own output), {@code .lock}.
 * Restarting on the same directory keeps every topic and record.
 */
public final class LocalBroker implements AutoCloseable {

  /**
   * @param dataDir data directory (created if missing)
   * @param port client port; 0 = a free port at first start, then the same one
   * @param controllerPort controller port; 0 = a free port at first start, then the same one
   * @param heap broker JVM heap, e.g. "512m"
   * @param readyTimeout how long to wait for the broker to answer
   */
  public record Options(Path dataDir, int port, int controllerPort, String heap, Duration readyTimeout) {
    public Options {
      Objects.requireNonNull(dataDir, "dataDir");
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port must be 0 (free) or 1-65535, got " + port);
      }
      if (controllerPort < 0 || controllerPort > 65535) {
        throw new IllegalArgumentException("controller port must be 0 (free) or 1-65535, got " + controllerPort);
      }
      if (port != 0 && port == controllerPort) {
        throw new IllegalArgumentException("port and controller port must differ, both are " + port);
      }
      if (heap == null || !heap.matches("\\d+[mMgG]")) {
        throw new IllegalArgumentException("heap must look like 512m or 1g, got '" + heap + "'");
      }
    }

    public static Options defaults(Path dataDir) {
      return new Options(dataDir, 0, 0, "512m", Duration.ofSeconds(90));
    }
  }

  private final Options options;
  private final Process process;
  private final String bootstrap;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final boolean formatted;
  private boolean closed;

  private LocalBroker(Options options, Process process, String bootstrap, FileChannel lockChannel, FileLock lock,
      boolean formatted) {
    this.options = options;
    this.process = process;
    this.bootstrap = bootstrap;
    this.lockChannel = lockChannel;
    this.lock = lock;
    this.formatted = formatted;
  }

  /** Starts the broker and waits until it answers; the caller owns it and must {@link #close()} it. */
  public static LocalBroker start(Options o) throws IOException, InterruptedException {
    Path dir = o.dataDir().toAbsolutePath();
    Files.createDirectories(dir);
    FileChannel ch = FileChannel.open(dir.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = ch.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null;
    }
    if (lock == null) {
      ch.close();
      throw new IllegalStateException("another imgmatch broker is already running on " + dir
          + "; stop it or use another --data-dir");
    }
    try {
      writeLogConfig(dir);
      Ports ports = Ports.resolve(dir, o.port(), o.controllerPort());
      Path config = writeServerProperties(dir, ports);
      boolean formatted = false;
      if (!Files.exists(dir.resolve("logs").resolve("meta.properties"))) {
        format(dir, config);
        formatted = true;
      }
      ProcessBuilder pb = new ProcessBuilder(javaCommand(dir, o.heap(), "kafka.Kafka", config.toString()))
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("broker.log").toFile()));
      Process p = pb.start();
      String bootstrap = "localhost:" + ports.port();
      LocalBroker broker = new LocalBroker(o, p, bootstrap, ch, lock, formatted);
      broker.awaitReady(o.readyTimeout());
      return broker;
    } catch (IOException | InterruptedException | RuntimeException e) {
      lock.release();
      ch.close();
      throw e;
    }
  }

  /** The ports of this data directory: configured, remembered from the first start, or free ones. */
  record Ports(int port, int controllerPort) {
    static Ports resolve(Path dir, int port, int controllerPort) throws IOException {
      Path f = dir.resolve("imgmatch-broker.properties");
      Properties saved = new Properties();
      if (Files.exists(f)) {
        try (var r = Files.newBufferedReader(f)) {
          saved.load(r);
        }
      }
      int savedPort = Integer.parseInt(saved.getProperty("port", "0"));
      int savedCtl = Integer.parseInt(saved.getProperty("controller.port", "0"));
      if (savedCtl != 0 && controllerPort != 0 && controllerPort != savedCtl) {
        throw new IllegalArgumentException("data directory " + dir + " was formatted with controller port " + savedCtl
            + "; a KRaft controller cannot move to " + controllerPort + " (use the old port or a new --data-dir)");
      }
      int p = port != 0 ? port : savedPort != 0 ? savedPort : freePort();
      int c = controllerPort != 0 ? controllerPort : savedCtl != 0 ? savedCtl : freePort();
      while (c == p) {
        c = freePort();
      }
      for (int candidate : new int[] {p, c}) {
        if (!isFree(candidate)) {
          throw new IllegalStateException("port " + candidate + " is in use; is another Kafka running? "
              + "Choose another with --port/--controller-port (or a new --data-dir)");
        }
      }
      saved.setProperty("port", String.valueOf(p));
      saved.setProperty("controller.port", String.valueOf(c));
      try (var w = Files.newBufferedWriter(f)) {
        saved.store(w, "ports of this imgmatch local broker (kept across restarts)");
      }
      return new Ports(p, c);
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    }
  }

  static boolean isFree(int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress("localhost", port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  static Path writeServerProperties(Path dir, Ports ports) throws IOException {
    Properties p = new Properties();
    p.setProperty("process.roles", "broker,controller");
    p.setProperty("node.id", "1");
    p.setProperty("controller.quorum.bootstrap.servers", "localhost:" + ports.controllerPort());
    p.setProperty("listeners", "PLAINTEXT://localhost:" + ports.port() + ",CONTROLLER://localhost:" + ports.controllerPort());
    p.setProperty("advertised.listeners", "PLAINTEXT://localhost:" + ports.port());
    p.setProperty("controller.listener.names", "CONTROLLER");
    p.setProperty("inter.broker.listener.name", "PLAINTEXT");
    p.setProperty("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    p.setProperty("log.dirs", dir.resolve("logs").toString());
    p.setProperty("num.partitions", "6");
    p.putAll(oneNodeSettings());
    Path f = dir.resolve("server.properties");
    try (var w = Files.newBufferedWriter(f)) {
      p.store(w, "generated by imgmatch LocalBroker; edit imgmatch-broker.properties for ports");
    }
    return f;
  }

  /** Settings a one-node cluster needs (internal topics' replication) plus small-machine tuning. */
  public static Map<String, String> oneNodeSettings() {
    return Map.ofEntries(
        Map.entry("offsets.topic.replication.factor", "1"),
        Map.entry("transaction.state.log.replication.factor", "1"),
        Map.entry("transaction.state.log.min.isr", "1"),
        Map.entry("share.coordinator.state.topic.replication.factor", "1"),
        Map.entry("share.coordinator.state.topic.min.isr", "1"),
        Map.entry("min.insync.replicas", "1"),
        Map.entry("default.replication.factor", "1"),
        Map.entry("group.initial.rebalance.delay.ms", "0"),
        Map.entry("log.cleaner.dedupe.buffer.size", String.valueOf(16 * 1024 * 1024)),
        Map.entry("message.max.bytes", String.valueOf(22 * 1024 * 1024)),
        Map.entry("auto.create.topics.enable", "false"));
  }

  private static void format(Path dir, Path config) throws IOException, InterruptedException {
    String clusterId = Uuid.randomUuid().toString();
    List<String> cmd = javaCommand(dir, "256m", "kafka.tools.StorageTool", "format", "--standalone", "-t", clusterId,
        "-c", config.toString());
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("broker.log").toFile())).start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException("formatting the broker's storage timed out; see " + dir.resolve("broker.log"));
    }
    if (p.exitValue() != 0) {
      throw new IllegalStateException("formatting the broker's storage failed (exit " + p.exitValue() + "): "
          + tail(dir.resolve("broker.log"), 15));
    }
  }

  /** The broker logs at INFO to its stdout, which goes to broker.log. */
  private static void writeLogConfig(Path dir) throws IOException {
    Files.writeString(dir.resolve("logback-broker.xml"), """
        <configuration>
          <appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">
            <encoder><pattern>[%d{yyyy-MM-dd HH:mm:ss.SSS}] %-5level %logger{30} - %msg%n</pattern></encoder>
          </appender>
          <logger name="org.apache.kafka.controller" level="WARN"/>
          <logger name="state.change.logger" level="WARN"/>
          <root level="INFO"><appender-ref ref="OUT"/></root>
        </configuration>
        """);
  }

  private static List<String> javaCommand(Path dir, String heap, String mainClass, String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx" + heap);
    cmd.add("-Dlogback.configurationFile=" + dir.resolve("logback-broker.xml"));
    cmd.add("-XX:+UseG1GC");
    cmd.add("-Djava.awt.headless=true");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(mainClass);
    cmd.addAll(List.of(args));
    return cmd;
  }

  private void awaitReady(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    Exception last = null;
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("the broker exited with status " + process.exitValue() + " while starting: "
            + tail(options.dataDir().resolve("broker.log"), 20));
      }
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap, "request.timeout.ms", 3000,
          "default.api.timeout.ms", 5000))) {
        admin.describeCluster().nodes().get(5, TimeUnit.SECONDS);
        return;
      } catch (Exception e) {
        last = e;
        Thread.sleep(250);
      }
    }
    close();
    throw new IllegalStateException("the broker did not answer at " + bootstrap + " within " + timeout.toSeconds()
        + " s (" + last + "); see " + options.dataDir().resolve("broker.log"));
  }

  static String tail(Path log, int lines) {
    try {
      List<String> all = Files.readAllLines(log);
      return String.join(System.lineSeparator(), all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(cannot read " + log + ": " + e.getMessage() + ")";
    }
  }

  public String bootstrapServers() {
    return bootstrap;
  }

  public Path dataDir() {
    return options.dataDir();
  }

  /** True when this start formatted a new data directory (false: restarted on existing data). */
  public boolean formattedNow() {
    return formatted;
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** Waits for the broker process to exit on its own (it exits only when stopped or on a fatal error). */
  public int waitFor() throws InterruptedException {
    return process.waitFor();
  }

  /** Stops the broker with SIGTERM (a clean, controlled shutdown), forcibly after 60 s; returns its exit status. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      if (process.isAlive()) {
        process.destroy(); // SIGTERM: Kafka runs its shutdown hook
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    } finally {
      try {
        lock.release();
        lockChannel.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /** The broker's exit status after {@link #close()}. */
  public int exitValue() {
    return process.exitValue();
  }
}
