package dev.imgmatch.cli.scan;

import dev.imgmatch.embedder.worker.EmbedderWorkerConfig;
import dev.imgmatch.index.IndexServiceConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * How {@code ./imgmatch scan} runs a folder through the pipeline so that its groups are a function of the files
 * alone, never of timing:
 * <ul>
 *   <li><b>Order</b>: images are uploaded in the order of their ids (paths relative to the folder), each with a
 *       submission time of its own, one millisecond apart in that order. index-service matches each image against
 *       those before it, and "before" (retroactive matching's window, newer-first among equal candidates) is then
 *       the path order, not whichever files a loop happened to send within one millisecond.
 *   <li><b>Descriptors</b>: the model runs on one picture per call ({@code inference.batch.size=1}), so a descriptor
 *       does not depend on how the embedder split its micro-batches, which follow timing (a picture's descriptor
 *       differs in its last bits between a call of its own and a call shared with others).
 *   <li><b>Candidates</b>: every earlier image is a candidate of every search, up to {@link #EXHAUSTIVE_MAX} images
 *       ({@code match.knn.k}, {@code index.knn.candidates} and {@code match.retroactive.max.candidates} at least the
 *       folder's size): the candidates do not depend on the HNSW graphs, segments and searcher refreshes a run
 *       happens to build; nearest-neighbour search over that few images is exact anyway. Beyond that size the
 *       {@value #EXHAUSTIVE_MAX} nearest are searched per view, which differs only for a picture with more copies
 *       in the folder than that.
 * </ul>
 */
public final class ScanPlan {
  /** The collection a scan indexes into, matched against itself. */
  public static final String COLLECTION = "scan";
  /** The largest folder whose every image is a candidate of every search ({@code match.knn.k}'s upper bound). */
  public static final int EXHAUSTIVE_MAX = 1000;

  private ScanPlan() {}

  /** One image to upload: its id, file and submission time. */
  public record Upload(String id, Path file, long submittedAtMs) {}

  /**
   * The uploads of a folder, sorted by id, with distinct submission times increasing in that order and ending at
   * {@code nowMs} (never in the future).
   *
   * @param idOf an image's id (its path relative to the folder)
   * @throws IllegalArgumentException when two files get the same id
   */
  public static List<Upload> uploads(List<Path> files, Function<Path, String> idOf, long nowMs) {
    List<Path> byId = new ArrayList<>(files);
    byId.sort(Comparator.comparing(idOf));
    List<Upload> out = new ArrayList<>(byId.size());
    long first = nowMs - byId.size() + 1;
    for (int i = 0; i < byId.size(); i++) {
      String id = idOf.apply(byId.get(i));
      if (i > 0 && id.equals(out.get(i - 1).id())) {
        throw new IllegalArgumentException("two files have the id '" + id + "': " + out.get(i - 1).file() + " and "
            + byId.get(i));
      }
      out.add(new Upload(id, byId.get(i), first + i));
    }
    return out;
  }

  /** embedder-worker settings a scan needs: one picture per model call. */
  public static Map<String, String> embedderSettings() {
    return Map.of(EmbedderWorkerConfig.INFERENCE_BATCH_SIZE, "1");
  }

  /**
   * index-service settings a scan of {@code images} images needs: the scan collection matched against itself, and
   * every earlier image a candidate (up to {@link #EXHAUSTIVE_MAX}; never fewer than the service's defaults).
   */
  public static Map<String, String> indexSettings(int images) {
    int k = Math.max(10, Math.min(images, EXHAUSTIVE_MAX));
    int candidates = Math.max(100, k);
    Map<String, String> m = new TreeMap<>();
    m.put("match.rules", COLLECTION + ":" + COLLECTION);
    m.put(IndexServiceConfig.MATCH_K, String.valueOf(k));
    m.put(IndexServiceConfig.KNN_CANDIDATES, String.valueOf(candidates));
    m.put(IndexServiceConfig.RETROACTIVE_MAX_CANDIDATES, String.valueOf(candidates));
    return m;
  }

  /**
   * {@code fixed} with the user's {@code extra} settings of one service added.
   *
   * @throws IllegalArgumentException when {@code extra} sets a key {@code fixed} holds to another value: the scan
   *     sets it to keep its result independent of timing
   */
  public static Map<String, String> withExtra(String service, Map<String, String> fixed, Map<String, String> extra) {
    Map<String, String> out = new TreeMap<>(fixed);
    extra.forEach((k, v) -> {
      String mine = fixed.get(k);
      if (mine != null && !mine.equals(v)) {
        throw new IllegalArgumentException("--set " + service + ":" + k + "=" + v + ": scan sets " + k + "=" + mine
            + " itself, so that its groups do not depend on timing (docs/OPERATIONS.md#finding-duplicates-in-a-folder-imgmatch-scan)");
      }
      out.put(k, v);
    });
    return out;
  }
}
