package io.hivemesh.api;

import io.hivemesh.json.GoScanner;
import io.netty.buffer.ByteBuf;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;

/**
 * Finds the model a request names in one pass over its body, which also checks the body as
 * Ollama's own decoder does (Go's {@code encoding/json}: its error texts, its depth limit, whatever
 * follows the first value ignored), without building anything: the body itself is relayed byte for
 * byte. The same pass picks up the cap the request puts on its answer, which routing weighs.
 * Top-level keys match as Go matches a struct's fields (either case); the options' keys exactly,
 * as a map's.
 *
 * @param model     the {@code model} field (legacy {@code name}); {@code null} when absent
 * @param maxTokens the answer's cap: {@code options.num_predict}, or the OpenAI form's
 *                  {@code max_completion_tokens} or {@code max_tokens}; 0 when none is a positive integer
 * @param error     a client error to answer with 400, or {@code null} when the body is fine
 */
public record BodyModel(String model, long maxTokens, String error) {

  private static final String MISSING = "missing request body";

  public static BodyModel of(Buffer body) {
    if (body == null || body.length() == 0) {
      return new BodyModel(null, 0, MISSING);
    }
    try {
      return read(scanner(body));
    } catch (GoScanner.SyntaxError e) {
      return new BodyModel(null, 0, e.getMessage());
    }
  }

  /**
   * Reads the body's bytes where they are when they are in a heap array, as Vert.x reads them: a
   * view costs the same for any body, a copy grows with a long conversation.
   */
  private static GoScanner scanner(Buffer body) {
    ByteBuf bytes = ((BufferInternal) body).getByteBuf();
    if (bytes.hasArray()) {
      int from = bytes.arrayOffset() + bytes.readerIndex();
      return new GoScanner(bytes.array(), from, from + bytes.readableBytes());
    }
    byte[] copy = body.getBytes();
    return new GoScanner(copy, 0, copy.length);
  }

  private static BodyModel read(GoScanner json) throws GoScanner.SyntaxError {
    if (json.skipSpaceToEnd()) {
      return new BodyModel(null, 0, MISSING);
    }
    int first = json.peek();
    if (first != '{') {
      // Go checks the whole value before it looks at types: a syntax error anywhere comes first.
      json.skipValue();
      return first == 'n' ? new BodyModel(null, 0, null)
          : new BodyModel(null, 0, "json: cannot unmarshal " + kind(first) + " into a request object");
    }
    String model = null;
    String legacyName = null;
    String typeError = null;
    long maxTokens = 0;
    json.beginObject();
    for (boolean firstMember = true; json.nextMember(firstMember); firstMember = false) {
      boolean isModel = json.keyIs("model", true);
      if (isModel || json.keyIs("name", true)) {
        json.colon();
        int c = json.peek();
        if (c == '"') {
          String value = json.string();
          if (isModel) {
            model = value;
          } else {
            legacyName = value;
          }
          continue;
        }
        if (c != 'n' && typeError == null) {
          // Go goes on decoding after a type error and reports the first.
          typeError = "json: cannot unmarshal " + kind(c) + " into field " + (isModel ? "model" : "name")
              + " of type string";
        }
      } else if (json.keyIs("options", true)) {
        json.colon();
        if (json.peek() == '{') {
          json.beginObject();
          for (boolean firstOption = true; json.nextMember(firstOption); firstOption = false) {
            boolean isCap = json.keyIs("num_predict", false);
            json.colon();
            if (isCap && isNumber(json.peek())) {
              maxTokens = cap(json, maxTokens);
            } else {
              json.skipValue();
            }
          }
          continue;
        }
      } else if (json.keyIs("max_completion_tokens", true) || (maxTokens == 0 && json.keyIs("max_tokens", true))) {
        json.colon();
        if (isNumber(json.peek())) {
          maxTokens = cap(json, maxTokens);
          continue;
        }
      } else {
        json.colon();
      }
      json.skipValue();
    }
    if (typeError != null) {
      return new BodyModel(null, 0, typeError);
    }
    return new BodyModel(model != null && !model.isEmpty() ? model : legacyName, maxTokens, null);
  }

  /**
   * The number the scanner stands at as a cap in tokens: a negative one (Ollama's -1, no limit) is
   * none; one that is no int64 (a fraction, past a long) leaves the cap as it was.
   */
  private static long cap(GoScanner json, long before) throws GoScanner.SyntaxError {
    long value = json.integer(Long.MIN_VALUE);
    return value == Long.MIN_VALUE ? before : Math.max(0, value);
  }

  private static boolean isNumber(int c) {
    return c == '-' || (c >= '0' && c <= '9');
  }

  /** How Go's type errors name a JSON value, by its first byte. */
  private static String kind(int c) {
    return switch (c) {
      case '[' -> "array";
      case '"' -> "string";
      case 't', 'f' -> "bool";
      case '{' -> "object";
      default -> "number";
    };
  }
}
