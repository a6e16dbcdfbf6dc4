package io.hivemesh.support.netns;

import static io.hivemesh.support.netns.PcapWriter.ACK;
import static io.hivemesh.support.netns.PcapWriter.PSH_ACK;
import static io.hivemesh.support.netns.PcapWriter.SYN;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class TrafficTest {

  private static final String A = "10.250.7.1";
  private static final String B = "10.250.7.2";
  private static final byte[] CLIENT_HELLO = {0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00};
  private static final byte[] SERVER_HELLO = {0x16, 0x03, 0x03, 0x00, 0x05, 0x02, 0x00, 0x00, 0x01, 0x00};

  /** Today's mesh on the wire: Hazelcast's "HZC" preamble and a bus frame with the request's JSON, in the clear. */
  private static List<TcpConnection> plaintextMesh() {
    return Pcap.connections(new PcapWriter(ByteOrder.LITTLE_ENDIAN, false)
        .tcp(A, 41000, B, 5701, 100, SYN, "")
        .tcp(B, 5701, A, 41000, 900, SYN | ACK, "")
        .tcp(A, 41000, B, 5701, 101, PSH_ACK, "HZC\u0000\u0001member")
        .tcp(A, 42000, B, 5801, 200, SYN, "")
        .tcp(B, 5801, A, 42000, 800, SYN | ACK, "")
        .tcp(A, 42000, B, 5801, 201, PSH_ACK, "{\"model\":\"llama3.2\",\"prompt\":\"the secret plan\"}")
        .bytes());
  }

  private static List<TcpConnection> tlsMesh() {
    return Pcap.connections(new PcapWriter(ByteOrder.LITTLE_ENDIAN, false)
        .tcp(A, 41000, B, 5701, 100, SYN, "")
        .tcp(B, 5701, A, 41000, 900, SYN | ACK, "")
        .tcp(A, 41000, B, 5701, 101, PSH_ACK, CLIENT_HELLO)
        .tcp(B, 5701, A, 41000, 901, PSH_ACK, SERVER_HELLO)
        .bytes());
  }

  @Test
  void plaintextInsideATlsConnectionBreaksItsRecordFraming() {
    byte[] records = new byte[] {0x16, 0x03, 0x03, 0x00, 0x02, 0x01, 0x00, 0x17, 0x03, 0x03, 0x00, 0x01, 0x42};
    assertEquals(null, Traffic.tlsFramingProblem(records));
    byte[] smuggled = java.util.Arrays.copyOf(records, records.length + 9);
    System.arraycopy("HZC\u0000\u0001memb".getBytes(StandardCharsets.ISO_8859_1), 0, smuggled, records.length, 9);
    assertTrue(Traffic.tlsFramingProblem(smuggled).startsWith("byte 13 starts no TLS record"));
    assertThrows(IllegalArgumentException.class, () -> Traffic.assertNoPlaintextBetweenHosts(tlsMesh(), "HZC"));
  }

  @Test
  void recognisesTlsHandshakeRecords() {
    assertTrue(Traffic.startsWithTlsHandshake(CLIENT_HELLO));
    assertTrue(Traffic.startsWithTlsHandshake(new byte[] {0x16, 0x03, 0x04}));
    assertFalse(Traffic.startsWithTlsHandshake(new byte[] {0x16, 0x03, 0x05}));
    assertFalse(Traffic.startsWithTlsHandshake(new byte[] {0x17, 0x03, 0x03})); // application data, not a handshake
    assertFalse(Traffic.startsWithTlsHandshake("HZC".getBytes(StandardCharsets.US_ASCII)));
    assertFalse(Traffic.startsWithTlsHandshake(new byte[] {0x16, 0x03}));
  }

  @Test
  void findsAsciiAnywhereInBinaryData() {
    byte[] data = {0, (byte) 0xff, 'H', 'Z', 'C', 1};
    assertTrue(Traffic.containsAscii(data, "HZC"));
    assertFalse(Traffic.containsAscii(data, "HZD"));
    assertFalse(Traffic.containsAscii(new byte[] {'H', 'Z'}, "HZC"));
  }

  @Test
  void thePlaintextMeshFailsTheNoPlaintextAssertion() {
    AssertionError e = assertThrows(AssertionError.class,
        () -> Traffic.assertNoPlaintextBetweenHosts(plaintextMesh(), "member", "\"model\"", "secret plan"));
    String report = e.getMessage();
    assertTrue(report.contains("10.250.7.1:41000 -> 10.250.7.2:5701: the client does not open with a TLS handshake"), report);
    assertTrue(report.contains("10.250.7.1:41000 -> 10.250.7.2:5701: carries plaintext 'member'"), report);
    assertTrue(report.contains("10.250.7.1:42000 -> 10.250.7.2:5801: carries plaintext 'secret plan'"), report);
    assertTrue(report.contains("485a4300016d656d626572"), "the summary shows the first bytes: " + report);
  }

  @Test
  void aTlsMeshPassesIt() {
    assertDoesNotThrow(() -> Traffic.assertNoPlaintextBetweenHosts(tlsMesh(), "member", "\"model\"", "secret plan"));
  }

  @Test
  void aCaptureWithoutTrafficOrWithoutConnectionStartsProvesNothing() {
    assertThrows(AssertionError.class, () -> Traffic.assertNoPlaintextBetweenHosts(List.of(), "member"));
    List<TcpConnection> joinedLate = Pcap.connections(new PcapWriter(ByteOrder.LITTLE_ENDIAN, false)
        .tcp(A, 41000, B, 5701, 101, PSH_ACK, CLIENT_HELLO)
        .bytes());
    AssertionError e = assertThrows(AssertionError.class, () -> Traffic.assertNoPlaintextBetweenHosts(joinedLate));
    assertTrue(e.getMessage().contains("its opening was not captured"), e.getMessage());
  }
}
