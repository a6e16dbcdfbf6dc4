package io.hivemesh.sim;

/** A request the emulated Ollama refuses: the HTTP status and Ollama's exact message. */
final class ApiException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final int status;

  ApiException(int status, String message) {
    super(message, null, false, false);
    this.status = status;
  }

  int status() {
    return status;
  }
}
