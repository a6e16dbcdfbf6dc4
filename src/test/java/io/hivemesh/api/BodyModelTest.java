package io.hivemesh.api;

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
  void malformedJsonGetsGoStyleMessages() {
    assertEquals("invalid character 'x' looking for beginning of value", of("x").error());
    assertEquals("unexpected EOF", of("{\"model\":\"a\"").error());
    assertEquals("invalid character after top-level value", of("{\"model\":\"a\"} {}").error());
  }

  @Test
  void wrongTypes() {
    assertEquals("json: cannot unmarshal number into field model of type string", of("{\"model\":5}").error());
    assertEquals("json: cannot unmarshal array into a request object", of("[1,2]").error());
  }

  @Test
  void invalidUtf8IsAClientError() {
    Buffer b = Buffer.buffer("{\"model\":\"").appendBytes(new byte[] {(byte) 0xC3, (byte) 0x28}).appendString("\"}");
    assertEquals("invalid UTF-8 in request body", BodyModel.of(b).error());
  }

  @Test
  void absurdNestingIsAClientError() {
    String deep = "{\"a\":" + "[".repeat(5000) + "]".repeat(5000) + "}";
    assertEquals("request body is nested too deeply", of(deep).error());
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
