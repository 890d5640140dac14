package dev.imgmatch.index;

import dev.imgmatch.avro.ImageEmbedding;
import dev.imgmatch.avro.Pdq256;
import dev.imgmatch.avro.QueryFilters;
import dev.imgmatch.avro.QueryParams;
import dev.imgmatch.avro.ViewVector;
import dev.imgmatch.common.GrayThumb;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Validation and conversion of the records index-service reads. Every failure names the offending value. */
public final class Records {
  public static final String INVALID_EMBEDDING = "INVALID_EMBEDDING";
  public static final String INVALID_QUERY = "INVALID_QUERY";
  public static final String INVALID_DELETION = "INVALID_DELETION";
  /** How far from 1 a descriptor's L2 norm may be before it is refused (it is renormalised within this). */
  static final double NORM_TOLERANCE = 1e-2;
  /** Lucene's HNSW formats accept at most this many dimensions. */
  public static final int MAX_DIMENSION = dev.imgmatch.schemas.Limits.MAX_VECTOR_DIMENSION;

  private Records() {}

  /** An upload's embedding as a shard document. */
  public static IndexedImage toIndexed(ImageEmbedding e) {
    require(e.getId() != null && !e.getId().isBlank(), INVALID_EMBEDDING, "empty image id");
    require(e.getTenant() != null && !e.getTenant().isBlank(), INVALID_EMBEDDING, "image " + e.getId() + ": empty tenant");
    require(e.getCollection() != null && !e.getCollection().isBlank(), INVALID_EMBEDDING,
        "image " + e.getId() + ": empty collection");
    require(e.getModelVersion() != null && !e.getModelVersion().isBlank(), INVALID_EMBEDDING,
        "image " + e.getId() + ": empty model version");
    float[] v = unitVector(e.getVector(), "image " + e.getId(), INVALID_EMBEDDING);
    require(v.length <= MAX_DIMENSION, INVALID_EMBEDDING, "image " + e.getId() + ": dimension " + v.length
        + " exceeds the HNSW maximum of " + MAX_DIMENSION + " (index the projected descriptor, not raw features)");
    require(e.getPdq() != null && e.getPdq().getHash() != null, INVALID_EMBEDDING, "image " + e.getId() + ": no PDQ");
    return new IndexedImage(e.getTenant(), e.getId(), e.getCollection(), e.getSource(), e.getAttributes(),
        e.getModelVersion(), v, e.getSha256().bytes().clone(), e.getPdq().getHash().bytes().clone(),
        e.getPdq().getQuality(), e.getSubmittedAtMs(), thumbnailOf(e, INVALID_EMBEDDING), smallVectorOf(e, v.length),
        e.getMd5() == null ? null : e.getMd5().bytes().clone(), localBytesOf(e, INVALID_EMBEDDING),
        backgroundOf(e), e.getExtraViews().stream().anyMatch(Records::isDepixelView));
  }

  /** The record's background cosine when it is a number in [-1, 1] (any producer can write {@code embeddings}). */
  static Float backgroundOf(ImageEmbedding e) {
    Float b = e.getBackgroundCosine();
    return b != null && b >= -1.0001f && b <= 1.0001f ? b : null;
  }

  /** The record's encoded local features, checked, or null; malformed ones are a bad record ({@code reason}). */
  static byte[] localBytesOf(ImageEmbedding e, String reason) {
    byte[] bytes = rawLocalBytes(e);
    localOf(bytes, e, reason);
    return bytes;
  }

  /** The record's local-feature bytes as sent, unchecked, or null. */
  private static byte[] rawLocalBytes(ImageEmbedding e) {
    if (e.getLocalFeatures() == null) {
      return null;
    }
    java.nio.ByteBuffer b = e.getLocalFeatures().duplicate();
    byte[] bytes = new byte[b.remaining()];
    b.get(bytes);
    return bytes;
  }

  /** Decoded local features, or null for null bytes; malformed ones are a bad record ({@code reason}). */
  static dev.imgmatch.local.LocalFeatures localOf(byte[] bytes, ImageEmbedding e, String reason) {
    if (bytes == null) {
      return null;
    }
    try {
      return dev.imgmatch.local.LocalFeatures.decode(bytes);
    } catch (IllegalArgumentException ex) {
      throw new InvalidRecordException(reason, (e.getPurpose() == dev.imgmatch.avro.Purpose.QUERY ? "query " : "image ")
          + e.getId() + ": " + ex.getMessage());
    }
  }

  /** The name of ingest-stream's small view (the image shrunk small), whose descriptor is indexed beside the full one. */
  public static final String SMALL_VIEW = "small";

  private static boolean isSmallView(ViewVector vv) {
    return SMALL_VIEW.contentEquals(vv.getView());
  }

  /**
   * The name of ingest-stream's inset view (a picture pasted into the image): its descriptor only nominates candidates
   * for local verification ({@link Probe#nominators}).
   */
  public static final String INSET_VIEW = "inset";

  private static boolean isInsetView(ViewVector vv) {
    return INSET_VIEW.contentEquals(vv.getView());
  }

  /**
   * ingest-stream's view of a mosaic's blocks ({@code ViewEncoder.DEPIXEL}): it makes one only for a picture in which
   * it found a mosaic grid, which marks the probe as pixelated ({@link Probe#mosaic}).
   */
  static final String DEPIXEL_VIEW = "depixel";

  private static boolean isDepixelView(ViewVector vv) {
    return DEPIXEL_VIEW.contentEquals(vv.getView());
  }

  /**
   * The descriptor of the record's {@code small} view, or null when it has none — or an unusable one (not a unit
   * vector of the full view's dimension): that costs the image its low-resolution twin, not its indexing.
   */
  static float[] smallVectorOf(ImageEmbedding e, int dim) {
    for (ViewVector vv : e.getExtraViews()) {
      if (isSmallView(vv)) {
        try {
          float[] x = unitVector(vv.getVector(), "image " + e.getId() + " view small", INVALID_EMBEDDING);
          return x.length == dim ? x : null;
        } catch (InvalidRecordException ex) {
          return null;
        }
      }
    }
    return null;
  }

  /** The record's thumbnail, or null; a malformed one is a bad record ({@code reason}). */
  static GrayThumb thumbnailOf(ImageEmbedding e, String reason) {
    try {
      return GrayThumb.fromAvro(e.getThumbnail());
    } catch (IllegalArgumentException ex) {
      throw new InvalidRecordException(reason, (e.getPurpose() == dev.imgmatch.avro.Purpose.QUERY ? "query " : "image ")
          + e.getId() + ": " + ex.getMessage());
    }
  }

  /**
   * The descriptor as float[], checked finite and non-empty, renormalised when its norm is within
   * {@link #NORM_TOLERANCE} of 1.
   */
  public static float[] unitVector(List<Float> list, String what, String reason) {
    require(list != null && !list.isEmpty(), reason, what + ": empty vector");
    float[] v = new float[list.size()];
    double n = 0;
    for (int i = 0; i < v.length; i++) {
      Float x = list.get(i);
      require(x != null && Float.isFinite(x), reason, what + ": component " + i + " is " + x);
      v[i] = x;
      n += (double) x * x;
    }
    double norm = Math.sqrt(n);
    require(Math.abs(norm - 1) <= NORM_TOLERANCE, reason,
        what + ": vector is not L2-normalised (norm " + norm + ", dimension " + v.length + ")");
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (v[i] / norm);
    }
    return v;
  }

  /**
   * The probe a new upload is matched with (before it is indexed): its full vector plus every extra view it carries
   * (e.g. a trimmed border; the inset view's only nominates candidates for local verification), its PDQ plus any dihedral variants and the PDQ inside a border, its SHA-256. Only the full
   * vector (and the {@code small} view's, beside it) is ever indexed ({@link #toIndexed}); the other extra views only
   * search. An extra view that is not a usable unit vector of the
   * full view's dimension is skipped (reported to {@code skipped}) rather than costing the upload its indexing.
   */
  public static Probe uploadProbe(ImageEmbedding e, IndexedImage img, SearchFilter filter, int k,
      java.util.function.Consumer<String> skipped) {
    List<float[]> vectors = new ArrayList<>();
    List<float[]> nominators = new ArrayList<>();
    vectors.add(img.vector());
    for (ViewVector vv : e.getExtraViews()) {
      if (isSmallView(vv)) {
        if (img.smallVector() == null) { // toIndexed found it unusable
          skipped.accept("image " + e.getId() + " view small is not a unit vector of dimension " + img.vector().length
              + ": indexed without its small-view descriptor");
        }
        continue; // indexed beside the full vector (toIndexed), not a probe
      }
      try {
        float[] x = unitVector(vv.getVector(), "image " + e.getId() + " view " + vv.getView(), INVALID_EMBEDDING);
        require(x.length == img.vector().length, INVALID_EMBEDDING, "image " + e.getId() + " view " + vv.getView()
            + " has dimension " + x.length + ", the full view " + img.vector().length);
        (isInsetView(vv) ? nominators : vectors).add(x);
      } catch (InvalidRecordException ex) {
        skipped.accept(ex.getMessage());
      }
    }
    // dihedral PDQs: uploads carry them for the banks; shard matching of uploads stays with the image's own
    return new Probe(img.modelVersion(), vectors, probeHashes(img.pdq(), e, false), img.pdqQuality(), img.sha256(), filter,
        k, img.thumbnail(), localOf(img.localFeatures(), e, INVALID_EMBEDDING), img.background(), nominators,
        img.mosaic(), side(e)); // toIndexed read the mosaic mark from the record's depixel view
  }

  /** The longer side of the record's decoded image, or null when the record does not say (before v12). */
  static Integer side(ImageEmbedding e) {
    return e.getWidth() == null || e.getHeight() == null ? null : Math.max(e.getWidth(), e.getHeight());
  }

  /**
   * The PDQ hashes a probe searches with: the image's, its dihedral variants (queries) and the PDQ inside a border
   * (a bordered copy meets its original by PDQ there).
   */
  private static List<byte[]> probeHashes(byte[] pdq, ImageEmbedding e, boolean dihedral) {
    List<byte[]> hashes = new ArrayList<>();
    if (pdq != null) {
      hashes.add(pdq);
    }
    if (dihedral) {
      for (Pdq256 h : e.getPdqDihedral()) {
        hashes.add(h.bytes());
      }
    }
    if (e.getPdqTrim() != null) {
      hashes.add(e.getPdqTrim().getHash().bytes());
    }
    return hashes;
  }

  /**
   * The PDQ hashes an upload is compared with hash-list bank entries by: its own, its 8 dihedral variants (uploads
   * carry them since PreparedImage v4) and the PDQ inside a border. Shard matching of uploads uses its own and the
   * border's only ({@link #uploadProbe}).
   */
  public static List<byte[]> bankProbeHashes(ImageEmbedding e) {
    return probeHashes(e.getPdq() == null ? null : e.getPdq().getHash().bytes(), e, true);
  }

  /**
   * The probe of an embedding: full view plus extra views (the inset view's only nominates candidates for local
   * verification); PDQ plus dihedral variants and the PDQ inside a border.
   */
  public static Probe probeOf(ImageEmbedding e, SearchFilter filter, int k) {
    List<float[]> vectors = new ArrayList<>();
    List<float[]> nominators = new ArrayList<>();
    String what = (e.getPurpose() == dev.imgmatch.avro.Purpose.QUERY ? "query " : "image ") + e.getId();
    String reason = e.getPurpose() == dev.imgmatch.avro.Purpose.QUERY ? INVALID_QUERY : INVALID_EMBEDDING;
    vectors.add(unitVector(e.getVector(), what, reason));
    boolean mosaic = false;
    for (ViewVector vv : e.getExtraViews()) {
      mosaic |= isDepixelView(vv);
      if (isSmallView(vv)) {
        continue; // a reference-side view, not a probe
      }
      float[] x = unitVector(vv.getVector(), what + " view " + vv.getView(), reason);
      require(x.length == vectors.get(0).length, reason, what + " view " + vv.getView() + " has dimension " + x.length
          + ", the full view " + vectors.get(0).length);
      (isInsetView(vv) ? nominators : vectors).add(x);
    }
    List<byte[]> hashes = probeHashes(e.getPdq() == null ? null : e.getPdq().getHash().bytes(), e, true);
    return new Probe(e.getModelVersion(), vectors, hashes, e.getPdq() == null ? 0 : e.getPdq().getQuality(),
        e.getSha256() == null ? null : e.getSha256().bytes(), filter, k, thumbnailOf(e, reason),
        localOf(rawLocalBytes(e), e, reason), backgroundOf(e), nominators, mosaic, side(e)); // features decoded once
  }

  /** The filter a query asks for, on top of its tenant's visibility. */
  public static SearchFilter filterOf(String tenant, QueryParams params, Set<String> shared) {
    QueryFilters f = params.getFilters();
    if (f == null) {
      return SearchFilter.tenantOnly(tenant, shared);
    }
    return new SearchFilter(tenant, shared, new HashSet<>(f.getCollections()), new HashSet<>(f.getSources()),
        f.getFromMs(), f.getToMs(), null);
  }

  /** Checks k, min score and the time range of a query. */
  public static void checkParams(String queryId, QueryParams p, int maxK) {
    require(p != null, INVALID_QUERY, "query " + queryId + ": no parameters");
    require(p.getK() >= 1 && p.getK() <= maxK, INVALID_QUERY,
        "query " + queryId + ": k must be 1-" + maxK + ", got " + p.getK());
    require(Float.isFinite(p.getMinScore()) && p.getMinScore() >= 0 && p.getMinScore() <= 1, INVALID_QUERY,
        "query " + queryId + ": minScore must be 0-1, got " + p.getMinScore());
    QueryFilters f = p.getFilters();
    if (f != null && f.getFromMs() != null && f.getToMs() != null) {
      require(f.getFromMs() < f.getToMs(), INVALID_QUERY,
          "query " + queryId + ": fromMs " + f.getFromMs() + " is not before toMs " + f.getToMs());
    }
  }

  static void require(boolean ok, String reason, String message) {
    if (!ok) {
      throw new InvalidRecordException(reason, message);
    }
  }
}
