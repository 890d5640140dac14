package dev.imgmatch.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;

/** What a command run in-process prints on stdout (tests). */
final class CliOutput {
  private CliOutput() {}

  /** Runs {@code body} with stdout captured, checks its exit status and returns what it printed. */
  static String stdout(Callable<Integer> body, int expectedStatus) throws Exception {
    PrintStream old = System.out;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
    try {
      assertThat(body.call()).isEqualTo(expectedStatus);
    } finally {
      System.setOut(old);
    }
    return buf.toString(StandardCharsets.UTF_8);
  }
}
