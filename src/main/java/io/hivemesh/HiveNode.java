package io.hivemesh;

import com.hazelcast.core.HazelcastInstance;
import io.hivemesh.api.ClientLimits;
import io.hivemesh.api.ConnectionGuard;
import io.hivemesh.api.NodeControl;
import io.hivemesh.config.ConfigException;
import io.hivemesh.backend.InventoryPoller;
import io.hivemesh.backend.OllamaBackend;
import com.hazelcast.config.Config;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import io.hivemesh.edge.EdgeHub;
import io.hivemesh.mesh.BusRegistrations;
import io.hivemesh.mesh.ClusterConfig;
import io.hivemesh.mesh.ClusterTunnel;
import io.hivemesh.mesh.ClusterSync;
import io.hivemesh.mesh.HazelcastQuotaLedger;
import io.hivemesh.mesh.LocalLoad;
import io.hivemesh.mesh.MeshTls;
import io.hivemesh.mesh.MeshView;
import io.hivemesh.mesh.SiteBreakers;
import io.hivemesh.mesh.SiteState;
import io.hivemesh.observe.MeshMetrics;
import io.hivemesh.observe.MeshStatus;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.util.EnumSet;
import java.util.Set;
import io.hivemesh.routing.RoutingStrategy;
import io.hivemesh.routing.Strategies;
import io.hivemesh.security.SubjectQuotas;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.transport.Transport;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running mesh node: a clustered Vert.x instance that serves the Ollama API on its HTTP port,
 * relays to its own Ollama, and publishes its site in the cluster. {@link #start} wires it up in
 * the order that keeps it invisible to peers until it can serve.
 */
public final class HiveNode implements NodeControl {

  private static final Logger log = LoggerFactory.getLogger(HiveNode.class);

  private final NodeConfig config;
  private final Vertx vertx;
  private final HazelcastClusterManager cluster;
  /** Carries member traffic over TLS; null when Hazelcast's own transport is used. */
  private final ClusterTunnel tunnel;
  private final LocalLoad load;
  private final MeshView view;
  private final OllamaBackend backend;
  private final InventoryPoller poller;
  /** Read by Hazelcast's event threads while the loops are deployed. */
  private final List<ApiVerticle> loops = new CopyOnWriteArrayList<>();
  private static final long LOAD_DEBOUNCE_MS = 50;
  private static final long DRAIN_POLL_MS = 50;
  private static final long CUT_OFF_GRACE_MS = 2_000;
  private final AtomicBoolean publishPending = new AtomicBoolean();
  private ClusterSync sync;
  /** How often the node checks that peers can still find it on the bus. */
  private static final long BUS_CHECK_MS = 5000;
  private BusRegistrations busRegistrations;
  private SubjectQuotas quotas;
  private EdgeHub edges;
  /** Client requests this node holds: the admission bound, and what a drain waits for. */
  private final AtomicInteger activeRequests = new AtomicInteger();
  private final AtomicBoolean draining = new AtomicBoolean();
  private final ClientLimits clientLimits = new ClientLimits();
  private final SiteBreakers breakers = new SiteBreakers();
  private final MeshMetrics metrics;
  private final MeshStatus meshStatus;
  /** This site's p99 time to first byte, refreshed with each {@link MeshStatus} sample. */
  private volatile double ttftP99Ms;
  private final Promise<Void> drained = Promise.promise();
  private Future<Void> closing;
  /** Set once the node publishes its site: load and inventory changes before that stay local. */
  private volatile boolean started;
  private int httpPort;
  private final String transport;

  private HiveNode(NodeConfig config, Vertx vertx, Transport transport, HazelcastClusterManager cluster,
                   ClusterTunnel tunnel, PrometheusMeterRegistry registry) {
    this.config = config;
    this.transport = NetworkTransport.nameOf(transport);
    this.tunnel = tunnel;
    this.vertx = vertx;
    this.cluster = cluster;
    this.load = new LocalLoad(config.maxInflight(), config.maxQueuePerModel(), this::loadChanged);
    this.view = new MeshView(config.name(), load);
    this.backend = new OllamaBackend(vertx, config, load);
    this.metrics = new MeshMetrics(registry, view, breakers, load, config.parallel(), config.metricsMaxSubjects());
    this.meshStatus = new MeshStatus(config.name(), view, breakers);
    this.poller = new InventoryPoller(vertx, config, p -> {
      metrics.loadedNow(p.loadedKeys());
      publishNow();
    });
    backend.onAnswerStarted(metrics::ollamaFirstByte);
    metrics.ollamaConnections(backend.connectionStats());
    metrics.clientPort(clientLimits::openConnections, activeRequests::get);
    backend.onInventoryChange(poller::refreshNow);
    backend.onUnreachable(poller::refreshNow);
    backend.onModelUse(poller::modelRequested, poller::modelAnswering);
    view.onNewPeer(site -> {
      SiteState state = view.state(site);
      if (!loops.isEmpty() && state != null) {
        loops.get(0).loopContext().runOnContext(v -> loops.get(0).inbox().warmUp(state));
      }
    });
  }

  /** Joins the mesh and starts serving. Fails if the cluster or a port cannot be had. */
  public static Future<HiveNode> start(NodeConfig config) {
    Transport transport;
    try {
      transport = NetworkTransport.choose(config.transport());
    } catch (ConfigException e) {
      return Future.failedFuture(e);
    }
    Config hazelcast = ClusterConfig.read(config);
    if (!config.tls().meshTls() || ClusterConfig.hasOwnTls(hazelcast)) {
      ClusterConfig.bind(hazelcast, config, config.clusterHost(), config.join());
      return start(config, transport, hazelcast, null);
    }
    // Member traffic through the TLS tunnel: Hazelcast binds a loopback address of its own.
    Vertx tunnelVertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1));
    ClusterTunnel tunnel = new ClusterTunnel(tunnelVertx, config.tls(),
        config.clusterHost() + ":" + config.clusterPort(), (int) config.connectTimeout().toMillis());
    Promise<HiveNode> started = Promise.promise();
    // Continued off the tunnel's event loop: the node's own Vert.x is built from a plain thread.
    tunnel.start(config.join()).toCompletionStage().whenCompleteAsync((v, err) -> {
      if (err != null) {
        tunnel.close().onComplete(c -> started.fail(err));
        return;
      }
      ClusterConfig.bind(hazelcast, config, tunnel.selfLoopback(), tunnel.members());
      start(config, transport, hazelcast, tunnel).onComplete(node -> {
        if (node.succeeded()) {
          started.complete(node.result());
        } else {
          tunnel.close().onComplete(c -> started.fail(node.cause()));
        }
      });
    });
    return started.future();
  }

  private static Future<HiveNode> start(NodeConfig config, Transport transport, Config hazelcast,
                                        ClusterTunnel tunnel) {
    HazelcastClusterManager cluster = new HazelcastClusterManager(hazelcast);
    EventBusOptions bus = new EventBusOptions()
        .setHost(config.clusterHost()).setPort(config.busPort())
        .setClusterPublicHost(config.clusterHost()).setClusterPublicPort(config.busPort())
        .setConnectTimeout((int) config.connectTimeout().toMillis());
    if (config.tls().meshTls()) {
      MeshTls.eventBus(bus, config.tls());
    }
    // A registry per node: nodes sharing a JVM (the tests) keep their meters apart.
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    registry.config().commonTags("node", config.name());
    VertxOptions options = vertxOptions(System.getProperties())
        .setEventLoopPoolSize(config.eventLoops())
        .setEventBusOptions(bus).setMetricsOptions(vertxMetrics(config.name(), config.vertxHttpMetrics()));
    // Not bound to the node's event loops: a failed start closes them before reporting.
    Promise<HiveNode> started = Promise.promise();
    Vertx.builder().with(options).withTransport(transport).withClusterManager(cluster).withMetrics(new MicrometerMetricsFactory(registry))
        .buildClustered().onComplete(built -> {
      if (built.failed()) {
        started.fail(built.cause());
        return;
      }
      Vertx vertx = built.result();
      new HiveNode(config, vertx, transport, cluster, tunnel, registry).boot().onComplete(booted -> {
        if (booted.succeeded()) {
          started.complete(booted.result());
        } else {
          vertx.close().onComplete(closed -> started.fail(booted.cause()));
        }
      });
    });
    return started.future();
  }

  /**
   * Vert.x's meters for its pools and the JVM, and with {@code --metrics-vertx-http} for the client
   * port and the relays to Ollama. Those cost a few meter lookups on every request, and the
   * {@code hive_*} meters already count requests, connections and times. Labels that grow with
   * clients (remote addresses, paths) are left out, and so are the event bus's meters: their cost
   * falls on every frame of every stream.
   */
  private static MicrometerMetricsOptions vertxMetrics(String node, boolean http) {
    Set<String> off = new java.util.HashSet<>(Set.of(MetricsDomain.EVENT_BUS.toCategory(),
        MetricsDomain.NET_SERVER.toCategory(), MetricsDomain.NET_CLIENT.toCategory(),
        MetricsDomain.DATAGRAM_SOCKET.toCategory(), MetricsDomain.VERTICLES.toCategory()));
    if (!http) {
      off.add(MetricsDomain.HTTP_SERVER.toCategory());
      off.add(MetricsDomain.HTTP_CLIENT.toCategory());
    }
    // Vert.x keeps registries by name, JVM-wide: a name of its own keeps each node's meters in its registry.
    return new MicrometerMetricsOptions().setEnabled(true).setJvmMetricsEnabled(true)
        .setRegistryName("hive-" + node + "-" + java.util.UUID.randomUUID())
        .setLabels(EnumSet.of(Label.HTTP_METHOD, Label.HTTP_CODE, Label.POOL_TYPE, Label.POOL_NAME, Label.CLIENT_NAME))
        .setDisabledMetricsCategories(off);
  }

  private static final String VERTX_OPTION = "vertx.options.";

  /**
   * Vert.x's own tuning as its launcher takes it, {@code -Dvertx.options.NAME=VALUE} (for instance
   * {@code maxEventLoopExecuteTime} and {@code blockedThreadCheckInterval}, which tests lower to
   * catch a blocked event loop); Vert.x defaults otherwise.
   */
  static VertxOptions vertxOptions(Properties system) {
    JsonObject json = new JsonObject();
    for (String key : system.stringPropertyNames()) {
      if (key.startsWith(VERTX_OPTION)) {
        String value = system.getProperty(key).trim();
        json.put(key.substring(VERTX_OPTION.length()), value.matches("-?\\d+") ? (Object) Long.parseLong(value)
            : value.equalsIgnoreCase("true") || value.equalsIgnoreCase("false") ? (Object) Boolean.parseBoolean(value)
            : value);
      }
    }
    return new VertxOptions(json);
  }

  private Future<HiveNode> boot() {
    RoutingStrategy strategy = Strategies.create(config.strategy());
    // Every loop listens on the same port; for "any free port" Vert.x shares one random port
    // between servers that ask for the same negative port.
    int listenPort = config.port() == 0 ? -1 : config.port();
    sync = new ClusterSync(vertx, cluster.getHazelcastInstance(), view, config.name(),
        config.publishInterval().toMillis(), config.entryTtl().toMillis(), this::ownState, poller::inventory,
        this::siteLost);
    quotas = new SubjectQuotas(vertx, new HazelcastQuotaLedger(vertx, cluster.getHazelcastInstance(), config.name()),
        () -> cluster.getHazelcastInstance().getCluster().getMembers().size());
    quotas.start();
    edges = new EdgeHub(vertx, config, view, cluster.getHazelcastInstance(), cluster.getNodeId(), draining::get);
    if (!config.tls().https() && !NodeConfig.isLoopback(config.host())) {
      log.warn("client port {}:{} is reachable from other hosts without TLS: tokens and prompts cross the network in"
          + " the clear; give --tls-cert and --tls-key, or put a TLS-terminating proxy in front", config.host(),
          config.port());
    }
    ConnectionGuard.checkDescriptorLimit(config);
    if (config.auth().insecure()) {
      warnInsecure();
      vertx.setPeriodic(60_000, id -> warnInsecure());
    }
    if (tunnel != null) {
      cluster.getHazelcastInstance().getCluster().addMembershipListener(new MembershipListener() {
        @Override
        public void memberAdded(MembershipEvent event) {
          tunnel.memberSeen(event.getMember().getAddress().getHost() + ":" + event.getMember().getAddress().getPort());
        }

        @Override
        public void memberRemoved(MembershipEvent event) {
          // The peer's forwarder stays: the same endpoint may come back.
        }
      });
    }
    Future<Integer> deployed = sync.refuseDuplicateName().compose(v -> poller.start()).map(0);
    for (int i = 0; i < config.eventLoops(); i++) {
      int loop = i;
      deployed = deployed.compose(v -> deployLoop(strategy, loop, listenPort));
    }
    return deployed
        .compose(port -> {
          httpPort = port;
          return sync.start();
        })
        .map(v -> {
          List<String> inboxes = java.util.stream.IntStream.range(0, config.eventLoops())
              .mapToObj(i -> SiteState.nodeInbox(config.name(), i)).toList();
          busRegistrations = new BusRegistrations(vertx, cluster, inboxes, BUS_CHECK_MS);
          busRegistrations.start();
          vertx.setPeriodic(MeshStatus.SAMPLE_MS, id -> {
            ttftP99Ms = metrics.ollamaFirstByteP99Ms();
            meshStatus.sample(load.served());
          });
          started = true;
          log.info("node '{}' serving the Ollama API on {}://{}:{} (site Ollama {}, cluster {}:{}, bus {}:{}, strategy {},"
                  + " transport {})",
              config.name(), config.tls().https() ? "https" : "http", config.host(), httpPort, config.ollama(), config.clusterHost(), config.clusterPort(),
              config.clusterHost(), config.busPort(), config.strategy(), transport());
          return this;
        });
  }

  private Future<Integer> deployLoop(RoutingStrategy strategy, int loop, int port) {
    ApiVerticle verticle = new ApiVerticle(config, loop, port, view, strategy, backend, activeRequests, quotas, this,
        breakers);
    loops.add(verticle);
    return vertx.deployVerticle(verticle).map(id -> verticle.actualPort());
  }

  private void warnInsecure() {
    log.warn("INSECURE: node '{}' runs with --insecure-no-auth: anyone who reaches {}:{} can use every model"
        + " and manage this mesh. Use it for local experiments only.", config.name(), config.host(),
        httpPort == 0 ? config.port() : httpPort);
  }

  private SiteState ownState() {
    return new SiteState(config.name(), cluster.getNodeId(), config.eventLoops(), poller.healthy(), draining.get(),
        config.parallel(), config.maxInflight(), load.maxPerModel(), load.total(), load.snapshot(), poller.loadedKeys(), load.served(),
        meshStatus.ownRate(), ttftP99Ms, null, null, config.maxLoadedModels(), backend.speed().measured());
  }

  /**
   * Peers see a changed load within {@value #LOAD_DEBOUNCE_MS} ms instead of waiting for the next
   * refresh, or, in a mesh of more than five members, within the gap {@link io.hivemesh.mesh.LoadRefresh} keeps
   * between two writes of load changes.
   */
  private void loadChanged() {
    if (publishPending.compareAndSet(false, true)) {
      vertx.setTimer(LOAD_DEBOUNCE_MS, id -> {
        publishPending.set(false);
        publishNow();
      });
    }
  }

  private void publishNow() {
    if (started) {
      sync.publish();
    }
  }

  private void siteLost(String site) {
    for (ApiVerticle loop : loops) {
      loop.loopContext().runOnContext(v -> loop.inbox().siteLost(site));
    }
  }

  public String name() {
    return config.name();
  }

  public NodeConfig config() {
    return config;
  }

  public int httpPort() {
    return httpPort;
  }

  /** The socket I/O its event loops use: io_uring, epoll or nio ({@link NetworkTransport}). */
  public String transport() {
    return transport;
  }

  public Vertx vertx() {
    return vertx;
  }

  /** Open client connections and the request body bytes they hold, node-wide. */
  public ClientLimits clientLimits() {
    return clientLimits;
  }

  public MeshMetrics metrics() {
    return metrics;
  }

  public MeshStatus meshStatus() {
    return meshStatus;
  }

  /**
   * Why this node cannot take requests now ({@code GET /hive/ready} answers 503 with it), or null
   * when it can: it has joined the mesh, knows its inventory and is not draining.
   */
  public String notReady() {
    if (!started) {
      return "starting: not yet joined to the mesh";
    }
    if (draining.get()) {
      return "draining";
    }
    if (view.state(config.name()) == null || !view.hasInventory(config.name())) {
      return "its own site is not yet in its view of the mesh";
    }
    return null;
  }

  public SiteBreakers breakers() {
    return breakers;
  }

  public MeshView view() {
    return view;
  }

  public HazelcastInstance hazelcast() {
    return cluster.getHazelcastInstance();
  }

  @Override
  public boolean started() {
    return started;
  }

  @Override
  public boolean draining() {
    return draining.get();
  }

  @Override
  public void startDrain() {
    drain();
  }

  @Override
  public void attachEdge(io.vertx.ext.web.RoutingContext ctx) {
    edges.attach(ctx);
  }

  /**
   * Leaves gracefully: takes no new requests (peers see the site draining at once and route
   * elsewhere; this node's port answers 503), lets the requests in flight finish within
   * {@code --drain-timeout}, then closes. Completes when the node has left; calling it again
   * returns the same future.
   */
  public Future<Void> drain() {
    if (draining.compareAndSet(false, true)) {
      log.info("node '{}' is draining: no new requests; {} client requests and {} at its Ollama get up to {} ms"
          + " to finish", config.name(), activeRequests.get(), load.total(), config.drainTimeout().toMillis());
      publishNow();
      long deadline = System.nanoTime() + config.drainTimeout().toNanos();
      untilIdle(deadline)
          .compose(v -> inFlight() == 0 ? Future.<Void>succeededFuture() : cutOff())
          .compose(v -> close()).onComplete(drained);
    }
    return drained.future();
  }

  /** Completes once nothing is in flight, or at {@code deadline} (a {@link System#nanoTime} value). */
  private Future<Void> untilIdle(long deadline) {
    Promise<Void> idle = Promise.promise();
    vertx.setPeriodic(DRAIN_POLL_MS, id -> {
      if (inFlight() == 0 || System.nanoTime() > deadline) {
        vertx.cancelTimer(id);
        idle.tryComplete();
      }
    });
    return idle.future();
  }

  /**
   * The drain timeout passed with answers still running: they end the way Ollama ends a broken
   * stream, with an error line, before the port closes; closing it first would cut their
   * connections mid-chunk instead. Streams from peers and to this site's Ollama are stopped, then
   * their clients get up to {@value #CUT_OFF_GRACE_MS} ms to receive that line.
   */
  private Future<Void> cutOff() {
    log.warn("node '{}': drain timeout; {} client requests and {} at its Ollama are cut off", config.name(),
        activeRequests.get(), load.total());
    List<Future<Void>> stopped = new java.util.ArrayList<>();
    for (ApiVerticle loop : loops) {
      Promise<Void> inboxStopped = Promise.promise();
      loop.loopContext().runOnContext(v -> loop.inbox().stop().onComplete(inboxStopped));
      stopped.add(inboxStopped.future());
    }
    return Future.join(stopped)
        .transform(ar -> backend.close())
        .transform(ar -> {
          long grace = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CUT_OFF_GRACE_MS);
          return untilIdle(grace);
        });
  }

  /** Client requests at this node plus requests its Ollama serves for other nodes. */
  private int inFlight() {
    return activeRequests.get() + load.total();
  }

  /** Completes when a drain, however started, has finished and the node has left. */
  public Future<Void> drained() {
    return drained.future();
  }

  /** Leaves the mesh cleanly: withdraws the site, stops serving, leaves the cluster. Idempotent. */
  public synchronized Future<Void> close() {
    if (closing == null) {
      closing = closeOnce();
    }
    return closing;
  }

  private Future<Void> closeOnce() {
    // Completed by whichever thread finishes closing Vert.x: a future bound to one of this node's
    // event loops could no longer deliver its result once they are gone.
    Promise<Void> closed = Promise.promise();
    // Withdrawing is a courtesy to peers (they would notice the leave anyway): never let it hang a shutdown.
    if (busRegistrations != null) {
      busRegistrations.stop();
    }
    // Edges first: they reconnect to another node, which can take their names only once withdrawn here.
    Future<Void> edgesGone = edges == null ? Future.succeededFuture()
        : edges.close().timeout(3, TimeUnit.SECONDS).recover(err -> Future.succeededFuture());
    Future<Void> withdrawn = edgesGone.compose(v -> sync.stop()).timeout(6, TimeUnit.SECONDS);
    if (quotas != null) {
      quotas.stop();
    }
    withdrawn.recover(err -> Future.succeededFuture())
        .compose(v -> poller.close())
        .compose(v -> backend.close())
        .onComplete(ar -> vertx.close().onComplete(v -> {
          if (tunnel == null) {
            closed.complete();
          } else {
            // After Vert.x: leaving the cluster cleanly still goes through the tunnel.
            tunnel.close().onComplete(closed);
          }
        }));
    return closed.future();
  }
}
