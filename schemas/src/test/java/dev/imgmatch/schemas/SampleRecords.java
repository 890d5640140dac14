package dev.imgmatch.schemas;

import dev.imgmatch.avro.Decision;
import dev.imgmatch.avro.Deletion;
import dev.imgmatch.avro.ImageEmbedding;
import dev.imgmatch.avro.ImageIdTarget;
import dev.imgmatch.avro.ImageReference;
import dev.imgmatch.avro.ImageSubmission;
import dev.imgmatch.avro.ImageView;
import dev.imgmatch.avro.InlineImage;
import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.avro.MatchedImage;
import dev.imgmatch.avro.Pdq256;
import dev.imgmatch.avro.PdqHash;
import dev.imgmatch.avro.PixelEncoding;
import dev.imgmatch.avro.PreparedImage;
import dev.imgmatch.avro.Purpose;
import dev.imgmatch.avro.QueryFilters;
import dev.imgmatch.avro.QueryParams;
import dev.imgmatch.avro.QueryReply;
import dev.imgmatch.avro.QueryRequest;
import dev.imgmatch.avro.Reject;
import dev.imgmatch.avro.ReplyStatus;
import dev.imgmatch.avro.Sha256;
import dev.imgmatch.avro.VectorTarget;
import dev.imgmatch.avro.ViewVector;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.avro.specific.SpecificRecord;

/** Fully populated records of every top-level schema (every optional field set), from a seed. */
final class SampleRecords {
  private final Random rnd;

  SampleRecords(long seed) {
    this.rnd = new Random(seed);
  }

  private byte[] bytes(int n) {
    byte[] b = new byte[n];
    rnd.nextBytes(b);
    return b;
  }

  private List<Float> vector(int dim) {
    Float[] v = new Float[dim];
    for (int i = 0; i < dim; i++) {
      v[i] = (float) rnd.nextGaussian();
    }
    return List.of(v);
  }

  private PdqHash pdq() {
    return PdqHash.newBuilder().setHash(new Pdq256(bytes(32))).setQuality(rnd.nextInt(101)).build();
  }

  private QueryParams params() {
    return QueryParams.newBuilder().setK(7).setMinScore(0.25f)
        .setFilters(QueryFilters.newBuilder().setCollections(List.of("protected")).setSources(List.of("app"))
            .setFromMs(1L).setToMs(2L).build())
        .setReplyTopic("my-replies").setRequestedAtMs(1_700_000_000_000L).setTimeoutMs(3000).build();
  }

  private MatchedImage matched() {
    return MatchedImage.newBuilder().setImageId("orig-1").setTenant("t1").setCollection("protected")
        .setSource("crawler").setScore(0.93f).setExact(false).setPdqDistance(12).setCosine(0.88f)
        .setAttributes(Map.of("title", "Sunset")).build();
  }

  List<SpecificRecord> all() {
    return List.of(
        ImageSubmission.newBuilder().setImageId("img-1").setTenant("t1").setCollection("protected")
            .setImage(InlineImage.newBuilder().setData(ByteBuffer.wrap(bytes(1000))).setFileName("a.jpg").build())
            .setSource("app").setAttributes(Map.of("user", "42")).setSubmittedAtMs(1_700_000_000_000L).build(),
        ImageSubmission.newBuilder().setImageId("img-2").setTenant("t1")
            .setImage(ImageReference.newBuilder().setUri("file:///data/a.png").build())
            .setSubmittedAtMs(1L).build(),
        QueryRequest.newBuilder().setQueryId("q-1").setTenant("t1")
            .setTarget(ImageIdTarget.newBuilder().setImageId("img-1").build()).setParams(params()).build(),
        QueryRequest.newBuilder().setQueryId("q-2").setTenant("t1")
            .setTarget(VectorTarget.newBuilder().setModelVersion("m@1").setVector(vector(16)).build())
            .setParams(params()).build(),
        PreparedImage.newBuilder().setId("q-3").setPurpose(Purpose.QUERY).setTenant("t1").setCollection("")
            .setSource("app").setAttributes(Map.of("k", "v")).setSha256(new Sha256(bytes(32))).setPdq(pdq())
            .setPdqDihedral(List.of(new Pdq256(bytes(32)), new Pdq256(bytes(32)))).setFormat("jpeg")
            .setWidth(640).setHeight(480)
            .setViews(List.of(ImageView.newBuilder().setName("full").setWidth(4).setHeight(2)
                .setEncoding(PixelEncoding.RGB8).setPixels(ByteBuffer.wrap(bytes(24))).build()))
            .setExactDuplicateOf("img-0").setQuery(params()).setSubmittedAtMs(5L).setPreparedAtMs(6L).build(),
        ImageEmbedding.newBuilder().setId("img-1").setPurpose(Purpose.INDEX).setTenant("t1").setCollection("uploads")
            .setSource("app").setAttributes(Map.of("k", "v")).setModelId("mobilenet").setModelVersion("v1")
            .setVector(vector(256)).setExtraViews(List.of(ViewVector.newBuilder().setView("hflip").setVector(vector(256)).build()))
            .setSha256(new Sha256(bytes(32))).setPdq(pdq()).setPdqDihedral(List.of())
            .setClassScores(Map.of("nsfw", 0.01f)).setExactDuplicateOf(null).setQuery(null)
            .setSubmittedAtMs(1L).setPreparedAtMs(2L).setEmbeddedAtMs(3L).build(),
        MatchAlert.newBuilder().setImageId("img-9").setTenant("t1").setCollection("uploads").setSource("app")
            .setAttributes(Map.of()).setDecision(Decision.MATCH).setScore(0.93f).setDetector("index")
            .setMatches(List.of(matched())).setModelVersion("v1").setSubmittedAtMs(1L).setAlertedAtMs(2L).build(),
        QueryReply.newBuilder().setQueryId("q-1").setTenant("t1").setStatus(ReplyStatus.OK).setError(null)
            .setResults(List.of(matched(), matched())).setShardsAnswered(6).setShardsTotal(6).setModelVersion("v1")
            .setTookMs(12).setRepliedAtMs(3L).build(),
        Deletion.newBuilder().setImageId("img-1").setTenant("t1").setReason("dmca").setRequestedBy("ops")
            .setRequestedAtMs(9L).build(),
        Reject.newBuilder().setReasonCode("CORRUPT_IMAGE").setMessage("truncated JPEG").setStage("ingest-stream")
            .setSourceTopic("imgmatch.uploads").setSourcePartition(3).setSourceOffset(42)
            .setOriginalKey(ByteBuffer.wrap(bytes(5))).setOriginalValue(ByteBuffer.wrap(bytes(50)))
            .setOriginalValueSize(50).setException("java.io.EOFException: eof").setRejectedAtMs(10L).build());
  }
}
