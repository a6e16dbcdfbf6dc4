package io.hivemesh.cli;

import io.hivemesh.config.ConfigException;
import io.hivemesh.config.OptionSpec;
import io.hivemesh.config.Settings;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * {@code hive status}: the mesh as one node sees it, as a table: the picture of {@code /hive/ui},
 * from the same {@code GET /hive/mesh}.
 */
final class StatusCommand {

  static final List<OptionSpec> OPTIONS = List.of(
      OptionSpec.of("config", null, "YAML file with option: value lines"),
      OptionSpec.required("url", "a node's client URL, e.g. https://10.1.0.5:11434"),
      OptionSpec.of("token", null, "a token with the admin scope (or HIVE_TOKEN)"),
      OptionSpec.of("ca-file", null, "PEM certificate(s) to trust for an https URL (default: the JDK's)"),
      OptionSpec.of("timeout", "10s", "how long to wait for the node's answer"));

  private StatusCommand() {
  }

  static void run(String[] args, PrintStream out) {
    if (Settings.wantsHelp(args)) {
      out.print(Settings.usage("status", OPTIONS));
      return;
    }
    Settings s = Settings.resolve(OPTIONS, args, System.getenv());
    URI base = s.httpUrl("url");
    Duration timeout = s.duration("timeout");
    HttpClient.Builder client = HttpClient.newBuilder().connectTimeout(timeout);
    if (s.has("ca-file")) {
      client.sslContext(trusting(Path.of(s.string("ca-file"))));
    }
    HttpRequest.Builder req = HttpRequest.newBuilder(base.resolve("/hive/mesh")).timeout(timeout).GET();
    if (s.has("token")) {
      req.header("Authorization", "Bearer " + s.string("token").trim());
    }
    HttpResponse<String> resp;
    try {
      resp = client.build().send(req.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new Main.StartupException("cannot reach " + base + ": " + Main.reason(e));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Main.StartupException("interrupted");
    }
    JsonObject body;
    try {
      body = new JsonObject(resp.body());
    } catch (DecodeException e) {
      throw new Main.StartupException(base + " answered " + resp.statusCode() + " without JSON: is it a Hive node?");
    }
    if (resp.statusCode() != 200) {
      throw new Main.StartupException(base + " answered " + resp.statusCode() + ": " + body.getString("error", resp.body()));
    }
    out.print(table(body));
  }

  /** The sites as rows; a loaded model is marked with '*'. */
  static String table(JsonObject mesh) {
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"SITE", "STATE", "SLOTS", "IN-FLIGHT", "QUEUED", "REQ/S", "P99 TTFT", "MODELS (* loaded)"});
    JsonArray sites = mesh.getJsonArray("sites", new JsonArray());
    int up = 0;
    for (Object o : sites) {
      JsonObject site = (JsonObject) o;
      if ("up".equals(site.getString("state"))) {
        up++;
      }
      List<String> loaded = site.getJsonArray("loaded", new JsonArray()).stream().map(String::valueOf).toList();
      List<String> models = site.getJsonArray("models", new JsonArray()).stream().map(String::valueOf)
          .map(m -> loaded.contains(m) ? m + "*" : m).toList();
      double p99 = site.getDouble("ttft_p99_ms", 0.0);
      rows.add(new String[] {site.getString("name") + (site.getBoolean("self", false) ? " (this node)" : ""),
          site.getString("state"), String.valueOf(site.getInteger("slots", 0)),
          String.valueOf(site.getInteger("inflight", 0)), String.valueOf(site.getInteger("queued", 0)),
          String.format("%.1f", site.getDouble("rate", 0.0)), p99 > 0 ? Math.round(p99) + " ms" : "-",
          models.isEmpty() ? "-" : String.join(", ", models)});
    }
    int[] width = new int[rows.get(0).length];
    for (String[] row : rows) {
      for (int i = 0; i < row.length; i++) {
        width[i] = Math.max(width[i], row[i].length());
      }
    }
    StringBuilder out = new StringBuilder();
    out.append("mesh as seen by node ").append(mesh.getString("node")).append(": ").append(up).append(" of ")
        .append(sites.size()).append(" sites up\n");
    for (String[] row : rows) {
      for (int i = 0; i < row.length; i++) {
        out.append(i == row.length - 1 ? row[i] : String.format("%-" + (width[i] + 2) + "s", row[i]));
      }
      out.append('\n');
    }
    return out.toString();
  }

  private static SSLContext trusting(Path pem) {
    try (InputStream in = Files.newInputStream(pem)) {
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      int i = 0;
      for (Certificate cert : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        store.setCertificateEntry("ca" + i++, cert);
      }
      if (i == 0) {
        throw new ConfigException("--ca-file: no certificate in " + pem);
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(store);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), null);
      return ctx;
    } catch (IOException | GeneralSecurityException e) {
      throw new ConfigException("--ca-file: cannot read " + pem + ": " + Main.reason(e));
    }
  }
}
