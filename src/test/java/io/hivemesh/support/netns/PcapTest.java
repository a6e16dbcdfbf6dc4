package io.hivemesh.support.netns;

import static io.hivemesh.support.netns.PcapWriter.ACK;
import static io.hivemesh.support.netns.PcapWriter.PSH_ACK;
import static io.hivemesh.support.netns.PcapWriter.SYN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class PcapTest {

  private static final String A = "10.250.7.1";
  private static final String B = "10.250.7.2";

  /** A client on A asks B's port 80 in two segments, sent out of order and one twice; B answers. */
  private static byte[] request(ByteOrder order, boolean nanos, long clientIsn, long serverIsn) {
    return new PcapWriter(order, nanos)
        .tcp(A, 40000, B, 80, clientIsn, SYN, "")
        .tcp(B, 80, A, 40000, serverIsn, SYN | ACK, "")
        .tcp(A, 40000, B, 80, clientIsn + 1, ACK, "")
        .tcp(A, 40000, B, 80, clientIsn + 1 + 4, PSH_ACK, "/x HTTP/1.1\r\n\r\n")
        .tcp(A, 40000, B, 80, clientIsn + 1, PSH_ACK, "GET ")
        .tcp(A, 40000, B, 80, clientIsn + 1 + 4, PSH_ACK, "/x HTTP/1.1\r\n\r\n")
        .tcp(B, 80, A, 40000, serverIsn + 1, PSH_ACK, "HTTP/1.1 200 OK\r\n\r\n")
        .bytes();
  }

  @Test
  void readsBothByteOrdersAndTimestampResolutions() {
    for (ByteOrder order : List.of(ByteOrder.BIG_ENDIAN, ByteOrder.LITTLE_ENDIAN)) {
      for (boolean nanos : List.of(false, true)) {
        List<TcpConnection> connections = Pcap.connections(request(order, nanos, 1000, 5000));
        assertEquals(1, connections.size(), order + (nanos ? " ns" : " us"));
        assertEquals("10.250.7.1:40000 -> 10.250.7.2:80", connections.get(0).toString());
      }
    }
  }

  @Test
  void reassemblesEachDirectionInSequenceOrderTakingRetransmittedBytesOnce() {
    TcpConnection c = Pcap.connections(request(ByteOrder.LITTLE_ENDIAN, false, 1000, 5000)).get(0);
    assertEquals("GET /x HTTP/1.1\r\n\r\n", new String(c.clientPayload(), StandardCharsets.US_ASCII));
    assertEquals("HTTP/1.1 200 OK\r\n\r\n", new String(c.serverPayload(), StandardCharsets.US_ASCII));
    assertEquals("GET", new String(c.clientFirstBytes(3), StandardCharsets.US_ASCII));
    assertEquals("HTTP", new String(c.serverFirstBytes(4), StandardCharsets.US_ASCII));
    assertTrue(c.startCaptured());
    assertTrue(c.betweenHosts());
  }

  @Test
  void aSequenceNumberWrapInsideTheStreamChangesNothing() {
    long nearTheTop = 0xffff_fffeL; // the second segment's sequence number wraps past zero
    TcpConnection c = Pcap.connections(request(ByteOrder.BIG_ENDIAN, false, nearTheTop, 0xffff_ffffL)).get(0);
    assertEquals("GET /x HTTP/1.1\r\n\r\n", new String(c.clientPayload(), StandardCharsets.US_ASCII));
    assertEquals("HTTP/1.1 200 OK\r\n\r\n", new String(c.serverPayload(), StandardCharsets.US_ASCII));
  }

  @Test
  void theClientIsTheSideThatSentTheSynNotTheSideSeenFirst() {
    // The server's SYN-ACK is first in the file (say the switch forwarded it before the capture saw the SYN).
    byte[] pcap = new PcapWriter(ByteOrder.LITTLE_ENDIAN, false)
        .tcp(B, 5701, A, 41000, 7000, SYN | ACK, "")
        .tcp(A, 41000, B, 5701, 100, SYN, "")
        .tcp(A, 41000, B, 5701, 101, PSH_ACK, "HZC")
        .bytes();
    TcpConnection c = Pcap.connections(pcap).get(0);
    assertEquals("10.250.7.1:41000", c.client().toString());
    assertEquals("10.250.7.2:5701", c.server().toString());
    assertEquals("HZC", new String(c.clientPayload(), StandardCharsets.US_ASCII));
  }

  @Test
  void aConnectionAlreadyOpenWhenTheCaptureBeganSaysSo() {
    byte[] pcap = new PcapWriter(ByteOrder.LITTLE_ENDIAN, false)
        .tcp(A, 42000, B, 5801, 900, PSH_ACK, "frame")
        .tcp(B, 5801, A, 42000, 300, ACK, "")
        .bytes();
    TcpConnection c = Pcap.connections(pcap).get(0);
    assertFalse(c.startCaptured());
    assertEquals("10.250.7.1:42000", c.client().toString());
    assertEquals("frame", new String(c.clientPayload(), StandardCharsets.US_ASCII));
  }

  @Test
  void framesOtherThanIpv4TcpAreSkippedAndConnectionsKeepTheirOrder() {
    byte[] arp = new byte[42];
    arp[12] = 0x08;
    arp[13] = 0x06;
    byte[] pcap = new PcapWriter(ByteOrder.BIG_ENDIAN, true)
        .frame(arp)
        .tcp(A, 1, B, 2, 0, SYN, "")
        .tcp(B, 3, A, 4, 0, SYN, "")
        .tcp(A, 1, B, 2, 1, PSH_ACK, "x")
        .bytes();
    List<TcpConnection> connections = Pcap.connections(pcap);
    assertEquals(List.of("10.250.7.1:1 -> 10.250.7.2:2", "10.250.7.2:3 -> 10.250.7.1:4"),
        connections.stream().map(TcpConnection::toString).toList());
  }

  @Test
  void anythingButAClassicPcapIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> Pcap.connections(new byte[24]));
    assertThrows(IllegalArgumentException.class, () -> Pcap.connections(new byte[3]));
  }
}
