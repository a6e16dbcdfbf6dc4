package io.hivemesh.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import java.util.List;
import org.junit.jupiter.api.Test;

class BusFrameTest {

  @Test
  void anOpenCarriesTheRequestWhole() {
    BusFrame open = new BusFrame(BusFrame.Kind.OPEN, 42, "hive.v2.site.a.0").value(64)
        .payload(Buffer.buffer("{\"model\":\"qwen2.5:7b\",\"prompt\":\"é\"}"));
    open.method = "POST";
    open.uri = "/api/generate?x=ü";
    open.model = "qwen2.5:7b";
    // Two values under one name: MultiMap.size() counts names, the frame must carry both.
    open.headers = MultiMap.caseInsensitiveMultiMap().add("Content-Type", "application/json")
        .add("Accept", "a").add("accept", "b");
    BusFrame read = BusFrame.decode(open.encode());
    assertEquals(BusFrame.Kind.OPEN, read.kind);
    assertEquals(42, read.sid);
    assertEquals("hive.v2.site.a.0", read.from);
    assertEquals(64, read.value);
    assertEquals("POST", read.method);
    assertEquals("/api/generate?x=ü", read.uri);
    assertEquals("qwen2.5:7b", read.model);
    assertEquals("application/json", read.headers.get("content-type"));
    assertEquals(List.of("a", "b"), read.headers.getAll("ACCEPT"));
    assertEquals("{\"model\":\"qwen2.5:7b\",\"prompt\":\"é\"}", read.payload.toString());
  }

  @Test
  void aHeadWithItsChunkAndTheEnd() {
    BusFrame head = new BusFrame(BusFrame.Kind.HEAD, 7, "o").value(200).seq(0)
        .flag(BusFrame.CHUNK).payload(Buffer.buffer("{\"done\":true}\n"));
    head.site = "gpu-a";
    head.headers = MultiMap.caseInsensitiveMultiMap().add("content-type", "application/x-ndjson");
    head.flag(BusFrame.LAST);
    BusFrame read = BusFrame.decode(head.encode());
    assertEquals(BusFrame.Kind.HEAD, read.kind);
    assertEquals(200, read.value);
    assertEquals("gpu-a", read.site);
    assertEquals("application/x-ndjson", read.headers.get("Content-Type"));
    assertTrue(read.has(BusFrame.CHUNK) && read.has(BusFrame.LAST));
    assertFalse(read.has(BusFrame.RETRYABLE));
    assertEquals("{\"done\":true}\n", read.payload.toString());
    assertEquals("head+last", read.toString());
  }

  @Test
  void controlFramesHaveNoPayload() {
    BusFrame read = BusFrame.decode(new BusFrame(BusFrame.Kind.GRANT, Long.MAX_VALUE, "o").value(32).encode());
    assertEquals(BusFrame.Kind.GRANT, read.kind);
    assertEquals(Long.MAX_VALUE, read.sid);
    assertEquals(32, read.value);
    assertEquals(0, read.payload.length());
    assertNull(read.headers);
  }

  @Test
  void aKindFromANewerPeerIsReadAsUnknown() {
    Buffer b = new BusFrame(BusFrame.Kind.DATA, 1, "o").seq(3).encode().setByte(1, (byte) 99);
    BusFrame read = BusFrame.decode(b);
    assertNull(read.kind);
    assertEquals(3, read.seq);
    assertEquals("unknown", read.toString());
  }

  @Test
  void whatIsNotAFrameOfThisVersionIsRefused() {
    Buffer frame = new BusFrame(BusFrame.Kind.OPEN, 1, "o").encode();
    assertThrows(IllegalArgumentException.class, () -> BusFrame.decode(null));
    assertThrows(IllegalArgumentException.class, () -> BusFrame.decode(Buffer.buffer("stopped")));
    IllegalArgumentException other = assertThrows(IllegalArgumentException.class,
        () -> BusFrame.decode(frame.copy().setByte(0, (byte) 1)));
    assertTrue(other.getMessage().contains("version 1"), other.getMessage());
    assertThrows(IllegalArgumentException.class, () -> BusFrame.decode(frame.getBuffer(0, frame.length() - 3)));
    // A string length past the end, and a negative header count.
    assertThrows(IllegalArgumentException.class, () -> BusFrame.decode(frame.copy().setInt(19, 1 << 20)));
    int headerCount = frame.length() - 4;
    assertThrows(IllegalArgumentException.class, () -> BusFrame.decode(frame.copy().setInt(headerCount, -1)));
  }
}
