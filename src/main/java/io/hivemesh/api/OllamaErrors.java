package io.hivemesh.api;

import io.hivemesh.security.AuthException;
import io.vertx.core.Future;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;

/** Errors as Ollama writes them: {@code {"error":"..."}}, and OpenAI's shape on {@code /v1}. */
final class OllamaErrors {

  static final String BUSY = "server busy, please try again.  maximum pending requests exceeded";

  private OllamaErrors() {
  }

  /** Completes once the answer is written (or at once, when there is no one left to answer). */
  static Future<Void> send(HttpServerResponse out, int status, String message, boolean openAi) {
    if (out.ended() || out.closed()) {
      return Future.succeededFuture();
    }
    if (status == 503) {
      out.putHeader("Retry-After", "1");
    }
    return out.setStatusCode(status)
        .putHeader("Content-Type", "application/json; charset=utf-8")
        .end((openAi ? openAi(status, message) : native_(message)).encode());
  }

  /** A request refused by access control: 401 says how to authenticate, 429 when to come back. */
  static void refuse(HttpServerResponse out, AuthException refusal, boolean openAi) {
    if (out.ended() || out.closed()) {
      return;
    }
    if (refusal.status() == 401) {
      out.putHeader("WWW-Authenticate", "Bearer realm=\"hive\"");
    }
    if (refusal.retryAfterSeconds() > 0) {
      out.putHeader("Retry-After", Integer.toString(refusal.retryAfterSeconds()));
    }
    send(out, refusal.status(), refusal.getMessage(), openAi);
  }

  static JsonObject native_(String message) {
    return new JsonObject().put("error", message);
  }

  static JsonObject openAi(int status, String message) {
    String type = switch (status) {
      case 400, 408, 413 -> "invalid_request_error";
      case 404 -> "not_found_error";
      case 401 -> "authentication_error";
      case 403 -> "permission_error";
      case 429 -> "rate_limit_error";
      default -> "api_error";
    };
    return new JsonObject().put("error", new JsonObject().put("message", message).put("type", type)
        .putNull("param").putNull("code"));
  }
}
