package io.nlpstream.models.hub;

/**
 * A pull that failed: the Hub refused or could not serve a request, the connection broke or
 * stalled, or what arrived does not match the checksum the Hub listed. The message names the
 * repository and revision (or commit), and the file when there is one; it never contains the token.
 */
public final class HubException extends RuntimeException {

  private final int status;
  private final boolean retryable;

  /**
   * @param status    HTTP status, or 0 when the failure is not an HTTP answer
   * @param retryable whether trying again may succeed (broken connection, 429, 5xx); a retry of a
   *                  download resumes from its {@code .part} file
   */
  public HubException(String message, int status, boolean retryable, Throwable cause) {
    super(message, cause);
    this.status = status;
    this.retryable = retryable;
  }

  public HubException(String message) {
    this(message, 0, false, null);
  }

  /** HTTP status of the failed request, 0 when the failure is not an HTTP answer. */
  public int status() {
    return status;
  }

  /** Whether trying again may succeed. */
  public boolean retryable() {
    return retryable;
  }
}
