package dev.imgmatch.console;

import dev.imgmatch.avro.Decision;
import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.avro.MatchedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The signals of a match in words a moderator reads without knowing the algorithms: what each number means, not
 * only its value. Only signals the record carries are described; geometric verification is decided inside
 * index-service and is not carried by {@code MatchedImage}, so nothing is said about it.
 */
final class Evidence {
  private Evidence() {}

  /** One line per signal of a matched image, strongest evidence first. */
  static List<String> of(MatchedImage m) {
    List<String> out = new ArrayList<>();
    if (m.getBank() != null) {
      out.add("entry of the hash-list bank '" + m.getBank() + "' (a listed hash, no image held)");
    }
    if (m.getExact()) {
      out.add(m.getBank() != null ? "identical file (same SHA-256 or MD5 as the listed entry)"
          : "identical file (SHA-256)");
    }
    Integer d = m.getPdqDistance();
    if (d != null) {
      out.add(d == 0 ? "perceptual hash identical (PDQ, 0 of 256 bits differ)"
          : "perceptual hash " + d + " bit" + (d == 1 ? "" : "s") + " apart of 256 (PDQ; 0 = looks the same, about"
              + " 128 = unrelated)");
    }
    Float c = m.getCosine();
    if (c != null) {
      out.add(String.format(Locale.ROOT, "descriptor similarity %.2f (cosine of the picture descriptors; 1 = same"
          + " picture)", c));
    }
    Integer inliers = m.getLocalInliers();
    if (inliers != null) {
      out.add("found inside the picture: " + inliers + " keypoint matches fit one placement (local verification;"
          + " 12 or more count as evidence)");
    }
    if (!m.getNearDuplicates().isEmpty()) {
      out.add("placed on the same spot, with fewer matches: " + String.join(", ", m.getNearDuplicates())
          + " (near-duplicates of this image, not reported as matches of their own)");
    }
    out.add(String.format(Locale.ROOT, "combined score %.3f (0-1, what the ranking uses)", m.getScore()));
    return out;
  }

  /** Lines about the alert itself: the decision, how it was found, whether it was retroactive. */
  static List<String> of(MatchAlert a) {
    List<String> out = new ArrayList<>();
    out.add(a.getDecision() == Decision.MATCH ? "MATCH: the policy is confident this copies the matched image"
        : "REVIEW: similar enough that a person should look");
    out.add("exact".equals(a.getDetector()) ? "found by the byte-identical fast path (ingest-stream)"
        : "found by the index (" + (a.getModelVersion() == null ? "all signals" : "descriptor model "
            + a.getModelVersion()) + ")");
    if (a.getRetroactive()) {
      out.add("retroactive: the matched image was added after this upload");
    }
    return out;
  }
}
