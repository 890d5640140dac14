package dev.imgmatch.cli.scan;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Groups images connected by duplicate pairs (union-find): if a~b and b~c, {a, b, c} is one group. A group is
 * "exact" when every pair that links it is byte-identical, otherwise "near".
 *
 * <p>The result is a function of the <em>set</em> of pairs added, never of their order: members are sorted by name,
 * a pair seen more than once (from both sides, or by two detectors) keeps its best version by {@link #BEST_FIRST}
 * (a total order, so equal scores do not fall back on arrival order), and a group's pairs are listed in that order.
 */
public final class DuplicateGroups {

  /**
   * One matched pair with its signals.
   *
   * @param localInliers when local verification placed one inside the other: its inliers (else null)
   */
  public record Pair(String a, String b, double score, boolean exact, Integer pdqDistance, Float cosine,
      Integer localInliers) {
    public Pair {
      Objects.requireNonNull(a);
      Objects.requireNonNull(b);
    }

    /** Without a local placement. */
    public Pair(String a, String b, double score, boolean exact, Integer pdqDistance, Float cosine) {
      this(a, b, score, exact, pdqDistance, cosine, null);
    }

    /** The same pair with {@code a} the smaller name. */
    Pair normalised() {
      return a.compareTo(b) <= 0 ? this : new Pair(b, a, score, exact, pdqDistance, cosine, localInliers);
    }
  }

  /** A group: members sorted by name, and the pairs that link them, best first ({@link #BEST_FIRST}). */
  public record Group(List<String> members, List<Pair> pairs, boolean exact) {}

  /**
   * Best first: higher score, then byte-identical, then smaller PDQ distance, then higher cosine (a missing signal
   * last), then by names. Total on the pairs' values, so no order depends on how the pairs arrived.
   */
  public static final Comparator<Pair> BEST_FIRST = Comparator.comparingDouble(Pair::score).reversed()
      .thenComparing(Pair::exact, Comparator.reverseOrder())
      .thenComparing(Pair::pdqDistance, Comparator.nullsLast(Comparator.naturalOrder()))
      .thenComparing(Pair::cosine, Comparator.nullsLast(Comparator.reverseOrder()))
      .thenComparing(Pair::localInliers, Comparator.nullsLast(Comparator.reverseOrder()))
      .thenComparing(Pair::a)
      .thenComparing(Pair::b);

  private final Map<String, String> parent = new HashMap<>();
  /** Normalised name pair -> the best version of it seen. */
  private final Map<String, Pair> pairs = new HashMap<>();

  public void add(Pair p) {
    if (p.a().equals(p.b())) {
      return;
    }
    Pair norm = p.normalised();
    pairs.merge(norm.a() + "\u0000" + norm.b(), norm, (x, y) -> BEST_FIRST.compare(x, y) <= 0 ? x : y);
    union(norm.a(), norm.b());
  }

  private String find(String x) {
    parent.putIfAbsent(x, x);
    String root = x;
    while (!parent.get(root).equals(root)) {
      root = parent.get(root);
    }
    while (!parent.get(x).equals(root)) { // path compression
      String next = parent.get(x);
      parent.put(x, root);
      x = next;
    }
    return root;
  }

  private void union(String a, String b) {
    String ra = find(a);
    String rb = find(b);
    if (!ra.equals(rb)) {
      // deterministic root: the smaller name
      if (ra.compareTo(rb) < 0) {
        parent.put(rb, ra);
      } else {
        parent.put(ra, rb);
      }
    }
  }

  /** The groups, largest first, then by first member. */
  public List<Group> groups() {
    Map<String, TreeSet<String>> members = new TreeMap<>();
    for (String x : new ArrayList<>(parent.keySet())) {
      members.computeIfAbsent(find(x), k -> new TreeSet<>()).add(x);
    }
    Map<String, List<Pair>> byRoot = new HashMap<>();
    for (Pair p : pairs.values()) {
      byRoot.computeIfAbsent(find(p.a()), k -> new ArrayList<>()).add(p);
    }
    List<Group> out = new ArrayList<>();
    members.forEach((root, m) -> {
      List<Pair> ps = new ArrayList<>(byRoot.getOrDefault(root, List.of()));
      ps.sort(BEST_FIRST);
      out.add(new Group(List.copyOf(m), List.copyOf(ps), ps.stream().allMatch(Pair::exact)));
    });
    out.sort(Comparator.<Group>comparingInt(g -> -g.members().size()).thenComparing(g -> g.members().getFirst()));
    return out;
  }
}
