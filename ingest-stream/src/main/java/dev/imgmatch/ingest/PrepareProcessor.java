package dev.imgmatch.ingest;

import dev.imgmatch.avro.ImageReference;
import dev.imgmatch.avro.ImageSubmission;
import dev.imgmatch.avro.ImageView;
import dev.imgmatch.avro.InlineImage;
import dev.imgmatch.avro.Pdq256;
import dev.imgmatch.avro.PdqHash;
import dev.imgmatch.avro.PreparedImage;
import dev.imgmatch.avro.Purpose;
import dev.imgmatch.avro.QueryParams;
import dev.imgmatch.avro.QueryReply;
import dev.imgmatch.avro.QueryRequest;
import dev.imgmatch.avro.ReplyStatus;
import dev.imgmatch.avro.Md5;
import dev.imgmatch.avro.Sha256;
import dev.imgmatch.ingest.image.ImageRejectedException;
import dev.imgmatch.ingest.image.RejectReason;
import dev.imgmatch.schemas.Limits;
import dev.imgmatch.schemas.RecordDecodingException;
import dev.imgmatch.schemas.Topic;
import dev.imgmatch.schemas.Topics;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.List;
import java.util.Set;
import java.util.Map;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * Stage 1 for one input topic: decode the Avro value, fetch the image (inline or reference), validate,
 * decode, fingerprint and render the view, then forward the {@code PreparedImage}. Uploads go on to the
 * exact-copy stage, re-keyed by (SHA-256, tenant); image queries go straight to {@code prepared}. Every
 * failure is forwarded to the rejects sink instead; nothing is thrown, so one bad record never stops the
 * stream.
 */
final class PrepareProcessor implements Processor<byte[], byte[], byte[], byte[]> {
  enum Input { UPLOADS, QUERIES }

  private final Input input;
  private final Topics topics;
  private final ImagePreparer preparer;
  private final ReferenceResolver references;
  private final RejectSink rejects;
  private final IngestCounters counters;
  private final Clock clock;
  private final String next;
  private final List<String> viewNames;
  /** Upload view names plus {@code small}, for uploads of {@link #smallCollections}. */
  private final List<String> withSmall;
  private final Set<String> smallCollections;
  private final String repliesSink;
  /** Uploads of these collections are also kept on {@code originals}, through {@link #originalsSink}. */
  private final Set<String> originalsCollections;
  private final String originalsSink;
  private ImageSubmission original; // the upload in progress, bytes inline, when it is to be kept on originals
  private ProcessorContext<byte[], byte[]> context;
  private int imageBytes; // size of the image of the record in progress (metrics)
  private QueryRequest query; // the query in progress, once decoded (to answer it when it is rejected)
  private ImagePreparer.Digests digests; // of the image bytes in progress, once read (a reject carries them)

  PrepareProcessor(Input input, Topics topics, ImagePreparer preparer, ReferenceResolver references,
      RejectSink rejects, IngestCounters counters, Clock clock, String next, List<String> viewNames,
      Set<String> smallCollections, String repliesSink) {
    this(input, topics, preparer, references, rejects, counters, clock, next, viewNames, smallCollections, repliesSink,
        Set.of(), null);
  }

  /**
   * @param originalsCollections collections whose accepted uploads are also written, bytes inline, to
   *     {@code originalsSink} (the {@code originals} topic; key {@link Topics#originalKey})
   */
  PrepareProcessor(Input input, Topics topics, ImagePreparer preparer, ReferenceResolver references,
      RejectSink rejects, IngestCounters counters, Clock clock, String next, List<String> viewNames,
      Set<String> smallCollections, String repliesSink, Set<String> originalsCollections, String originalsSink) {
    this.input = input;
    this.originalsCollections = Set.copyOf(originalsCollections);
    this.originalsSink = originalsSink;
    this.repliesSink = repliesSink;
    this.topics = topics;
    this.preparer = preparer;
    this.references = references;
    this.rejects = rejects;
    this.counters = counters;
    this.clock = clock;
    this.next = next;
    this.viewNames = List.copyOf(viewNames);
    this.smallCollections = Set.copyOf(smallCollections);
    this.withSmall = ViewEncoder.referenceViews(viewNames);
  }

  @Override
  public void init(ProcessorContext<byte[], byte[]> context) {
    this.context = context;
  }

  @Override
  public void process(Record<byte[], byte[]> record) {
    query = null;
    original = null;
    digests = null;
    try {
      long t0 = System.nanoTime();
      PreparedImage out = input == Input.UPLOADS ? upload(record.value()) : query(record.value());
      if (out == null) {
        return;
      }
      long elapsed = System.nanoTime() - t0;
      String key = input == Input.UPLOADS
          ? FirstSighting.key(out.getTenant(), out.getSha256().bytes())
          : out.getId();
      context.forward(record.withKey(topics.prepared().serializeKey(key))
          .withValue(topics.prepared().serializeValue(out)), next);
      if (original != null) {
        Topic<String, ImageSubmission> originals = topics.originals();
        context.forward(record.withKey(originals.serializeKey(Topics.originalKey(original.getTenant(),
            original.getImageId()))).withValue(originals.serializeValue(original)), originalsSink);
        counters.increment("originals.kept");
      }
      counters.increment(input == Input.UPLOADS ? "prepared.upload" : "prepared.query");
      counters.prepared(input == Input.UPLOADS ? "uploads" : "queries", elapsed, imageBytes);
    } catch (RecordDecodingException e) {
      rejects.reject(context, record, e.reasonCode(), e.getMessage(), e);
    } catch (ImageRejectedException e) {
      rejects.reject(context, record, e.reason().name(), e.getMessage(), e.getCause(), digests);
      answerRejected(record, e.reason().name() + ": " + e.getMessage());
    } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
      rejects.internalError(context, record, e, digests);
      answerRejected(record, "ingest-stream failed on the query: " + e);
    }
  }

  /**
   * A rejected image query is answered at once with a REJECTED reply, so that its client learns why instead of
   * waiting for its timeout — when it asked for replies on the deployment's default reply topic (the one topic
   * ingest-stream knows exists; a query naming its own reply topic falls back on its timeout, counter
   * {@code query.rejected.unanswered}). A record too broken to decode has no query id to answer; it goes to the
   * rejects topic only.
   */
  private void answerRejected(Record<byte[], byte[]> record, String error) {
    if (input != Input.QUERIES || query == null || query.getQueryId().isBlank()) {
      return;
    }
    QueryParams params = query.getParams();
    Topic<String, QueryReply> replies = topics.queryReplies();
    String named = params.getReplyTopic();
    if (repliesSink == null || (named != null && !named.isBlank() && !named.equals(replies.name()))) {
      counters.increment("query.rejected.unanswered");
      return;
    }
    long now = clock.millis();
    QueryReply reply = QueryReply.newBuilder()
        .setQueryId(query.getQueryId())
        .setTenant(query.getTenant())
        .setStatus(ReplyStatus.REJECTED)
        .setError(error)
        .setTookMs(Math.max(0, now - params.getRequestedAtMs()))
        .setRepliedAtMs(now)
        .build();
    context.forward(new Record<>(replies.serializeKey(query.getQueryId()), replies.serializeValue(reply),
        record.timestamp()), repliesSink);
    counters.increment("query.rejected.replied");
  }

  private PreparedImage upload(byte[] value) throws ImageRejectedException {
    ImageSubmission s = decodeValue(topics.uploads(), value);
    requireIdAndTenant("imageId", s.getImageId(), s.getTenant());
    requireWithinLimits(Limits.tooLarge("imageId", s.getImageId(), s.getTenant(), s.getCollection(), s.getSource(),
        s.getAttributes()));
    if (s.getImage() instanceof ImageReference ref) {
      requireWithinLimits(Limits.over("image.uri", ref.getUri(), Limits.MAX_SOURCE_BYTES));
    }
    byte[] bytes = s.getImage() instanceof InlineImage inline ? bytes(inline.getData())
        : references.read(((ImageReference) s.getImage()).getUri());
    imageBytes = bytes.length;
    digests = ImagePreparer.Digests.of(bytes);
    ImagePreparer.Fingerprint f = preparer.fingerprint(bytes, digests, true);
    // the dihedral PDQs too: index-service compares them with the entries of hash-list banks (a flipped or rotated
    // copy of a listed image); 8 x 32 bytes
    PreparedImage out = base(f, s.getImageId(), Purpose.INDEX, s.getTenant(), s.getCollection(), s.getSource(),
        s.getAttributes(), s.getSubmittedAtMs()).setPdqDihedral(dihedral(f)).setPreview(preview(f)).build();
    if (originalsSink != null && originalsCollections.contains(s.getCollection())) {
      // the bytes as accepted (a reference is resolved now: its file may change or go away)
      String name = s.getImage() instanceof InlineImage inline && inline.getFileName() != null
          ? inline.getFileName() : null;
      original = ImageSubmission.newBuilder(s).setImage(new InlineImage(ByteBuffer.wrap(bytes), name)).build();
    }
    return out;
  }

  /** The upload's colour preview, or null (off, or over its byte limit: the upload goes on without it). */
  private ByteBuffer preview(ImagePreparer.Fingerprint f) {
    ColourPreviews.Preview p = preparer.preview(f);
    if (p == null) {
      return null;
    }
    if (p.tooLarge()) {
      counters.increment("preview.too.large");
      return null;
    }
    counters.increment("preview.made");
    return ByteBuffer.wrap(p.jpeg());
  }

  private PreparedImage query(byte[] value) throws ImageRejectedException {
    QueryRequest q = decodeValue(topics.queries(), value);
    query = q;
    requireIdAndTenant("queryId", q.getQueryId(), q.getTenant());
    requireWithinLimits(Limits.tooLarge("queryId", q.getQueryId(), q.getTenant(), null, null, null));
    if (q.getParams() != null) {
      requireWithinLimits(Limits.over("params.replyTopic", q.getParams().getReplyTopic(), Limits.MAX_SOURCE_BYTES));
    }
    if (q.getTarget() instanceof ImageReference ref) {
      requireWithinLimits(Limits.over("target.uri", ref.getUri(), Limits.MAX_SOURCE_BYTES));
    }
    byte[] bytes;
    if (q.getTarget() instanceof InlineImage inline) {
      bytes = bytes(inline.getData());
    } else if (q.getTarget() instanceof ImageReference ref) {
      bytes = references.read(ref.getUri());
    } else {
      counters.increment("query.skipped"); // id and vector queries are index-service's
      return null;
    }
    imageBytes = bytes.length;
    digests = ImagePreparer.Digests.of(bytes);
    ImagePreparer.Fingerprint f = preparer.fingerprint(bytes, digests, true);
    return base(f, q.getQueryId(), Purpose.QUERY, q.getTenant(), "", null, Map.of(),
        q.getParams().getRequestedAtMs())
        .setPdqDihedral(dihedral(f))
        .setQuery(q.getParams())
        .build();
  }

  private static List<Pdq256> dihedral(ImagePreparer.Fingerprint f) {
    return f.pdq().dihedral().stream().map(h -> new Pdq256(h.toBytes())).toList();
  }

  private static void requireWithinLimits(String tooLarge) throws ImageRejectedException {
    if (tooLarge != null) {
      throw new ImageRejectedException(RejectReason.FIELD_TOO_LARGE, tooLarge + " (docs/ARCHITECTURE.md, Limits)");
    }
  }

  private static void requireIdAndTenant(String idField, String id, String tenant) throws ImageRejectedException {
    if (id.isBlank() || tenant.isBlank()) {
      throw new ImageRejectedException(RejectReason.INVALID_RECORD,
          "the record's " + (id.isBlank() ? idField : "tenant") + " is blank");
    }
  }

  /** The value decoded by {@code topic}'s descriptor; a null value (tombstone) is an EMPTY_RECORD. */
  private static <T> T decodeValue(Topic<String, T> topic, byte[] value) {
    if (value == null) {
      throw new RecordDecodingException(RecordDecodingException.Reason.EMPTY_RECORD,
          "null value (tombstone) where an Avro " + topic.valueType().getSimpleName() + " was expected", null);
    }
    return topic.deserializeValue(value);
  }

  private PreparedImage.Builder base(ImagePreparer.Fingerprint f, String id, Purpose purpose, String tenant,
      String collection, CharSequence source, Map<? extends CharSequence, ? extends CharSequence> attributes,
      long submittedAtMs) {
    // references (the collections copies are matched against) also get the small view: their low-resolution
    // descriptor, which index-service stores beside the full one
    boolean reference = input == Input.UPLOADS && smallCollections.contains(collection);
    List<String> names = reference ? withSmall : viewNames;
    ImagePreparer.Rendered rendered = preparer.render(f, names, reference);
    if (rendered.localFeatures() != null) {
      counters.increment("local.features");
    }
    for (ImageView v : rendered.views()) {
      counters.increment("view." + (v.getName().startsWith(ViewEncoder.FRAME) ? ViewEncoder.FRAME : v.getName()));
    }
    if (f.frames().stopped() != null) {
      counters.increment("frames.stopped"); // a damaged later frame or the deadline: the image goes on without the rest
    }
    if (rendered.trimmedPdq() != null) {
      counters.increment("pdq.trim");
    }
    return builder(f, rendered, id, purpose, tenant, collection, source, attributes, submittedAtMs, clock.millis());
  }

  /**
   * The prepared record of an image fingerprinted and rendered: what ingest-stream writes, and what {@code reindex}
   * re-embeds an original from.
   */
  static PreparedImage.Builder builder(ImagePreparer.Fingerprint f, ImagePreparer.Rendered rendered, String id,
      Purpose purpose, String tenant, String collection, CharSequence source,
      Map<? extends CharSequence, ? extends CharSequence> attributes, long submittedAtMs, long nowMs) {
    Map<String, String> attrs = new java.util.HashMap<>();
    attributes.forEach((k, v) -> attrs.put(k.toString(), v.toString()));
    PdqHash trimmedPdq = null;
    if (rendered.trimmedPdq() != null) {
      var h = rendered.trimmedPdq().hash();
      trimmedPdq = new PdqHash(new Pdq256(h.toBytes()), h.quality());
    }
    return PreparedImage.newBuilder()
        .setId(id)
        .setPurpose(purpose)
        .setTenant(tenant)
        .setCollection(collection)
        .setSource(source == null ? null : source.toString())
        .setAttributes(attrs)
        .setSha256(new Sha256(f.sha256()))
        .setMd5(new Md5(f.md5()))
        .setPdq(new PdqHash(new Pdq256(f.pdq().hash().toBytes()), f.pdq().hash().quality()))
        .setFormat(f.decoded().format().id())
        .setWidth(f.decoded().orientedWidth())
        .setHeight(f.decoded().orientedHeight())
        .setViews(rendered.views())
        .setPdqTrim(trimmedPdq)
        .setThumbnail(rendered.thumbnail() == null ? null : rendered.thumbnail().toAvro())
        .setLocalFeatures(rendered.localFeatures() == null ? null : ByteBuffer.wrap(rendered.localFeatures()))
        .setExactDuplicateOf(null)
        .setSubmittedAtMs(submittedAtMs)
        .setPreparedAtMs(nowMs);
  }

  private static byte[] bytes(ByteBuffer b) {
    ByteBuffer d = b.duplicate();
    byte[] out = new byte[d.remaining()];
    d.get(out);
    return out;
  }
}
