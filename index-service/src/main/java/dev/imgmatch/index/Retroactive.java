package dev.imgmatch.index;

import dev.imgmatch.avro.Decision;
import dev.imgmatch.avro.ImageEmbedding;
import dev.imgmatch.avro.MatchAlert;
import dev.imgmatch.avro.Pdq256;
import dev.imgmatch.avro.PdqHash;
import dev.imgmatch.avro.Sha256;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Retroactive matching: when a reference arrives (a new image of a collection some rule matches against, e.g.
 * {@code protected}), the uploads of the last {@code match.retroactive.days} that copy it are alerted too, marked
 * {@code retroactive}.
 *
 * <p>Two steps. The reference, as a probe (all its views), finds candidate uploads: the collections whose rules
 * target its collection ({@code MatchRules.sourcesOf}), submitted within the window, of its tenant (every tenant when
 * its collection is shared), at most {@code match.retroactive.max.candidates}, by similarity or hash. Then each
 * candidate is judged <em>as if it were uploaded now</em>: its stored descriptor, PDQ and thumbnail probe the
 * collections its own rules target, with the usual ranking, margin and verification, so the reference must win
 * against the other references exactly as in forward matching; it is alerted when the new reference's hit reaches
 * the alert decision. A pixelated upload (ingest-stream found a mosaic grid in it, {@link IndexedImage#mosaic}) is
 * met by nothing of the reference but its layout: uploads marked as mosaics whose layout correlates with the
 * reference's thumbnail are candidates too ({@link LocalShards#mosaicsLike}), and their judging probe is a mosaic's,
 * so that the layout decides there as it does forward ({@link Layout}). The alert names that reference only
 * (earlier alerts of the upload stand on their own).
 *
 * <p>Exactly once: the owner of the reference's shard does this while it processes the reference's record, and the
 * alerts go into that record's transaction (replays and replicas never match). A reference re-uploaded under the
 * same id raises nothing again. Only uploads submitted before the reference are candidates; with several instances,
 * an upload submitted just before its reference and matched forward on another instance after that instance read
 * the reference can be alerted both ways (two alerts, one marked retroactive).
 */
public final class Retroactive {
  private final LocalShards shards;
  private final MatchPolicy policy;
  private final long windowMs;
  private final int maxCandidates;
  private final java.util.function.Supplier<Feedback> feedback;

  /**
   * @param days the window; 0 = off
   */
  public Retroactive(LocalShards shards, MatchPolicy policy, int days, int maxCandidates) {
    this(shards, policy, days, maxCandidates, () -> null);
  }

  /** @param feedback moderators' dismissals and collection settings (supplies null: none) */
  public Retroactive(LocalShards shards, MatchPolicy policy, int days, int maxCandidates,
      java.util.function.Supplier<Feedback> feedback) {
    this.shards = shards;
    this.policy = policy;
    this.windowMs = days * 86_400_000L;
    this.maxCandidates = maxCandidates;
    this.feedback = feedback;
  }

  /** True when a new image of {@code collection} may alert earlier uploads. */
  boolean applies(String collection) {
    return windowMs > 0 && !policy.rules().sourcesOf(collection).isEmpty();
  }

  /**
   * The retroactive alerts a new reference raises (it must be upserted already, so that the candidates' searches see
   * it).
   *
   * @param e the reference's record (its views probe for candidates)
   * @param ref the reference as indexed
   */
  public List<MatchAlert> alertsFor(ImageEmbedding e, IndexedImage ref, long nowMs, Consumer<String> skipped)
      throws IOException {
    Set<String> sources = policy.rules().sourcesOf(ref.collection());
    boolean shared = policy.sharedCollections().contains(ref.collection());
    // uploads submitted before the reference (later ones meet it by forward matching), within the window
    SearchFilter f = new SearchFilter(shared ? null : ref.tenant(), policy.sharedCollections(), sources, Set.of(),
        nowMs - windowMs, ref.submittedAtMs(), ref.uid());
    Probe p = Records.uploadProbe(e, ref, f, maxCandidates, skipped);
    List<Hit> candidates = new ArrayList<>(shards.search(p, policy).stream()
        .filter(h -> !h.isBank() && (h.exact() || h.similarity() >= policy.reviewThreshold()
            || (h.pdqDistance() != null && h.pdqDistance() <= policy.pdqMaxDistance())))
        .toList());
    candidates.sort(Comparator.comparingDouble(Hit::similarity).reversed());
    candidates = new ArrayList<>(candidates.subList(0, Math.min(maxCandidates, candidates.size())));
    // and pixelated uploads, which no descriptor, hash or keypoint of the reference meets: by their layout
    Set<String> seen = new java.util.HashSet<>();
    candidates.forEach(c -> seen.add(c.uid()));
    int mosaics = 0;
    for (Hit m : shards.mosaicsLike(p, policy)) {
      if (mosaics < maxCandidates && !m.isBank() && seen.add(m.uid())) {
        candidates.add(m);
        mosaics++;
      }
    }
    List<MatchAlert> out = new ArrayList<>();
    for (Hit c : candidates) {
      Optional<IndexedImage> upload = shards.lookup(SearchFilter.tenantOnly(c.tenant(), Set.of()), c.imageId());
      if (upload.isEmpty() || !upload.get().uid().equals(c.uid())) {
        continue; // deleted or replaced meanwhile
      }
      judge(upload.get(), ref, nowMs).ifPresent(out::add);
    }
    return out;
  }

  /** The upload judged as if it arrived now; an alert when the new reference wins as in forward matching. */
  private Optional<MatchAlert> judge(IndexedImage u, IndexedImage ref, long nowMs) throws IOException {
    Set<String> targets = policy.targetsOf(u.collection());
    if (!targets.contains(ref.collection())) {
      return Optional.empty();
    }
    SearchFilter f = SearchFilter.tenantOnly(u.tenant(), policy.sharedCollections()).withCollections(targets)
        .excluding(u.uid());
    Probe p = new Probe(u.modelVersion(), List.of(u.vector()), u.pdq() == null ? List.of() : List.of(u.pdq()),
        u.pdqQuality(), u.sha256(), f, policy.knnK(), u.thumbnail(), null, u.background(), List.of(), u.mosaic());
    Optional<Hit> hit = shards.search(p, policy).stream().filter(h -> h.uid().equals(ref.uid())).findFirst();
    if (hit.isEmpty()) {
      return Optional.empty();
    }
    Feedback fb = feedback.get();
    Decision d = fb == null ? policy.decide(hit.get().score())
        : fb.decide(policy, u.tenant(), u.sha256(), u.pdq(), u.pdqQuality(), hit.get());
    if (!policy.alerts(d)) {
      return Optional.empty();
    }
    return Optional.of(MatchAlert.newBuilder()
        .setImageId(u.imageId())
        .setTenant(u.tenant())
        .setCollection(u.collection())
        .setSource(u.source())
        .setAttributes(u.attributes())
        .setDecision(d)
        .setScore((float) hit.get().score())
        .setDetector(Alerts.DETECTOR)
        .setMatches(List.of(hit.get().toAvro()))
        .setModelVersion(u.modelVersion())
        .setSubmittedAtMs(u.submittedAtMs())
        .setAlertedAtMs(nowMs)
        .setSha256(u.sha256() == null ? null : new Sha256(u.sha256()))
        .setMd5(u.md5() == null ? null : new dev.imgmatch.avro.Md5(u.md5()))
        .setPdq(u.pdq() == null ? null : new PdqHash(new Pdq256(u.pdq()), u.pdqQuality()))
        .setRetroactive(true)
        .build());
  }
}
