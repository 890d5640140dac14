package dev.imgmatch.cli.stack;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.Optional;

/**
 * Runs a service's {@code main} in a child JVM of a {@link LocalStack} and stops it (System.exit: the service's
 * shutdown hook closes it cleanly) as soon as the parent process is gone — also when the parent was killed with
 * SIGKILL and ran no shutdown hook, so that no orphan keeps consuming.
 *
 * <pre>java ... dev.imgmatch.cli.stack.ChildMain PARENT_PID MAIN_CLASS [args...]</pre>
 */
public final class ChildMain {
  private ChildMain() {}

  public static void main(String[] args) throws Throwable {
    if (args.length < 2) {
      System.err.println("usage: ChildMain PARENT_PID MAIN_CLASS [args...]");
      System.exit(2);
    }
    long parentPid = Long.parseLong(args[0]);
    Optional<ProcessHandle> parent = ProcessHandle.of(parentPid);
    if (parent.isEmpty() || !parent.get().isAlive()) {
      System.err.println("imgmatch: the parent process " + parentPid + " is gone; not starting " + args[1]);
      System.exit(1);
    }
    parent.get().onExit().thenRun(() -> {
      System.err.println("imgmatch: the parent process " + parentPid + " is gone; stopping " + args[1]);
      System.exit(0);
    });
    Method main = Class.forName(args[1]).getMethod("main", String[].class);
    try {
      main.invoke(null, (Object) Arrays.copyOfRange(args, 2, args.length));
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }
}
