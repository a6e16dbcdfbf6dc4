package io.hivemesh.support.netns;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * HTTP from inside a host of a {@link NetNs}, with curl: the test JVM stays in the root namespace,
 * which has no route into the private network.
 */
public final class Curl {

  /** Status, headers (names in lower case) and the whole body, a streamed one included. */
  public record Response(int status, Map<String, String> headers, String body) {
    public String header(String name) {
      return headers.get(name.toLowerCase(java.util.Locale.ROOT));
    }
  }

  private static final int MAX_SECONDS = 30;

  private Curl() {
  }

  /** {@code curlArgs}: more of curl's options, such as {@code --cacert FILE} or {@code -H "Authorization: ..."}. */
  public static Response get(NetNs net, int host, String url, String... curlArgs) {
    return send(net, host, url, List.of(curlArgs));
  }

  public static Response post(NetNs net, int host, String url, String json, String... curlArgs) {
    List<String> extra = new ArrayList<>(List.of("-H", "Content-Type: application/json", "--data-raw", json));
    extra.addAll(List.of(curlArgs));
    return send(net, host, url, extra);
  }

  private static Response send(NetNs net, int host, String url, List<String> extra) {
    List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "-i", "-m", String.valueOf(MAX_SECONDS)));
    cmd.addAll(extra);
    cmd.add(url);
    NetNs.Result r = net.run(host, Duration.ofSeconds(MAX_SECONDS + 10), cmd.toArray(String[]::new));
    if (r.exitCode() != 0) {
      throw new AssertionError("curl " + url + " from host " + host + " failed (" + r.exitCode() + "): " + r.output());
    }
    return parse(r.output());
  }

  /** curl -i output: the status line, headers, a blank line, the body. */
  private static Response parse(String output) {
    int split = output.indexOf("\r\n\r\n");
    if (split < 0) {
      throw new AssertionError("not an HTTP response: " + output);
    }
    List<String> head = output.substring(0, split).lines().toList();
    Map<String, String> headers = new LinkedHashMap<>();
    head.stream().skip(1).forEach(line -> {
      int colon = line.indexOf(':');
      headers.put(line.substring(0, colon).strip().toLowerCase(java.util.Locale.ROOT), line.substring(colon + 1).strip());
    });
    return new Response(Integer.parseInt(head.get(0).split(" ")[1]), headers, output.substring(split + 4));
  }
}
