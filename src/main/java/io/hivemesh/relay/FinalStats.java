package io.hivemesh.relay;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The numbers an answer's final chunk reports ({@code eval_count}, {@code eval_duration},
 * {@code load_duration}, an OpenAI {@code usage}), read from its last bytes without parsing the
 * answer as JSON: the bytes are copied into a scratch array of the calling thread and read once,
 * backwards from the end, one colon at a time. Only a {@code "name":} whose name is one of these is
 * read, so the reader never needs to know where a string starts: inside a JSON string a quote is
 * escaped, so an unescaped {@code ":} ends a key wherever the tail begins.
 */
public final class FinalStats {

  /** Enough for Ollama's final statistics line or an OpenAI usage object (and the {@code [DONE]} after it). */
  public static final int TAIL_BYTES = 768;

  /** Each thread's reader: an answer's end is read on every request, and reading it allocates nothing. */
  private static final ThreadLocal<FinalStats> READER = ThreadLocal.withInitial(FinalStats::new);

  private static final byte[][] NAMES = {ascii("eval_count"), ascii("prompt_eval_count"), ascii("eval_duration"),
      ascii("load_duration"), ascii("prompt_tokens"), ascii("completion_tokens")};
  private static final int EVAL_COUNT = 0;
  private static final int PROMPT_EVAL_COUNT = 1;
  private static final int EVAL_DURATION = 2;
  private static final int LOAD_DURATION = 3;
  private static final int PROMPT_TOKENS = 4;
  private static final int COMPLETION_TOKENS = 5;
  /** Ollama's own four: once all are read, the OpenAI names (which only stand in for them) are not needed. */
  private static final int OLLAMA_NAMES = 4;
  private static final int LONGEST_NAME = 17;

  private final byte[] text = new byte[TAIL_BYTES];
  /** By name index; -1 for a name the tail does not have, or whose last value is not a number. */
  private final long[] values = new long[NAMES.length];
  /**
   * The newest chunk of the last read when that read found all of Ollama's numbers inside it (else
   * null), and its length then. A site's speed and the entry's token counts both read the end of
   * the same answer on the same thread; answer chunks are not changed once relayed, so the second
   * read of that chunk, with or without older chunks before it, would find the same numbers.
   */
  private Buffer readWithin;
  private int readWithinLength;

  private FinalStats() {
  }

  /**
   * What the last {@link #TAIL_BYTES} of an answer report, its last chunks being {@code chunks},
   * oldest first (null entries are skipped). Where a name occurs more than once, the last counts.
   * The calling thread's reader: valid until that thread reads another answer's tail.
   */
  public static FinalStats ofTail(Buffer... chunks) {
    FinalStats stats = READER.get();
    Buffer newest = null;
    for (int i = chunks.length - 1; i >= 0 && newest == null; i--) {
      newest = chunks[i];
    }
    if (newest != null && newest == stats.readWithin && newest.length() == stats.readWithinLength) {
      return stats;
    }
    byte[] text = stats.text;
    int start = TAIL_BYTES;
    for (int i = chunks.length - 1; i >= 0 && start > 0; i--) {
      Buffer chunk = chunks[i];
      if (chunk == null) {
        continue;
      }
      int n = Math.min(chunk.length(), start);
      chunk.getBytes(chunk.length() - n, chunk.length(), text, start - n);
      start -= n;
    }
    Arrays.fill(stats.values, -1);
    int stoppedAt = stats.read(text, start);
    // Strictly inside: the byte before the first name (an escape or not) is then the newest chunk's too.
    boolean withinNewest = newest != null && stoppedAt > TAIL_BYTES - Math.min(newest.length(), TAIL_BYTES);
    stats.readWithin = withinNewest ? newest : null;
    stats.readWithinLength = withinNewest ? newest.length() : 0;
    return stats;
  }

  public long evalCount() {
    return values[EVAL_COUNT];
  }

  public long promptEvalCount() {
    return values[PROMPT_EVAL_COUNT];
  }

  public long evalDurationNanos() {
    return values[EVAL_DURATION];
  }

  public long loadDurationNanos() {
    return values[LOAD_DURATION];
  }

  public long promptTokens() {
    return values[PROMPT_TOKENS];
  }

  public long completionTokens() {
    return values[COMPLETION_TOKENS];
  }

  /**
   * Reads {@code text[from, text.length)} from its end; returns where the first of Ollama's four
   * names starts once all four are in, or -1 when the text does not have them all.
   */
  private int read(byte[] text, int from) {
    int seen = 0;
    int ollamaSeen = 0;
    for (int colon = text.length - 1; colon >= from + 2 && ollamaSeen < OLLAMA_NAMES; colon--) {
      if (text[colon] != ':' || text[colon - 1] != '"' || text[colon - 2] == '\\') {
        continue;
      }
      int close = colon - 1;
      int open = close - 1;
      while (open >= from && close - open <= LONGEST_NAME + 1 && isNameByte(text[open])) {
        open--;
      }
      if (open < from || text[open] != '"' || (open > from && text[open - 1] == '\\')) {
        continue;
      }
      int name = nameIndex(text, open + 1, close);
      if (name >= 0 && (seen & (1 << name)) == 0) {
        seen |= 1 << name;
        ollamaSeen += name < OLLAMA_NAMES ? 1 : 0;
        values[name] = numberAt(text, colon + 1);
        if (ollamaSeen == OLLAMA_NAMES) {
          return open;
        }
      }
      colon = open;
    }
    return -1;
  }

  private static boolean isNameByte(byte b) {
    return (b >= 'a' && b <= 'z') || b == '_';
  }

  private static int nameIndex(byte[] text, int from, int to) {
    int length = to - from;
    names:
    for (int i = 0; i < NAMES.length; i++) {
      byte[] name = NAMES[i];
      if (name.length != length) {
        continue;
      }
      for (int k = 0; k < length; k++) {
        if (text[from + k] != name[k]) {
          continue names;
        }
      }
      return i;
    }
    return -1;
  }

  /** The non-negative integer at {@code i} (after spaces), or -1. */
  private static long numberAt(byte[] text, int i) {
    while (i < text.length && text[i] == ' ') {
      i++;
    }
    long value = 0;
    int digits = 0;
    while (i < text.length && text[i] >= '0' && text[i] <= '9' && digits < 18) {
      value = value * 10 + (text[i++] - '0');
      digits++;
    }
    return digits == 0 ? -1 : value;
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
