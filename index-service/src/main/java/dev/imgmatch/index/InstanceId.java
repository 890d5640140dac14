package dev.imgmatch.index;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * A random name for this index-service instance, kept in {@code index.dir/instance.id}: the same across restarts on
 * the same disk (so the transactional id it names fences the crashed incarnation and aborts its open transaction at
 * once), different for every index directory (two running instances never share one).
 */
final class InstanceId {
  static final String FILE = "instance.id";
  private static final Pattern VALID = Pattern.compile("[0-9a-f]{16}");

  private InstanceId() {}

  /** The id kept in {@code indexDir}, created (16 hex digits) when missing or unreadable. */
  static String of(Path indexDir) throws IOException {
    Files.createDirectories(indexDir);
    Path f = indexDir.resolve(FILE);
    if (Files.isRegularFile(f) && Files.size(f) < 256) {
      String id = Files.readString(f, StandardCharsets.UTF_8).trim();
      if (VALID.matcher(id).matches()) {
        return id;
      }
    }
    byte[] b = new byte[8];
    new SecureRandom().nextBytes(b);
    String id = HexFormat.of().formatHex(b);
    Path tmp = Files.createTempFile(indexDir, FILE, ".tmp");
    Files.writeString(tmp, id + "\n", StandardCharsets.UTF_8);
    try {
      Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING);
    }
    return id;
  }
}
