package dev.imgmatch.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class MainTest {
  private record Run(int status, String out, String err) {}

  private static Run run(String... args) {
    CommandLine cl = Main.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int status = cl.execute(args);
    return new Run(status, out.toString(), err.toString());
  }

  @Test
  void helpListsTheBuiltInCommands() {
    Run r = run("help");
    assertThat(r.status()).isZero();
    assertThat(r.out()).contains("broker", "topics", "demo", "help");
  }

  @Test
  void everyCommandIsRegisteredInHelpsOrder() {
    assertThat(Main.commandLine().getSubcommands().keySet()).containsExactly("help", "demo", "up", "scan", "eval",
        "calibrate", "broker", "topics", "upload", "alerts", "rejects", "console", "hash", "embed", "query", "train", "delete",
        "bank", "reindex");
  }

  @Test
  void everyCommandHasHelp() {
    CommandLine cl = Main.commandLine();
    for (String name : cl.getSubcommands().keySet()) {
      if (!name.equals("help")) {
        Run r = run(name, "--help");
        assertThat(r.status()).as(name).isZero();
        assertThat(r.out()).as(name).contains("Usage: imgmatch " + name);
      }
    }
  }

  @Test
  void unknownCommandIsAUsageError() {
    Run r = run("frobnicate");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("frobnicate");
  }

  @Test
  void errorsAreOneLineWithTheRootCause() {
    assertThat(Main.message(new RuntimeException(new java.util.concurrent.ExecutionException(
        new IllegalStateException("broker unreachable"))))).contains("broker unreachable");
    // the JDK says only the path for a missing file
    assertThat(Main.message(new java.io.UncheckedIOException(new java.nio.file.NoSuchFileException("/x/PRED.csv"))))
        .isEqualTo("/x/PRED.csv: no such file or directory");
    assertThat(Main.message(new java.nio.file.AccessDeniedException("/root/out")))
        .isEqualTo("/root/out: permission denied");
  }

  @Test
  void outputsAreCheckedBeforeTheRun(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    java.nio.file.Path out = Main.prepareOutput(dir.resolve("new/deeper/PRED.csv"));
    assertThat(out.getParent()).isDirectory();
    assertThat(out).doesNotExist();
    assertThatThrownBy(() -> Main.prepareOutput(dir)).isInstanceOf(java.nio.file.FileSystemException.class)
        .satisfies(e -> assertThat(Main.message(e)).endsWith(": is a directory, not a file"));
  }
}
