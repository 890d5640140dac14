package dev.imgmatch.index;

/** A record that decoded but breaks the topic's contract; {@link #reasonCode()} goes into the Reject. */
public final class InvalidRecordException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final String reasonCode;

  public InvalidRecordException(String reasonCode, String message) {
    super(message);
    this.reasonCode = reasonCode;
  }

  public String reasonCode() {
    return reasonCode;
  }
}
