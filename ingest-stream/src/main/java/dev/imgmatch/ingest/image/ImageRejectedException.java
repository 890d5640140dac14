package dev.imgmatch.ingest.image;

import java.util.Objects;

/**
 * An input ingest refuses, with the reason code and a message naming the offending value. Expected
 * outcome of bad input, so it carries no stack trace.
 */
public final class ImageRejectedException extends Exception {
  private static final long serialVersionUID = 1L;

  private final RejectReason reason;

  public ImageRejectedException(RejectReason reason, String message) {
    this(reason, message, null);
  }

  public ImageRejectedException(RejectReason reason, String message, Throwable cause) {
    super(message, cause, false, false);
    this.reason = Objects.requireNonNull(reason);
  }

  public RejectReason reason() {
    return reason;
  }
}
