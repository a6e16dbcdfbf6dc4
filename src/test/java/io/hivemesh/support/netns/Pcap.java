package io.hivemesh.support.netns;

import io.hivemesh.support.netns.TcpConnection.Endpoint;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a classic pcap file (either byte order, microsecond or nanosecond timestamps) of Ethernet
 * frames and returns its IPv4 TCP connections, in the order they were first seen. Anything else in
 * the file (ARP, IPv6, fragments) is skipped: the captures are of our own mesh, not the wild.
 */
public final class Pcap {

  private static final Set<Integer> MAGICS = Set.of(0xa1b2c3d4, 0xa1b23c4d);
  private static final int LINKTYPE_ETHERNET = 1;
  private static final int ETHERTYPE_VLAN = 0x8100;
  private static final int ETHERTYPE_IPV4 = 0x0800;
  private static final int PROTO_TCP = 6;
  private static final int SYN = 0x02;
  private static final int ACK = 0x10;

  private Pcap() {
  }

  public static List<TcpConnection> connections(Path file) {
    try {
      return connections(Files.readAllBytes(file));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read capture " + file, e);
    }
  }

  public static List<TcpConnection> connections(byte[] pcap) {
    ByteBuffer in = ByteBuffer.wrap(pcap).order(ByteOrder.BIG_ENDIAN);
    if (pcap.length < 24) {
      throw new IllegalArgumentException("not a pcap file: " + pcap.length + " bytes");
    }
    if (!MAGICS.contains(in.getInt(0))) {
      in.order(ByteOrder.LITTLE_ENDIAN);
      if (!MAGICS.contains(in.getInt(0))) {
        throw new IllegalArgumentException(String.format("not a classic pcap file: magic %08x", in.getInt(0)));
      }
    }
    int linkType = in.getInt(20) & 0x0fffffff; // the top bits may carry FCS flags
    if (linkType != LINKTYPE_ETHERNET) {
      throw new IllegalArgumentException("only Ethernet captures are read, not link type " + linkType);
    }
    Map<String, Flow> flows = new LinkedHashMap<>();
    int at = 24;
    while (at + 16 <= pcap.length) {
      int captured = in.getInt(at + 8);
      int start = at + 16;
      if (captured < 0 || start + captured > pcap.length) {
        break; // a record cut short: tcpdump was stopped mid-write
      }
      readFrame(ByteBuffer.wrap(pcap, start, captured).slice().order(ByteOrder.BIG_ENDIAN), flows);
      at = start + captured;
    }
    return flows.values().stream().map(Flow::toConnection).toList();
  }

  private static void readFrame(ByteBuffer frame, Map<String, Flow> flows) {
    int at = 12;
    if (frame.limit() < at + 2) {
      return;
    }
    int etherType = frame.getShort(at) & 0xffff;
    if (etherType == ETHERTYPE_VLAN && frame.limit() >= at + 6) {
      at += 4;
      etherType = frame.getShort(at) & 0xffff;
    }
    int ip = at + 2;
    if (etherType != ETHERTYPE_IPV4 || frame.limit() < ip + 20) {
      return;
    }
    int ipHeader = (frame.get(ip) & 0x0f) * 4;
    int ipLength = frame.getShort(ip + 2) & 0xffff;
    boolean fragment = (frame.getShort(ip + 6) & 0x3fff) != 0;
    if (frame.get(ip + 9) != PROTO_TCP || fragment) {
      return;
    }
    int tcp = ip + ipHeader;
    int end = Math.min(frame.limit(), ip + ipLength);
    if (end < tcp + 20) {
      return;
    }
    Endpoint src = new Endpoint(ipv4(frame, ip + 12), frame.getShort(tcp) & 0xffff);
    Endpoint dst = new Endpoint(ipv4(frame, ip + 16), frame.getShort(tcp + 2) & 0xffff);
    long seq = frame.getInt(tcp + 4) & 0xffffffffL;
    int flags = frame.get(tcp + 13) & 0xff;
    int payloadStart = tcp + ((frame.get(tcp + 12) & 0xf0) >> 4) * 4;
    byte[] payload = new byte[Math.max(0, end - payloadStart)];
    frame.get(payloadStart, payload);
    flows.computeIfAbsent(key(src, dst), k -> new Flow(src, dst)).add(src, seq, flags, payload);
  }

  private static String ipv4(ByteBuffer frame, int at) {
    return (frame.get(at) & 0xff) + "." + (frame.get(at + 1) & 0xff) + "." + (frame.get(at + 2) & 0xff) + "." + (frame.get(at + 3) & 0xff);
  }

  /** The same key for both directions of a connection. */
  private static String key(Endpoint a, Endpoint b) {
    String x = a.toString();
    String y = b.toString();
    return x.compareTo(y) < 0 ? x + "|" + y : y + "|" + x;
  }

  /** Both directions of one connection while the file is read. */
  private static final class Flow {
    private final Endpoint first;
    private final Endpoint second;
    private final Direction fromFirst = new Direction();
    private final Direction fromSecond = new Direction();

    Flow(Endpoint first, Endpoint second) {
      this.first = first;
      this.second = second;
    }

    void add(Endpoint src, long seq, int flags, byte[] payload) {
      (src.equals(first) ? fromFirst : fromSecond).add(seq, flags, payload);
    }

    TcpConnection toConnection() {
      // The SYN without ACK opens the connection; its sender is the client.
      boolean secondOpened = fromSecond.opened && !fromFirst.opened;
      Endpoint client = secondOpened ? second : first;
      Endpoint server = secondOpened ? first : second;
      Direction up = secondOpened ? fromSecond : fromFirst;
      Direction down = secondOpened ? fromFirst : fromSecond;
      return new TcpConnection(client, server, up.opened, up.reassemble(), down.reassemble());
    }
  }

  /** One direction's segments, put back in order once the whole file is read. */
  private static final class Direction {
    private record Segment(long seq, byte[] payload) {
    }

    private final List<Segment> segments = new ArrayList<>();
    private boolean opened;
    private long base = -1;

    void add(long seq, int flags, byte[] payload) {
      if ((flags & SYN) != 0) {
        opened |= (flags & ACK) == 0;
        base = (seq + 1) & 0xffffffffL; // the SYN takes one sequence number, no payload
        return;
      }
      if (base < 0) {
        base = seq; // joined mid-stream: the first segment seen is the start
      }
      if (payload.length > 0) {
        segments.add(new Segment(seq, payload));
      }
    }

    /** Payload in sequence order; a retransmitted or overlapping byte is taken once. */
    byte[] reassemble() {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      segments.stream()
          .filter(s -> offset(s) < 1L << 31) // sent before the start we know of
          .sorted(Comparator.comparingLong(this::offset))
          .forEach(s -> {
            long skip = Math.max(0, out.size() - offset(s));
            if (skip < s.payload().length) {
              out.write(s.payload(), (int) skip, s.payload().length - (int) skip);
            }
          });
      return out.toByteArray();
    }

    /** Distance from the start of the stream, modulo 2^32 so a sequence number wrap costs nothing. */
    private long offset(Segment s) {
      return (s.seq() - base) & 0xffffffffL;
    }
  }
}
