package dev.imgmatch.cli.scan;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * Groups images connected by duplicate pairs (union-find): if a~b and b~c, {a, b, c} is one group. A group is
 * "exact" when every pair that links it is byte-identical, otherwise "near".
 */
public final class DuplicateGroups {

  /** One matched pair with its signals. */
  public record Pair(String a, String b, double score, boolean exact, Integer pdqDistance, Float cosine) {
    public Pair {
      Objects.requireNonNull(a);
      Objects.requireNonNull(b);
    }
  }

  /** A group: members sorted by name, and the pairs that link them, best first. */
  public record Group(List<String> members, List<Pair> pairs, boolean exact) {}

  private final Map<String, String> parent = new HashMap<>();
  private final List<Pair> pairs = new ArrayList<>();

  public void add(Pair p) {
    if (p.a().equals(p.b())) {
      return;
    }
    pairs.add(p);
    union(p.a(), p.b());
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

  /** The groups, largest first, then by first member. Each pair appears once (a/b order normalised). */
  public List<Group> groups() {
    Map<String, TreeSet<String>> members = new LinkedHashMap<>();
    for (String x : new ArrayList<>(parent.keySet())) {
      members.computeIfAbsent(find(x), k -> new TreeSet<>()).add(x);
    }
    Map<String, Map<String, Pair>> byRoot = new HashMap<>();
    for (Pair p : pairs) {
      String lo = p.a().compareTo(p.b()) <= 0 ? p.a() : p.b();
      String hi = lo.equals(p.a()) ? p.b() : p.a();
      Pair norm = new Pair(lo, hi, p.score(), p.exact(), p.pdqDistance(), p.cosine());
      byRoot.computeIfAbsent(find(lo), k -> new LinkedHashMap<>()).merge(lo + "\u0000" + hi, norm,
          (x, y) -> x.score() >= y.score() ? x : y);
    }
    List<Group> out = new ArrayList<>();
    members.forEach((root, m) -> {
      List<Pair> ps = new ArrayList<>(byRoot.getOrDefault(root, Map.of()).values());
      ps.sort(Comparator.comparingDouble(Pair::score).reversed());
      out.add(new Group(List.copyOf(m), List.copyOf(ps), ps.stream().allMatch(Pair::exact)));
    });
    out.sort(Comparator.<Group>comparingInt(g -> -g.members().size()).thenComparing(g -> g.members().getFirst()));
    return out;
  }
}
