package dev.imgmatch.index;

import java.util.Arrays;

/**
 * Every signal of one candidate against a probe, measured exactly, and its fused score: one scorer for the images
 * read back from a shard's searcher and for those just written and not yet in one ({@link LocalShards}), so the
 * two can never score the same image differently.
 */
final class CandidateScorer {
  private CandidateScorer() {}

  /**
   * The hit of {@code img} (of shard {@code shard}) for probe {@code p}: exact bytes, the smallest PDQ distance
   * over the probe's hashes (when both hashes are of usable quality), the best cosine over the probe's views against
   * the full and the small-view descriptor (same model version only), and {@link MatchPolicy#score}. The thumbnail
   * travels only when verification is on.
   */
  static Hit hit(Probe p, MatchPolicy policy, IndexedImage img, int shard) {
    boolean exact = p.sha256() != null && Arrays.equals(p.sha256(), img.sha256());
    boolean pdqUsable = policy.pdqUsable(img.pdqQuality());
    Integer pdqDistance = null;
    if (pdqUsable && !p.pdqHashes().isEmpty() && policy.pdqUsable(p.pdqQuality())) {
      int best = Integer.MAX_VALUE;
      for (byte[] h : p.pdqHashes()) {
        best = Math.min(best, Pdq.hamming(h, img.pdq()));
      }
      pdqDistance = best;
    }
    boolean sameModel = img.modelVersion().equals(p.modelVersion());
    Float cosine = sameModel ? p.bestCosine(img.vector(), img.smallVector()) : null;
    double score = policy.score(exact, pdqDistance, cosine);
    return new Hit(img.uid(), img.imageId(), img.tenant(), img.collection(), img.source(), img.attributes(),
        img.submittedAtMs(), exact, pdqDistance, cosine, score, score, shard, img.sha256(),
        pdqUsable ? img.pdq() : null, sameModel ? img.vector() : null,
        policy.verification().candidates() > 0 ? img.thumbnail() : null);
  }
}
