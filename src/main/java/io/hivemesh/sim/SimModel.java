package io.hivemesh.sim;

import io.hivemesh.model.ModelName;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One model "on disk": its name and the metadata Ollama reports in /api/tags, /api/ps and /api/show.
 * Metadata comes from the name (family, size, quantization of well-known models) so that the same
 * name always looks the same; digests are sha256 of the name.
 */
final class SimModel {

  /** Facts about a family of well-known models, matched by name prefix. */
  private record Family(String prefix, String family, double billions, String quant, int contextLength,
      int embeddingLength, List<String> capabilities) {
  }

  private static final List<String> COMPLETION = List.of("completion");
  private static final List<String> TOOLS = List.of("completion", "tools");
  private static final List<String> THINKING = List.of("completion", "tools", "thinking");
  private static final List<String> VISION = List.of("completion", "vision");
  private static final List<String> EMBEDDING = List.of("embedding");

  private static final List<Family> FAMILIES = List.of(
      new Family("nomic-embed-text", "nomic-bert", 0.137, "F16", 2048, 768, EMBEDDING),
      new Family("mxbai-embed-large", "bert", 0.334, "F16", 512, 1024, EMBEDDING),
      new Family("snowflake-arctic-embed", "bert", 0.335, "F16", 512, 1024, EMBEDDING),
      new Family("all-minilm", "bert", 0.023, "F16", 512, 384, EMBEDDING),
      new Family("bge-", "bert", 0.567, "F16", 8192, 1024, EMBEDDING),
      new Family("llama3.2", "llama", 3.2, "Q4_K_M", 131072, 3072, TOOLS),
      new Family("llama3.1", "llama", 8.0, "Q4_K_M", 131072, 4096, TOOLS),
      new Family("llama3", "llama", 8.0, "Q4_0", 8192, 4096, COMPLETION),
      new Family("llama2", "llama", 6.7, "Q4_0", 4096, 4096, COMPLETION),
      new Family("tinyllama", "llama", 1.1, "Q4_0", 2048, 2048, COMPLETION),
      new Family("mistral", "llama", 7.2, "Q4_K_M", 32768, 4096, TOOLS),
      new Family("qwen3", "qwen3", 8.2, "Q4_K_M", 40960, 4096, THINKING),
      new Family("qwen2.5", "qwen2", 7.6, "Q4_K_M", 32768, 3584, TOOLS),
      new Family("qwen2", "qwen2", 7.6, "Q4_0", 32768, 3584, TOOLS),
      new Family("deepseek-r1", "qwen2", 7.6, "Q4_K_M", 131072, 3584, List.of("completion", "thinking")),
      new Family("gemma3", "gemma3", 4.3, "Q4_K_M", 131072, 2560, VISION),
      new Family("gemma2", "gemma2", 9.2, "Q4_0", 8192, 3584, COMPLETION),
      new Family("phi4", "phi3", 14.7, "Q4_K_M", 16384, 5120, COMPLETION),
      new Family("phi3", "phi3", 3.8, "Q4_0", 131072, 3072, COMPLETION),
      new Family("gpt-oss", "gptoss", 20.9, "MXFP4", 131072, 2880, THINKING),
      new Family("smollm", "llama", 1.7, "Q8_0", 8192, 2048, COMPLETION),
      new Family("llava", "llama", 7.2, "Q4_0", 32768, 4096, VISION),
      new Family("codellama", "llama", 7.0, "Q4_0", 16384, 4096, COMPLETION));

  private static final Family GENERIC = new Family("", "llama", 7.2, "Q4_K_M", 8192, 4096, COMPLETION);
  private static final Pattern SIZE_TAG = Pattern.compile("^e?(\\d+(?:\\.\\d+)?)([bm])(?:[-_].*)?$");
  private static final Pattern QUANT_TAG = Pattern.compile(".*[-_](q\\d_k_[msl]|q\\d_k|q\\d_\\d|fp16|f16|q8_0|bf16|mxfp4)$");

  private final ModelName name;
  private final String display;
  private final String digest;
  private final Instant modifiedAt;
  private final Family family;
  private final String parameterSize;
  private final String quantization;
  private final long size;

  private SimModel(ModelName name, String digest, Instant modifiedAt, Family family, String parameterSize,
      String quantization, long size) {
    this.name = name;
    this.display = name.display();
    this.digest = digest;
    this.modifiedAt = modifiedAt;
    this.family = family;
    this.parameterSize = parameterSize;
    this.quantization = quantization;
    this.size = size;
  }

  /** A model as a pull of {@code name} would leave it. */
  static SimModel of(ModelName name, Instant modifiedAt) {
    String base = name.model().toLowerCase(Locale.ROOT);
    Family f = GENERIC;
    for (Family candidate : FAMILIES) {
      if (base.startsWith(candidate.prefix)) {
        f = candidate;
        break;
      }
    }
    if (f == GENERIC && isEmbeddingName(base)) {
      f = new Family("", "bert", 0.335, "F16", 512, 1024, EMBEDDING);
    }
    String tag = name.tag().toLowerCase(Locale.ROOT);
    double billions = f.billions;
    Matcher m = SIZE_TAG.matcher(tag);
    if (m.matches()) {
      double n = Double.parseDouble(m.group(1));
      billions = m.group(2).equals("m") ? n / 1000 : n;
    }
    String quant = f.quant;
    Matcher q = QUANT_TAG.matcher(tag);
    if (q.matches()) {
      quant = q.group(1).toUpperCase(Locale.ROOT).replace("FP16", "F16");
    }
    String digest = sha256Hex("model:" + name.key());
    // Bytes per parameter of the quantization, plus a little digest-derived jitter so sizes look real.
    double bytesPerParam = switch (quant) {
      case "F16", "BF16" -> 2.0;
      case "Q8_0" -> 1.07;
      case "MXFP4" -> 0.66;
      case "Q4_0" -> 0.57;
      default -> 0.62;
    };
    long jitter = Long.parseLong(digest.substring(0, 6), 16) % 5_000_000L;
    long size = (long) (billions * 1e9 * bytesPerParam) + jitter;
    return new SimModel(name, digest, modifiedAt, f, formatParams(billions), quant, size);
  }

  /** The same model under another name, as /api/copy makes it (same manifest, same digest). */
  SimModel copyAs(ModelName newName, Instant modifiedAt) {
    return new SimModel(newName, digest, modifiedAt, family, parameterSize, quantization, size);
  }

  /** A model derived from this one by /api/create: a new manifest, hence a new digest. */
  SimModel derive(ModelName newName, Instant modifiedAt) {
    return new SimModel(newName, sha256Hex("model:" + newName.key() + "<-" + digest), modifiedAt, family,
        parameterSize, quantization, size);
  }

  static boolean isEmbeddingName(String lowerName) {
    return lowerName.contains("embed") || lowerName.startsWith("all-minilm") || lowerName.startsWith("bge-");
  }

  private static String formatParams(double billions) {
    if (billions < 1) {
      return Math.round(billions * 1000) + "M";
    }
    return String.format(Locale.ROOT, "%.1fB", billions);
  }

  static String sha256Hex(String text) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(md.digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is always available", e);
    }
  }

  ModelName name() {
    return name;
  }

  String key() {
    return name.key();
  }

  /** Name as /api/tags and /api/ps print it, e.g. {@code llama3.2:latest}. */
  String display() {
    return display;
  }

  String digest() {
    return digest;
  }

  Instant modifiedAt() {
    return modifiedAt;
  }

  String family() {
    return family.family;
  }

  String parameterSize() {
    return parameterSize;
  }

  String quantization() {
    return quantization;
  }

  long size() {
    return size;
  }

  int trainedContext() {
    return family.contextLength;
  }

  int embeddingLength() {
    return family.embeddingLength;
  }

  List<String> capabilities() {
    return family.capabilities;
  }

  boolean isEmbedding() {
    return family.capabilities == EMBEDDING;
  }

  /** Ollama's capability check; fill-in-the-middle ("insert") is for code models only. */
  boolean can(String capability) {
    if (capability.equals("insert")) {
      return !isEmbedding() && name.model().toLowerCase(Locale.ROOT).contains("code");
    }
    return family.capabilities.contains(capability);
  }

  /** The blobs a pull downloads: {digest, size} of the weights, template, license, params and config. */
  List<Layer> layers() {
    String[] parts = isEmbedding() ? new String[] {"weights", "params", "config"}
        : new String[] {"weights", "template", "license", "params", "config"};
    Layer[] out = new Layer[parts.length];
    for (int i = 0; i < parts.length; i++) {
      String d = "sha256:" + sha256Hex(parts[i] + ":" + digest);
      long bytes = i == 0 ? size - 20_000 : 90 + Long.parseLong(d.substring(7, 11), 16) % 12_000;
      out[i] = new Layer(d, bytes);
    }
    return List.of(out);
  }

  record Layer(String digest, long size) {
  }
}
