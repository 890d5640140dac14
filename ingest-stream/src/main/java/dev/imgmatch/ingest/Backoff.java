package dev.imgmatch.ingest;

import java.util.ArrayDeque;
import java.util.Deque;

/** Doubling waits for failures that repeat within a window (pure logic, thread-safe). */
final class Backoff {
  private final long firstMs;
  private final long maxMs;
  private final long windowMs;
  private final Deque<Long> failures = new ArrayDeque<>();

  Backoff(long firstMs, long maxMs, long windowMs) {
    this.firstMs = firstMs;
    this.maxMs = maxMs;
    this.windowMs = windowMs;
  }

  /** Records a failure at {@code nowMs} and returns how long to wait before the next try. */
  synchronized long next(long nowMs) {
    while (!failures.isEmpty() && failures.peekFirst() < nowMs - windowMs) {
      failures.removeFirst();
    }
    failures.addLast(nowMs);
    int n = failures.size();
    return n <= 1 ? 0 : Math.min(maxMs, firstMs << Math.min(30, n - 2));
  }

  /** Failures within the window at the last {@link #next}. */
  synchronized int recent() {
    return failures.size();
  }
}
