package dev.imgmatch.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code ./imgmatch}: the one entry point. Every command lives in this module and is registered here, in the order
 * {@code ./imgmatch help} lists them; the services' jars carry no CLI code.
 */
@Command(
    name = "imgmatch",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Streaming detection of copied and near-duplicate images on Kafka.",
    footer = {"", "Run './imgmatch help COMMAND' for a command's options. Docs: README.md, docs/ARCHITECTURE.md."})
public final class Main implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /** Runs the CLI and returns the exit status (for tests). */
  public static int execute(String... args) {
    return commandLine().execute(args);
  }

  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Main());
    cl.addSubcommand("help", new CommandLine.HelpCommand());
    for (CliCommand c : commands()) {
      cl.addSubcommand(c);
    }
    cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
      // one line, no stack trace, unless asked for
      PrintWriter err = commandLine.getErr();
      err.println("imgmatch " + commandLine.getCommandName() + ": " + message(ex));
      if (Boolean.getBoolean("imgmatch.verbose") || System.getenv("IMGMATCH_VERBOSE") != null) {
        ex.printStackTrace(err);
      }
      return 1;
    });
    return cl;
  }

  /**
   * Every command, in the order help lists them: the local runs and measurements, then the commands that talk to a
   * running stack, then the tools (sorted by {@link CliCommand#order()}; a stable sort keeps this list's order).
   */
  static List<CliCommand> commands() {
    List<CliCommand> all = new ArrayList<>(List.of(
        new DemoCommand(), new UpCommand(), new ScanCommand(), new dev.imgmatch.cli.eval.EvalCommand(),
        new dev.imgmatch.cli.eval.CalibrateCommand(), new BrokerCommand(), new TopicsCommand(),
        new UploadCommand(), new AlertsCommand(), new RejectsCommand(), new ConsoleCommand()));
    List<CliCommand> tools = new ArrayList<>(List.of(
        new HashCommand(), new EmbedCommand(), new QueryCommand(), new TrainCommand(), new DeleteCommand(),
        new BankCommand(),
        new ReindexCommand()));
    tools.sort(Comparator.comparingInt(CliCommand::order));
    all.addAll(tools);
    return all;
  }

  static String message(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && (c.getMessage() == null || c instanceof java.util.concurrent.ExecutionException)) {
      c = c.getCause();
    }
    for (Throwable x = t; x != null; x = x.getCause()) {
      if (x instanceof java.nio.file.FileSystemException f) {
        return describe(f);
      }
    }
    return c.getMessage() != null ? c.getMessage() : c.toString();
  }

  /** A file error as "path: what went wrong" (the JDK's message for a missing file is the bare path). */
  static String describe(java.nio.file.FileSystemException f) {
    String what = f.getReason();
    if (what == null) {
      what = switch (f) {
        case java.nio.file.NoSuchFileException e -> "no such file or directory";
        case java.nio.file.AccessDeniedException e -> "permission denied";
        case java.nio.file.FileAlreadyExistsException e -> "already exists";
        case java.nio.file.NotDirectoryException e -> "not a directory";
        case java.nio.file.DirectoryNotEmptyException e -> "directory not empty";
        default -> f.getClass().getSimpleName();
      };
    }
    String file = f.getFile() == null ? "" : f.getFile();
    return f.getOtherFile() == null ? file + ": " + what : file + " -> " + f.getOtherFile() + ": " + what;
  }

  /**
   * Checks an output file before a long run instead of after it: creates its folder and fails at once when the file
   * is a directory or its folder cannot be written.
   */
  public static java.nio.file.Path prepareOutput(java.nio.file.Path file) throws java.io.IOException {
    java.nio.file.Path abs = file.toAbsolutePath();
    if (java.nio.file.Files.isDirectory(abs)) {
      throw new java.nio.file.FileSystemException(abs.toString(), null, "is a directory, not a file");
    }
    java.nio.file.Path dir = java.nio.file.Files.createDirectories(abs.getParent());
    if (!java.nio.file.Files.isWritable(dir)) {
      throw new java.nio.file.AccessDeniedException(dir.toString());
    }
    return abs;
  }

  /** Version from the jar manifest when packaged. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"imgmatch " + (v == null ? "(development build)" : v), "Java " + System.getProperty("java.version")};
    }
  }
}
