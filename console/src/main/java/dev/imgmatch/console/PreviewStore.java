package dev.imgmatch.console;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The colour previews the console holds, bounded by their total bytes ({@code console.previews.max.bytes}): the
 * least recently used are dropped beyond it. Two kinds, as the two topics they come from: a reference's (served while
 * it is held: a takedown's tombstone removes it) and an alerted upload's (served for {@code console.previews.ttl.ms}
 * after index-service wrote it, then dropped). A tombstone removes the entry of its own kind only, so a tombstone read
 * late from one topic never removes what the other holds. Thread-safe (one lock: the feed thread writes, request
 * threads read).
 */
final class PreviewStore {
  /** Which topic a preview came from. */
  enum Kind { REFERENCE, UPLOAD }

  /**
   * One preview held.
   *
   * @param jpeg the JPEG (owned by the store, never modified)
   * @param collection the image's collection
   * @param createdAtMs when index-service wrote it
   */
  record Preview(Kind kind, String tenant, String imageId, String collection, byte[] jpeg, int width, int height,
      long createdAtMs) {}

  private final long maxBytes;
  private final long uploadTtlMs;
  /** Kind + key -> preview, in access order (least recently used first). */
  private final LinkedHashMap<String, Preview> held = new LinkedHashMap<>(256, 0.75f, true);
  private long bytes;
  private long evicted;
  private long expired;

  /**
   * @param maxBytes most JPEG bytes held
   * @param uploadTtlMs how long after its creation an upload's preview is served
   */
  PreviewStore(long maxBytes, long uploadTtlMs) {
    if (maxBytes < 1 || uploadTtlMs < 1) {
      throw new IllegalArgumentException("maxBytes and uploadTtlMs must be positive, got " + maxBytes + ", "
          + uploadTtlMs);
    }
    this.maxBytes = maxBytes;
    this.uploadTtlMs = uploadTtlMs;
  }

  private static String slot(Kind kind, String tenant, String imageId) {
    return (kind == Kind.REFERENCE ? 'r' : 'u') + tenant + '\u001f' + imageId;
  }

  /** Holds {@code p} (replacing what its kind held for the image), unless it has expired already or is too large. */
  synchronized void put(Preview p, long nowMs) {
    remove(p.kind(), p.tenant(), p.imageId());
    if (isExpired(p, nowMs) || p.jpeg().length > maxBytes) {
      return;
    }
    held.put(slot(p.kind(), p.tenant(), p.imageId()), p);
    bytes += p.jpeg().length;
    Iterator<Preview> lru = held.values().iterator();
    while (bytes > maxBytes && lru.hasNext()) {
      Preview old = lru.next();
      lru.remove();
      bytes -= old.jpeg().length;
      evicted++;
    }
  }

  /** Forgets what {@code kind} held for the image (a tombstone). */
  synchronized void remove(Kind kind, String tenant, String imageId) {
    Preview old = held.remove(slot(kind, tenant, imageId));
    if (old != null) {
      bytes -= old.jpeg().length;
    }
  }

  /** The image's preview to serve: its reference one, else its upload one while not expired; null when none. */
  synchronized Preview get(String tenant, String imageId, long nowMs) {
    Preview ref = held.get(slot(Kind.REFERENCE, tenant, imageId));
    if (ref != null) {
      return ref;
    }
    Preview up = held.get(slot(Kind.UPLOAD, tenant, imageId));
    if (up != null && isExpired(up, nowMs)) {
      remove(Kind.UPLOAD, tenant, imageId);
      expired++;
      return null;
    }
    return up;
  }

  /** Drops the upload previews that have expired (the feed calls it now and then); returns how many. */
  synchronized int sweep(long nowMs) {
    int n = 0;
    for (Iterator<Map.Entry<String, Preview>> it = held.entrySet().iterator(); it.hasNext();) {
      Preview p = it.next().getValue();
      if (isExpired(p, nowMs)) {
        it.remove();
        bytes -= p.jpeg().length;
        n++;
      }
    }
    expired += n;
    return n;
  }

  private boolean isExpired(Preview p, long nowMs) {
    return p.kind() == Kind.UPLOAD && nowMs - p.createdAtMs() > uploadTtlMs;
  }

  synchronized int size() {
    return held.size();
  }

  synchronized long bytes() {
    return bytes;
  }

  long maxBytes() {
    return maxBytes;
  }

  /** Previews dropped to stay within the byte bound. */
  synchronized long evicted() {
    return evicted;
  }

  /** Upload previews dropped because they were older than the TTL. */
  synchronized long expired() {
    return expired;
  }
}
