package io.hivemesh.api;

import io.hivemesh.security.AuthConfig;
import io.hivemesh.security.AuthException;
import io.hivemesh.security.Caller;
import io.hivemesh.security.Scope;
import io.hivemesh.security.SubjectQuotas;
import io.hivemesh.security.TokenVerifier;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;

/**
 * The checks a request passes before the mesh does anything for it, as route handlers: who is
 * calling ({@link #authenticate}), may it do this ({@link #require}), is it within its quota
 * ({@link #withinQuota}) and may it use this model ({@link #mayUse}). One per event loop.
 */
final class AccessControl {

  private static final String CALLER = "hive.caller";

  private final TokenVerifier verifier;
  private final Caller anonymous;
  private final SubjectQuotas quotas;

  AccessControl(Vertx vertx, AuthConfig config, SubjectQuotas quotas) {
    this.verifier = config.insecure() ? null : new TokenVerifier(vertx, config);
    this.anonymous = config.insecure() ? Caller.anonymous(config.defaults()) : null;
    this.quotas = quotas;
  }

  static Caller caller(RoutingContext ctx) {
    return ctx.get(CALLER);
  }

  void authenticate(RoutingContext ctx) {
    if (ctx.request().method() != HttpMethod.GET && ctx.request().method() != HttpMethod.HEAD) {
      // The checks may finish on a later turn of the loop: hold the body until the body handler reads it.
      ctx.request().pause();
    }
    if (verifier == null) {
      ctx.put(CALLER, anonymous);
      ctx.next();
      return;
    }
    verifier.verify(ctx.request().getHeader("Authorization")).onComplete(ar -> {
      if (ar.succeeded()) {
        ctx.put(CALLER, ar.result());
        ctx.next();
      } else {
        refuse(ctx, ar.cause());
      }
    });
  }

  Handler<RoutingContext> require(Scope scope) {
    return ctx -> {
      if (caller(ctx).has(scope)) {
        ctx.next();
      } else {
        refuse(ctx, missing(scope));
      }
    };
  }

  /** Counts the request against its subject's mesh-wide quota until the response ends. */
  void withinQuota(RoutingContext ctx) {
    quotas.admit(caller(ctx)).onComplete(ar -> {
      if (ar.failed()) {
        refuse(ctx, ar.cause());
      } else if (ar.result() == SubjectQuotas.Permit.NONE) {
        ctx.next();
      } else if (ctx.response().closed()) {
        ar.result().release();
      } else {
        ctx.addEndHandler(v -> ar.result().release());
        ctx.next();
      }
    });
  }

  /** Null when the caller may use {@code model}, else the refusal to send. */
  static AuthException mayUse(RoutingContext ctx, String model) {
    return caller(ctx).models().allows(model) ? null
        : AuthException.forbidden("this token may not use model '" + model + "'");
  }

  static AuthException missing(Scope scope) {
    return AuthException.forbidden("this token lacks the '" + scope.word() + "' scope");
  }

  static void refuse(RoutingContext ctx, Throwable failure) {
    HttpServerResponse out = ctx.response();
    if (failure instanceof AuthException refusal) {
      OllamaErrors.refuse(out, refusal, HttpApi.isOpenAi(ctx.request()));
    } else {
      ctx.fail(failure);
    }
  }
}
