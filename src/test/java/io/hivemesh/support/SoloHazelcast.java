package io.hivemesh.support;

import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;

/** A Hazelcast member alone in a cluster of its own: for tests of what a node writes to the cluster maps. */
public final class SoloHazelcast {

  private SoloHazelcast() {
  }

  public static HazelcastInstance start(String name) {
    Config config = new Config().setClusterName(name + "-" + System.nanoTime());
    config.getNetworkConfig().setPort(TestMesh.freePort()).setPortAutoIncrement(false).getJoin().getMulticastConfig()
        .setEnabled(false);
    config.setProperty("hazelcast.phone.home.enabled", "false");
    return Hazelcast.newHazelcastInstance(config);
  }
}
