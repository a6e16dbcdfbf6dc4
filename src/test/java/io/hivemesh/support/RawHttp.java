package io.hivemesh.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * HTTP/1.1 over a bare socket: sends exactly the bytes given (a malformed request line, raw
 * non-ASCII in headers, a wrong Content-Length), then reads whatever comes back until the server
 * closes. A JDK client would refuse to send most of what a fuzz test needs.
 */
public final class RawHttp {

  /**
   * What came back. {@code status} is -1 when the server closed without a response; {@code body}
   * is de-chunked.
   */
  public record Response(int status, Map<String, String> headers, byte[] body) {
    public boolean answered() {
      return status > 0;
    }

    public String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }

    public String text() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  private RawHttp() {
  }

  /**
   * Writes {@code request}, half-closes when {@code halfClose} (so a server waiting for the rest of a
   * body learns there is none), and reads until EOF or {@code timeoutMillis} of silence.
   *
   * @throws SocketTimeoutException when the server neither answers nor closes in time
   */
  public static Response exchange(int port, byte[] request, boolean halfClose, int timeoutMillis) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
      s.setSoTimeout(timeoutMillis);
      OutputStream out = s.getOutputStream();
      try {
        out.write(request);
        out.flush();
        if (halfClose) {
          s.shutdownOutput();
        }
      } catch (SocketException e) {
        // The server may close while a huge request is still being written: read what it said.
      }
      return parse(readAll(s.getInputStream()));
    }
  }

  private static byte[] readAll(InputStream in) throws IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    byte[] chunk = new byte[16384];
    try {
      for (int n; (n = in.read(chunk)) >= 0; ) {
        all.write(chunk, 0, n);
      }
    } catch (SocketException e) {
      // A reset after the response (the server closed with our unread bytes pending) ends it too.
    }
    return all.toByteArray();
  }

  static Response parse(byte[] raw) {
    int headEnd = indexOf(raw, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII), 0);
    if (raw.length == 0 || headEnd < 0) {
      return new Response(-1, Map.of(), raw);
    }
    String[] lines = new String(raw, 0, headEnd, StandardCharsets.ISO_8859_1).split("\r\n");
    String[] statusLine = lines[0].split(" ", 3);
    int status = statusLine.length >= 2 ? Integer.parseInt(statusLine[1]) : -1;
    Map<String, String> headers = new TreeMap<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      if (colon > 0) {
        headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
      }
    }
    byte[] body = java.util.Arrays.copyOfRange(raw, headEnd + 4, raw.length);
    if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
      body = dechunk(body);
    }
    return new Response(status, headers, body);
  }

  private static byte[] dechunk(byte[] chunked) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int at = 0;
    while (at < chunked.length) {
      int eol = indexOf(chunked, new byte[] {'\r', '\n'}, at);
      if (eol < 0) {
        break;
      }
      String size = new String(chunked, at, eol - at, StandardCharsets.US_ASCII).split(";")[0].trim();
      int n = Integer.parseInt(size, 16);
      if (n == 0) {
        break;
      }
      out.write(chunked, eol + 2, Math.min(n, chunked.length - eol - 2));
      at = eol + 2 + n + 2;
    }
    return out.toByteArray();
  }

  private static int indexOf(byte[] hay, byte[] needle, int from) {
    outer:
    for (int i = from; i <= hay.length - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
