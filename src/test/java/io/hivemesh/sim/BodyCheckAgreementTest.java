package io.hivemesh.sim;

import io.hivemesh.json.GoScanner;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hivemesh.api.BodyModel;
import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The node checks a request body in one pass that builds nothing ({@link BodyModel}: a walk of the
 * top level, {@link GoScanner#skipValue()}'s loop for everything below it); the sim builds the body's
 * values ({@link GoJson}: a recursive descent over the same scanner), and {@link GoCompatTest} pins
 * its messages to Go's. Over many mangled bodies the node must refuse exactly what the sim refuses,
 * with the same words, and find the model the sim reads.
 */
class BodyCheckAgreementTest {

  private static final List<String> SEEDS = List.of(
      "{\"model\":\"llama3.2\",\"prompt\":\"hi\",\"stream\":false,\"options\":{\"num_predict\":20,\"temperature\":0.7}}",
      "{\"model\":\"m:1b\",\"messages\":[{\"role\":\"user\",\"content\":\"a \\\"quoted\\\" \\u00e9 \\ud83d\\ude00 word\"},"
          + "{\"role\":\"assistant\",\"content\":\"\",\"images\":[\"aGk=\"]}],\"keep_alive\":-1,\"format\":null}",
      "{\"input\":[\"one\",\"two\"],\"model\":\"nomic-embed-text\",\"truncate\":true,\"dimensions\":1e2}",
      " \n{ \"name\" : \"legacy\" , \"stop\" : [ \"\\n\" , \"\\t\\/\" ], \"seed\": -0.5E-3 }\t",
      "[{\"a\":[[],{}]},-12,3.25e+7,true,false,null,\"s\"]",
      "{\"model\":\"m\",\"max_tokens\":64,\"tools\":[{\"type\":\"function\",\"function\":{\"parameters\":{}}}]}");
  private static final byte[] INTERESTING = " \t\n\r{}[]:,\"\\/-+.0123456789eEtruefalsnulx'\u0001".getBytes(StandardCharsets.ISO_8859_1);

  @Test
  void theNodeRefusesWhatTheSimRefusesWithTheSameMessage() {
    SplittableRandom random = new SplittableRandom(20261206);
    int refused = 0;
    int accepted = 0;
    for (int i = 0; i < 30_000; i++) {
      byte[] body = mangled(SEEDS.get(random.nextInt(SEEDS.size())).getBytes(StandardCharsets.UTF_8), random);
      String input = new String(body, StandardCharsets.ISO_8859_1);
      BodyModel node = BodyModel.of(Buffer.buffer(body));
      if (GoJson.isBlank(body)) {
        assertEquals("missing request body", node.error(), input);
        continue;
      }
      Object parsed;
      try {
        parsed = GoJson.parse(body);
      } catch (GoScanner.SyntaxError e) {
        assertEquals(e.getMessage(), node.error(), input);
        refused++;
        continue;
      }
      accepted++;
      String error = node.error();
      assertTrue(error == null || error.startsWith("json: cannot unmarshal "), input + " -> " + error);
      if (parsed instanceof Map<?, ?> members) {
        List<Object> models = new ArrayList<>();
        members.forEach((k, v) -> {
          if (((String) k).equalsIgnoreCase("model")) {
            models.add(v);
          }
        });
        if (models.size() == 1 && models.get(0) instanceof String model && !model.isEmpty()) {
          assertEquals(model, node.model(), input);
        }
      }
    }
    // Both kinds must be common, or the comparison says little.
    assertTrue(refused > 5_000 && accepted > 5_000, refused + " refused, " + accepted + " accepted");
  }

  /** One to three edits: a byte changed, inserted or dropped, a cut, or a stretch repeated. */
  private static byte[] mangled(byte[] seed, SplittableRandom random) {
    byte[] b = seed;
    for (int edits = random.nextInt(4); edits > 0; edits--) {
      int at = random.nextInt(b.length + 1);
      byte pick = INTERESTING[random.nextInt(INTERESTING.length)];
      b = switch (random.nextInt(5)) {
        case 0 -> at < b.length ? replaced(b, at, pick) : b;
        case 1 -> concat(slice(b, 0, at), new byte[] {pick}, slice(b, at, b.length));
        case 2 -> at < b.length ? concat(slice(b, 0, at), slice(b, at + 1, b.length)) : b;
        case 3 -> slice(b, 0, at);
        default -> {
          int to = at + random.nextInt(Math.max(1, b.length - at + 1));
          yield concat(slice(b, 0, to), slice(b, at, b.length));
        }
      };
    }
    return b;
  }

  private static byte[] replaced(byte[] b, int at, byte value) {
    byte[] copy = b.clone();
    copy[at] = value;
    return copy;
  }

  private static byte[] slice(byte[] b, int from, int to) {
    return java.util.Arrays.copyOfRange(b, from, Math.min(to, b.length));
  }

  private static byte[] concat(byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) {
      n += p.length;
    }
    byte[] out = new byte[n];
    int at = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, at, p.length);
      at += p.length;
    }
    return out;
  }
}
