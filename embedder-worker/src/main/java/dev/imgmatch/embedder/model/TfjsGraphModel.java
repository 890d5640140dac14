package dev.imgmatch.embedder.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A TF.js graph model (format {@code graph-model}) read from the files of an npm package: the topology (a GraphDef
 * in JSON form) and every weight dequantized to float32.
 *
 * <p>Layout of a graph model: {@code model.json} holds {@code modelTopology.node[]} (name, op, input[], attr{})
 * and {@code weightsManifest[]} (groups of {@code paths} = shard files concatenated in order, and
 * {@code weights[]} = name, shape, dtype and an optional {@code quantization {dtype, min, scale}}). The weights are
 * packed back to back in the concatenated shards in manifest order. A uint8-quantized weight takes one byte per
 * element and is restored as {@code q * scale + min}; uint16 takes two bytes (little endian); plain float32 four.
 * Packages that ship models for bundlers wrap each file in a browserify UMD bundle ({@code *.min.js}): the model JSON
 * as an object literal, each shard as a base64 string; both forms are accepted here.
 */
public final class TfjsGraphModel {
  /** One node of the topology. */
  public record Node(String name, String op, List<String> inputs, Map<String, Object> attr) {
    /** The attribute's raw JSON value ({@code {"list":{"i":[...]}}}, {@code {"s":"base64"}}, ...). */
    @SuppressWarnings("unchecked")
    public Map<String, Object> attrValue(String key) {
      Object v = attr.get(key);
      return v instanceof Map<?, ?> m ? (Map<String, Object>) m : null;
    }

    /** A string attribute (TF.js stores them base64-encoded). */
    public String stringAttr(String key) {
      Map<String, Object> v = attrValue(key);
      if (v == null || !(v.get("s") instanceof String s)) {
        return null;
      }
      return new String(Base64.getDecoder().decode(s), StandardCharsets.UTF_8);
    }

    /** A list-of-strings attribute, decoded. */
    @SuppressWarnings("unchecked")
    public List<String> stringListAttr(String key) {
      Map<String, Object> v = attrValue(key);
      List<String> out = new ArrayList<>();
      if (v != null && v.get("list") instanceof Map<?, ?> list && list.get("s") instanceof List<?> items) {
        for (Object o : items) {
          out.add(new String(Base64.getDecoder().decode((String) o), StandardCharsets.UTF_8));
        }
      }
      return out;
    }

    /** A list-of-ints attribute. */
    public List<Long> intListAttr(String key) {
      Map<String, Object> v = attrValue(key);
      List<Long> out = new ArrayList<>();
      if (v != null && v.get("list") instanceof Map<?, ?> list && list.get("i") instanceof List<?> items) {
        for (Object o : items) {
          out.add(o instanceof Number n ? n.longValue() : Long.parseLong(String.valueOf(o)));
        }
      }
      return out;
    }

    public boolean boolAttr(String key, boolean dflt) {
      Map<String, Object> v = attrValue(key);
      return v != null && v.get("b") instanceof Boolean b ? b : dflt;
    }
  }

  /** A dequantized weight. */
  public record Weight(String name, long[] shape, float[] values) {}

  private final List<Node> nodes;
  private final Map<String, Weight> weights;
  private final String producer;

  private TfjsGraphModel(List<Node> nodes, Map<String, Weight> weights, String producer) {
    this.nodes = List.copyOf(nodes);
    this.weights = Map.copyOf(weights);
    this.producer = producer;
  }

  public List<Node> nodes() {
    return nodes;
  }

  public Map<String, Weight> weights() {
    return weights;
  }

  /** "TensorFlow.js Converter v1.7.4r1" or similar. */
  public String producer() {
    return producer;
  }

  /**
   * Reads a graph model.
   *
   * @param modelFile the model JSON (or its {@code .min.js} bundle) as text
   * @param files every file of the model folder by name without the {@code .min.js} suffix (shards)
   */
  @SuppressWarnings("unchecked")
  public static TfjsGraphModel read(String modelFile, Map<String, byte[]> files) {
    String t = modelFile.strip();
    Object root = t.startsWith("{") ? JsLiteral.parse(t, 0) : JsLiteral.exportedValue(t);
    if (!(root instanceof Map<?, ?>)) {
      throw new IllegalArgumentException("model file is not an object");
    }
    Map<String, Object> model = (Map<String, Object>) root;
    if (!"graph-model".equals(model.get("format"))) {
      throw new IllegalArgumentException("not a TF.js graph model (format=" + model.get("format")
          + "); layers models need a Keras converter");
    }
    Map<String, Object> topology = (Map<String, Object>) model.get("modelTopology");
    List<Node> nodes = new ArrayList<>();
    for (Object o : (List<Object>) topology.get("node")) {
      Map<String, Object> n = (Map<String, Object>) o;
      List<String> inputs = new ArrayList<>();
      if (n.get("input") instanceof List<?> l) {
        l.forEach(x -> inputs.add((String) x));
      }
      Map<String, Object> attr = n.get("attr") instanceof Map<?, ?> a ? (Map<String, Object>) a : Map.of();
      nodes.add(new Node((String) n.get("name"), (String) n.get("op"), inputs, attr));
    }
    Map<String, Weight> weights = new HashMap<>();
    for (Object g : (List<Object>) model.get("weightsManifest")) {
      Map<String, Object> group = (Map<String, Object>) g;
      ByteBuffer data = concatShards((List<Object>) group.get("paths"), files);
      for (Object w : (List<Object>) group.get("weights")) {
        Weight weight = readWeight((Map<String, Object>) w, data);
        weights.put(weight.name(), weight);
      }
      if (data.hasRemaining()) {
        throw new IllegalArgumentException("weight group " + group.get("paths") + " has " + data.remaining()
            + " bytes left after its last weight: manifest and shards disagree");
      }
    }
    return new TfjsGraphModel(nodes, weights, String.valueOf(model.get("convertedBy")));
  }

  private static ByteBuffer concatShards(List<Object> paths, Map<String, byte[]> files) {
    List<byte[]> parts = new ArrayList<>();
    int total = 0;
    for (Object p : paths) {
      byte[] raw = files.get((String) p);
      if (raw == null) {
        throw new IllegalArgumentException("weight shard '" + p + "' is missing (have " + files.keySet() + ")");
      }
      byte[] bytes = shardBytes(raw);
      parts.add(bytes);
      total += bytes.length;
    }
    ByteBuffer all = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
    parts.forEach(all::put);
    return all.flip();
  }

  /** A shard is raw bytes, or a bundle exporting the bytes as a base64 string. */
  private static byte[] shardBytes(byte[] raw) {
    String head = new String(raw, 0, Math.min(raw.length, 64), StandardCharsets.ISO_8859_1);
    if (!head.startsWith("!function") && !head.contains("exports")) {
      return raw;
    }
    Object v = JsLiteral.exportedValue(new String(raw, StandardCharsets.ISO_8859_1));
    if (!(v instanceof String b64)) {
      throw new IllegalArgumentException("weight shard bundle does not export a string");
    }
    return Base64.getDecoder().decode(b64);
  }

  @SuppressWarnings("unchecked")
  private static Weight readWeight(Map<String, Object> w, ByteBuffer data) {
    String name = (String) w.get("name");
    List<Object> shapeList = (List<Object>) w.get("shape");
    long[] shape = new long[shapeList.size()];
    long count = 1;
    for (int i = 0; i < shape.length; i++) {
      shape[i] = ((Number) shapeList.get(i)).longValue();
      count *= shape[i];
    }
    if (!"float32".equals(w.get("dtype"))) {
      throw new IllegalArgumentException("weight " + name + " has dtype " + w.get("dtype") + "; only float32 is supported");
    }
    float[] values = new float[Math.toIntExact(count)];
    Map<String, Object> q = (Map<String, Object>) w.get("quantization");
    if (q == null) {
      for (int i = 0; i < values.length; i++) {
        values[i] = data.getFloat();
      }
    } else {
      double min = ((Number) q.get("min")).doubleValue();
      double scale = ((Number) q.get("scale")).doubleValue();
      String qt = (String) q.get("dtype");
      for (int i = 0; i < values.length; i++) {
        int qv = switch (qt) {
          case "uint8" -> Byte.toUnsignedInt(data.get());
          case "uint16" -> Short.toUnsignedInt(data.getShort());
          default -> throw new IllegalArgumentException("weight " + name + ": unsupported quantization " + qt);
        };
        values[i] = (float) (qv * scale + min);
      }
    }
    return new Weight(name, shape, values);
  }
}
