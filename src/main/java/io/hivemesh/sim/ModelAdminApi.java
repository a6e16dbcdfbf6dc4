package io.hivemesh.sim;

import io.hivemesh.json.GoText;
import io.hivemesh.model.ModelName;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The native endpoints that change what is on disk: pull, push, create, copy, delete and blobs. The
 * sim's registry has every model, so pulls always succeed; progress lines look like Ollama's.
 */
final class ModelAdminApi {

  private static final Pattern DIGEST = Pattern.compile("^sha256[:-][0-9a-fA-F]{64}$");

  private final SimCore core;

  ModelAdminApi(SimCore core) {
    this.core = core;
  }

  void pull(HttpServerRequest req, byte[] body) {
    GoFields f = GoFields.bind(body, "api", "PullRequest");
    String raw = f.string("model").isEmpty() ? f.string("name") : f.string("model");
    Boolean stream = f.optBool("stream");
    f.bool("insecure");
    ModelName name = ModelName.parse(raw);
    if (ModelName.isBlank(raw) || !name.isValid()) {
      throw new ApiException(400, "invalid model name");
    }
    List<JsonOut> lines = new ArrayList<>();
    pullInto(name, lines);
    lines.add(status("success"));
    progress(req, stream, lines);
  }

  /** Pull progress for {@code name}, leaving the model on disk (without the final "success"). */
  private SimModel pullInto(ModelName name, List<JsonOut> lines) {
    SimModel existing = core.catalog().find(name);
    SimModel m = existing != null ? existing.copyAs(name, GoTime.now()) : SimModel.of(name, GoTime.now());
    lines.add(status("pulling manifest"));
    for (SimModel.Layer l : m.layers()) {
      String st = "pulling " + l.digest().substring(7, 19);
      lines.add(layerLine(st, l, 0));
      if (l.size() > 1_000_000) {
        lines.add(layerLine(st, l, l.size() / 3));
        lines.add(layerLine(st, l, l.size() * 2 / 3));
      }
      lines.add(layerLine(st, l, l.size()));
    }
    lines.add(status("verifying sha256 digest"));
    lines.add(status("writing manifest"));
    core.catalog().put(m);
    return m;
  }

  void push(HttpServerRequest req, byte[] body) {
    GoFields f = GoFields.bind(body, "api", "PushRequest");
    String raw = f.string("model").isEmpty() ? f.string("name") : f.string("model");
    Boolean stream = f.optBool("stream");
    f.bool("insecure");
    if (raw.isEmpty()) {
      throw new ApiException(400, "model is required");
    }
    ModelName name = ModelName.parse(raw);
    SimModel m = name.isValid() ? core.catalog().find(name) : null;
    List<JsonOut> lines = new ArrayList<>();
    lines.add(status("retrieving manifest"));
    if (m == null) {
      lines.add(status("couldn't retrieve manifest"));
      progressThenError(req, stream, lines, "open " + name.manifestPath() + ": no such file or directory");
      return;
    }
    for (SimModel.Layer l : m.layers()) {
      String st = "pushing " + l.digest().substring(7, 19);
      lines.add(layerLine(st, l, 0));
      lines.add(layerLine(st, l, l.size()));
    }
    lines.add(status("pushing manifest"));
    lines.add(status("success"));
    progress(req, stream, lines);
  }

  void create(HttpServerRequest req, byte[] body) {
    GoFields f = GoFields.bind(body, "api", "CreateRequest");
    String raw = f.string("model").isEmpty() ? f.string("name") : f.string("model");
    Boolean stream = f.optBool("stream");
    String from = f.string("from");
    Map<String, Object> files = f.stringMap("files");
    Map<String, Object> adapters = f.stringMap("adapters");
    String template = f.string("template");
    String system = f.string("system");
    Map<String, Object> parameters = f.object("parameters");
    List<Object> messages = f.list("messages", "[]api.Message");
    f.string("quantize");
    for (Map<String, Object> digests : Arrays.asList(files, adapters)) {
      if (digests != null && digests.values().stream().anyMatch(d -> d == null || ((String) d).isEmpty())) {
        throw new ApiException(400, "invalid digest format");
      }
    }
    ModelName name = ModelName.parse(raw);
    if (ModelName.isBlank(raw) || !name.isValid()) {
      throw new ApiException(400, "invalid model name");
    }
    List<JsonOut> lines = new ArrayList<>();
    SimModel base;
    if (!from.isEmpty()) {
      ModelName fromName = ModelName.parse(from);
      if (ModelName.isBlank(from) || !fromName.isValid()) {
        progressThenError(req, stream, lines, 400, "invalid model name");
        return;
      }
      base = core.catalog().find(fromName);
      if (base == null) {
        // Ollama pulls a missing base model first, progress lines and all.
        base = pullInto(fromName, lines);
        lines.add(status("success"));
      }
      for (SimModel.Layer l : base.layers()) {
        lines.add(status("using existing layer " + l.digest()));
      }
    } else if (files != null) {
      for (Object digest : files.values()) {
        if (!core.catalog().hasBlob((String) digest)) {
          progressThenError(req, stream, lines, 400, "blob " + GoText.quote((String) digest) + " not found");
          return;
        }
        lines.add(status("using existing layer " + ((String) digest).replace('-', ':')));
      }
      base = SimModel.of(name, GoTime.now());
    } else {
      progressThenError(req, stream, lines, 400, "neither 'from' or 'files' was specified");
      return;
    }
    SimModel created = base.derive(name, GoTime.now());
    for (Object part : new Object[] {template.isEmpty() ? null : template, system.isEmpty() ? null : system,
        parameters, messages}) {
      if (part != null) {
        lines.add(status("creating new layer sha256:" + SimModel.sha256Hex(created.digest() + part)));
      }
    }
    lines.add(status("writing manifest"));
    lines.add(status("success"));
    core.catalog().put(created);
    progress(req, stream, lines);
  }

  void copy(HttpServerRequest req, byte[] body) {
    GoFields f = GoFields.bind(body, "api", "CopyRequest");
    String source = f.string("source");
    String destination = f.string("destination");
    ModelName src = ModelName.parse(source);
    if (!src.isValid()) {
      throw new ApiException(400, "source " + GoText.quote(source) + " is invalid");
    }
    ModelName dst = ModelName.parse(destination);
    if (!dst.isValid()) {
      throw new ApiException(400, "destination " + GoText.quote(destination) + " is invalid");
    }
    SimModel m = core.catalog().find(src);
    if (m == null) {
      throw new ApiException(404, "model " + GoText.quote(source) + " not found");
    }
    core.catalog().put(m.copyAs(dst, GoTime.now()));
    SimResponses.empty(req, 200);
  }

  void delete(HttpServerRequest req, byte[] body) {
    GoFields f = GoFields.bind(body, "api", "DeleteRequest");
    String raw = f.string("model").isEmpty() ? f.string("name") : f.string("model");
    if (ModelName.isBlank(raw)) {
      throw new ApiException(400, "model is required");
    }
    ModelName name = ModelName.parse(raw);
    if (!name.isValid()) {
      throw new ApiException(400, "name " + GoText.quote(raw) + " is invalid");
    }
    if (!core.catalog().remove(name)) {
      throw new ApiException(404, "model '" + raw + "' not found");
    }
    SimResponses.empty(req, 200);
  }

  /** HEAD /api/blobs/:digest. */
  void headBlob(HttpServerRequest req, String digest) {
    if (!DIGEST.matcher(digest).matches()) {
      throw new ApiException(400, "invalid digest format");
    }
    if (!core.catalog().hasBlob(digest)) {
      throw new ApiException(404, "blob " + GoText.quote(digest) + " not found");
    }
    SimResponses.empty(req, 200);
  }

  /** POST /api/blobs/:digest: hashes the upload as it streams in, whatever its size. */
  void createBlob(HttpServerRequest req, String digest) {
    if (!DIGEST.matcher(digest).matches()) {
      ErrorStyle.NATIVE.send(req, 400, "invalid digest format");
      return;
    }
    if (core.catalog().hasBlob(digest)) {
      SimResponses.empty(req, 200);
      return;
    }
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is always available", e);
    }
    req.handler(chunk -> sha.update(chunk.getBytes()));
    req.endHandler(v -> {
      String got = "sha256:" + HexFormat.of().formatHex(sha.digest());
      if (!got.equals(digest)) {
        ErrorStyle.NATIVE.send(req, 400, "digest mismatch, expected " + GoText.quote(digest) + ", got "
            + GoText.quote(got));
        return;
      }
      core.catalog().addBlob(digest);
      SimResponses.empty(req, 201);
    });
  }

  private static JsonOut status(String status) {
    return new JsonOut().obj().field("status", status).end();
  }

  private static JsonOut layerLine(String status, SimModel.Layer l, long completed) {
    return new JsonOut().obj()
        .field("status", status)
        .field("digest", l.digest())
        .fieldNonZero("total", l.size())
        .fieldNonZero("completed", completed)
        .end();
  }

  /** Streamed: one line per progress object. Not streamed: only the last, as plain application/json. */
  private static void progress(HttpServerRequest req, Boolean stream, List<JsonOut> lines) {
    if (stream != null && !stream) {
      SimResponses.send(req, 200, SimResponses.JSON, lines.get(lines.size() - 1).toBuffer());
      return;
    }
    HttpServerResponse resp = SimResponses.head(req, 200, SimResponses.NDJSON).setChunked(true);
    for (JsonOut line : lines) {
      resp.write(line.newline().toBuffer());
    }
    resp.end();
  }

  private static void progressThenError(HttpServerRequest req, Boolean stream, List<JsonOut> lines, String message) {
    progressThenError(req, stream, lines, 500, message);
  }

  /** Ollama's streamResponse: an error before the first line sets the status, after it is a last line. */
  private static void progressThenError(HttpServerRequest req, Boolean stream, List<JsonOut> lines, int status,
      String message) {
    JsonOut error = new JsonOut().obj().field("error", message).end();
    if ((stream != null && !stream) || lines.isEmpty()) {
      ErrorStyle.NATIVE_STREAM.send(req, status, message);
      return;
    }
    HttpServerResponse resp = SimResponses.head(req, 200, SimResponses.NDJSON).setChunked(true);
    for (JsonOut line : lines) {
      resp.write(line.newline().toBuffer());
    }
    resp.end(error.newline().toBuffer());
  }
}
