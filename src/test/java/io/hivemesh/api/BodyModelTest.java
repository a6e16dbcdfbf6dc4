package io.hivemesh.api;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

class BodyModelTest {

  private static BodyModel of(String s) {
    return BodyModel.of(Buffer.buffer(s));
  }

  @Test
  void findsTheModelWhereverItStands() {
    assertEquals("llama3.2", of("{\"model\":\"llama3.2\",\"prompt\":\"hi\"}").model());
    assertEquals("llama3.2", of("{\"messages\":[{\"role\":\"user\",\"content\":\"{\\\"model\\\":\\\"x\\\"}\"}],"
        + "\"options\":{\"model\":\"nested\"},\"model\":\"llama3.2\"}").model());
  }

  @Test
  void legacyNameCountsWhenModelIsAbsent() {
    assertEquals("m", of("{\"name\":\"m\"}").model());
    assertEquals("a", of("{\"name\":\"b\",\"model\":\"a\"}").model());
  }

  @Test
  void missingModelIsNoError() {
    BodyModel b = of("{\"prompt\":\"hi\"}");
    assertNull(b.model());
    assertNull(b.error());
  }

  @Test
  void emptyBody() {
    assertEquals("missing request body", BodyModel.of(Buffer.buffer()).error());
    assertEquals("missing request body", of("   ").error());
  }

  @Test
  void malformedJsonGetsOllamasMessages() {
    assertEquals("invalid character 'x' looking for beginning of value", of("x").error());
    assertEquals("unexpected EOF", of("{\"model\":\"a\"").error());
    assertEquals("invalid character 'a' looking for beginning of object key string", of("{a:1}").error());
    assertEquals("invalid character ',' after object key", of("{\"model\",1}").error());
    assertEquals("invalid character '\"' after object key:value pair", of("{\"model\":\"a\" \"b\":2}").error());
    assertEquals("invalid character '1' after object key:value pair", of("{\"n\":01}").error());
    assertEquals("invalid character '}' after array element", of("{\"a\":[1}").error());
    assertEquals("invalid character '\\n' in string literal", of("{\"model\":\"x\ny\"}").error());
    assertEquals("invalid character 'q' in string escape code", of("{\"a\":\"\\q\"}").error());
    assertEquals("invalid character 'x' in literal true (expecting 'r')", of("{\"a\":tx}").error());
  }

  @Test
  void whatFollowsTheBodysValueIsIgnoredAsOllamasDecoderDoes() {
    BodyModel b = of("{\"model\":\"a\"} {} trailing");
    assertNull(b.error());
    assertEquals("a", b.model());
  }

  @Test
  void aSyntaxErrorAnywhereComesBeforeATypeError() {
    assertEquals("unexpected EOF", of("{\"model\":5,\"prompt\":\"hi\"").error());
    assertEquals("unexpected EOF", of("[1,2").error());
  }

  @Test
  void wrongTypes() {
    assertEquals("json: cannot unmarshal number into field model of type string", of("{\"model\":5}").error());
    assertEquals("json: cannot unmarshal object into field name of type string", of("{\"name\":{}}").error());
    assertEquals("json: cannot unmarshal array into a request object", of("[1,2]").error());
    assertEquals("json: cannot unmarshal string into a request object", of("\"m\"").error());
    // Go reports the first type error even when a later member sets the field.
    assertEquals("json: cannot unmarshal bool into field model of type string",
        of("{\"model\":true,\"model\":\"m\"}").error());
  }

  @Test
  void aNullBodyOrModelIsNoModelAsInGo() {
    BodyModel nothing = of(" null ");
    assertNull(nothing.error());
    assertNull(nothing.model());
    assertEquals("m", of("{\"model\":null,\"name\":\"m\"}").model());
  }

  @Test
  void keysMatchAsGoMatchesStructFields() {
    // Either case, as Go's decoder matches a key to a field; the last one wins.
    assertEquals("b", of("{\"model\":\"a\",\"MODEL\":\"b\"}").model());
    assertEquals("m", of("{\"Name\":\"m\"}").model());
    assertEquals("m", of("{\"mod\\u0065l\":\"m\"}").model());
    assertEquals(7, of("{\"model\":\"m\",\"Options\":{\"num_predict\":7}}").maxTokens());
    // The options are a map: its keys match exactly.
    assertEquals(0, of("{\"model\":\"m\",\"options\":{\"NUM_PREDICT\":7}}").maxTokens());
    assertNull(of("{\"modelx\":\"a\",\"mode\":\"b\"}").model());
  }

  @Test
  void escapedModelNamesAreUnescaped() {
    assertEquals("llama3.2:1b", of("{\"model\":\"llama3.2\\u003a1b\"}").model());
    assertEquals("a\"b\\c/\ud83d\ude00", of("{\"model\":\"a\\\"b\\\\c\\/\\ud83d\\ude00\"}").model());
    // Go turns a lone surrogate into U+FFFD.
    assertEquals("x\ufffd", of("{\"model\":\"x\\ud800\"}").model());
  }

  @Test
  void invalidUtf8IsPassedOnAsOllamasDecoderTakesIt() {
    // Go's decoder takes it, each bad byte read as U+FFFD; Java's decoder reads it the same way here.
    Buffer b = Buffer.buffer("{\"model\":\"").appendBytes(new byte[] {(byte) 0xC3, (byte) 0x28}).appendString("\"}");
    assertNull(BodyModel.of(b).error());
    assertEquals("\ufffd(", BodyModel.of(b).model());
  }

  @Test
  void nestingPastGosLimitIsAClientErrorAndNeverOverflowsTheStack() {
    String deep = "{\"a\":" + "[".repeat(9_999) + "]".repeat(9_999) + ",\"model\":\"m\"}";
    assertEquals("m", of(deep).model());
    assertEquals("invalid character '[' exceeded max depth", of("{\"a\":" + "[".repeat(10_000)).error());
    assertEquals("invalid character '{' exceeded max depth", of("{\"a\":" + "{\"b\":".repeat(10_000)).error());
    // Far past it, on a thread with a small stack: one loop, no recursion.
    String[] error = new String[1];
    Thread small = new Thread(null, () -> error[0] = of("[".repeat(1_000_000)).error(), "small-stack", 64 * 1024);
    small.start();
    assertDoesNotThrow(() -> small.join());
    assertEquals("invalid character '[' exceeded max depth", error[0]);
  }

  @Test
  void findsTheCapOnTheAnswerInTheSamePass() {
    assertEquals(20, of("{\"model\":\"m\",\"options\":{\"temperature\":0.2,\"num_predict\":20,\"stop\":[\"x\"]}}")
        .maxTokens());
    assertEquals(64, of("{\"model\":\"m\",\"max_tokens\":64}").maxTokens());
    // The OpenAI form's newer field wins over the deprecated one, in either order.
    assertEquals(32, of("{\"max_tokens\":64,\"max_completion_tokens\":32,\"model\":\"m\"}").maxTokens());
    assertEquals(32, of("{\"max_completion_tokens\":32,\"max_tokens\":64,\"model\":\"m\"}").maxTokens());
    // The model is still found after the options were read.
    assertEquals("m", of("{\"options\":{\"num_predict\":5,\"model\":\"nested\"},\"model\":\"m\"}").model());
  }

  @Test
  void noCapWhereNoneIsAPositiveInteger() {
    assertEquals(0, of("{\"model\":\"m\"}").maxTokens());
    assertEquals(0, of("{\"model\":\"m\",\"options\":{\"num_predict\":-1}}").maxTokens());
    assertEquals(0, of("{\"model\":\"m\",\"options\":{\"num_predict\":\"20\"}}").maxTokens());
    assertEquals(0, of("{\"model\":\"m\",\"options\":{\"num_predict\":2.5}}").maxTokens());
    assertEquals(0, of("{\"model\":\"m\",\"options\":{\"num_predict\":99999999999999999999999}}").maxTokens());
    assertEquals(0, of("{\"model\":\"m\",\"num_predict\":20,\"options\":null}").maxTokens());
    assertNull(of("{\"model\":\"m\",\"options\":{\"num_predict\":-1}}").error());
  }
}
