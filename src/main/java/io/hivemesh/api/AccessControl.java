package io.hivemesh.api;

import io.hivemesh.security.AuthConfig;
import io.hivemesh.security.AuthException;
import io.hivemesh.security.Caller;
import io.hivemesh.security.Scope;
import io.hivemesh.security.SubjectQuotas;
import io.hivemesh.security.TokenVerifier;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;

/**
 * The checks a request passes before the mesh does anything for it, as {@link Pipeline} steps:
 * who is calling ({@link #authenticate}), may it do this ({@link #require}), is it within its quota
 * ({@link #withinQuota}) and may it use this model ({@link #mayUse}). One per event loop.
 */
final class AccessControl {

  private final TokenVerifier verifier;
  private final Caller anonymous;
  private final SubjectQuotas quotas;

  AccessControl(Vertx vertx, AuthConfig config, SubjectQuotas quotas) {
    this.verifier = config.insecure() ? null : new TokenVerifier(vertx, config);
    this.anonymous = config.insecure() ? Caller.anonymous(config.defaults()) : null;
    this.quotas = quotas;
  }

  void authenticate(Exchange x, Runnable next) {
    if (x.request.method() != HttpMethod.GET && x.request.method() != HttpMethod.HEAD) {
      // The checks may finish on a later turn of the loop: hold the body until the body reader takes it.
      x.request.pause();
    }
    if (verifier == null) {
      x.caller = anonymous;
      next.run();
      return;
    }
    verifier.verify(x.request.getHeader("Authorization")).onComplete(ar -> {
      if (ar.succeeded()) {
        x.caller = ar.result();
        next.run();
      } else {
        refuse(x, ar.cause());
      }
    });
  }

  static Pipeline.Step require(Scope scope) {
    return (x, next) -> {
      if (x.caller.has(scope)) {
        next.run();
      } else {
        refuse(x, missing(scope));
      }
    };
  }

  /** Counts the request against its subject's mesh-wide quota until the response ends. */
  void withinQuota(Exchange x, Runnable next) {
    quotas.admit(x.caller).onComplete(ar -> {
      if (ar.failed()) {
        refuse(x, ar.cause());
      } else if (ar.result() == SubjectQuotas.Permit.NONE) {
        next.run();
      } else if (x.response.closed()) {
        ar.result().release();
      } else {
        x.atEnd(ar.result()::release);
        next.run();
      }
    });
  }

  /** Null when the caller may use {@code model}, else the refusal to send. */
  static AuthException mayUse(Exchange x, String model) {
    return x.caller.models().allows(model) ? null
        : AuthException.forbidden("this token may not use model '" + model + "'");
  }

  static AuthException missing(Scope scope) {
    return AuthException.forbidden("this token lacks the '" + scope.word() + "' scope");
  }

  static void refuse(Exchange x, Throwable failure) {
    if (failure instanceof AuthException refusal) {
      OllamaErrors.refuse(x.response, refusal, x.openAi);
    } else {
      x.fail(failure);
    }
  }
}
