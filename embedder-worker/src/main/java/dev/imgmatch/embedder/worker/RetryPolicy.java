package dev.imgmatch.embedder.worker;

/**
 * How long a batch waits out a model outage: exponential back-off from {@code initialMs}, doubling up to
 * {@code maxDelayMs}, for at most {@code budgetMs} in all (settings {@code embed.retry.backoff.ms},
 * {@code embed.retry.backoff.max.ms}, {@code embed.retry.max.ms}). Pure logic: the caller passes the time, so tests
 * never wait.
 *
 * <p>With the defaults (1 s, 60 s, 10 min) a batch is retried at 1, 3, 7, 15, 31, 63, 123, 183, ... 543 s and a last
 * time at 600 s (the last delay is cut so that the final attempt falls on the budget's end); if that fails too, the
 * budget is spent. A budget of 0 means no retry at all.
 *
 * @param initialMs delay before the first retry, &gt;= 0
 * @param maxDelayMs the longest delay between two attempts, &gt;= initialMs
 * @param budgetMs how long after the first failure the last attempt may start, &gt;= 0
 */
public record RetryPolicy(long initialMs, long maxDelayMs, long budgetMs) {
  public RetryPolicy {
    if (initialMs < 0 || maxDelayMs < initialMs || budgetMs < 0) {
      throw new IllegalArgumentException("retry policy needs 0 <= initial (" + initialMs + ") <= max delay ("
          + maxDelayMs + ") and a budget >= 0 (" + budgetMs + ")");
    }
  }

  /** Delay before retry number {@code retry} (1 = the first retry), ignoring the budget. */
  public long delay(int retry) {
    if (retry < 1) {
      throw new IllegalArgumentException("retry " + retry + " < 1");
    }
    long d = initialMs;
    for (int i = 1; i < retry && d < maxDelayMs; i++) {
      d = d == 0 ? 0 : d * 2; // no overflow: d < maxDelayMs before doubling
    }
    return Math.min(d, maxDelayMs);
  }

  /** An outage that began (its first failure) at {@code nowMs}. */
  public Outage begin(long nowMs) {
    return new Outage(this, nowMs);
  }

  /** One batch's outage: when it began and how many retries it has had. Not thread-safe. */
  public static final class Outage {
    private final RetryPolicy policy;
    private final long startMs;
    private int retries;

    private Outage(RetryPolicy policy, long startMs) {
      this.policy = policy;
      this.startMs = startMs;
    }

    public long startMs() {
      return startMs;
    }

    /** Retries granted so far. */
    public int retries() {
      return retries;
    }

    public long elapsedMs(long nowMs) {
      return Math.max(0, nowMs - startMs);
    }

    public long budgetMs() {
      return policy.budgetMs();
    }

    /**
     * After a failed attempt at {@code nowMs}: the delay before the next retry (counted as granted), or -1 when the
     * budget is spent and the batch should give up.
     */
    public long next(long nowMs) {
      long left = policy.budgetMs() - elapsedMs(nowMs);
      if (left <= 0) {
        return -1;
      }
      retries++;
      return Math.min(policy.delay(retries), left);
    }
  }
}
