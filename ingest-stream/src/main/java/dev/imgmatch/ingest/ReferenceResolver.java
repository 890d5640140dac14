package dev.imgmatch.ingest;

import dev.imgmatch.ingest.image.ImageRejectedException;
import dev.imgmatch.ingest.image.RejectReason;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads {@code ImageReference} files, only under the configured roots. A path must lie under a root both as
 * written (normalised, so {@code ..} cannot climb out) and after following every link (so a symlink cannot
 * point out); it is checked before the file system is asked anything else, so a refused reference does not
 * reveal whether a file exists.
 */
public final class ReferenceResolver {
  private final List<Path> roots;
  private final List<Path> realRoots;
  private final int maxBytes;

  public ReferenceResolver(List<Path> roots, int maxBytes) {
    this.roots = roots.stream().map(p -> p.toAbsolutePath().normalize()).toList();
    List<Path> real = new ArrayList<>();
    for (Path r : this.roots) {
      try {
        real.add(r.toRealPath());
      } catch (IOException e) {
        real.add(r); // a root that does not exist yet holds nothing readable; keep it for the lexical check
      }
    }
    this.realRoots = List.copyOf(real);
    this.maxBytes = maxBytes;
  }

  public byte[] read(String uri) throws ImageRejectedException {
    if (roots.isEmpty()) {
      throw notAllowed("image references are disabled (ingest.reference.roots is empty): '" + uri + "'");
    }
    Path path = parse(uri);
    if (roots.stream().noneMatch(path::startsWith)) {
      throw notAllowed("reference '" + uri + "' is outside the allowed roots " + roots);
    }
    Path real;
    try {
      real = path.toRealPath();
    } catch (IOException e) {
      throw new ImageRejectedException(RejectReason.REFERENCE_UNREADABLE, "referenced file '" + path
          + "' cannot be resolved: " + e.getClass().getSimpleName() + " " + e.getMessage());
    }
    if (realRoots.stream().noneMatch(real::startsWith)) {
      throw notAllowed("reference '" + uri + "' resolves through a link to '" + real + "', outside the allowed roots");
    }
    try {
      if (!Files.isRegularFile(real)) {
        throw new ImageRejectedException(RejectReason.REFERENCE_UNREADABLE, "'" + real + "' is not a regular file");
      }
      long size = Files.size(real);
      if (size > maxBytes) {
        throw new ImageRejectedException(RejectReason.IMAGE_TOO_LARGE, "referenced file '" + real + "' is " + size
            + " bytes, more than the limit of " + maxBytes + " (ingest.max.image.bytes)");
      }
      return Files.readAllBytes(real);
    } catch (IOException e) {
      throw new ImageRejectedException(RejectReason.REFERENCE_UNREADABLE, "cannot read '" + real + "': " + e);
    }
  }

  private static Path parse(String uri) throws ImageRejectedException {
    try {
      Path p;
      if (uri.startsWith("file:")) {
        p = Path.of(URI.create(uri));
      } else if (uri.matches("^[a-zA-Z][a-zA-Z0-9+.-]*://.*")) {
        throw notAllowed("reference '" + uri + "' is not a file: URI or an absolute path");
      } else {
        p = Path.of(uri);
      }
      if (!p.isAbsolute()) {
        throw notAllowed("reference '" + uri + "' is not an absolute path");
      }
      return p.normalize();
    } catch (IllegalArgumentException | java.nio.file.FileSystemNotFoundException e) {
      throw notAllowed("reference '" + uri + "' is not a valid file URI or path: " + e.getMessage());
    }
  }

  private static ImageRejectedException notAllowed(String message) {
    return new ImageRejectedException(RejectReason.REFERENCE_NOT_ALLOWED, message);
  }
}
