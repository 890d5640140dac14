package dev.imgmatch.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imgmatch.cli.stack.LocalStack;
import java.util.function.BooleanSupplier;

/** Waiting in an integration test on a local stack: until a condition holds, failing at once if the stack stops. */
final class StackWait {
  private StackWait() {}

  /** Polls {@code done} every 100 ms for up to two minutes; fails when the stack reports a problem or time runs out. */
  static void until(BooleanSupplier done, LocalStack stack) throws InterruptedException {
    long deadline = System.currentTimeMillis() + 120_000;
    while (!done.getAsBoolean()) {
      assertThat(stack.problem()).as("the stack runs").isNull();
      assertThat(System.currentTimeMillis()).as("waited too long").isLessThan(deadline);
      Thread.sleep(100);
    }
  }
}
