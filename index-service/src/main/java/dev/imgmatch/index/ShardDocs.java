package dev.imgmatch.index;

import dev.imgmatch.common.GrayThumb;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.lucene.document.BinaryDocValuesField;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.DocumentStoredFieldVisitor;
import org.apache.lucene.document.Field.Store;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.document.LongPoint;
import org.apache.lucene.document.NumericDocValuesField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.BinaryDocValues;
import org.apache.lucene.index.FieldInfo;
import org.apache.lucene.index.FloatVectorValues;
import org.apache.lucene.index.KnnVectorValues.DocIndexIterator;
import org.apache.lucene.index.LeafReader;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.NumericDocValues;
import org.apache.lucene.index.ReaderUtil;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.util.BytesRef;

/** How an image is laid out in a shard's Lucene documents ({@link Fields}), written and read back. */
final class ShardDocs {
  private ShardDocs() {}

  /** The descriptors of one further model version of an image: full view, and small view or null. */
  record VersionVectors(float[] vector, float[] small) {}

  /** The document of an image: what is searched, what is stored, what doc values hold. */
  static Document document(IndexedImage img) {
    return document(img, Map.of());
  }

  /** The document of an image that also has descriptors of further model versions ({@code extra}, by version). */
  static Document document(IndexedImage img, Map<String, VersionVectors> extra) {
    Document d = new Document();
    d.add(new StringField(Fields.UID, img.uid(), Store.YES));
    d.add(new StringField(Fields.KIND, Fields.KIND_IMAGE, Store.NO));
    d.add(new StringField(Fields.IMAGE_ID, img.imageId(), Store.YES));
    d.add(new StringField(Fields.TENANT, img.tenant(), Store.YES));
    d.add(new StringField(Fields.COLLECTION, img.collection(), Store.YES));
    if (img.source() != null) {
      d.add(new StringField(Fields.SOURCE, img.source(), Store.YES));
    }
    d.add(new LongPoint(Fields.SUBMITTED_MS, img.submittedAtMs()));
    d.add(new StoredField(Fields.SUBMITTED_MS, img.submittedAtMs()));
    d.add(new StringField(Fields.MODEL_VERSION, img.modelVersion(), Store.YES));
    d.add(new StringField(Fields.SHA256, new BytesRef(img.sha256()), Store.YES));
    if (img.md5() != null) {
      d.add(new StringField(Fields.MD5, new BytesRef(img.md5()), Store.YES));
    }
    d.add(new BinaryDocValuesField(Fields.PDQ, new BytesRef(img.pdq())));
    d.add(new NumericDocValuesField(Fields.PDQ_QUALITY, img.pdqQuality()));
    if (img.background() != null) {
      d.add(new StoredField(Fields.BACKGROUND, img.background()));
    }
    for (BytesRef t : Pdq.indexTerms(img.pdq())) {
      d.add(new StringField(Fields.PDQ_CHUNKS, t, Store.NO));
    }
    if (!img.attributes().isEmpty()) {
      d.add(new StoredField(Fields.ATTRIBUTES, encodeAttributes(img.attributes())));
    }
    if (img.thumbnail() != null) {
      d.add(new StoredField(Fields.THUMBNAIL, img.thumbnail().encode()));
      float[] layout = Layout.indexed(img.thumbnail());
      if (layout != null) {
        d.add(new KnnFloatVectorField(Fields.LAYOUT, layout, VectorSimilarityFunction.DOT_PRODUCT));
      }
      // only the works a copy is looked for (what keeps its local features: index.local.collections), not every
      // upload: five more vectors are about 1.7 KB per image
      float[][] windows = img.localFeatures() == null ? new float[0][] : Layout.indexedWindows(img.thumbnail());
      for (int i = 0; i < windows.length; i++) {
        if (windows[i] != null) {
          d.add(new KnnFloatVectorField(Fields.layoutWindow(i), windows[i], VectorSimilarityFunction.DOT_PRODUCT));
        }
      }
    }
    if (img.mosaic()) {
      d.add(new StringField(Fields.MOSAIC, Fields.MOSAIC_YES, Store.YES));
    }
    if (img.localFeatures() != null) {
      d.add(new StoredField(Fields.LOCAL_FEATURES_DEFLATED, deflate(img.localFeatures())));
      int[] words = LocalCandidates.words(img.localFeatures());
      for (int w : words) {
        d.add(new StringField(Fields.LOCAL_WORDS, LocalCandidates.term(w), Store.NO));
      }
      d.add(new NumericDocValuesField(Fields.LOCAL_WORD_COUNT, words.length));
    }
    d.add(new KnnFloatVectorField(Fields.vector(img.modelVersion()), img.vector(),
        VectorSimilarityFunction.DOT_PRODUCT));
    if (img.smallVector() != null) {
      d.add(new KnnFloatVectorField(Fields.smallVector(img.modelVersion()), img.smallVector(),
          VectorSimilarityFunction.DOT_PRODUCT));
    }
    for (var e : new TreeMap<>(extra).entrySet()) {
      if (e.getKey().equals(img.modelVersion())) {
        continue;
      }
      d.add(new StringField(Fields.MODEL_VERSION_EXTRA, e.getKey(), Store.YES));
      d.add(new KnnFloatVectorField(Fields.vector(e.getKey()), e.getValue().vector(),
          VectorSimilarityFunction.DOT_PRODUCT));
      if (e.getValue().small() != null) {
        d.add(new KnnFloatVectorField(Fields.smallVector(e.getKey()), e.getValue().small(),
            VectorSimilarityFunction.DOT_PRODUCT));
      }
    }
    return d;
  }

  /** The further versions' descriptors of doc {@code local} of a segment (empty for most images). */
  static Map<String, VersionVectors> extraVersions(LeafReader r, int local) throws IOException {
    Document d = r.storedFields().document(local, java.util.Set.of(Fields.MODEL_VERSION_EXTRA));
    Map<String, VersionVectors> out = new TreeMap<>();
    for (String v : d.getValues(Fields.MODEL_VERSION_EXTRA)) {
      float[] vec = vectorOf(r, Fields.vector(v), local);
      if (vec != null) {
        out.put(v, new VersionVectors(vec, vectorOf(r, Fields.smallVector(v), local)));
      }
    }
    return out;
  }

  /** The live image (not a tombstone or pending descriptors) with this uid. */
  static org.apache.lucene.search.Query imageByUid(String uid) {
    return new org.apache.lucene.search.BooleanQuery.Builder()
        .add(new org.apache.lucene.search.TermQuery(new org.apache.lucene.index.Term(Fields.UID, uid)),
            org.apache.lucene.search.BooleanClause.Occur.FILTER)
        .add(new org.apache.lucene.search.TermQuery(new org.apache.lucene.index.Term(Fields.KIND, Fields.KIND_IMAGE)),
            org.apache.lucene.search.BooleanClause.Occur.FILTER).build();
  }

  /** The image stored as global doc {@code doc} of the searcher. */
  static IndexedImage load(IndexSearcher s, int doc) throws IOException {
    return load(s, doc, true, true, null);
  }

  /** The image stored as global doc {@code doc} of the searcher, loaded as the segment's loader below says. */
  static IndexedImage load(IndexSearcher s, int doc, boolean withThumbnail, boolean withLocal, String version)
      throws IOException {
    List<LeafReaderContext> leaves = s.getIndexReader().leaves();
    LeafReaderContext leaf = leaves.get(ReaderUtil.subIndex(doc, leaves));
    return load(leaf.reader(), doc - leaf.docBase, withThumbnail, withLocal, version);
  }

  /**
   * The image stored as doc {@code local} of a segment, local features included; its thumbnail decoded only when
   * asked for.
   */
  static IndexedImage load(LeafReader r, int local, boolean withThumbnail) throws IOException {
    return load(r, local, withThumbnail, true, null);
  }

  /**
   * The image stored as doc {@code local} of a segment, seen through model version {@code version} when it has
   * descriptors of it (its {@code modelVersion}, {@code vector} and {@code smallVector} are then that version's),
   * else through the version it was indexed with.
   * The local features are left out ({@code localFeatures} null) unless {@code withLocal}: a search's hits do not
   * need them, and they are most of a reference's stored bytes.
   */
  static IndexedImage load(LeafReader r, int local, boolean withThumbnail, boolean withLocal, String version)
      throws IOException {
    Document d;
    if (withLocal) {
      d = r.storedFields().document(local);
    } else {
      DocumentStoredFieldVisitor v = new DocumentStoredFieldVisitor() {
        @Override
        public Status needsField(FieldInfo f) {
          return f.name.equals(Fields.LOCAL_FEATURES) || f.name.equals(Fields.LOCAL_FEATURES_DEFLATED) ? Status.NO
              : Status.YES;
        }
      };
      r.storedFields().document(local, v);
      d = v.getDocument();
    }
    String mv = d.get(Fields.MODEL_VERSION);
    if (version != null && !version.equals(mv) && Arrays.asList(d.getValues(Fields.MODEL_VERSION_EXTRA)).contains(version)) {
      mv = version;
    }
    byte[] pdq = pdqOf(r, local);
    return new IndexedImage(d.get(Fields.TENANT), d.get(Fields.IMAGE_ID), d.get(Fields.COLLECTION),
        d.get(Fields.SOURCE), decodeAttributes(d.getBinaryValue(Fields.ATTRIBUTES)), mv,
        vectorOf(r, Fields.vector(mv), local), bytes(d.getBinaryValue(Fields.SHA256)),
        pdq == null ? new byte[Pdq.BYTES] : pdq, (int) qualityOf(r, local),
        d.getField(Fields.SUBMITTED_MS).numericValue().longValue(),
        withThumbnail ? thumbnail(d.getBinaryValue(Fields.THUMBNAIL)) : null,
        vectorOf(r, Fields.smallVector(mv), local), bytes(d.getBinaryValue(Fields.MD5)),
        localFeaturesOf(d),
        mv.equals(d.get(Fields.MODEL_VERSION)) ? backgroundOf(d) : null, // another version: another space
        Fields.MOSAIC_YES.equals(d.get(Fields.MOSAIC)));
  }

  private static Float backgroundOf(Document d) {
    var f = d.getField(Fields.BACKGROUND);
    return f == null || f.numericValue() == null ? null : f.numericValue().floatValue();
  }

  static byte[] pdqOf(LeafReader r, int local) throws IOException {
    BinaryDocValues dv = r.getBinaryDocValues(Fields.PDQ);
    if (dv == null || !dv.advanceExact(local)) {
      return null;
    }
    return bytes(dv.binaryValue());
  }

  static long qualityOf(LeafReader r, int local) throws IOException {
    NumericDocValues dv = r.getNumericDocValues(Fields.PDQ_QUALITY);
    return dv != null && dv.advanceExact(local) ? dv.longValue() : 0;
  }

  static float[] vectorOf(LeafReader r, String field, int local) throws IOException {
    FloatVectorValues fv = r.getFloatVectorValues(field);
    if (fv == null) {
      return null;
    }
    DocIndexIterator it = fv.iterator();
    if (it.advance(local) != local) {
      return null;
    }
    return fv.vectorValue(it.index()).clone();
  }

  /**
   * The stored local features' encoding: inflated from {@link Fields#LOCAL_FEATURES_DEFLATED}, or as older shards keep
   * it.
   */
  private static byte[] localFeaturesOf(Document d) throws IOException {
    BytesRef z = d.getBinaryValue(Fields.LOCAL_FEATURES_DEFLATED);
    return z != null ? inflate(z, dev.imgmatch.local.LocalFeatures.MAX_ENCODED_BYTES)
        : bytes(d.getBinaryValue(Fields.LOCAL_FEATURES));
  }

  /** Raw DEFLATE at level 1: RootSIFT bytes lose a quarter at any level (docs/BENCHMARKS.md), level 1 is fastest. */
  static byte[] deflate(byte[] raw) {
    java.util.zip.Deflater z = new java.util.zip.Deflater(1, true);
    try {
      z.setInput(raw);
      z.finish();
      java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(raw.length / 2 + 64);
      byte[] buf = new byte[16 * 1024];
      while (!z.finished()) {
        out.write(buf, 0, z.deflate(buf));
      }
      return out.toByteArray();
    } finally {
      z.end();
    }
  }

  /** {@link #deflate}'s bytes back, at most {@code max} of them; a stream that is malformed or longer is corrupt. */
  static byte[] inflate(BytesRef in, int max) throws IOException {
    java.util.zip.Inflater z = new java.util.zip.Inflater(true);
    try {
      z.setInput(in.bytes, in.offset, in.length);
      java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(Math.min(max, in.length * 2 + 64));
      byte[] buf = new byte[16 * 1024];
      while (!z.finished()) {
        int n = z.inflate(buf);
        if (n == 0 && (z.needsInput() || z.needsDictionary())) {
          throw new IOException("stored local features: truncated DEFLATE stream");
        }
        if (out.size() + n > max) {
          throw new IOException("stored local features: more than " + max + " bytes inflated");
        }
        out.write(buf, 0, n);
      }
      return out.toByteArray();
    } catch (java.util.zip.DataFormatException e) {
      throw new IOException("stored local features: " + e.getMessage(), e);
    } finally {
      z.end();
    }
  }

  static byte[] bytes(BytesRef b) {
    return b == null ? null : Arrays.copyOfRange(b.bytes, b.offset, b.offset + b.length);
  }

  static byte[] encodeAttributes(Map<String, String> attrs) {
    StringBuilder sb = new StringBuilder();
    new TreeMap<>(attrs).forEach((k, v) -> sb.append(k).append('\0').append(v).append('\0'));
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  static Map<String, String> decodeAttributes(BytesRef b) {
    if (b == null || b.length == 0) {
      return Map.of();
    }
    String[] parts = new String(b.bytes, b.offset, b.length, StandardCharsets.UTF_8).split("\0", -1);
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i + 1 < parts.length; i += 2) {
      m.put(parts[i], parts[i + 1]);
    }
    return m;
  }

  /** A stored {@link Fields#THUMBNAIL}, or null for an image indexed without one. */
  static GrayThumb thumbnail(BytesRef b) {
    return b == null ? null : GrayThumb.decode(b.bytes, b.offset, b.length);
  }
}
