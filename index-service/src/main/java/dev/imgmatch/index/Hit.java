package dev.imgmatch.index;

import dev.imgmatch.avro.MatchedImage;
import java.util.Map;

/**
 * One indexed image found by a probe, with every signal measured against it (whichever signal found it).
 *
 * @param pdqDistance smallest Hamming distance over the probe's hashes; null when either PDQ is below quality
 * @param cosine best cosine over the probe's vectors; null when the image has no vector of the probe's version
 * @param score combined score by {@link MatchPolicy#score}
 */
public record Hit(String uid, String imageId, String tenant, String collection, String source,
    Map<String, String> attributes, long submittedAtMs, boolean exact, Integer pdqDistance, Float cosine,
    double score, int shard) {

  public MatchedImage toAvro() {
    return MatchedImage.newBuilder()
        .setImageId(imageId)
        .setTenant(tenant)
        .setCollection(collection)
        .setSource(source)
        .setScore((float) score)
        .setExact(exact)
        .setPdqDistance(pdqDistance)
        .setCosine(cosine)
        .setAttributes(Map.copyOf(attributes))
        .build();
  }
}
