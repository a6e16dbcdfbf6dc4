package io.hivemesh.relay;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;

/**
 * A client request as it is relayed to one site's Ollama: the body travels untouched, so the
 * site sees exactly the bytes the client sent.
 *
 * @param method  HTTP method
 * @param uri     path and query, as the client sent them
 * @param headers the end-to-end headers worth forwarding (content type, accept, user agent)
 * @param body    the request body, possibly empty
 */
public record RelayRequest(HttpMethod method, String uri, MultiMap headers, Buffer body) {

  /** Request headers that carry meaning to Ollama; everything else is hop-by-hop or the client's business. */
  public static final String[] FORWARDED_HEADERS = {"content-type", "accept", "user-agent", "accept-language"};
}
