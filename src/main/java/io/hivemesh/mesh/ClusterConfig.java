package io.hivemesh.mesh;

import com.hazelcast.config.ClasspathXmlConfig;
import com.hazelcast.config.Config;
import com.hazelcast.config.FileSystemXmlConfig;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import io.hivemesh.NodeConfig;
import io.hivemesh.config.ConfigException;
import java.io.FileNotFoundException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.net.InetSocketAddress;
import com.hazelcast.instance.EndpointQualifier;
import com.hazelcast.spi.MemberAddressProvider;
import java.util.List;

/**
 * The Hazelcast configuration of one node: the XML file (tuning, failure detection, maps), then
 * the node's own settings on top (cluster name, address, port, seeds). A new {@link Config} per
 * node, since joining writes the node's id into it.
 */
public final class ClusterConfig {

  /** The member attribute naming the node's site: lets a second node of one name be refused at once. */
  public static final String SITE_ATTRIBUTE = "hive.site";

  static {
    // Before any Hazelcast class logs: its config loader speaks before the config is read.
    System.setProperty("hazelcast.logging.type", "slf4j");
  }

  private ClusterConfig() {
  }

  /** The node's XML config as read, before {@link #bind}. */
  public static Config read(NodeConfig node) {
    return readXml(node.clusterConfig());
  }

  /**
   * Whether the XML enables Hazelcast's own member TLS (Hazelcast Enterprise): then member
   * traffic is left to it, and the mesh's tunnel stays out of the way.
   */
  public static boolean hasOwnTls(Config config) {
    return config.getNetworkConfig().getSSLConfig() != null && config.getNetworkConfig().getSSLConfig().isEnabled();
  }

  /**
   * Binds the member to {@code host} on the node's cluster port and joins through
   * {@code members}. Without the tunnel, {@code host} is the node's cluster host and the members
   * its seeds; with it, the node's own loopback address and the peers' loopback addresses.
   */
  public static Config bind(Config config, NodeConfig node, String host, List<String> members) {
    config.setClusterName(node.clusterName());
    config.setProperty("hazelcast.socket.bind.any", "false");
    config.getMemberAttributeConfig().setAttribute(SITE_ATTRIBUTE, node.name());
    NetworkConfig network = config.getNetworkConfig();
    network.setPort(node.clusterPort()).setPortAutoIncrement(false);
    // A node restarted on its port (or given a port another process just left) must not fail to bind
    // while the old connections sit in TIME_WAIT.
    network.setReuseAddress(true);
    if (!host.equals(node.clusterHost())) {
      // A loopback alias is no interface's address: Hazelcast's interface matching would refuse it.
      network.getMemberAddressProviderConfig().setEnabled(true)
          .setImplementation(new FixedAddress(new InetSocketAddress(host, node.clusterPort())));
    } else {
      network.getInterfaces().setEnabled(true).clear().addInterface(host);
      network.setPublicAddress(host + ":" + node.clusterPort());
    }
    JoinConfig join = network.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).clear().addMember(host + ":" + node.clusterPort());
    members.forEach(join.getTcpIpConfig()::addMember);
    return config;
  }

  /** Binds and advertises one given address, whatever the host's interfaces are. */
  private record FixedAddress(InetSocketAddress address) implements MemberAddressProvider {
    @Override
    public InetSocketAddress getBindAddress() {
      return address;
    }

    @Override
    public InetSocketAddress getBindAddress(EndpointQualifier qualifier) {
      return address;
    }

    @Override
    public InetSocketAddress getPublicAddress() {
      return address;
    }

    @Override
    public InetSocketAddress getPublicAddress(EndpointQualifier qualifier) {
      return address;
    }
  }

  private static Config readXml(String file) {
    try {
      if (file != null) {
        return new FileSystemXmlConfig(file);
      }
      if (Files.isRegularFile(Path.of("cluster.xml"))) {
        return new FileSystemXmlConfig("cluster.xml");
      }
      return new ClasspathXmlConfig("cluster.xml");
    } catch (FileNotFoundException e) {
      throw new ConfigException("--cluster-config: no such file " + file);
    } catch (RuntimeException e) {
      throw new ConfigException("--cluster-config: " + (file == null ? "cluster.xml" : file)
          + " is not a valid Hazelcast config: " + String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
    }
  }
}
