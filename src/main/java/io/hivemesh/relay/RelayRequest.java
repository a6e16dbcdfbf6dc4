package io.hivemesh.relay;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import java.util.List;

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

  /**
   * Request headers that carry meaning to Ollama; everything else is hop-by-hop or the client's
   * business. Netty's ASCII names: a map lookup by one does not hash the name again.
   */
  public static final List<CharSequence> FORWARDED_HEADERS = List.of(HttpHeaders.CONTENT_TYPE, HttpHeaders.ACCEPT,
      HttpHeaders.USER_AGENT, HttpHeaders.ACCEPT_LANGUAGE);
}
