package io.hivemesh.support.load;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One POST over a fresh HTTP/1.1 connection ({@code Connection: close}), read line by line as it
 * arrives. Written on a plain socket so that every way an answer can end is told apart: refused
 * before sending, a status and a body that ends properly, a connection that breaks mid-body (no
 * final chunk), silence past the read timeout. No pooling: a load balancer's retry on a refused
 * connection is then unambiguous, nothing was sent.
 */
final class StreamingPost {

  enum End { COMPLETE, REFUSED, BROKEN, TIMED_OUT }

  /** What came back; {@code status} is 0 when no status line arrived. */
  record Reply(End end, int status, String servedBy, List<String> lines, long firstByteNanos, String problem) {
  }

  private StreamingPost() {
  }

  /** Told of the status and serving site as soon as the head arrives, before the body. */
  interface HeadListener {
    void onHead(int status, String servedBy, long firstByteNanos);
  }

  static Reply post(int port, String path, String json, int connectTimeoutMs, int readTimeoutMs, HeadListener onHead) {
    byte[] body = json.getBytes(StandardCharsets.UTF_8);
    List<String> lines = new ArrayList<>();
    int status = 0;
    String servedBy = null;
    long firstByte = 0;
    try (Socket socket = new Socket()) {
      try {
        socket.connect(new InetSocketAddress("127.0.0.1", port), connectTimeoutMs);
      } catch (ConnectException e) {
        return new Reply(End.REFUSED, 0, null, lines, 0, e.getMessage());
      }
      socket.setSoTimeout(readTimeoutMs);
      OutputStream out = socket.getOutputStream();
      out.write(("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nContent-Type: application/json\r\n"
          + "Content-Length: " + body.length + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.write(body);
      out.flush();
      InputStream in = new BufferedInputStream(socket.getInputStream());
      String statusLine = readLine(in);
      firstByte = System.nanoTime();
      status = Integer.parseInt(statusLine.split(" ")[1]);
      boolean chunked = false;
      long length = -1;
      for (String h = readLine(in); !h.isEmpty(); h = readLine(in)) {
        int colon = h.indexOf(':');
        String name = h.substring(0, colon).trim().toLowerCase(Locale.ROOT);
        String value = h.substring(colon + 1).trim();
        switch (name) {
          case "transfer-encoding" -> chunked = value.equalsIgnoreCase("chunked");
          case "content-length" -> length = Long.parseLong(value);
          case "x-hive-node" -> servedBy = value;
          default -> { }
        }
      }
      onHead.onHead(status, servedBy, firstByte);
      LineSplitter split = new LineSplitter(lines);
      if (chunked) {
        for (int size = chunkSize(in); size > 0; size = chunkSize(in)) {
          split.add(readExactly(in, size));
          readLine(in);
        }
        readLine(in);
      } else if (length >= 0) {
        split.add(readExactly(in, (int) length));
      } else {
        split.add(in.readAllBytes());
      }
      split.finish();
      return new Reply(End.COMPLETE, status, servedBy, lines, firstByte, null);
    } catch (SocketTimeoutException e) {
      return new Reply(End.TIMED_OUT, status, servedBy, lines, firstByte, "no byte for " + readTimeoutMs + " ms");
    } catch (IOException | RuntimeException e) {
      return new Reply(End.BROKEN, status, servedBy, lines, firstByte, e.toString());
    }
  }

  private static int chunkSize(InputStream in) throws IOException {
    String line = readLine(in);
    int semi = line.indexOf(';');
    return Integer.parseInt((semi < 0 ? line : line.substring(0, semi)).trim(), 16);
  }

  private static byte[] readExactly(InputStream in, int n) throws IOException {
    byte[] b = in.readNBytes(n);
    if (b.length < n) {
      throw new EOFException("connection closed after " + b.length + " of " + n + " bytes");
    }
    return b;
  }

  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream(64);
    for (int c = in.read(); c != '\n'; c = in.read()) {
      if (c < 0) {
        throw new EOFException("connection closed mid-line");
      }
      if (c != '\r') {
        line.write(c);
      }
    }
    return line.toString(StandardCharsets.ISO_8859_1);
  }

  /** Body bytes to newline-delimited lines, however the chunks cut them. */
  private static final class LineSplitter {
    private final List<String> lines;
    private final ByteArrayOutputStream partial = new ByteArrayOutputStream();

    LineSplitter(List<String> lines) {
      this.lines = lines;
    }

    void add(byte[] bytes) {
      for (byte b : bytes) {
        if (b == '\n') {
          flush();
        } else {
          partial.write(b);
        }
      }
    }

    void finish() {
      flush();
    }

    private void flush() {
      if (partial.size() > 0) {
        lines.add(partial.toString(StandardCharsets.UTF_8));
        partial.reset();
      }
    }
  }
}
