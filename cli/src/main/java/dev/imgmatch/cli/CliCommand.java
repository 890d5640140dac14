package dev.imgmatch.cli;

import java.util.concurrent.Callable;

/**
 * A subcommand of {@code ./imgmatch}. Implementations are picocli {@code @Command} classes in this module, each
 * registered in {@link Main#commandLine()}: the service modules hold no CLI code (no picocli on their class path).
 *
 * <p>Conventions: results on stdout (CSV or human text), progress and errors on stderr, errors as one line
 * without a stack trace (unless {@code --verbose}), exit status 0 on success, 1 when some input failed,
 * 2 for a usage error.
 */
public interface CliCommand extends Callable<Integer> {
  /** Sort key in {@code ./imgmatch help}: lower first. */
  default int order() {
    return 100;
  }
}
