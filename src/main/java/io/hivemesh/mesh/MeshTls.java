package io.hivemesh.mesh;

import io.hivemesh.security.TlsConfig;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.TCPSSLOptions;

/**
 * Mutual TLS between nodes, the same for the event bus and the cluster tunnel: each side shows
 * its mesh certificate and accepts only certificates signed by the mesh CA. Hostnames are not
 * checked (nodes move between addresses); the CA is what vouches for a peer, so it must be a CA
 * of the mesh's own.
 */
public final class MeshTls {

  private MeshTls() {
  }

  public static EventBusOptions eventBus(EventBusOptions bus, TlsConfig tls) {
    // Trust-all defaults to true on the bus and would win over the trust options.
    return identify(bus, tls).setClientAuth(ClientAuth.REQUIRED).setTrustAll(false);
  }

  public static NetServerOptions server(NetServerOptions server, TlsConfig tls) {
    return identify(server, tls).setClientAuth(ClientAuth.REQUIRED);
  }

  public static NetClientOptions client(NetClientOptions client, TlsConfig tls) {
    return identify(client, tls).setTrustAll(false).setHostnameVerificationAlgorithm("");
  }

  private static <T extends TCPSSLOptions> T identify(T options, TlsConfig tls) {
    options.setSsl(true)
        .setKeyCertOptions(new PemKeyCertOptions().setCertPath(tls.meshCert().toString())
            .setKeyPath(tls.meshKey().toString()))
        .setTrustOptions(new PemTrustOptions().addCertPath(tls.meshCa().toString()));
    return options;
  }
}
