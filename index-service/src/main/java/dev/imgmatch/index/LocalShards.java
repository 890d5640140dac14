package dev.imgmatch.index;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The shards this instance owns (one per assigned partition of the embeddings topic), a background thread
 * refreshing their searchers every {@code refreshIntervalMs}, and searches over all of them.
 */
public final class LocalShards implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(LocalShards.class);

  private final Path root;
  private final ShardIndex.Options options;
  private final Map<Integer, ShardIndex> shards = new ConcurrentSkipListMap<>();
  private final Map<String, Integer> dims = new ConcurrentHashMap<>();
  private final ScheduledExecutorService refresher;
  private volatile int totalShards;

  public LocalShards(Path root, ShardIndex.Options options, long refreshIntervalMs) {
    this.root = root;
    this.options = options;
    this.refresher = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "index-refresher");
      t.setDaemon(true);
      return t;
    });
    refresher.scheduleWithFixedDelay(this::refreshAll, refreshIntervalMs, refreshIntervalMs, TimeUnit.MILLISECONDS);
  }

  private void refreshAll() {
    for (ShardIndex s : shards.values()) {
      try {
        s.refresh();
      } catch (org.apache.lucene.store.AlreadyClosedException e) {
        // closed by a rebalance between listing and refreshing: nothing to do
      } catch (IOException | RuntimeException e) {
        log.warn("refreshing shard {} failed (retried next period): {}", s.shard(), e.toString());
      }
    }
  }

  /** Refreshes every shard now (tests and start-up). */
  public void refreshNow() throws IOException {
    for (ShardIndex s : shards.values()) {
      s.refresh();
    }
  }

  /** Opens the shard of partition {@code p} (from disk if present). */
  public ShardIndex open(int p) throws IOException {
    ShardIndex existing = shards.get(p);
    if (existing != null) {
      return existing;
    }
    ShardIndex s = ShardIndex.open(root, p, options);
    for (Map.Entry<String, Integer> e : s.vectorDims().entrySet()) {
      Integer prev = dims.putIfAbsent(e.getKey(), e.getValue());
      if (prev != null && !prev.equals(e.getValue())) {
        log.error("shard {} holds {} with dimension {}, other shards {}", p, e.getKey(), e.getValue(), prev);
      }
    }
    shards.put(p, s);
    return s;
  }

  /** Commits (when {@code embeddingsTopic} is non-null) and closes the shard of partition {@code p}. */
  public void close(int p, String embeddingsTopic) throws IOException {
    ShardIndex s = shards.remove(p);
    if (s != null) {
      try {
        if (embeddingsTopic != null) {
          s.commit(embeddingsTopic);
        }
      } finally {
        s.close();
      }
    }
  }

  public Optional<ShardIndex> get(int p) {
    return Optional.ofNullable(shards.get(p));
  }

  public List<ShardIndex> all() {
    return List.copyOf(shards.values());
  }

  public Set<Integer> owned() {
    return Set.copyOf(shards.keySet());
  }

  public void setTotalShards(int n) {
    totalShards = n;
  }

  /** Shards that exist (partitions of the embeddings topic), or the owned count before it is known. */
  public int totalShards() {
    return Math.max(totalShards, shards.size());
  }

  /**
   * Checks a new image's vector against the dimension its model version has anywhere in this instance.
   *
   * @throws IllegalArgumentException naming both dimensions
   */
  public void checkDimension(String modelVersion, int dim) {
    Integer prev = dims.putIfAbsent(Fields.vector(modelVersion), dim);
    if (prev != null && prev != dim) {
      throw new IllegalArgumentException("model version '" + modelVersion + "' has dimension " + prev
          + " in the index, but this vector has " + dim);
    }
  }

  /** Model versions held, with their dimension. */
  public Map<String, Integer> modelVersions() {
    Map<String, Integer> m = new HashMap<>();
    dims.forEach((k, v) -> m.put(k.substring("vec:".length()), v));
    return m;
  }

  /** Every local shard's hits, best combined score first (ties: newer first, then id). */
  public List<Hit> search(Probe p, MatchPolicy policy) throws IOException {
    List<Hit> all = new ArrayList<>();
    for (ShardIndex s : shards.values()) {
      try {
        all.addAll(s.search(p, policy));
      } catch (org.apache.lucene.store.AlreadyClosedException e) {
        // partition revoked during the search: its new owner answers for it
      }
    }
    all.sort(Comparator.comparingDouble(Hit::score).reversed()
        .thenComparing(Comparator.comparingLong(Hit::submittedAtMs).reversed())
        .thenComparing(Hit::uid));
    return all;
  }

  /** The visible image with this id in any local shard (the tenant's own first). */
  public Optional<IndexedImage> lookup(SearchFilter visibility, String imageId) {
    IndexedImage shared = null;
    for (ShardIndex s : shards.values()) {
      try {
        Optional<IndexedImage> found = s.lookup(visibility, imageId);
        if (found.isPresent()) {
          if (found.get().tenant().equals(visibility.tenant())) {
            return found;
          }
          shared = found.get();
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return Optional.ofNullable(shared);
  }

  @Override
  public void close() throws IOException {
    refresher.shutdownNow();
    try {
      refresher.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (Integer p : List.copyOf(shards.keySet())) {
      close(p, null);
    }
  }
}
