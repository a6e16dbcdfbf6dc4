package io.hivemesh.sim;

import io.vertx.core.http.HttpServerRequest;

/** How an error reaches the client: Ollama has four slightly different ways, and clients notice. */
enum ErrorStyle {

  /** Native handlers: gin's c.JSON, {@code {"error":"..."}}. */
  NATIVE,
  /** Native streaming handlers failing before their first line set plain {@code application/json}. */
  NATIVE_STREAM,
  /** Errors of the native handler behind an OpenAI route, rewritten by the middleware's writer. */
  OPENAI,
  /** Errors the OpenAI middleware raises itself (bad body), through gin's c.JSON. */
  OPENAI_MIDDLEWARE;

  void send(HttpServerRequest req, int status, String message) {
    switch (this) {
      case NATIVE -> SimResponses.json(req, status, new JsonOut().obj().field("error", message).end());
      case NATIVE_STREAM -> SimResponses.send(req, status, SimResponses.JSON,
          new JsonOut().obj().field("error", message).end().toBuffer());
      case OPENAI -> SimResponses.send(req, status, SimResponses.JSON, openAi(status, message).newline().toBuffer());
      case OPENAI_MIDDLEWARE -> SimResponses.send(req, status, SimResponses.JSON_UTF8, openAi(status, message).toBuffer());
    }
  }

  /** The error object the OpenAI layer uses: a type derived from the status, null param and code. */
  static JsonOut openAi(int status, String message) {
    String type = switch (status) {
      case 400 -> "invalid_request_error";
      case 404 -> "not_found_error";
      default -> "api_error";
    };
    return new JsonOut().obj().key("error").obj()
        .field("message", message)
        .field("type", type)
        .key("param").nul()
        .key("code").nul()
        .end().end();
  }
}
