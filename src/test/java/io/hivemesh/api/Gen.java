package io.hivemesh.api;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/** Random test input from one seed: the same seed gives the same sequence of values. */
final class Gen {

  private static final int[] EDGE_INTS = {0, 1, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, 255, 256, 65536};
  /** Characters that tend to matter to parsers and encoders, mixed into {@link #anyString}. */
  private static final char[] EDGE_CHARS = {'\u0000', '\n', '\r', '\t', '"', '\\', '/', '\u007f', '\u00e9', '\u4e2d',
      '\ud800', '\udfff', '\ufeff', '\uffff'};

  private final SplittableRandom random;

  Gen(long seed) {
    random = new SplittableRandom(seed);
  }

  /** Uniform in [min, max]. */
  int between(int min, int max) {
    return random.nextInt(min, max + 1);
  }

  /** In [min, max], each order of magnitude about as likely as the next: small values are not rare. */
  int biased(int min, int max) {
    double logMin = Math.log(min);
    return (int) Math.min(max, Math.round(Math.exp(logMin + random.nextDouble() * (Math.log(max) - logMin))));
  }

  boolean bool() {
    return random.nextBoolean();
  }

  <T> T of(List<T> options) {
    return options.get(random.nextInt(options.size()));
  }

  @SafeVarargs
  final <T> T of(T... options) {
    return options[random.nextInt(options.length)];
  }

  /** An index into {@code weights}, each chosen in proportion to its weight. */
  int weighted(int... weights) {
    int total = 0;
    for (int w : weights) {
      total += w;
    }
    int pick = random.nextInt(total);
    for (int i = 0; ; i++) {
      pick -= weights[i];
      if (pick < 0) {
        return i;
      }
    }
  }

  <T> List<T> list(int minSize, int maxSize, Supplier<T> element) {
    int n = between(minSize, maxSize);
    List<T> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(element.get());
    }
    return out;
  }

  byte[] bytes(int maxLength) {
    byte[] b = new byte[between(0, maxLength)];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) random.nextInt(256);
    }
    return b;
  }

  /** Characters from {@code from} to {@code to}. */
  String chars(char from, char to, int minLength, int maxLength) {
    StringBuilder sb = new StringBuilder();
    for (int n = between(minLength, maxLength); n > 0; n--) {
      sb.append((char) between(from, to));
    }
    return sb.toString();
  }

  /** Any UTF-16 characters, lone surrogates and controls included. */
  String anyString(int maxLength) {
    StringBuilder sb = new StringBuilder();
    for (int n = between(0, maxLength); n > 0; n--) {
      sb.append(switch (between(0, 2)) {
        case 0 -> (char) between(' ', '~');
        case 1 -> EDGE_CHARS[random.nextInt(EDGE_CHARS.length)];
        default -> (char) random.nextInt(Character.MAX_VALUE + 1);
      });
    }
    return sb.toString();
  }

  int anyInt() {
    return bool() ? EDGE_INTS[random.nextInt(EDGE_INTS.length)] : random.nextInt();
  }

  /** A finite double over many magnitudes. */
  double anyDouble() {
    return (random.nextDouble() - 0.5) * Math.pow(10, between(-30, 30));
  }
}
