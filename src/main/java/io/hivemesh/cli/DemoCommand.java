package io.hivemesh.cli;

import io.hivemesh.HiveNode;
import io.hivemesh.NodeConfig;
import io.hivemesh.config.OptionSpec;
import io.hivemesh.config.Settings;
import io.hivemesh.sim.OllamaSim;
import io.hivemesh.sim.SimOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code hive demo}: three simulated sites of different sizes and speeds, a node beside each,
 * all on loopback, joined into one mesh; runs until Ctrl-C.
 */
final class DemoCommand {

  static final List<OptionSpec> OPTIONS = List.of(
      OptionSpec.of("dir", "hive-demo", "where the demo keeps its mesh CA, node certificates, JWT secret and token"),
      OptionSpec.flag("plain", "no tokens and no TLS (for tools that cannot send a token); loopback only"),
      OptionSpec.of("base-port", "11500", "first HTTP port: nodes use BASE..BASE+2, sims BASE+10..BASE+12"),
      OptionSpec.of("cluster-base-port", "5701", "first Hazelcast port (three in a row)"),
      OptionSpec.of("bus-base-port", "5801", "first event-bus port (three in a row)"));

  /** name, models on disk, slots, tokens/s, load ms. */
  private record Site(String name, String models, int parallel, int tokensPerSecond, int loadMs) {
  }

  private static final List<Site> SITES = List.of(
      new Site("lab-gpu", "llama3.2,qwen2.5:7b,nomic-embed-text", 4, 60, 1500),
      new Site("workstation", "llama3.2,mistral", 2, 25, 2500),
      new Site("cloud-vm", "qwen2.5:7b,nomic-embed-text,phi3", 2, 40, 2000));

  private DemoCommand() {
  }

  static void run(String[] args, java.io.PrintStream out) {
    if (Settings.wantsHelp(args)) {
      out.print(Settings.usage("demo", OPTIONS));
      return;
    }
    Settings s = Settings.resolve(OPTIONS, args, Map.of());
    int base = s.port("base-port", false);
    int clusterBase = s.port("cluster-base-port", false);
    int busBase = s.port("bus-base-port", false);
    boolean plain = s.bool("plain");
    DemoKeys keys = plain ? null : DemoKeys.prepare(Path.of(s.string("dir")), SITES.stream().map(Site::name).toList());

    Vertx simVertx = Vertx.vertx();
    List<OllamaSim> sims = new ArrayList<>();
    List<HiveNode> nodes = new ArrayList<>();
    for (int i = 0; i < SITES.size(); i++) {
      Site site = SITES.get(i);
      SimOptions sim = SimOptions.defaults().withName(site.name()).withPort(base + 10 + i)
          .withModels(List.of(site.models().split(","))).withParallel(site.parallel())
          .withTokensPerSecond(site.tokensPerSecond()).withLoadMs(site.loadMs()).withSeed(i + 1);
      sims.add(NodeCommand.await(OllamaSim.start(simVertx, sim), "cannot start the sim of " + site.name()));
    }
    for (int i = 0; i < SITES.size(); i++) {
      Site site = SITES.get(i);
      List<String> args0 = new ArrayList<>(List.of(
          "--name", site.name(), "--port", String.valueOf(base + i),
          "--ollama", sims.get(i).url(), "--parallel", String.valueOf(site.parallel()),
          "--cluster-name", "hive-demo", "--cluster-port", String.valueOf(clusterBase + i),
          "--bus-port", String.valueOf(busBase + i), "--event-loops", "1"));
      if (i > 0) {
        args0.addAll(List.of("--join", "127.0.0.1:" + clusterBase));
      }
      args0.addAll(plain ? List.of("--insecure-no-auth") : keys.nodeArgs(site.name()));
      NodeConfig config = NodeConfig.parse(args0.toArray(String[]::new), Map.of());
      nodes.add(NodeCommand.await(HiveNode.start(config), "cannot start node " + site.name()));
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      CountDownLatch closed = new CountDownLatch(1);
      Future.all(nodes.stream().map(HiveNode::close).toList())
          .eventually(simVertx::close)
          .onComplete(ar -> closed.countDown());
      try {
        closed.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "hive-demo-shutdown"));
    out.println(tour(base, keys));
  }

  private static String tour(int base, DemoKeys keys) {
    StringBuilder sb = new StringBuilder("\nHive demo mesh is up: three sites, each a simulated Ollama with a node beside it.\n\n");
    for (int i = 0; i < SITES.size(); i++) {
      Site site = SITES.get(i);
      sb.append(String.format("  %-12s node %s://127.0.0.1:%d   models %-40s %d slots, %d tokens/s%n",
          site.name(), keys == null ? "http" : "https", base + i, site.models(), site.parallel(), site.tokensPerSecond()));
    }
    String url = (keys == null ? "http" : "https") + "://127.0.0.1:" + base;
    String curl = "curl";
    if (keys != null) {
      sb.append("\nClients need a token; the nodes speak HTTPS with certificates of the demo's own CA, and the nodes\n")
          .append("talk to each other over mutual TLS. A token for 'demo' (inference, models:read, admin; 24h) is in\n")
          .append(keys.tokenFile()).append(":\n\n  ").append(keys.token()).append("\n\n")
          .append("  export HIVE_TOKEN=$(cat ").append(keys.tokenFile()).append(")\n");
      curl = "curl --cacert " + keys.ca() + " -H \"Authorization: Bearer $HIVE_TOKEN\"";
    }
    sb.append("\nAny node answers for the whole mesh. Try:\n\n")
        .append("  ").append(curl).append(" ").append(url).append("/api/tags\n")
        .append("  ").append(curl).append(" ").append(url).append("/api/chat -d '{\"model\":\"mistral\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}'\n")
        .append("  ").append(curl).append(" ").append(url).append("/api/embed -d '{\"model\":\"nomic-embed-text\",\"input\":\"hello\"}'\n")
        .append("  ").append(curl).append(" -i ").append(url).append("/api/generate -d '{\"model\":\"phi3\",\"prompt\":\"hi\",\"stream\":false}'   # see X-Hive-Node\n")
        .append("  ").append(curl).append(" ").append(url).append("/hive/nodes\n");
    if (keys == null) {
      sb.append("  OLLAMA_HOST=").append(url).append(" ollama run llama3.2   # with the real ollama CLI\n");
    } else {
      sb.append("  SSL_CERT_FILE=").append(keys.ca()).append(" OLLAMA_HOST=").append(url)
          .append(" OLLAMA_API_KEY=$HIVE_TOKEN ollama run llama3.2   # the real ollama CLI\n")
          .append("\nMore tokens: java -jar target/hive.jar token --sub NAME --secret-file ").append(keys.secret())
          .append(" [--models 'llama3*'] [--rpm 60]\n");
    }
    sb.append("\n'mistral' lives only on workstation, 'phi3' only on cloud-vm: the node you ask forwards over the event bus.\n")
        .append("Ctrl-C stops the demo.\n");
    return sb.toString();
  }
}
