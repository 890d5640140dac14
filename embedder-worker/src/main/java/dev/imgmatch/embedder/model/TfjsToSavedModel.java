package dev.imgmatch.embedder.model;

import dev.imgmatch.embedder.model.TfjsGraphModel.Node;
import dev.imgmatch.embedder.model.TfjsGraphModel.Weight;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Squeeze;
import org.tensorflow.types.TFloat32;

/**
 * Turns a {@link TfjsGraphModel} into a plain TensorFlow SavedModel with the TensorFlow Java API.
 *
 * <p>The graph is rebuilt op by op with {@link Ops}: weights become float32 constants (already dequantized), and the
 * fused ops the TF.js converter introduces, which stock TensorFlow kernels do not offer as graph ops, are split:
 * {@code _FusedConv2D} into {@code Conv2D}, {@code FusedDepthwiseConv2dNative} into {@code DepthwiseConv2dNative},
 * {@code _FusedMatMul} into {@code MatMul}, each followed by its {@code fused_ops} ({@code BiasAdd}, then
 * {@code Relu}/{@code Relu6} when listed). Only NHWC, float32 and the ops below are supported; anything else fails
 * naming the node.
 *
 * <p>The export has one signature, {@value #SIGNATURE}: input {@code input} and one output per requested node.
 * Bump {@link #VERSION} whenever the conversion changes what the SavedModel computes: it is part of the cache key
 * and of the model version of every embedding.
 */
public final class TfjsToSavedModel {
  /** Converter version: part of the model cache key and of the model version. */
  public static final String VERSION = "tfjs2sm-1";
  public static final String SIGNATURE = "serving_default";

  private TfjsToSavedModel() {}

  /**
   * Converts and exports.
   *
   * @param inputNode the Placeholder node name in the TF.js graph
   * @param inputShape fixed input shape, batch first ({@code -1} for a dynamic batch)
   * @param outputs signature output name to TF.js node name, e.g. {@code features -> .../SpatialSqueeze}
   * @param dir the SavedModel folder to write (must not exist or be empty)
   */
  public static void convert(TfjsGraphModel model, String inputNode, long[] inputShape, Map<String, String> outputs,
      Path dir, Consumer<String> progress) throws IOException {
    Map<String, Node> byName = new HashMap<>();
    model.nodes().forEach(n -> byName.put(n.name(), n));
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> input = tf.withName("input")
          .placeholder(TFloat32.class, Placeholder.shape(Shape.of(inputShape)));
      Builder b = new Builder(tf, byName, model.weights(), inputNode, input);
      Signature.Builder sig = Signature.builder().key(SIGNATURE).input("input", input);
      for (Map.Entry<String, String> out : outputs.entrySet()) {
        Operand<TFloat32> op = b.resolve(out.getValue());
        sig.output(out.getKey(), tf.withName(out.getKey()).identity(op));
      }
      progress.accept("graph rebuilt: " + b.built.size() + " ops from " + model.nodes().size() + " TF.js nodes, "
          + b.split + " fused ops split");
      try (Session s = new Session(g)) {
        SavedModelBundle.exporter(dir.toString()).withSession(s).withSignature(sig.build()).export();
      }
    }
  }

  private static final class Builder {
    private final Ops tf;
    private final Map<String, Node> nodes;
    private final Map<String, Weight> weights;
    private final String inputNode;
    private final Map<String, Operand<TFloat32>> built = new HashMap<>();
    private int split;

    Builder(Ops tf, Map<String, Node> nodes, Map<String, Weight> weights, String inputNode, Operand<TFloat32> input) {
      this.tf = tf;
      this.nodes = nodes;
      this.weights = weights;
      this.inputNode = inputNode;
      built.put(inputNode, input);
    }

    Operand<TFloat32> resolve(String ref) {
      String name = ref.startsWith("^") ? ref.substring(1) : ref;
      int colon = name.lastIndexOf(':');
      if (colon > 0 && name.substring(colon + 1).chars().allMatch(Character::isDigit)) {
        if (!name.endsWith(":0")) {
          throw new IllegalArgumentException("multi-output reference " + ref + " is not supported");
        }
        name = name.substring(0, colon);
      }
      Operand<TFloat32> done = built.get(name);
      if (done != null) {
        return done;
      }
      Node n = nodes.get(name);
      if (n == null) {
        throw new IllegalArgumentException("node '" + name + "' is referenced but not in the graph");
      }
      Operand<TFloat32> op = build(n);
      built.put(name, op);
      return op;
    }

    private Operand<TFloat32> in(Node n, int i) {
      List<String> data = n.inputs().stream().filter(s -> !s.startsWith("^")).toList();
      if (i >= data.size()) {
        throw new IllegalArgumentException(n.op() + " node " + n.name() + " lacks input " + i);
      }
      return resolve(data.get(i));
    }

    private Operand<TFloat32> build(Node n) {
      Ops named = tf; // internal names do not matter: only the signature names are contract
      switch (n.op()) {
        case "Const": {
          Weight w = weights.get(n.name());
          if (w == null) {
            throw new IllegalArgumentException("Const node " + n.name() + " has no weight in the manifest");
          }
          return named.constant(Shape.of(w.shape()), DataBuffers.of(w.values(), true, false));
        }
        case "Placeholder":
          throw new IllegalArgumentException("second Placeholder " + n.name() + " (input is " + inputNode + ")");
        case "Identity":
          return named.identity(in(n, 0));
        case "Mul":
          return named.math.mul(in(n, 0), in(n, 1));
        case "Sub":
          return named.math.sub(in(n, 0), in(n, 1));
        case "Add":
        case "AddV2":
          return named.math.add(in(n, 0), in(n, 1));
        case "Relu":
          return named.nn.relu(in(n, 0));
        case "Relu6":
          return named.nn.relu6(in(n, 0));
        case "Softmax":
          return named.nn.softmax(in(n, 0));
        case "Squeeze":
          return named.squeeze(in(n, 0), Squeeze.axis(n.intListAttr("squeeze_dims")));
        case "AvgPool":
          requireNhwc(n);
          return named.nn.avgPool(in(n, 0), n.intListAttr("ksize"), n.intListAttr("strides"), n.stringAttr("padding"));
        case "Conv2D":
        case "_FusedConv2D": {
          requireNhwc(n);
          requireUnitDilation(n);
          Operand<TFloat32> conv = tf.nn.conv2d(in(n, 0), in(n, 1), n.intListAttr("strides"), padding(n));
          return fused(n, conv);
        }
        case "DepthwiseConv2dNative":
        case "FusedDepthwiseConv2dNative": {
          requireNhwc(n);
          requireUnitDilation(n);
          Operand<TFloat32> conv = tf.nn.depthwiseConv2dNative(in(n, 0), in(n, 1), n.intListAttr("strides"), padding(n));
          return fused(n, conv);
        }
        case "MatMul":
        case "_FusedMatMul": {
          Operand<TFloat32> mm = tf.linalg.matMul(in(n, 0), in(n, 1),
              org.tensorflow.op.linalg.MatMul.transposeA(n.boolAttr("transpose_a", false)),
              org.tensorflow.op.linalg.MatMul.transposeB(n.boolAttr("transpose_b", false)));
          return fused(n, mm);
        }
        default:
          throw new IllegalArgumentException("unsupported op " + n.op() + " at node " + n.name());
      }
    }

    /** Applies a fused node's {@code fused_ops} after its main op; plain ops pass through, named as the node. */
    private Operand<TFloat32> fused(Node n, Operand<TFloat32> main) {
      List<String> ops = n.stringListAttr("fused_ops");
      if (!n.op().startsWith("_Fused") && !n.op().startsWith("Fused")) {
        return main;
      }
      split++;
      Operand<TFloat32> x = main;
      int arg = 2;
      for (int k = 0; k < ops.size(); k++) {
        String op = ops.get(k);
                        x = switch (op) {
          case "BiasAdd" -> tf.nn.biasAdd(x, in(n, arg++));
          case "Relu" -> tf.nn.relu(x);
          case "Relu6" -> tf.nn.relu6(x);
          default -> throw new IllegalArgumentException("unsupported fused op " + op + " in " + n.name());
        };
      }
      return x;
    }

    private static String padding(Node n) {
      String p = n.stringAttr("padding");
      if (!"SAME".equals(p) && !"VALID".equals(p)) {
        throw new IllegalArgumentException("padding " + p + " at " + n.name() + " is not supported");
      }
      return p;
    }

    private static void requireNhwc(Node n) {
      String f = n.stringAttr("data_format");
      if (f != null && !"NHWC".equals(f)) {
        throw new IllegalArgumentException("data_format " + f + " at " + n.name() + " is not supported (NHWC only)");
      }
    }

    private static void requireUnitDilation(Node n) {
      List<Long> d = n.intListAttr("dilations");
      if (!d.isEmpty() && d.stream().anyMatch(v -> v != 1L)) {
        throw new IllegalArgumentException("dilations " + d + " at " + n.name() + " are not supported");
      }
    }
  }
}
