package io.hivemesh.sim;

import io.hivemesh.json.GoText;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The request {@code options} the sim acts on, checked like Ollama's Options.FromMap: a known option
 * of the wrong type fails the request with a 500 (Ollama reports it from the scheduler), unknown
 * options are ignored.
 *
 * @param numPredict fixed answer length, or null for the model's own length
 * @param seed request seed mixed into the generated text, or null
 * @param spec the runner options that decide whether a loaded model can serve the request
 */
record RunOptions(Long numPredict, Long seed, SimScheduler.RunnerSpec spec) {

  static final int DEFAULT_CONTEXT = 4096;

  private static final Set<String> INTS = Set.of("num_keep", "seed", "num_predict", "top_k", "repeat_last_n",
      "num_ctx", "num_batch", "num_gpu", "main_gpu", "num_thread");
  private static final Set<String> FLOATS = Set.of("temperature", "top_p", "min_p", "typical_p",
      "repeat_penalty", "presence_penalty", "frequency_penalty");

  static RunOptions from(Map<String, Object> options, SimModel model) {
    Map<String, Object> o = options == null ? Map.of() : options;
    for (Map.Entry<String, Object> e : o.entrySet()) {
      check(e.getKey(), e.getValue());
    }
    Long numPredict = longOption(o, "num_predict");
    long numCtx = longOrDefault(o, "num_ctx", 0);
    int ctx = (int) Math.min(numCtx > 0 ? numCtx : DEFAULT_CONTEXT, Integer.MAX_VALUE);
    if (model.trainedContext() > 0 && ctx > model.trainedContext()) {
      ctx = model.trainedContext();
    }
    long numGpu = longOrDefault(o, "num_gpu", -1);
    String key = "ctx=" + ctx
        + ",batch=" + longOrDefault(o, "num_batch", 512)
        // num_gpu -1 means "as many layers as fit" and never forces a reload.
        + ",gpu=" + (numGpu < 0 ? -1 : numGpu)
        + ",main=" + longOrDefault(o, "main_gpu", 0)
        + ",mmap=" + o.get("use_mmap")
        + ",threads=" + longOrDefault(o, "num_thread", 0);
    return new RunOptions(numPredict != null && numPredict > 0 ? numPredict : null, longOption(o, "seed"),
        new SimScheduler.RunnerSpec(key, ctx));
  }

  private static void check(String key, Object v) {
    if (v == null) {
      return;
    }
    if (INTS.contains(key) && !(v instanceof GoJson.Num)) {
      throw new ApiException(500, "option " + GoText.quote(key) + " must be of type integer");
    }
    if (FLOATS.contains(key) && !(v instanceof GoJson.Num)) {
      throw new ApiException(500, "option " + GoText.quote(key) + " must be of type float32");
    }
    if (key.equals("use_mmap") && !(v instanceof Boolean)) {
      throw new ApiException(500, "option " + GoText.quote(key) + " must be of type boolean");
    }
    if (key.equals("stop")) {
      if (!(v instanceof List<?> l)) {
        throw new ApiException(500, "option " + GoText.quote(key) + " must be of type array");
      }
      for (Object s : l) {
        if (!(s instanceof String)) {
          throw new ApiException(500, "option " + GoText.quote(key) + " must be of an array of strings");
        }
      }
    }
  }

  private static Long longOption(Map<String, Object> o, String key) {
    Object v = o.get(key);
    // Go converts the float64 JSON number to int by truncation.
    return v instanceof GoJson.Num n ? (long) n.doubleValue() : null;
  }

  private static long longOrDefault(Map<String, Object> o, String key, long dflt) {
    Long v = longOption(o, key);
    return v == null ? dflt : v;
  }
}
