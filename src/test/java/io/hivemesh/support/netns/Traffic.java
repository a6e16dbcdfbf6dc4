package io.hivemesh.support.netns;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Collectors;

/** What a capture says about the wire between hosts, as checks and as text for assertion messages. */
public final class Traffic {

  private static final int SUMMARY_BYTES = 16;

  private Traffic() {
  }

  /** A TLS record opens the stream: handshake (0x16), protocol 3.x with x from 1 (TLS 1.0) to 4 (TLS 1.3). */
  public static boolean startsWithTlsHandshake(byte[] bytes) {
    return bytes.length >= 3 && bytes[0] == 0x16 && bytes[1] == 0x03 && bytes[2] >= 0x01 && bytes[2] <= 0x04;
  }

  /** Below this, a string turns up in megabytes of ciphertext by chance (3 bytes: one in 16.7M per offset). */
  static final int MIN_SECRET_LENGTH = 6;
  /** A TLS record's payload: 2^14 bytes, plus what encryption may add. */
  private static final int MAX_RECORD = (1 << 14) + 2048;

  /**
   * Null when {@code bytes} is TLS records from start to end (the last may be cut short by the end
   * of the capture), else where and how that breaks. Anything sent in the clear inside a TLS
   * connection (a Hazelcast preamble, a bus frame) breaks it.
   */
  public static String tlsFramingProblem(byte[] bytes) {
    int i = 0;
    while (i + 5 <= bytes.length) {
      int type = bytes[i] & 0xff;
      if (type < 20 || type > 23) {
        return "byte " + i + " starts no TLS record (type " + type + ")";
      }
      if (bytes[i + 1] != 0x03 || bytes[i + 2] < 0x01 || bytes[i + 2] > 0x04) {
        return "byte " + i + " starts a record of no TLS version";
      }
      int length = ((bytes[i + 3] & 0xff) << 8) | (bytes[i + 4] & 0xff);
      if (length > MAX_RECORD) {
        return "byte " + i + " starts a record of " + length + " bytes, more than TLS allows";
      }
      i += 5 + length;
    }
    return null;
  }

  public static boolean containsAscii(byte[] bytes, String text) {
    byte[] needle = text.getBytes(StandardCharsets.US_ASCII);
    outer:
    for (int i = 0; i + needle.length <= bytes.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (bytes[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  /**
   * One line per connection: endpoints, bytes each way, and the first bytes each side sent, in hex;
   * {@code ~} marks a connection that was already open when the capture began.
   */
  public static String summary(List<TcpConnection> connections) {
    return connections.stream().map(Traffic::summary).collect(Collectors.joining("\n",
        connections.size() + " TCP connections\n", ""));
  }

  public static String summary(TcpConnection c) {
    byte[] up = c.clientPayload();
    byte[] down = c.serverPayload();
    return String.format("%-21s -> %-21s %s%7d B up %7d B down  client %-32s server %s", c.client(), c.server(),
        c.startCaptured() ? " " : "~", up.length, down.length,
        HexFormat.of().formatHex(c.clientFirstBytes(SUMMARY_BYTES)), HexFormat.of().formatHex(c.serverFirstBytes(SUMMARY_BYTES)));
  }

  /**
   * The secure mesh's promise on the wire: every connection between two hosts that carries data
   * opens with a TLS handshake from the client, and none of {@code secrets} (prompt text, protocol
   * magic, JSON keys) appears in either direction. A connection whose opening was not captured
   * cannot be vouched for, so it fails too, and so does a capture with no traffic between hosts.
   */
  public static void assertNoPlaintextBetweenHosts(List<TcpConnection> connections, String... secrets) {
    for (String secret : secrets) {
      if (secret.length() < MIN_SECRET_LENGTH) {
        throw new IllegalArgumentException("'" + secret + "' is too short to look for in ciphertext: it would turn"
            + " up by chance; the TLS framing check covers short protocol markers");
      }
    }
    List<String> problems = new ArrayList<>();
    if (connections.stream().noneMatch(c -> c.betweenHosts() && c.carriesPayload())) {
      problems.add("no data between hosts was captured at all, so nothing is proven");
    }
    for (TcpConnection c : connections) {
      if (!c.betweenHosts() || !c.carriesPayload()) {
        continue;
      }
      if (!c.startCaptured()) {
        problems.add(c + ": its opening was not captured, start the capture before the mesh");
      } else if (!startsWithTlsHandshake(c.clientFirstBytes(3))) {
        problems.add(c + ": the client does not open with a TLS handshake");
      } else {
        String up = tlsFramingProblem(c.clientPayload());
        String down = tlsFramingProblem(c.serverPayload());
        if (up != null) {
          problems.add(c + ": client to server, " + up);
        }
        if (down != null) {
          problems.add(c + ": server to client, " + down);
        }
      }
      for (String secret : secrets) {
        if (containsAscii(c.clientPayload(), secret) || containsAscii(c.serverPayload(), secret)) {
          problems.add(c + ": carries plaintext '" + secret + "'");
        }
      }
    }
    if (!problems.isEmpty()) {
      throw new AssertionError("plaintext between hosts:\n  " + String.join("\n  ", problems) + "\n" + summary(connections));
    }
  }
}
