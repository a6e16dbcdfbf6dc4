package io.hivemesh;

import static io.hivemesh.support.TestMesh.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hivemesh.sim.SimOptions;
import io.hivemesh.support.Http;
import io.hivemesh.support.TestMesh;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Clients that connect and then stall: each is closed after its deadline, a slow upload holds no
 * place a ready request needs, and past the connection cap new connections are closed at once.
 */
class SlowClientTest {

  private static final String GENERATE = "{\"model\":\"llama3.2\",\"prompt\":\"x\",\"stream\":false,\"options\":{\"num_predict\":2}}";
  private static TestMesh mesh;
  private static int port;

  @BeforeAll
  static void start() {
    mesh = new TestMesh();
    mesh.add("one", SimOptions.defaults().withLoadMs(0).withTokensPerSecond(0).withModels("llama3.2"),
        "--header-timeout", "1s", "--body-timeout", "1s", "--keep-alive-timeout", "1s", "--max-requests", "2",
        "--max-connections", "40");
    mesh.awaitConverged();
    port = mesh.port("one");
  }

  @AfterAll
  static void stop() {
    mesh.close();
  }

  @Test
  void aConnectionThatNeverSendsIsClosed() throws IOException {
    try (Socket s = connect()) {
      assertEquals("", readUntilClosed(s), "the node answered a connection that sent nothing");
    }
  }

  @Test
  void headersTricklingInAreCutOffAtTheHeaderDeadline() throws Exception {
    try (Socket s = connect()) {
      OutputStream out = s.getOutputStream();
      byte[] head = "POST /api/generate HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
          .getBytes(StandardCharsets.US_ASCII);
      boolean closedEarly = false;
      Peer peer = Peer.OPEN;
      for (byte b : head) {
        try {
          out.write(b);
          out.flush();
        } catch (IOException e) {
          // A write fails once the node has reset the connection.
          closedEarly = true;
          peer = Peer.RESET;
          break;
        }
        // Slower than the deadline allows for the whole block: 30 bytes a second.
        Thread.sleep(33);
        if (s.getInputStream().available() > 0 || (peer = peer(s)) != Peer.OPEN) {
          closedEarly = true;
          break;
        }
      }
      assertTrue(closedEarly, "a connection still sending its headers after " + head.length * 33 + " ms was kept");
      // No answer to a request whose headers never ended (after a reset there is nothing left to read).
      if (peer != Peer.RESET) {
        assertEquals("", readUntilClosed(s));
      }
    }
  }

  @Test
  void aBodyTricklingInGets408AndTheConnectionCloses() throws Exception {
    try (Socket s = connect()) {
      OutputStream out = s.getOutputStream();
      out.write(("POST /api/generate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
          + GENERATE.length() + "\r\n\r\n" + GENERATE.substring(0, 5)).getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String answer = readUntilClosed(s);
      assertTrue(answer.startsWith("HTTP/1.1 408"), answer);
      assertEquals(new JsonObject().put("error", "request body not received within 1000 ms"),
          new JsonObject(answer.substring(answer.indexOf("\r\n\r\n") + 4)));
    }
  }

  @Test
  void anIdleKeptAliveConnectionIsClosedAfterItsAnswer() throws IOException {
    try (Socket s = connect()) {
      s.getOutputStream().write("GET /api/version HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      String answer = readUntilClosed(s);
      assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
      assertTrue(answer.contains("\"version\""), answer);
    }
  }

  @Test
  void slowUploadsHoldNoRequestPlaces() throws IOException {
    // More slow uploads than --max-requests (2); a ready request still gets in.
    List<Socket> slow = new ArrayList<>();
    try {
      for (int i = 0; i < 5; i++) {
        Socket s = connect();
        s.getOutputStream().write(("POST /api/generate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{")
            .getBytes(StandardCharsets.US_ASCII));
        slow.add(s);
      }
      assertEquals(200, Http.post(port, "/api/generate", GENERATE).statusCode());
    } finally {
      for (Socket s : slow) {
        s.close();
      }
    }
  }

  @Test
  void pastTheConnectionCapNewConnectionsAreClosedAtOnce() throws IOException {
    List<Socket> held = new ArrayList<>();
    try {
      awaitTrue("connections from other tests are gone", Duration.ofSeconds(10),
          () -> mesh.nodes.get("one").clientLimits().openConnections() == 0);
      for (int i = 0; i < 40; i++) {
        held.add(connect());
      }
      awaitTrue("the node holds 40 connections", Duration.ofSeconds(10),
          () -> mesh.nodes.get("one").clientLimits().openConnections() == 40);
      try (Socket extra = connect()) {
        extra.getOutputStream().write("GET /api/version HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII));
        assertEquals("", readUntilClosed(extra), "a connection past the cap was served");
      } catch (IOException reset) {
        // A reset is as good a refusal as a close.
      }
    } finally {
      for (Socket s : held) {
        s.close();
      }
    }
    awaitTrue("the cap's places are free again", Duration.ofSeconds(10),
        () -> mesh.nodes.get("one").clientLimits().openConnections() == 0);
    assertEquals(200, Http.post(port, "/api/generate", GENERATE).statusCode());
  }

  private static Socket connect() throws IOException {
    Socket s = new Socket("127.0.0.1", port);
    s.setSoTimeout(15_000);
    return s;
  }

  /** Everything the node sends until it closes; fails if it keeps the connection open for 15 s. */
  private static String readUntilClosed(Socket s) throws IOException {
    try {
      InputStream in = s.getInputStream();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (SocketTimeoutException e) {
      throw new AssertionError("the node kept the connection open for 15 s", e);
    }
  }

  /** How a connection stands, read without waiting. */
  private enum Peer { OPEN, CLOSED, RESET }

  /**
   * Whether the node has closed the connection: the end of the stream, or a reset, which is what
   * the kernel sends when the node closes a connection with bytes it has not read.
   */
  private static Peer peer(Socket s) throws IOException {
    s.setSoTimeout(1);
    try {
      return s.getInputStream().read() < 0 ? Peer.CLOSED : Peer.OPEN;
    } catch (SocketTimeoutException e) {
      return Peer.OPEN;
    } catch (SocketException e) {
      return Peer.RESET;
    } finally {
      s.setSoTimeout(15_000);
    }
  }
}
