package io.hivemesh.cli;

import io.hivemesh.config.ConfigException;
import io.hivemesh.config.OptionSpec;
import io.hivemesh.config.Settings;
import io.hivemesh.security.SigningKey;
import io.hivemesh.security.TokenGrant;
import io.hivemesh.security.TokenMinter;
import io.vertx.core.Vertx;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * {@code hive token}: a JWT for a client of the mesh. Prints the token alone, so that
 * {@code TOKEN=$(hive token ...)} works.
 */
final class TokenCommand {

  static final List<OptionSpec> OPTIONS = List.of(
      OptionSpec.of("config", null, "YAML file with option: value lines"),
      OptionSpec.required("sub", "who the token is for (sub claim)"),
      OptionSpec.of("models", null, "models it may use, NAME[,NAME...]; unset: every model"),
      OptionSpec.of("scope", "inference models:read", "what it may do, space-separated"),
      OptionSpec.of("ttl", "24h", "lifetime, e.g. 30m, 24h, 720h"),
      OptionSpec.of("rpm", null, "requests per minute it may make; unset: no limit"),
      OptionSpec.of("concurrent", null, "requests it may have in flight; unset: no limit"),
      OptionSpec.of("issuer", null, "iss claim"),
      OptionSpec.of("audience", null, "aud claim"),
      OptionSpec.of("secret-file", null, "sign with HS256 and the secret in this file (at least 32 bytes)"),
      OptionSpec.of("private-key", null, "sign with RS256 or ES256 and this PKCS#8 PEM key"));

  private TokenCommand() {
  }

  static void run(String[] args, PrintStream out) {
    if (Settings.wantsHelp(args)) {
      out.print(Settings.usage("token", OPTIONS));
      return;
    }
    Settings s = Settings.resolve(OPTIONS, args, System.getenv());
    TokenGrant grant = grant(s);
    SigningKey key = signingKey(s);
    Vertx vertx = Vertx.vertx();
    try {
      out.println(new TokenMinter(vertx, key).mint(grant));
    } finally {
      NodeCommand.await(vertx.close(), "cannot close Vert.x");
    }
  }

  private static TokenGrant grant(Settings s) {
    Duration ttl = s.duration("ttl");
    if (ttl.toSeconds() < 1) {
      throw new ConfigException("--ttl: expected at least 1s, got '" + s.string("ttl") + "'");
    }
    return new TokenGrant(s.string("sub"), String.join(" ", s.string("scope").split("\\s+")), s.list("models"),
        s.has("rpm") ? s.integer("rpm", 1, Integer.MAX_VALUE) : null,
        s.has("concurrent") ? s.integer("concurrent", 1, Integer.MAX_VALUE) : null,
        s.has("issuer") ? s.string("issuer") : null, s.has("audience") ? s.string("audience") : null, ttl);
  }

  private static SigningKey signingKey(Settings s) {
    if (s.has("secret-file") == s.has("private-key")) {
      throw new ConfigException("name exactly one key: --secret-file (HS256) or --private-key (RS256, ES256)");
    }
    return s.has("secret-file")
        ? SigningKey.hmac("--secret-file", Path.of(s.string("secret-file")))
        : SigningKey.privateKey("--private-key", Path.of(s.string("private-key")));
  }
}
