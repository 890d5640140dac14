package dev.imgmatch.console;

/**
 * A request the API refuses or cannot serve, with the HTTP status and a reason meant for the caller. Answered as
 * {@code {"error": reason, "status": N}}; it carries no stack trace (it is an answer, not a fault).
 */
final class ApiException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int status;

  ApiException(int status, String reason) {
    super(reason, null, false, false);
    this.status = status;
  }

  int status() {
    return status;
  }

  static ApiException badRequest(String reason) {
    return new ApiException(400, reason);
  }
}
