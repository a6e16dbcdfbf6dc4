package io.hivemesh.support.netns;

import java.util.Arrays;

/**
 * One TCP connection seen in a capture, each direction's payload reassembled in sequence order.
 * The client is the side that sent the SYN; when the capture began after the handshake,
 * {@link #startCaptured()} is false and the client is simply the side seen first.
 */
public final class TcpConnection {

  public record Endpoint(String address, int port) {
    @Override
    public String toString() {
      return address + ":" + port;
    }
  }

  private final Endpoint client;
  private final Endpoint server;
  private final boolean startCaptured;
  private final byte[] clientPayload;
  private final byte[] serverPayload;

  TcpConnection(Endpoint client, Endpoint server, boolean startCaptured, byte[] clientPayload, byte[] serverPayload) {
    this.client = client;
    this.server = server;
    this.startCaptured = startCaptured;
    this.clientPayload = clientPayload;
    this.serverPayload = serverPayload;
  }

  public Endpoint client() {
    return client;
  }

  public Endpoint server() {
    return server;
  }

  public boolean startCaptured() {
    return startCaptured;
  }

  /** Everything the client sent, in sequence order. */
  public byte[] clientPayload() {
    return clientPayload.clone();
  }

  /** Everything the server sent, in sequence order. */
  public byte[] serverPayload() {
    return serverPayload.clone();
  }

  /** The first {@code n} bytes the client sent (fewer if it sent fewer). */
  public byte[] clientFirstBytes(int n) {
    return Arrays.copyOf(clientPayload, Math.min(n, clientPayload.length));
  }

  /** The first {@code n} bytes the server sent (fewer if it sent fewer). */
  public byte[] serverFirstBytes(int n) {
    return Arrays.copyOf(serverPayload, Math.min(n, serverPayload.length));
  }

  public boolean carriesPayload() {
    return clientPayload.length > 0 || serverPayload.length > 0;
  }

  /** True between two different hosts; a host talking to itself never crosses the bridge anyway. */
  public boolean betweenHosts() {
    return !client.address().equals(server.address());
  }

  @Override
  public String toString() {
    return client + " -> " + server;
  }
}
