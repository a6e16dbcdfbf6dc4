package io.hivemesh.sim;

import java.util.SplittableRandom;

/**
 * Deterministic "model output": the same seed, model and prompt always give the same words, and
 * the same model and text always give the same embedding. One token is one word (with its leading
 * space after the first), so token counts and chunk counts agree.
 */
final class TextGenerator {

  private static final String[] VOCABULARY = (
      "the a an of to in on for with from by at as and or but so because while when where which that this "
      + "these those it its they them their we our you your model models token tokens answer question data "
      + "system systems request requests response server servers network mesh node nodes site sites queue "
      + "load balance balancer latency throughput memory cache context prompt stream streams chunk line "
      + "value values result results time speed rate level layer layers state path route routes service "
      + "cluster gateway client clients proxy event loop thread worker slot slots batch weight weights "
      + "simple small large fast slow quick steady careful clear clean good better best new old first last "
      + "next early late local remote open closed ready busy idle warm cold many few more most each every "
      + "other same different useful likely possible certain common rare real virtual "
      + "is are was were be been has have had can could will would should may might must does do did "
      + "runs run sends send reads read writes write keeps keep holds hold moves move waits wait starts "
      + "start stops stop finds find picks pick shows show makes make takes take gives give uses use "
      + "helps help needs need works work grows grow drops drop checks check serves serve counts count "
      + "often always never sometimes usually quickly slowly simply really also only just still even "
      + "here there now then today again soon already perhaps together instead however therefore").split(" ");

  /** Embedding dimensions stay modest: these vectors are compared and relayed, not searched. */
  private static final int MAX_DIMENSIONS = 1024;

  private final long seed;

  TextGenerator(long seed) {
    this.seed = seed;
  }

  /** The tokens of an answer; {@code numPredict} (when not null) fixes the length. */
  String[] answer(String modelKey, String promptText, Long requestSeed, Long numPredict) {
    long h = mix(seed, hash(modelKey), hash(promptText), requestSeed == null ? 0 : requestSeed);
    SplittableRandom rnd = new SplittableRandom(h);
    int n = numPredict != null ? (int) Math.min(numPredict, 100_000) : 20 + rnd.nextInt(101);
    String[] tokens = new String[n];
    int sentenceLeft = 0;
    for (int i = 0; i < n; i++) {
      String w = VOCABULARY[rnd.nextInt(VOCABULARY.length)];
      boolean capital = sentenceLeft == 0;
      if (capital) {
        sentenceLeft = 6 + rnd.nextInt(10);
        w = Character.toUpperCase(w.charAt(0)) + w.substring(1);
      }
      sentenceLeft--;
      if (sentenceLeft == 0 || i == n - 1) {
        w = w + ".";
        sentenceLeft = 0;
      }
      tokens[i] = i == 0 ? w : " " + w;
    }
    return tokens;
  }

  /** Token ids for a generate {@code context}: the prompt's then the answer's. */
  int[] context(String promptText, int promptTokens, String[] answer) {
    SplittableRandom rnd = new SplittableRandom(hash(promptText));
    int[] ids = new int[promptTokens + answer.length];
    for (int i = 0; i < promptTokens; i++) {
      ids[i] = 100 + rnd.nextInt(128_000);
    }
    for (int i = 0; i < answer.length; i++) {
      ids[promptTokens + i] = 1000 + (answer[i].hashCode() & 0xffff);
    }
    return ids;
  }

  /** A unit vector for (model, text). */
  static float[] embedding(String modelKey, String text, int dimensions) {
    int dims = Math.max(1, Math.min(dimensions, MAX_DIMENSIONS));
    SplittableRandom rnd = new SplittableRandom(mix(0x5eed, hash(modelKey), hash(text), 0));
    float[] v = new float[dims];
    double sum = 0;
    for (int i = 0; i < dims; i++) {
      double x = rnd.nextDouble() * 2 - 1;
      v[i] = (float) x;
      sum += x * x;
    }
    normalize(v, sum);
    return v;
  }

  /** Ollama's normalize(): scale to unit length. */
  static float[] normalize(float[] v) {
    double sum = 0;
    for (float x : v) {
      sum += (double) x * x;
    }
    normalize(v, sum);
    return v;
  }

  private static void normalize(float[] v, double sumOfSquares) {
    float norm = (float) (1.0 / Math.max(Math.sqrt(sumOfSquares), 1e-12));
    for (int i = 0; i < v.length; i++) {
      v[i] *= norm;
    }
  }

  /** Rough token count: words and punctuation marks, like a BPE tokenizer counts them. */
  static int countTokens(String text) {
    int count = 0;
    boolean inWord = false;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (Character.isLetterOrDigit(c)) {
        if (!inWord) {
          count++;
          inWord = true;
        }
      } else {
        inWord = false;
        if (!Character.isWhitespace(c)) {
          count++;
        }
      }
    }
    return count;
  }

  /** FNV-1a over the UTF-16 code units: cheap and stable across runs. */
  static long hash(String s) {
    long h = 0xcbf29ce484222325L;
    for (int i = 0; i < s.length(); i++) {
      h ^= s.charAt(i);
      h *= 0x100000001b3L;
    }
    return h;
  }

  private static long mix(long a, long b, long c, long d) {
    long h = a;
    for (long x : new long[] {b, c, d}) {
      h = splitmix(h ^ x);
    }
    return h;
  }

  private static long splitmix(long z) {
    z += 0x9e3779b97f4a7c15L;
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }
}
