package io.hivemesh.api;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import io.netty.buffer.ByteBuf;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import java.io.IOException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the model a request names in one streaming pass over its body, which also proves the body
 * is well-formed JSON, without building a tree: the body itself is relayed byte for byte. The same
 * pass picks up the cap the request puts on its answer, which routing weighs.
 *
 * @param model     the {@code model} field (legacy {@code name}); {@code null} when absent
 * @param maxTokens the answer's cap: {@code options.num_predict}, or the OpenAI form's
 *                  {@code max_completion_tokens} or {@code max_tokens}; 0 when none is a positive integer
 * @param error     a client error to answer with 400, or {@code null} when the body is fine
 */
public record BodyModel(String model, long maxTokens, String error) {

  private static final JsonFactory JSON = new JsonFactory();
  private static final Pattern UNEXPECTED_CHAR = Pattern.compile("(?:Unexpected character \\('|Unrecognized token ')(.)");

  public static BodyModel of(Buffer body) {
    if (body == null || body.length() == 0) {
      return new BodyModel(null, 0, "missing request body");
    }
    String model = null;
    String legacyName = null;
    long maxTokens = 0;
    try (JsonParser p = parser(body)) {
      JsonToken t = p.nextToken();
      if (t == null) {
        return new BodyModel(null, 0, "missing request body");
      }
      if (t != JsonToken.START_OBJECT) {
        return new BodyModel(null, 0, "json: cannot unmarshal " + kind(t) + " into a request object");
      }
      while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken value = p.nextToken();
        if ("model".equals(field) || "name".equals(field)) {
          if (value == JsonToken.VALUE_STRING) {
            if ("model".equals(field)) {
              model = p.getText();
            } else {
              legacyName = p.getText();
            }
          } else if (value != JsonToken.VALUE_NULL) {
            return new BodyModel(null, 0, "json: cannot unmarshal " + kind(value) + " into field " + field + " of type string");
          }
        } else if ("options".equals(field) && value == JsonToken.START_OBJECT) {
          while (p.nextToken() == JsonToken.FIELD_NAME) {
            String option = p.currentName();
            JsonToken v = p.nextToken();
            if ("num_predict".equals(option) && v == JsonToken.VALUE_NUMBER_INT) {
              maxTokens = cap(p);
            } else {
              p.skipChildren();
            }
          }
        } else if (("max_completion_tokens".equals(field) || ("max_tokens".equals(field) && maxTokens == 0))
            && value == JsonToken.VALUE_NUMBER_INT) {
          maxTokens = cap(p);
        } else {
          p.skipChildren();
        }
      }
      if (p.nextToken() != null) {
        return new BodyModel(null, 0, "invalid character after top-level value");
      }
    } catch (JsonProcessingException e) {
      return new BodyModel(null, 0, goStyle(e));
    } catch (IOException e) {
      return new BodyModel(null, 0, "invalid request body: " + e.getMessage());
    }
    return new BodyModel(model != null && !model.isEmpty() ? model : legacyName, maxTokens, null);
  }

  /**
   * Reads the body's bytes where they are when they are in a heap array, as Vert.x reads them: a
   * view costs the same for any body, a copy grows with a long conversation.
   */
  private static JsonParser parser(Buffer body) throws IOException {
    ByteBuf bytes = ((BufferInternal) body).getByteBuf();
    return bytes.hasArray()
        ? JSON.createParser(bytes.array(), bytes.arrayOffset() + bytes.readerIndex(), bytes.readableBytes())
        : JSON.createParser(body.getBytes());
  }

  /** A cap as a count of tokens; a negative one (Ollama's -1, no limit) or one past a long is none. */
  private static long cap(JsonParser p) throws IOException {
    return p.getNumberType() == JsonParser.NumberType.BIG_INTEGER ? 0 : Math.max(0, p.getLongValue());
  }

  /** Ollama answers with Go's JSON errors; clients show them, none parses them. Keep their gist. */
  private static String goStyle(JsonProcessingException e) {
    String msg = String.valueOf(e.getOriginalMessage());
    if (msg.contains("end-of-input")) {
      return "unexpected EOF";
    }
    Matcher m = UNEXPECTED_CHAR.matcher(msg);
    if (m.find()) {
      return "invalid character '" + m.group(1) + "' looking for beginning of value";
    }
    if (msg.contains("UTF-8") || msg.contains("Invalid UTF")) {
      return "invalid UTF-8 in request body";
    }
    if (msg.contains("nesting depth")) {
      return "request body is nested too deeply";
    }
    return "invalid JSON: " + msg.lines().findFirst().orElse("");
  }

  private static String kind(JsonToken t) {
    return switch (t) {
      case START_ARRAY -> "array";
      case VALUE_STRING -> "string";
      case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "number";
      case VALUE_TRUE, VALUE_FALSE -> "bool";
      case START_OBJECT -> "object";
      default -> "value";
    };
  }
}
