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
}
