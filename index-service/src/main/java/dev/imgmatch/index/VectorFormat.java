package dev.imgmatch.index;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.apache.lucene.codecs.KnnVectorsFormat;
import org.apache.lucene.codecs.lucene104.Lucene104HnswScalarQuantizedVectorsFormat;
import org.apache.lucene.codecs.lucene99.Lucene99HnswVectorsFormat;
import org.apache.lucene.util.quantization.QuantizedByteVectorValues.ScalarEncoding;

/**
 * The HNSW vector encodings we measured (docs/benchmarks/index-service.md). Every quantized format also keeps
 * the raw float32 vectors on disk, which is what the full-precision rescoring reads.
 */
public enum VectorFormat {
  FLOAT32("float32", null, 32),
  INT8("int8", ScalarEncoding.UNSIGNED_BYTE, 8),
  INT7("int7", ScalarEncoding.SEVEN_BIT, 7),
  INT4("int4", ScalarEncoding.PACKED_NIBBLE, 4),
  BIT("bit", ScalarEncoding.SINGLE_BIT_QUERY_NIBBLE, 1);

  private final String configName;
  private final ScalarEncoding encoding;
  private final int bits;

  VectorFormat(String configName, ScalarEncoding encoding, int bits) {
    this.configName = configName;
    this.encoding = encoding;
    this.bits = bits;
  }

  public String configName() {
    return configName;
  }

  /** Bits per dimension of what the HNSW search reads (the hot set). */
  public int bits() {
    return bits;
  }

  public boolean quantized() {
    return encoding != null;
  }

  public KnnVectorsFormat luceneFormat(int maxConn, int beamWidth) {
    return encoding == null
        ? new Lucene99HnswVectorsFormat(maxConn, beamWidth)
        : new Lucene104HnswScalarQuantizedVectorsFormat(encoding, maxConn, beamWidth);
  }

  public static List<String> configNames() {
    return Arrays.stream(values()).map(VectorFormat::configName).toList();
  }

  public static VectorFormat fromConfig(String name) {
    String n = name.trim().toLowerCase(Locale.ROOT);
    return Arrays.stream(values()).filter(f -> f.configName.equals(n)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("unknown vector format '" + name + "', expected one of "
            + configNames()));
  }
}
