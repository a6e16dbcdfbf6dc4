package io.hivemesh.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.config.Config;
import io.hivemesh.NodeConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClusterConfigTest {

  @Test
  void aHazelcastEnterpriseTlsConfigIsPassedThroughAndTheTunnelStaysOut() {
    NodeConfig withEnterpriseTls = NodeConfig.parse(new String[] {"--name", "a", "--insecure-no-auth",
        "--cluster-config", "src/test/resources/enterprise-tls-cluster.xml"}, Map.of());
    Config config = ClusterConfig.read(withEnterpriseTls);
    assertTrue(ClusterConfig.hasOwnTls(config));
    assertEquals("TLSv1.3", config.getNetworkConfig().getSSLConfig().getProperty("protocol"));
    assertFalse(ClusterConfig.hasOwnTls(ClusterConfig.read(NodeConfig.parse(new String[] {"--name", "a",
        "--insecure-no-auth"}, Map.of()))));
  }

  @Test
  void theTunnelGivesEveryEndpointItsOwnLoopbackAddress() {
    String a = ClusterTunnel.loopback("10.0.0.1:5701");
    assertTrue(a.startsWith("127.") && !a.startsWith("127.0.0."), a);
    assertEquals(a, ClusterTunnel.loopback("10.0.0.1:5701"), "stable across restarts and nodes");
    assertFalse(a.equals(ClusterTunnel.loopback("10.0.0.2:5701")));
    assertFalse(a.equals(ClusterTunnel.loopback("10.0.0.1:5702")));
    assertEquals(a + ":5701", ClusterTunnel.memberAddress("10.0.0.1:5701"));
    String[] octets = a.split("\\.");
    int last = Integer.parseInt(octets[3]);
    assertTrue(last >= 1 && last <= 254, a);
  }
}
