package dev.imgmatch.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Usage errors are found before any broker is contacted (nothing listens on port 1). */
class RejectsCommandTest {
  private static String[] err = new String[1];

  private static int run(String... args) {
    PrintStream old = System.err;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
    try {
      String[] all = new String[args.length + 3];
      all[0] = "rejects";
      all[1] = "-b";
      all[2] = "127.0.0.1:1";
      System.arraycopy(args, 0, all, 3, args.length);
      return Main.execute(all);
    } finally {
      System.setErr(old);
      err[0] = buf.toString(StandardCharsets.UTF_8);
    }
  }

  @Test
  void redriveNeedsAReason() {
    assertThat(run("--redrive")).isEqualTo(2);
    assertThat(err[0]).contains("--reason");
    assertThat(run("--redrive", "--reason", " ")).isEqualTo(2);
  }

  @Test
  void redriveOptionsNeedRedrive() {
    assertThat(run("--dry-run")).isEqualTo(2);
    assertThat(run("--limit", "3")).isEqualTo(2);
    assertThat(run("--from-beginning")).isEqualTo(2);
    assertThat(run("--group", "g")).isEqualTo(2);
  }

  @Test
  void badValuesAreUsageErrors() {
    assertThat(run("--redrive", "--reason", "X", "--since", "yesterday")).isEqualTo(2);
    assertThat(err[0]).contains("ISO-8601");
    assertThat(run("--redrive", "--reason", "X", "--since", "2026-12-03", "--until", "2026-12-02")).isEqualTo(2);
    assertThat(run("--redrive", "--reason", "X", "--limit", "0")).isEqualTo(2);
    assertThat(run("--redrive", "--reason", "X", "--follow")).isEqualTo(2);
    assertThat(run("--redrive", "--reason", "X", "--limit", "many")).isEqualTo(2); // picocli's own
  }
}
