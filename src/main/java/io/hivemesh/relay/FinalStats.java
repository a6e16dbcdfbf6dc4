package io.hivemesh.relay;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;

/**
 * Reads the numbers an answer's final chunk reports ({@code eval_count}, {@code eval_duration},
 * {@code load_duration}, an OpenAI {@code usage}) from its last bytes, without parsing the answer
 * as JSON and without allocating: the bytes are copied into a scratch array of the calling thread
 * and scanned there.
 */
public final class FinalStats {

  /** Enough for Ollama's final statistics line or an OpenAI usage object (and the {@code [DONE]} after it). */
  public static final int TAIL_BYTES = 768;

  private static final ThreadLocal<byte[]> SCRATCH = ThreadLocal.withInitial(() -> new byte[TAIL_BYTES]);

  /** The tail is {@code text[from, text.length)}. */
  private final byte[] text;
  private final int from;

  private FinalStats(byte[] text, int from) {
    this.text = text;
    this.from = from;
  }

  /**
   * The last {@link #TAIL_BYTES} of an answer whose last chunks are {@code chunks}, oldest first
   * (null entries are skipped). Valid until the calling thread reads another answer's tail.
   */
  public static FinalStats ofTail(Buffer... chunks) {
    byte[] into = SCRATCH.get();
    int start = TAIL_BYTES;
    for (int i = chunks.length - 1; i >= 0 && start > 0; i--) {
      Buffer chunk = chunks[i];
      if (chunk == null) {
        continue;
      }
      int n = Math.min(chunk.length(), start);
      chunk.getBytes(chunk.length() - n, chunk.length(), into, start - n);
      start -= n;
    }
    return new FinalStats(into, start);
  }

  /** A key as {@link #number} takes it: its quotes and colon included, e.g. {@code "\"eval_count\":"}. */
  public static byte[] key(String key) {
    return key.getBytes(StandardCharsets.US_ASCII);
  }

  /** The value after the last {@code key} in the tail, or -1. */
  public long number(byte[] key) {
    int at = lastIndexOf(key);
    if (at < 0) {
      return -1;
    }
    int i = at + key.length;
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

  private int lastIndexOf(byte[] key) {
    outer:
    for (int at = text.length - key.length; at >= from; at--) {
      for (int k = 0; k < key.length; k++) {
        if (text[at + k] != key[k]) {
          continue outer;
        }
      }
      return at;
    }
    return -1;
  }
}
