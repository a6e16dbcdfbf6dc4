package io.hivemesh.backend;

import io.hivemesh.model.ModelName;
import io.hivemesh.relay.BodySink;
import io.hivemesh.relay.Cancellation;
import io.hivemesh.relay.RelayRequest;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;

/** The backend tests' client: one answer through a site's backend, read to its end on an event loop. */
final class RelayToEnd {

  private RelayToEnd() {
  }

  /** The answer's status once it has ended; the relay's failure, or the answer's, otherwise. */
  static Future<Integer> relay(Context loop, OllamaBackend backend, String path, MultiMap headers,
                               Cancellation cancel) {
    Promise<Integer> done = Promise.promise();
    loop.runOnContext(v -> backend.relay(new RelayRequest(HttpMethod.POST, path, headers,
        Buffer.buffer("{\"model\":\"m\",\"prompt\":\"hi\"}")), ModelName.key("m"), cancel).onSuccess(answer ->
        answer.start(new BodySink() {
          @Override
          public void write(Buffer chunk) {
          }

          @Override
          public void end() {
            done.complete(answer.status());
          }

          @Override
          public void fail(String message) {
            done.tryFail(message);
          }
        })).onFailure(done::tryFail));
    return done.future();
  }
}
