package io.hivemesh.support.netns;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** Classic pcap bytes written by hand, so the reader's tests need neither root nor tcpdump. */
final class PcapWriter {

  static final int SYN = 0x02;
  static final int ACK = 0x10;
  static final int PSH_ACK = 0x18;

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteOrder order;

  PcapWriter(ByteOrder order, boolean nanosecondTimestamps) {
    this.order = order;
    ByteBuffer header = ByteBuffer.allocate(24).order(order);
    header.putInt(nanosecondTimestamps ? 0xa1b23c4d : 0xa1b2c3d4).putShort((short) 2).putShort((short) 4)
        .putInt(0).putInt(0).putInt(262144).putInt(1);
    out.writeBytes(header.array());
  }

  PcapWriter tcp(String src, int srcPort, String dst, int dstPort, long seq, int flags, String payload) {
    return tcp(src, srcPort, dst, dstPort, seq, flags, payload.getBytes(StandardCharsets.US_ASCII));
  }

  /** One Ethernet II + IPv4 + TCP frame (20-byte headers, checksums left at zero). */
  PcapWriter tcp(String src, int srcPort, String dst, int dstPort, long seq, int flags, byte[] payload) {
    ByteBuffer f = ByteBuffer.allocate(14 + 20 + 20 + payload.length); // network order throughout
    f.put(new byte[12]).putShort((short) 0x0800);
    f.put((byte) 0x45).put((byte) 0).putShort((short) (40 + payload.length)).putShort((short) 0)
        .putShort((short) 0x4000).put((byte) 64).put((byte) 6).putShort((short) 0).put(ipv4(src)).put(ipv4(dst));
    f.putShort((short) srcPort).putShort((short) dstPort).putInt((int) seq).putInt(0)
        .put((byte) 0x50).put((byte) flags).putShort((short) 65535).putInt(0);
    f.put(payload);
    return frame(f.array());
  }

  /** Any frame, for the ones the reader must skip. */
  PcapWriter frame(byte[] frame) {
    ByteBuffer record = ByteBuffer.allocate(16).order(order);
    record.putInt(1_700_000_000).putInt(0).putInt(frame.length).putInt(frame.length);
    out.writeBytes(record.array());
    out.writeBytes(frame);
    return this;
  }

  byte[] bytes() {
    return out.toByteArray();
  }

  private static byte[] ipv4(String address) {
    byte[] b = new byte[4];
    String[] parts = address.split("\\.");
    for (int i = 0; i < 4; i++) {
      b[i] = (byte) Integer.parseInt(parts[i]);
    }
    return b;
  }
}
