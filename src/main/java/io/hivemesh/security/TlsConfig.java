package io.hivemesh.security;

import io.hivemesh.config.ConfigException;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.TrustOptions;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Certificates of one node, all PEM. The client port speaks HTTPS when {@code httpCert} is set;
 * the mesh (event bus and cluster membership) runs inside mutual TLS with the mesh CA when
 * {@code meshCa} is set. An https Ollama is verified against {@code ollamaCa} when set, else
 * against the JVM's trusted CAs.
 */
public record TlsConfig(Path httpCert, Path httpKey, Path meshCa, Path meshCert, Path meshKey, Path ollamaCa) {

  public static TlsConfig of(Path httpCert, Path httpKey, Path meshCa, Path meshCert, Path meshKey, Path ollamaCa) {
    if ((httpCert == null) != (httpKey == null)) {
      throw new ConfigException("--tls-cert and --tls-key: give both or neither");
    }
    if (!((meshCa == null) == (meshCert == null) && (meshCert == null) == (meshKey == null))) {
      throw new ConfigException("--mesh-ca, --mesh-cert and --mesh-key: give all three or none");
    }
    TlsConfig tls = new TlsConfig(httpCert, httpKey, meshCa, meshCert, meshKey, ollamaCa);
    tls.requireReadable("--tls-cert", httpCert);
    tls.requireReadable("--tls-key", httpKey);
    tls.requireReadable("--mesh-ca", meshCa);
    tls.requireReadable("--mesh-cert", meshCert);
    tls.requireReadable("--mesh-key", meshKey);
    tls.requireReadable("--ollama-ca", ollamaCa);
    return tls;
  }

  public boolean https() {
    return httpCert != null;
  }

  public boolean meshTls() {
    return meshCa != null;
  }

  /** What an https Ollama's certificate is verified against: {@code ollamaCa}, or null for the JVM's trusted CAs. */
  public TrustOptions ollamaTrust() {
    return ollamaCa == null ? null : new PemTrustOptions().addCertPath(ollamaCa.toString());
  }

  private void requireReadable(String option, Path file) {
    if (file != null) {
      KeyFiles.readPem(option, file);
      if (!Files.isRegularFile(file)) {
        throw new ConfigException(option + ": no such file " + file);
      }
    }
  }
}
