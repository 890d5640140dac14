package dev.imgmatch.embedder.head;

import dev.imgmatch.embedder.model.Hashing;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Objects;

/**
 * {@code normalize(P · (x - mean))}: centring, then an optional linear projection P (out x in), then L2
 * normalisation. Without P it is centring only (out = in).
 *
 * <p>File format ({@code .head}, big endian, written by {@link #write}): magic {@code IMGMHEAD}, int format version
 * (1), UTF kind (e.g. {@code pcaw256}), UTF provenance (free text: how it was fitted), int in, int out, int hasMatrix
 * (0/1), in floats of mean, then out*in floats of P row by row when present. The head's {@link #version()} is the kind
 * plus the first 12 hex digits of the SHA-256 of the whole file.
 */
public final class LinearHead implements DescriptorHead {
  private static final String MAGIC = "IMGMHEAD";
  private static final int FORMAT = 1;

  private final String kind;
  private final String provenance;
  private final float[] mean;
  private final float[][] projection;
  private final String version;

  public LinearHead(String kind, String provenance, float[] mean, float[][] projection) {
    this.kind = Objects.requireNonNull(kind, "kind");
    if (!kind.matches("[a-z0-9_.]{1,40}")) {
      throw new IllegalArgumentException("head kind '" + kind + "' must be 1-40 of [a-z0-9_.]");
    }
    this.provenance = provenance == null ? "" : provenance;
    this.mean = mean.clone();
    if (projection != null) {
      for (float[] row : projection) {
        if (row.length != mean.length) {
          throw new IllegalArgumentException("projection rows have " + row.length + " columns, mean has " + mean.length);
        }
      }
    }
    this.projection = projection == null ? null : projection.clone();
    this.version = kind + "-" + Hashing.sha256Hex(toBytes()).substring(0, 12);
  }

  private LinearHead(LinearHead h, String version) {
    this.kind = h.kind;
    this.provenance = h.provenance;
    this.mean = h.mean;
    this.projection = h.projection;
    this.version = version;
  }

  /**
   * The same head named {@code version}. A head fitted by imgmatch is named after its inputs (recipe, model, photos,
   * seed), which are the same on every machine, rather than after its floats, which differ in the last digits from
   * one CPU to another.
   */
  public LinearHead withVersion(String version) {
    if (!version.matches("[a-z0-9_.-]{1,60}")) {
      throw new IllegalArgumentException("head version '" + version + "' must be 1-60 of [a-z0-9_.-]");
    }
    return new LinearHead(this, version);
  }

  /** A centring-only head. */
  public static LinearHead centring(String kind, String provenance, float[] mean) {
    return new LinearHead(kind, provenance, mean, null);
  }

  @Override
  public String version() {
    return version;
  }

  public String kind() {
    return kind;
  }

  public String provenance() {
    return provenance;
  }

  @Override
  public int inputDim() {
    return mean.length;
  }

  @Override
  public int outputDim() {
    return projection == null ? mean.length : projection.length;
  }

  /** A copy of the mean. */
  public float[] mean() {
    return mean.clone();
  }

  /** A copy of the projection (out x in), or null for a centring-only head. */
  public float[][] projection() {
    if (projection == null) {
      return null;
    }
    float[][] p = new float[projection.length][];
    for (int i = 0; i < p.length; i++) {
      p[i] = projection[i].clone();
    }
    return p;
  }

  @Override
  public float[] apply(float[] features) {
    if (features.length != mean.length) {
      throw new IllegalArgumentException("head " + version + " takes " + mean.length + "-d features, got "
          + features.length);
    }
    float[] c = new float[mean.length];
    for (int i = 0; i < c.length; i++) {
      c[i] = features[i] - mean[i];
    }
    if (projection == null) {
      return DescriptorHead.l2normalize(c);
    }
    float[] out = new float[projection.length];
    for (int r = 0; r < out.length; r++) {
      float[] row = projection[r];
      double s = 0;
      for (int i = 0; i < c.length; i++) {
        s += row[i] * c[i];
      }
      out[r] = (float) s;
    }
    return DescriptorHead.l2normalize(out);
  }

  private byte[] toBytes() {
    ByteArrayOutputStream bos = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bos)) {
      out.writeBytes(MAGIC);
      out.writeInt(FORMAT);
      out.writeUTF(kind);
      out.writeUTF(provenance);
      out.writeInt(mean.length);
      out.writeInt(outputDim());
      out.writeInt(projection == null ? 0 : 1);
      for (float v : mean) {
        out.writeFloat(v);
      }
      if (projection != null) {
        for (float[] row : projection) {
          for (float v : row) {
            out.writeFloat(v);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bos.toByteArray();
  }

  /** Writes the head atomically. */
  public void write(Path file) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), "head", ".part");
    Files.write(tmp, toBytes());
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /** Reads a head written by {@link #write}. */
  public static LinearHead read(Path file) throws IOException {
    try (InputStream raw = Files.newInputStream(file);
        DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(raw))) {
      byte[] magic = in.readNBytes(MAGIC.length());
      if (!MAGIC.equals(new String(magic, java.nio.charset.StandardCharsets.US_ASCII))) {
        throw new IOException(file + " is not a descriptor head file (bad magic)");
      }
      int format = in.readInt();
      if (format != FORMAT) {
        throw new IOException(file + " has head format " + format + "; this build reads " + FORMAT);
      }
      String kind = in.readUTF();
      String provenance = in.readUTF();
      int inDim = in.readInt();
      int outDim = in.readInt();
      boolean hasMatrix = in.readInt() == 1;
      if (inDim < 1 || inDim > 1 << 16 || outDim < 1 || outDim > 1 << 16) {
        throw new IOException(file + " declares impossible dimensions " + inDim + " -> " + outDim);
      }
      float[] mean = new float[inDim];
      for (int i = 0; i < inDim; i++) {
        mean[i] = in.readFloat();
      }
      float[][] p = null;
      if (hasMatrix) {
        p = new float[outDim][inDim];
        for (float[] row : p) {
          for (int i = 0; i < inDim; i++) {
            row[i] = in.readFloat();
          }
        }
      }
      return new LinearHead(kind, provenance, mean, p);
    }
  }
}
