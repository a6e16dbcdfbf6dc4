package io.hivemesh.relay;

/**
 * Reads the numbers an answer's final chunk reports ({@code eval_count}, {@code eval_duration},
 * {@code load_duration}, an OpenAI {@code usage}) from the text of its last bytes, without
 * parsing the answer as JSON.
 */
public final class FinalStats {

  private FinalStats() {
  }

  /** The last value of {@code key} (given with its quotes and colon) in {@code text}, or -1. */
  public static long number(String text, String key) {
    int at = text.lastIndexOf(key);
    if (at < 0) {
      return -1;
    }
    int i = at + key.length();
    while (i < text.length() && text.charAt(i) == ' ') {
      i++;
    }
    long value = 0;
    int digits = 0;
    while (i < text.length() && Character.isDigit(text.charAt(i)) && digits < 18) {
      value = value * 10 + (text.charAt(i++) - '0');
      digits++;
    }
    return digits == 0 ? -1 : value;
  }
}
