package io.hivemesh.cli;

import io.hivemesh.config.OptionSpec;
import io.hivemesh.config.Settings;
import io.hivemesh.security.KeyFiles;
import io.hivemesh.sim.OllamaSim;
import io.hivemesh.sim.SimOptions;
import io.vertx.core.Vertx;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** {@code hive sim}: the Ollama emulator on its own, for tests, benchmarks and users' own apps. */
final class SimCommand {

  static final List<OptionSpec> OPTIONS = List.of(
      OptionSpec.of("config", null, "YAML file with option: value lines"),
      OptionSpec.of("host", "127.0.0.1", "address to listen on"),
      OptionSpec.of("port", "11434", "port to listen on (0: any free port)"),
      OptionSpec.required("models", "models on disk, NAME[,NAME...]"),
      OptionSpec.of("name", "sim", "name used in logs"),
      OptionSpec.of("parallel", "1", "requests served at once per loaded model (OLLAMA_NUM_PARALLEL)"),
      OptionSpec.of("tokens-per-second", "50", "generation speed per request; 0 answers at once"),
      OptionSpec.of("model-speeds", null, "models that generate at a speed of their own, NAME=TOKENS_PER_SECOND[,...]"),
      OptionSpec.of("load-ms", "1500", "time to load a model on first use"),
      OptionSpec.of("max-loaded", "3", "models loaded at once (OLLAMA_MAX_LOADED_MODELS)"),
      OptionSpec.of("max-queue", "512", "requests waiting for a load before 503 (OLLAMA_MAX_QUEUE)"),
      OptionSpec.of("seed", "42", "seed of the generated text"),
      OptionSpec.of("tls-cert", "", "PEM certificate to serve HTTPS with, as an Ollama behind a TLS proxy (with --tls-key)"),
      OptionSpec.of("tls-key", "", "PEM private key of --tls-cert"));

  private SimCommand() {
  }

  static SimOptions parse(String[] args) {
    Settings s = Settings.resolve(OPTIONS, args, System.getenv());
    List<String> models = s.list("models");
    if (models.isEmpty()) {
      throw new io.hivemesh.config.ConfigException("--models: name at least one model, e.g. --models llama3.2,nomic-embed-text");
    }
    return new SimOptions(s.string("host"), s.port("port", true), s.string("name"), models,
        s.integer("parallel", 1, 1024), s.decimal("tokens-per-second", 0), s.integer("load-ms", 0, 3_600_000),
        s.integer("max-loaded", 1, 1024), s.integer("max-queue", 1, 1_000_000), s.integer("seed", Integer.MIN_VALUE, Integer.MAX_VALUE),
        modelSpeeds(s.list("model-speeds")), tls(s.path("tls-cert"), s.path("tls-key")));
  }

  private static SimOptions.Tls tls(java.nio.file.Path cert, java.nio.file.Path key) {
    if ((cert == null) != (key == null)) {
      throw new io.hivemesh.config.ConfigException("--tls-cert and --tls-key: give both or neither");
    }
    if (cert == null) {
      return null;
    }
    KeyFiles.readPem("--tls-cert", cert);
    KeyFiles.readPem("--tls-key", key);
    return new SimOptions.Tls(cert.toString(), key.toString());
  }

  private static Map<String, Double> modelSpeeds(List<String> entries) {
    Map<String, Double> speeds = new HashMap<>();
    for (String entry : entries) {
      int eq = entry.lastIndexOf('=');
      double tps = -1;
      if (eq > 0) {
        try {
          tps = Double.parseDouble(entry.substring(eq + 1).trim());
        } catch (NumberFormatException e) {
          tps = -1;
        }
      }
      if (!(tps >= 0) || Double.isInfinite(tps)) {
        throw new io.hivemesh.config.ConfigException("--model-speeds: '" + entry
            + "' is not NAME=TOKENS_PER_SECOND (a number of at least 0), e.g. llama3.1:70b=8");
      }
      speeds.put(entry.substring(0, eq).trim(), tps);
    }
    return speeds;
  }

  static void run(String[] args, java.io.PrintStream out) {
    if (Settings.wantsHelp(args)) {
      out.print(Settings.usage("sim", OPTIONS));
      return;
    }
    SimOptions options = parse(args);
    Vertx vertx = Vertx.vertx();
    OllamaSim sim = NodeCommand.await(OllamaSim.start(vertx, options), "cannot start the sim");
    out.println("hive sim '" + options.name() + "' (an Ollama emulator) listening on " + sim.url()
        + " with " + String.join(", ", options.models()));
  }
}
