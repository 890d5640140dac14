package dev.imgmatch.common;

import java.util.concurrent.Callable;

/**
 * A subcommand of {@code ./imgmatch}. Implementations are picocli {@code @Command} classes with a public
 * no-argument constructor, listed in {@code META-INF/services/dev.imgmatch.common.CliCommand} of the
 * module that owns them; the CLI finds them with {@link java.util.ServiceLoader}, so every module adds its
 * own commands without touching the CLI module.
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
