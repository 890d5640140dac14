package dev.imgmatch.ingest;

import dev.imgmatch.avro.ImageSubmission;
import dev.imgmatch.avro.InlineImage;
import dev.imgmatch.avro.PreparedImage;
import dev.imgmatch.avro.Purpose;
import dev.imgmatch.ingest.image.ImageRejectedException;
import dev.imgmatch.ingest.image.RejectReason;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Set;

/**
 * Prepares a kept original ({@code originals} topic) exactly as ingest-stream prepares an upload of its collection —
 * same decoding limits, views (the {@code small} one for {@code ingest.small.view.collections}), hashes and thumbnail
 * — so that {@code ./imgmatch reindex} can embed it again with a new model version.
 */
public final class OriginalPreparation {
  private final ImagePreparer preparer;
  private final List<String> views;
  private final List<String> withSmall;
  private final Set<String> smallCollections;

  private OriginalPreparation(ImagePreparer preparer, List<String> views, Set<String> smallCollections) {
    this.preparer = preparer;
    this.views = List.copyOf(views);
    this.withSmall = ViewEncoder.referenceViews(views);
    this.smallCollections = Set.copyOf(smallCollections);
  }

  /** With ingest-stream's settings (the deployment's, so that the views are those its uploads get). */
  public static OriginalPreparation of(IngestConfig cfg) {
    return new OriginalPreparation(ImagePreparer.of(cfg), cfg.uploadViews(), cfg.smallViewCollections());
  }

  /**
   * The prepared record (purpose INDEX) of an original carried inline.
   *
   * @throws ImageRejectedException when the bytes are not an image these settings accept (the reason says why)
   */
  public PreparedImage prepare(ImageSubmission s, long nowMs) throws ImageRejectedException {
    if (!(s.getImage() instanceof InlineImage inline)) {
      throw new ImageRejectedException(RejectReason.INVALID_RECORD, "original " + s.getImageId()
          + " does not carry its bytes inline");
    }
    ByteBuffer d = inline.getData().duplicate();
    byte[] bytes = new byte[d.remaining()];
    d.get(bytes);
    ImagePreparer.Fingerprint f = preparer.fingerprint(bytes, true);
    boolean reference = smallCollections.contains(s.getCollection());
    List<String> names = reference ? withSmall : views;
    return PrepareProcessor.builder(f, preparer.render(f, names, reference), s.getImageId(), Purpose.INDEX, s.getTenant(),
        s.getCollection(), s.getSource(), s.getAttributes(), s.getSubmittedAtMs(), nowMs).build();
  }
}
