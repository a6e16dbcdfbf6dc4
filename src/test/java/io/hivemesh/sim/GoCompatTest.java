package io.hivemesh.sim;

import io.hivemesh.json.GoScanner;
import io.hivemesh.model.ModelName;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The Go-compatible pieces: JSON errors, JSON output, durations, model names, timestamps. */
class GoCompatTest {

  private static String syntaxError(String json) {
    GoScanner.SyntaxError e = assertThrows(GoScanner.SyntaxError.class,
        () -> GoJson.parse(json.getBytes(StandardCharsets.UTF_8)));
    return e.getMessage();
  }

  @Test
  void syntaxErrorsReadLikeGo() {
    assertEquals("invalid character 'x' looking for beginning of value", syntaxError("xyz"));
    assertEquals("unexpected EOF", syntaxError("{\"model\":\"llama3.2\""));
    assertEquals("unexpected EOF", syntaxError("{\"a\":tru"));
    assertEquals("invalid character '}' looking for beginning of value", syntaxError("{\"a\":}"));
    assertEquals("invalid character 'a' looking for beginning of object key string", syntaxError("{a:1}"));
    assertEquals("invalid character ',' after object key", syntaxError("{\"a\",1}"));
    assertEquals("invalid character '\"' after object key:value pair", syntaxError("{\"a\":1 \"b\":2}"));
    assertEquals("invalid character '1' after object key:value pair", syntaxError("{\"a\":01}"));
    assertEquals("invalid character ']' looking for beginning of value", syntaxError("[1,]"));
    assertEquals("invalid character '}' after array element", syntaxError("[1}"));
    assertEquals("invalid character '\\n' in string literal", syntaxError("{\"a\":\"x\ny\"}"));
    assertEquals("invalid character 'q' in string escape code", syntaxError("\"\\q\""));
    assertEquals("invalid character 'g' in \\u hexadecimal character escape", syntaxError("\"\\u12g4\""));
    assertEquals("invalid character 'x' in numeric literal", syntaxError("-x"));
    assertEquals("invalid character '}' after decimal point in numeric literal", syntaxError("{\"a\":1.}"));
    assertEquals("invalid character '}' in exponent of numeric literal", syntaxError("{\"a\":1e}"));
    assertEquals("invalid character 'x' in literal true (expecting 'r')", syntaxError("tx"));
    assertEquals("invalid character '\\'' looking for beginning of value", syntaxError("'a'"));
    assertEquals("invalid character '[' exceeded max depth", syntaxError("[".repeat(20_000)));
    assertEquals("unexpected EOF", syntaxError("{\"a\":".repeat(50)));
  }

  @Test
  void decoderReadsOneValueAndIgnoresTheRest() throws Exception {
    Object v = GoJson.parse("{\"model\":\"m\",\"n\":-1.5e3,\"s\":\"\\u00e9\\ud83d\\ude00\"} trailing".getBytes(StandardCharsets.UTF_8));
    Map<?, ?> m = (Map<?, ?>) v;
    assertEquals("m", m.get("model"));
    assertEquals(-1500.0, ((GoJson.Num) m.get("n")).doubleValue());
    assertEquals("\u00e9\ud83d\ude00", m.get("s"));
    assertTrue(GoJson.isBlank(" \n\t".getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void typeErrorsNameTheGoStructField() {
    GoFields f = GoFields.of(Map.of("prompt", new GoJson.Num("1"), "stream", "yes", "top_logprobs", new GoJson.Num("1.5")),
        "api", "GenerateRequest");
    assertEquals("json: cannot unmarshal number into Go struct field GenerateRequest.prompt of type string",
        assertThrows(ApiException.class, () -> f.string("prompt")).getMessage());
    assertEquals("json: cannot unmarshal string into Go struct field GenerateRequest.stream of type bool",
        assertThrows(ApiException.class, () -> f.optBool("stream")).getMessage());
    assertEquals("json: cannot unmarshal number 1.5 into Go struct field GenerateRequest.top_logprobs of type int",
        assertThrows(ApiException.class, () -> f.integer("top_logprobs")).getMessage());
    assertEquals("json: cannot unmarshal array into Go value of type api.ChatRequest",
        assertThrows(ApiException.class, () -> GoFields.of(List.of(), "api", "ChatRequest")).getMessage());
    // Go matches keys case-insensitively.
    assertEquals("x", GoFields.of(Map.of("MODEL", "x"), "api", "ChatRequest").string("model"));
  }

  @Test
  void jsonOutputEscapesLikeGo() {
    StringBuilder sb = new StringBuilder();
    JsonOut.string(sb, "a<b>&\"\\\n\t\u0001\u2028\ud800é");
    assertEquals("\"a\\u003cb\\u003e\\u0026\\\"\\\\\\n\\t\\u0001\\u2028\\ufffdé\"", sb.toString());
  }

  @Test
  void floatsPrintLikeGo() {
    assertEquals("0.5", new JsonOut().f32(0.5f).toString());
    assertEquals("1", new JsonOut().f32(1f).toString());
    assertEquals("-0.0012345", new JsonOut().f32(-0.0012345f).toString());
    assertEquals("1e-7", new JsonOut().f32(1e-7f).toString());
    assertEquals("1.5e+21", new JsonOut().f64(1.5e21).toString());
    assertEquals("123456789", new JsonOut().f64(123456789).toString());
    assertEquals("0", new JsonOut().f32(0f).toString());
  }

  @Test
  void keepAliveParsesGoDurationsAndSeconds() {
    assertEquals(300_000_000_000L, KeepAlive.fromJson("5m"));
    assertEquals(5_400_000_000_000L, KeepAlive.fromJson("1h30m"));
    assertEquals(1_500_000_000L, KeepAlive.fromJson("1.5s"));
    assertEquals(0L, KeepAlive.fromJson("0"));
    assertEquals(0L, KeepAlive.fromJson(new GoJson.Num("0")));
    assertEquals(30_000_000_000L, KeepAlive.fromJson(new GoJson.Num("30")));
    assertEquals(KeepAlive.FOREVER, KeepAlive.fromJson(new GoJson.Num("-1")));
    assertEquals(KeepAlive.FOREVER, KeepAlive.fromJson("-1m"));
    assertEquals("time: missing unit in duration \"-1\"",
        assertThrows(ApiException.class, () -> KeepAlive.fromJson("-1")).getMessage());
    assertEquals("time: invalid duration \"abc\"",
        assertThrows(ApiException.class, () -> KeepAlive.fromJson("abc")).getMessage());
    assertEquals("time: unknown unit \"d\" in duration \"2d\"",
        assertThrows(ApiException.class, () -> KeepAlive.fromJson("2d")).getMessage());
    assertEquals("Unsupported type: 'bool'", assertThrows(ApiException.class, () -> KeepAlive.fromJson(true)).getMessage());
  }

  @Test
  void modelNamesMatchTheWayOllamaMatchesThem() {
    String key = ModelName.parse("llama3.2").key();
    assertEquals(key, ModelName.parse("llama3.2:latest").key());
    assertEquals(key, ModelName.parse("LLaMA3.2:Latest").key());
    assertEquals(key, ModelName.parse("registry.ollama.ai/library/llama3.2").key());
    assertEquals(key, ModelName.parse("library/llama3.2:latest").key());
    assertEquals("llama3.2:latest", ModelName.parse("registry.ollama.ai/library/llama3.2").display());
    assertEquals("user/m:7b", ModelName.parse("user/m:7b").display());
    assertEquals("hf.co/org/m:q4", ModelName.parse("hf.co/org/m:q4").display());
    assertFalse(ModelName.parse("bad name").isValid());
    assertFalse(ModelName.parse("llama3.2:").isValid());
    assertTrue(ModelName.parse("llama3.2:1b-instruct-q8_0").isValid());
    assertEquals("registry.ollama.ai/library/gemma2:latest", ModelName.parse("gemma2").full());
  }

  @Test
  void timestampsAreRfc3339WithNanoseconds() {
    String t = GoTime.nowUtc();
    assertTrue(t.matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d{1,9})?Z"), t);
  }

  @Test
  void textAndEmbeddingsAreDeterministic() {
    TextGenerator a = new TextGenerator(7);
    TextGenerator b = new TextGenerator(7);
    String[] x = a.answer("m", "prompt", null, null);
    assertEquals(List.of(x), List.of(b.answer("m", "prompt", null, null)));
    assertTrue(x.length >= 20 && x.length <= 120, "length " + x.length);
    assertEquals(5, a.answer("m", "prompt", null, 5L).length);
    float[] e = TextGenerator.embedding("m", "text", 384);
    double norm = 0;
    for (float f : e) {
      norm += f * f;
    }
    assertEquals(1.0, norm, 1e-4);
    assertEquals(List.of(e[0], e[383]), List.of(TextGenerator.embedding("m", "text", 384)[0],
        TextGenerator.embedding("m", "text", 384)[383]));
  }
}
