package io.hivemesh.sim;

import io.hivemesh.model.ModelName;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Settings of one emulated Ollama. The defaults mirror a stock Ollama: one request at a time per
 * model ({@code OLLAMA_NUM_PARALLEL=1}), three loaded models, a pending queue of 512.
 *
 * @param host address to listen on
 * @param port port to listen on; 0 picks a free one
 * @param name name used in logs
 * @param models models "on disk" at start
 * @param parallel requests served at once per loaded model
 * @param tokensPerSecond generation speed of each request; {@code <= 0} answers at once
 * @param loadMs time a model load takes; 0 loads instantly
 * @param maxLoaded models loaded at once
 * @param maxQueue requests that may wait for a load before 503
 * @param seed seed of the generated text
 * @param modelSpeeds generation speed of the models that differ from {@code tokensPerSecond}, by model
 *                    key (a real Ollama runs a 3B model many times faster than a 70B one)
 * @param tls the certificate to serve HTTPS with, as an Ollama behind a TLS-terminating proxy
 *            answers; null serves plain HTTP, as Ollama itself does
 */
public record SimOptions(String host, int port, String name, List<String> models, int parallel,
    double tokensPerSecond, long loadMs, int maxLoaded, int maxQueue, long seed, Map<String, Double> modelSpeeds,
    Tls tls) {

  /** PEM files: the certificate (chain) and its private key. */
  public record Tls(String certPath, String keyPath) {
    public Tls {
      Objects.requireNonNull(certPath, "certPath");
      Objects.requireNonNull(keyPath, "keyPath");
    }
  }

  public SimOptions {
    Objects.requireNonNull(host, "host");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port out of range: " + port);
    }
    name = name == null ? "sim" : name;
    models = models == null ? List.of() : List.copyOf(models);
    Map<String, Double> speeds = new HashMap<>();
    if (modelSpeeds != null) {
      modelSpeeds.forEach((model, tps) -> speeds.put(ModelName.key(model), tps));
    }
    modelSpeeds = Map.copyOf(speeds);
  }

  /** Every model at the same speed. */
  public SimOptions(String host, int port, String name, List<String> models, int parallel,
                    double tokensPerSecond, long loadMs, int maxLoaded, int maxQueue, long seed) {
    this(host, port, name, models, parallel, tokensPerSecond, loadMs, maxLoaded, maxQueue, seed, Map.of(), null);
  }

  /** Generation speed of {@code model} (a key); {@code <= 0} answers at once. */
  public double tokensPerSecond(String modelKey) {
    return modelSpeeds.getOrDefault(modelKey, tokensPerSecond);
  }

  public static SimOptions defaults() {
    return new SimOptions("127.0.0.1", 11434, "sim", List.of(), 1, 50, 1500, 3, 512, 42);
  }

  public SimOptions withHost(String host) {
    return new SimOptions(host, port, name, models, parallel, tokensPerSecond, loadMs, maxLoaded, maxQueue, seed, modelSpeeds, tls);
  }

  public SimOptions withPort(int port) {
    return new SimOptions(host, port, name, models, parallel, tokensPerSecond, loadMs, maxLoaded, maxQueue, seed, modelSpeeds, tls);
  }

  public SimOptions withName(String name) {
    return new SimOptions(host, port, name, models, parallel, tokensPerSecond, loadMs, maxLoaded, maxQueue, seed, modelSpeeds, tls);
  }

  public SimOptions withModels(List<String> models) {
    return new SimOptions(host, port, name, models, parallel, tokensPerSecond, loadMs, maxLoaded, maxQueue, seed, modelSpeeds, tls);
  }

  /** Convenience for {@link #withModels(List)}. */
  public SimOptions withModels(String... models) {
    return withModels(List.of(models));
  }

  public SimOptions withParallel(int parallel) {
    return new SimOptions(host, port, name, models, parallel, tokensPerSecond, loadMs, maxLoaded, maxQueue, seed, modelSpeeds, tls);
  }

  public SimOptions withTokensPerSecond(double tokensPerSecond) {
    return new SimOptions(host, port, name, models, parallel, tokensPerSecond, loadMs, maxLoaded, maxQueue, seed, modelSpeeds, tls);
  }

  public SimOptions withLoadMs(long loadMs) {
    return new SimOptions(host, port, name, models, parallel, tokensPerSecond, loadMs, maxLoaded, maxQueue, seed, modelSpeeds, tls);
  }

  public SimOptions withMaxLoaded(int maxLoaded) {
    return new SimOptions(host, port, name, models, parallel, tokensPerSecond, loadMs, maxLoaded, maxQueue, seed, modelSpeeds, tls);
  }

  public SimOptions withMaxQueue(int maxQueue) {
    return new SimOptions(host, port, name, models, parallel, tokensPerSecond, loadMs, maxLoaded, maxQueue, seed, modelSpeeds, tls);
  }

  /** {@code model} generates at {@code tokensPerSecond}, whatever the others do. */
  public SimOptions withModelSpeed(String model, double tokensPerSecond) {
    Map<String, Double> speeds = new HashMap<>(modelSpeeds);
    speeds.put(ModelName.key(model), tokensPerSecond);
    return new SimOptions(host, port, name, models, parallel, this.tokensPerSecond, loadMs, maxLoaded, maxQueue, seed, speeds, tls);
  }

  public SimOptions withSeed(long seed) {
    return new SimOptions(host, port, name, models, parallel, tokensPerSecond, loadMs, maxLoaded, maxQueue, seed, modelSpeeds, tls);
  }

  public SimOptions withTls(Tls tls) {
    return new SimOptions(host, port, name, models, parallel, tokensPerSecond, loadMs, maxLoaded, maxQueue, seed, modelSpeeds, tls);
  }
}
