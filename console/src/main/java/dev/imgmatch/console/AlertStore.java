package dev.imgmatch.console;

import dev.imgmatch.avro.MatchAlert;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.TreeSet;

/**
 * The alerts the console shows: the newest {@code max} by alert time, in memory only (Kafka keeps them all; a
 * restarted console reads them again). Each alert gets a sequence number in arrival order: the id of its
 * server-sent event, from which a reconnecting stream resumes. Thread-safe: the feed thread adds, request threads
 * read; every method holds the one lock for at most one pass over {@code max} entries.
 */
final class AlertStore {
  /** An alert and its arrival number. */
  record Stored(long seq, MatchAlert alert) {}

  /** Newest first: alert time descending, then arrival descending. */
  private static final Comparator<Stored> NEWEST_FIRST = Comparator
      .comparingLong((Stored s) -> s.alert().getAlertedAtMs()).thenComparingLong(Stored::seq).reversed();

  private final int max;
  private final TreeSet<Stored> alerts = new TreeSet<>(NEWEST_FIRST);
  private long seq;
  private long dropped;

  AlertStore(int max) {
    if (max < 1) {
      throw new IllegalArgumentException("max must be at least 1, got " + max);
    }
    this.max = max;
  }

  /**
   * Adds an alert; beyond {@code max} the oldest is dropped.
   *
   * @return the stored alert, or null when it was older than every alert of a full store (dropped at once)
   */
  synchronized Stored add(MatchAlert a) {
    Stored s = new Stored(++seq, a);
    alerts.add(s);
    if (alerts.size() > max) {
      Stored oldest = alerts.pollLast();
      dropped++;
      if (oldest == s) {
        return null;
      }
    }
    return s;
  }

  /** The newest alert held for the upload {@code imageId} of {@code tenant}, or null. */
  synchronized MatchAlert find(String tenant, String imageId) {
    for (Stored s : alerts) {
      if (s.alert().getImageId().equals(imageId) && s.alert().getTenant().equals(tenant)) {
        return s.alert();
      }
    }
    return null;
  }

  /** The alerts the filter takes, newest first, at most its limit. */
  synchronized List<Stored> list(AlertFilter f) {
    List<Stored> out = new ArrayList<>(Math.min(f.limit(), alerts.size()));
    for (Stored s : alerts) {
      if (out.size() >= f.limit()) {
        break;
      }
      if (f.test(s.alert())) {
        out.add(s);
      }
    }
    return out;
  }

  /** Held alerts that arrived after {@code seq} and pass the filter, in arrival order (a stream's catch-up). */
  synchronized List<Stored> after(long seq, AlertFilter f) {
    List<Stored> out = new ArrayList<>();
    for (Stored s : alerts) {
      if (s.seq() > seq && f.test(s.alert())) {
        out.add(s);
      }
    }
    out.sort(Comparator.comparingLong(Stored::seq));
    return out;
  }

  synchronized int size() {
    return alerts.size();
  }

  int max() {
    return max;
  }

  /** Alerts dropped because the store was full. */
  synchronized long dropped() {
    return dropped;
  }

  /** The last sequence number given. */
  synchronized long lastSeq() {
    return seq;
  }
}
